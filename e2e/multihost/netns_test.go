package multihost

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// A network of test hosts on one machine: one network namespace per host,
// each with a veth pair plugged into a bridge that lives in a namespace of
// its own (the switch). The addresses come from one private /24 that exists
// only inside these namespaces: no default route, nothing reaches or leaves
// the machine's own network. Everything is removed at cleanup.

// subnet is the /24 the test hosts live in (only inside their namespaces).
const subnet = "10.213.46"

// network is a set of test hosts.
type network struct {
	prefix string // namespace name prefix, unique per test run
	sw     string // the switch namespace
	hosts  []*host
}

// host is one test host: a namespace with one address, or (fallback) a
// loopback address of this machine.
type host struct {
	name string
	ns   string // "" on the loopback fallback
	ip   string
}

// netnsUnavailable says why namespaces cannot be made here ("" when they can).
func netnsUnavailable() string {
	if os.Geteuid() != 0 {
		return "not root: network namespaces need CAP_SYS_ADMIN"
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return "no ip command (Debian package iproute2)"
	}
	return ""
}

func ipCmd(ctx context.Context, args ...string) error {
	out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// newNetwork creates a switch and one namespace per name, host i getting
// subnet.(first+i). Cleanup removes them all.
func newNetwork(t *testing.T, first int, names ...string) (*network, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n := &network{prefix: fmt.Sprintf("mcaspec-%d-%s-", os.Getpid(), strings.ToLower(t.Name()[len("Test"):min(len(t.Name()), 12)]))}
	n.sw = n.prefix + "sw"
	t.Cleanup(func() { n.remove() })
	steps := [][]string{
		{"netns", "add", n.sw},
		{"-n", n.sw, "link", "set", "lo", "up"},
		{"-n", n.sw, "link", "add", "br0", "type", "bridge"},
		{"-n", n.sw, "link", "set", "br0", "up"},
	}
	for i, name := range names {
		h := &host{name: name, ns: n.prefix + name, ip: fmt.Sprintf("%s.%d", subnet, first+i)}
		port := fmt.Sprintf("p%d", i)
		steps = append(steps,
			[]string{"netns", "add", h.ns},
			[]string{"-n", h.ns, "link", "set", "lo", "up"},
			[]string{"link", "add", "eth0", "netns", h.ns, "type", "veth", "peer", "name", port, "netns", n.sw},
			[]string{"-n", n.sw, "link", "set", port, "master", "br0", "up"},
			[]string{"-n", h.ns, "addr", "add", h.ip + "/24", "dev", "eth0"},
			[]string{"-n", h.ns, "link", "set", "eth0", "up"},
		)
		n.hosts = append(n.hosts, h)
	}
	for _, s := range steps {
		if err := ipCmd(ctx, s...); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// loopbackNetwork is the fallback: host i is 127.0.0.(first+i) of this machine.
func loopbackNetwork(first int, names ...string) *network {
	n := &network{}
	for i, name := range names {
		n.hosts = append(n.hosts, &host{name: name, ip: fmt.Sprintf("127.0.0.%d", first+i)})
	}
	return n
}

func (n *network) host(name string) *host {
	for _, h := range n.hosts {
		if h.name == name {
			return h
		}
	}
	panic("no test host " + name)
}

func (n *network) remove() {
	if n.sw == "" {
		return
	}
	var errs []error
	for _, h := range n.hosts {
		errs = append(errs, ipCmd(context.Background(), "netns", "del", h.ns))
	}
	errs = append(errs, ipCmd(context.Background(), "netns", "del", n.sw))
	if err := errors.Join(errs...); err != nil && !strings.Contains(err.Error(), "No such file") {
		fmt.Fprintln(os.Stderr, "multihost: removing namespaces:", err)
	}
}

// command runs name with args on host h (inside its namespace).
func (h *host) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	if h.ns == "" {
		return exec.CommandContext(ctx, name, args...)
	}
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", h.ns, name}, args...)...)
}

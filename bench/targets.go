package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mcaspec/mcaspec/bench/baseline"
	"github.com/mcaspec/mcaspec/contract"
	"github.com/mcaspec/mcaspec/reference"
	"github.com/mcaspec/mcaspec/targets"
	"github.com/mcaspec/mcaspec/targets/launch"
)

// running is a started target.
type running struct {
	spec TargetSpec
	url  string
	pid  int // 0 for in-process targets
	stop func() error
	log  func() string
}

// clkTck is the kernel's USER_HZ (the unit of /proc/PID/stat times); 100 on
// every Linux architecture Go supports.
const clkTck = 100

func (e *env) startTarget(ctx context.Context, t TargetSpec) (*running, error) {
	tg, err := t.target()
	if err != nil {
		return nil, err
	}
	c := contract.Contract{ServerURL: e.serverURL(), AppID: e.app.ID, ClientID: e.svcClient, Secret: e.secret, DownstreamHosts: e.sinkHosts()}
	r, err := tg.Start(ctx, c)
	if err != nil {
		if t.Kind == KindCommand {
			return nil, fmt.Errorf("bench: target %s (%s): %w", t.Name, t.Command, err)
		}
		return nil, fmt.Errorf("bench: target %s: %w", t.Name, err)
	}
	rt := &running{spec: t, url: r.URL(), stop: r.Stop, log: r.Log}
	if p, ok := r.(targets.Process); ok {
		rt.pid = p.PID()
	}
	return rt, nil
}

// target is how the spec's target starts (targets.Target).
func (t TargetSpec) target() (targets.Target, error) {
	switch t.Kind {
	case KindURL:
		return targets.URL(t.URL, -1), nil // the bench does not wait for a running target's /healthz
	case KindBare:
		return targets.Served(t.Name, func(contract.Contract) (targets.Listener, error) {
			return baseline.New(baseline.Config{Bare: true}), nil
		}), nil
	case KindReference:
		vc := t.Reference
		return targets.Reference(t.Name, targets.ReferenceOptions{Validator: func(c *reference.Config) { *c = vc }}), nil
	case KindBaseline:
		return targets.Served(t.Name, func(c contract.Contract) (targets.Listener, error) {
			a, err := c.AllowList()
			return baseline.New(baseline.Config{ServerURL: c.ServerURL, AppID: c.AppID, ClientID: c.ClientID, Secret: c.Secret, Downstream: a}), err
		}), nil
	case KindCommand:
		return targets.Command(t.Command, launch.Options{Dir: t.Dir}), nil
	}
	return nil, fmt.Errorf("%w: target %q: kind %q", ErrConfig, t.Name, t.Kind)
}

// procStats are the CPU time and memory of a launched target's process
// group (the shell and what it started).
type procStats struct {
	CPU     time.Duration // user + system, summed over the group
	RSS     int64         // current resident set, bytes, summed
	PeakRSS int64         // VmHWM, bytes, summed (each process's own peak)
}

var errNoProc = errors.New("bench: target is not a separate process")

func groupStats(pgid int) (procStats, error) {
	var st procStats
	if pgid <= 0 {
		return st, errNoProc
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return st, fmt.Errorf("bench: reading /proc: %w", err)
	}
	found := false
	for _, d := range ents {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", d.Name(), "stat"))
		if err != nil {
			continue
		}
		// Fields after the command name (which may contain spaces) "(...)".
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		// f[0]=state(3) f[1]=ppid(4) f[2]=pgrp(5) ... f[11]=utime(14) f[12]=stime(15)
		if len(f) < 13 {
			continue
		}
		if pg, _ := strconv.Atoi(f[2]); pg != pgid && pid != pgid {
			continue
		}
		found = true
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		sy, _ := strconv.ParseInt(f[12], 10, 64)
		st.CPU += time.Duration(ut+sy) * time.Second / clkTck
		rss, hwm := statusMem(pid)
		st.RSS += rss
		st.PeakRSS += hwm
	}
	if !found {
		return st, fmt.Errorf("bench: process group %d not found in /proc", pgid)
	}
	return st, nil
}

func statusMem(pid int) (rss, hwm int64) {
	f, err := os.Open(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			rss = n << 10
		case "VmHWM":
			hwm = n << 10
		}
	}
	return rss, hwm
}

// newClient is the benchmark's own HTTP client (the attacker's, priming,
// the fleet, the AZ checks): bounded connections and timeouts, any host.
func newClient(conns int, timeout time.Duration) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DialContext:           d.DialContext,
			TLSHandshakeTimeout:   5 * time.Second,
			ResponseHeaderTimeout: timeout,
			MaxIdleConnsPerHost:   conns, MaxConnsPerHost: conns, IdleConnTimeout: 30 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// sinkHosts is the MCA_DOWNSTREAM_HOSTS value that lets the targets the
// bench starts reach its sink: "" (loopback only, the default) when the
// sink is on loopback, else "loopback,<sink host:port>".
func (e *env) sinkHosts() string {
	if e.sink == nil {
		return ""
	}
	u, err := url.Parse(e.sink.url)
	if err != nil {
		return ""
	}
	if ip := net.ParseIP(u.Hostname()); u.Hostname() == "localhost" || (ip != nil && ip.IsLoopback()) {
		return ""
	}
	return "loopback," + u.Host
}

// Package downstream decides which services a target may call on behalf of a
// client (the to= parameter of /propagate and /service-call in the target
// contract, docs/TARGET-CONTRACT.md) and makes those calls.
//
// An AllowList is the contract's MCA_DOWNSTREAM_HOSTS: comma-separated
// host[:port] entries, hosts given as names or IP addresses (IPv6 in
// brackets). A port-less entry allows every port of its host. The zero
// AllowList (the default, no MCA_DOWNSTREAM_HOSTS) allows loopback only:
// 127.0.0.0/8, ::1 and localhost, on any port. The entry "loopback" stands
// for that default inside a longer list. Only http URLs without user info
// are allowed, and the client follows no redirects, so a target is never an
// open proxy.
package downstream

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Env is the environment variable of the target contract that holds the list.
const Env = "MCA_DOWNSTREAM_HOSTS"

// LoopbackEntry is the list entry that stands for 127.0.0.0/8, ::1 and
// localhost on any port (the default list).
const LoopbackEntry = "loopback"

var (
	// ErrAllowList is wrapped when an allow-list does not parse.
	ErrAllowList = errors.New("bad downstream allow-list")
	// ErrNotAllowed is wrapped when a URL or an address is refused.
	ErrNotAllowed = errors.New("downstream not allowed")
)

// entry is one allowed host, with its port ("" = any port).
type entry struct {
	ip   netip.Addr // valid for an address entry
	name string     // lower case, for a name entry
	port string
}

// AllowList says which host:port a target may call. The zero value allows
// loopback only; it is safe for concurrent use.
type AllowList struct {
	explicit bool // parsed from a non-empty value; false: loopback only
	loopback bool // an explicit list has the "loopback" entry
	entries  []entry
}

// ParseAllowList parses a MCA_DOWNSTREAM_HOSTS value. An empty (or blank)
// value is the default, loopback only. Empty items between commas are
// ignored; an item that is not host[:port] is an error wrapping ErrAllowList.
func ParseAllowList(s string) (AllowList, error) {
	if strings.TrimSpace(s) == "" {
		return AllowList{}, nil
	}
	a := AllowList{explicit: true}
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if strings.EqualFold(item, LoopbackEntry) {
			a.loopback = true
			continue
		}
		e, err := parseEntry(item)
		if err != nil {
			return AllowList{}, fmt.Errorf("%w: %s=%q: entry %q: %w", ErrAllowList, Env, s, item, err)
		}
		a.entries = append(a.entries, e)
	}
	if !a.loopback && len(a.entries) == 0 {
		return AllowList{}, fmt.Errorf("%w: %s=%q has no entry; want comma-separated host[:port], e.g. sink.internal:9001,10.0.0.7,[fd00::7]:80", ErrAllowList, Env, s)
	}
	return a, nil
}

// parseEntry parses host, host:port, [v6], [v6]:port or a bare IPv6 address.
func parseEntry(item string) (entry, error) {
	if strings.Contains(item, "://") || strings.ContainsAny(item, "/?#@") {
		return entry{}, errors.New("want host[:port], not a URL or a network (e.g. sink.internal:9001 or 10.0.0.7)")
	}
	host, port := item, ""
	switch {
	case strings.HasPrefix(item, "["):
		if strings.HasSuffix(item, "]") {
			host = item[1 : len(item)-1]
			break
		}
		h, p, err := net.SplitHostPort(item)
		if err != nil {
			return entry{}, errors.New("want [IPv6] or [IPv6]:port")
		}
		host, port = h, p
		if _, err := netip.ParseAddr(host); err != nil {
			return entry{}, fmt.Errorf("%q in brackets is not an IPv6 address", host)
		}
	case strings.Count(item, ":") > 1:
		// A bare IPv6 address (no port possible without brackets).
		if _, err := netip.ParseAddr(item); err != nil {
			return entry{}, errors.New("not an IPv6 address; write an IPv6 address with a port as [addr]:port")
		}
	case strings.Contains(item, ":"):
		h, p, err := net.SplitHostPort(item)
		if err != nil {
			return entry{}, err
		}
		host, port = h, p
	}
	if strings.HasSuffix(item, ":") {
		return entry{}, errors.New("empty port; write host for any port or host:port")
	}
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
			return entry{}, fmt.Errorf("port %q: want a number from 1 to 65535", port)
		}
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip.Zone() != "" {
			return entry{}, errors.New("an address with a zone is not supported")
		}
		if ip.IsUnspecified() {
			return entry{}, fmt.Errorf("%s is the unspecified address, not a host to call", host)
		}
		return entry{ip: ip.Unmap(), port: port}, nil
	}
	name := strings.ToLower(strings.TrimSuffix(host, "."))
	if !validName(name) {
		return entry{}, fmt.Errorf("%q is neither an IP address nor a host name (letters, digits, '-', '_' and dots; the last label not all digits)", host)
	}
	return entry{name: name, port: port}, nil
}

func validName(s string) bool {
	if s == "" || len(s) > 253 || s[0] == '.' || s[0] == '-' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	// The last label of a name is never all digits (that would be an IP
	// address, or a typo of one: 10.0.0 or 10.0.0.7.).
	return strings.Trim(s[strings.LastIndexByte(s, '.')+1:], "0123456789") != ""
}

// String describes the list for messages: "loopback only" for the default,
// else the entries.
func (a AllowList) String() string {
	if !a.explicit {
		return "loopback only (127.0.0.0/8, ::1, localhost)"
	}
	var parts []string
	if a.loopback {
		parts = append(parts, LoopbackEntry)
	}
	for _, e := range a.entries {
		h := e.name
		if e.ip.IsValid() {
			h = e.ip.String()
			if e.ip.Is6() {
				h = "[" + h + "]"
			}
		}
		if e.port != "" {
			h += ":" + e.port
		}
		parts = append(parts, h)
	}
	return strings.Join(parts, ",")
}

// allowsLoopback reports whether the default loopback entries are in the list.
func (a AllowList) allowsLoopback() bool { return !a.explicit || a.loopback }

// isLoopbackHost reports whether host (no brackets) is localhost or a loopback IP.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// Allows reports whether host (a name or an IP, without brackets) and port
// (numeric) are in the list.
func (a AllowList) Allows(host, port string) bool {
	_, ok := a.match(host, port)
	return ok
}

// match reports whether host:port is allowed and, if so, whether it was only
// through the loopback entries with a host name (then the name must resolve
// to a loopback address).
func (a AllowList) match(host, port string) (mustResolveLoopback, ok bool) {
	ip, ipErr := netip.ParseAddr(host)
	if ipErr == nil {
		if ip.Zone() != "" {
			return false, false
		}
		ip = ip.Unmap()
	}
	name := strings.ToLower(strings.TrimSuffix(host, "."))
	for _, e := range a.entries {
		if e.port != "" && e.port != port {
			continue
		}
		if e.ip.IsValid() && ipErr == nil && e.ip == ip || e.name != "" && ipErr != nil && e.name == name {
			return false, true
		}
	}
	if a.allowsLoopback() && isLoopbackHost(host) {
		return ipErr != nil, true
	}
	return false, false
}

// Check checks that rawURL is an http URL without user info whose host:port
// (port 80 when absent) is in the list, and returns it normalised. Errors
// name the to parameter and say what is allowed; a refused host wraps
// ErrNotAllowed. Check makes no connection and no DNS lookup.
func (a AllowList) Check(rawURL string) (string, error) {
	if rawURL == "" {
		return "", fmt.Errorf("missing to=<http URL> (allowed downstream hosts: %s)", a)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("to: %w", err)
	}
	if u.Scheme != "http" || u.User != nil || u.Host == "" || u.Opaque != "" {
		return "", fmt.Errorf("to=%q: only http URLs with a host and without user info are allowed", rawURL)
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "80"
	}
	if !a.Allows(host, port) {
		return "", fmt.Errorf("%w: to=%q: %s is not an allowed downstream host (%s: %s)", ErrNotAllowed, rawURL, net.JoinHostPort(host, port), Env, a)
	}
	return u.String(), nil
}

// Client returns an HTTP client for downstream calls: timeout bounds every
// request, no redirect is followed and no proxy is used, and its dialer checks
// every address against the list again (a second line of defence behind
// Check): the host:port asked for, and, for localhost allowed by the loopback
// entries, that the name resolved to a loopback address.
func (a AllowList) Client(timeout time.Duration) *http.Client {
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           a.dialer(timeout),
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       30 * time.Second,
		ResponseHeaderTimeout: timeout,
	}
	return &http.Client{
		Transport:     tr,
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func (a AllowList) dialer(timeout time.Duration) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		mustLoopback, ok := a.match(host, port)
		if !ok {
			return nil, fmt.Errorf("%w: refusing to dial %s (%s: %s)", ErrNotAllowed, addr, Env, a)
		}
		d := &net.Dialer{Timeout: timeout}
		if mustLoopback {
			d.Control = func(_, resolved string, _ syscall.RawConn) error {
				h, _, err := net.SplitHostPort(resolved)
				if err != nil {
					return err
				}
				if ip, err := netip.ParseAddr(h); err != nil || !ip.Unmap().IsLoopback() {
					return fmt.Errorf("%w: %s resolved to %s, which is not loopback", ErrNotAllowed, host, resolved)
				}
				return nil
			}
		}
		return d.DialContext(ctx, network, addr)
	}
}

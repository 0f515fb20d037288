package loopback

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// IsHost reports whether h (a host name or IP, without port) is loopback.
func IsHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// HTTPURL checks that raw is an http URL, without user info, on a loopback
// host, and returns it normalised. name labels errors (e.g. "to").
func HTTPURL(name, raw string) (string, error) {
	if raw == "" {
		return "", fmt.Errorf("missing %s=<loopback http URL>", name)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	if u.Scheme != "http" || u.User != nil {
		return "", fmt.Errorf("%s=%q: only http URLs without user info are allowed", name, raw)
	}
	if !IsHost(u.Hostname()) {
		return "", fmt.Errorf("%w: %s=%q: the host must be loopback (127.0.0.0/8, ::1, localhost)", ErrNotLoopback, name, raw)
	}
	return u.String(), nil
}

// Client returns an HTTP client that follows no redirects and refuses to
// dial anything but a loopback address (a second line of defence behind
// HTTPURL), with timeout bounding every request.
func Client(timeout time.Duration) *http.Client {
	d := &net.Dialer{Timeout: timeout, Control: func(_, address string, _ syscall.RawConn) error {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return err
		}
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			return fmt.Errorf("%w: refusing to dial %s", ErrNotLoopback, address)
		}
		return nil
	}}
	tr := &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second, ResponseHeaderTimeout: timeout}
	return &http.Client{
		Transport:     tr,
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

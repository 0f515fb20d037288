// Package listen is the one place the project's servers (fakeaz, the IdP
// simulators, the reference target, the bench baseline and sink, the
// conformance sink and attacker) listen, start and stop.
//
// A server listens where it is told. The default is a free port on
// 127.0.0.1; any other address (0.0.0.0:9080, a pod IP, [::]:80) is accepted,
// and Exposure gives the one line a command prints about it.
package listen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// DefaultAddr is where a server listens when given no address.
const DefaultAddr = "127.0.0.1:0"

// ErrAddr is wrapped when an address is not host:port.
var ErrAddr = errors.New("not a listen address")

// ErrStarted is returned by Start on a server already started.
var ErrStarted = errors.New("already started")

// ShutdownGrace is how long Close waits for requests in flight.
const ShutdownGrace = 5 * time.Second

// Limits every server gets where its http.Server leaves them zero, so that
// a slow client, a slow body or an idle keep-alive never holds a
// connection forever. ReadTimeout bounds reading the request only: a handler
// that holds a request on purpose (fakeaz's hang faults) still answers
// after it. WriteTimeout is left to each server: one that holds requests
// on purpose must not have its answer cut.
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 30 * time.Second // the whole request, body included
	DefaultIdleTimeout       = 60 * time.Second // an idle keep-alive connection
	DefaultMaxHeaderBytes    = 1 << 20          // 1 MiB: request line and headers
)

// WithDefaults fills hs's zero limits with the Default* values above.
func WithDefaults(hs *http.Server) *http.Server {
	if hs.ReadHeaderTimeout == 0 {
		hs.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if hs.ReadTimeout == 0 {
		hs.ReadTimeout = DefaultReadTimeout
	}
	if hs.IdleTimeout == 0 {
		hs.IdleTimeout = DefaultIdleTimeout
	}
	if hs.MaxHeaderBytes == 0 {
		hs.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	return hs
}

// Addr resolves addr: "" means DefaultAddr, host "localhost" means
// 127.0.0.1, an empty host (":8080") means every interface. It refuses what
// is not host:port with a numeric port.
func Addr(addr string) (string, error) {
	if addr == "" {
		return DefaultAddr, nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("%w: %q: want host:port, e.g. 127.0.0.1:9080 or 0.0.0.0:9080", ErrAddr, addr)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return "", fmt.Errorf("%w: %q: the port must be a number from 0 to 65535", ErrAddr, addr)
	}
	if host == "localhost" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port), nil
}

// IsLoopback reports whether addr (host:port, as Addr returns it) listens
// on loopback only. An empty or unspecified host (every interface) is not.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Exposure is the line a command prints when it listens on addr: "" for a
// loopback address, else a warning that the server is reachable from the
// network.
func Exposure(name, addr string) string {
	if IsLoopback(addr) {
		return ""
	}
	return fmt.Sprintf("%s listens on %s: it is reachable from the network, not only from this machine", name, addr)
}

// Server runs one http.Server. The zero value is ready to Start; it is safe
// for concurrent use.
type Server struct {
	mu     sync.Mutex
	hs     *http.Server
	addr   string
	url    string
	served chan struct{}
	done   chan struct{}
	once   sync.Once
}

// Start listens on addr (resolved with Addr) and serves hs in the background.
// hs carries the handler and the timeouts; its zero limits get the
// Default* values (WithDefaults). A port in use is an error wrapping
// syscall.EADDRINUSE.
func (s *Server) Start(addr string, hs *http.Server) error {
	WithDefaults(hs)
	addr, err := Addr(addr)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hs != nil {
		return ErrStarted
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	s.hs, s.addr, s.url, s.served = hs, ln.Addr().String(), "http://"+dialable(addr, ln.Addr().(*net.TCPAddr)), make(chan struct{})
	go func(served chan struct{}) {
		defer close(served)
		_ = hs.Serve(ln)
	}(s.served)
	return nil
}

// dialable is host:port for a client on this machine: an unspecified host
// (0.0.0.0 or empty: 127.0.0.1; "::": ::1) becomes a loopback address.
func dialable(requested string, a *net.TCPAddr) string {
	ip := a.IP
	if ip == nil || ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
		if h, _, _ := net.SplitHostPort(requested); h == "::" {
			ip = net.IPv6loopback
		}
	}
	return net.JoinHostPort(ip.String(), strconv.Itoa(a.Port))
}

// URL is "http://host:port" once started, else "": the address a client on
// this machine dials (127.0.0.1 when listening on every interface). Other
// hosts need the server's public URL, which only the caller knows.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// Addr is the address listened on once started ("0.0.0.0:9080"), else "".
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Done is closed when Close begins: handlers that hold a request (a
// simulated hang) select on it so that Close never waits for them.
func (s *Server) Done() <-chan struct{} { return s.doneChan() }

func (s *Server) doneChan() chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done == nil {
		s.done = make(chan struct{})
	}
	return s.done
}

// Close closes Done, then shuts the server down, waiting up to
// ShutdownGrace for requests in flight (forcing them closed after that).
// It may be called more than once, and before Start.
func (s *Server) Close() error {
	done := s.doneChan()
	s.once.Do(func() { close(done) })
	s.mu.Lock()
	hs, served := s.hs, s.served
	s.hs = nil
	s.mu.Unlock()
	if hs == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), ShutdownGrace)
	defer cancel()
	err := hs.Shutdown(ctx)
	if err != nil {
		err = hs.Close()
	}
	<-served
	return err
}

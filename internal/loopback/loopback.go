// Package loopback serves HTTP on loopback addresses only — the one place
// the project's servers (fakeaz, the IdP simulators, the reference target,
// the bench baseline and sink, the conformance sink and attacker) listen,
// start and stop.
package loopback

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// ErrNotLoopback is wrapped when an address is not on the loopback interface.
var ErrNotLoopback = errors.New("not a loopback address")

// ErrStarted is returned by Start on a server already started.
var ErrStarted = errors.New("already started")

// ShutdownGrace is how long Close waits for requests in flight.
const ShutdownGrace = 5 * time.Second

// Addr resolves addr ("" means 127.0.0.1:0, host "localhost" means
// 127.0.0.1) and refuses anything not on 127.0.0.0/8 or ::1 — including an
// empty host (":8080"), which would listen on every interface.
func Addr(addr string) (string, error) {
	if addr == "" {
		return "127.0.0.1:0", nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("%w: %q is not host:port (want 127.0.0.1:PORT): %v", ErrNotLoopback, addr, err)
	}
	if host == "localhost" {
		host = "127.0.0.1"
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return "", fmt.Errorf("%w: %q: servers listen on loopback only (use 127.0.0.1:PORT or [::1]:PORT)", ErrNotLoopback, addr)
	}
	return net.JoinHostPort(host, port), nil
}

// Server runs one http.Server on a loopback address. The zero value is
// ready to Start; it is safe for concurrent use.
type Server struct {
	mu     sync.Mutex
	hs     *http.Server
	url    string
	served chan struct{}
	done   chan struct{}
	once   sync.Once
}

// Start listens on addr (checked with Addr) and serves hs in the background.
// hs carries the handler and the timeouts.
func (s *Server) Start(addr string, hs *http.Server) error {
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
	s.hs, s.url, s.served = hs, "http://"+ln.Addr().String(), make(chan struct{})
	go func(served chan struct{}) {
		defer close(served)
		_ = hs.Serve(ln)
	}(s.served)
	return nil
}

// URL is "http://host:port" once started, else "".
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
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

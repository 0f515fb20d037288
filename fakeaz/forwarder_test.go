package fakeaz_test

import (
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// forwarder stands in for Docker's port mapping: it listens on a loopback port of its own and
// copies bytes both ways to a target address, so the server behind it is reached on another
// port than the one it listens on. Connections are bounded in number and idle time; Close stops
// accepting, closes every connection and waits for the copies.
type forwarder struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

const (
	forwarderMaxConns = 64
	forwarderIdle     = 30 * time.Second
)

// newForwarder listens on 127.0.0.1:0; call start with the target once it is known.
func newForwarder(t testing.TB) *forwarder {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &forwarder{ln: ln, conns: map[net.Conn]struct{}{}}
	t.Cleanup(f.Close)
	return f
}

// Addr is the forwarder's own address, 127.0.0.1:B.
func (f *forwarder) Addr() string { return f.ln.Addr().String() }

// Port is B.
func (f *forwarder) Port() int { return f.ln.Addr().(*net.TCPAddr).Port }

// start forwards every accepted connection to target (a loopback host:port).
func (f *forwarder) start(target string) {
	f.target = target
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for {
			c, err := f.ln.Accept()
			if err != nil {
				return // closed
			}
			if !f.track(c) {
				c.Close()
				continue
			}
			f.wg.Add(1)
			go func() {
				defer f.wg.Done()
				f.pipe(c)
			}()
		}
	}()
}

func (f *forwarder) track(c net.Conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.conns == nil || len(f.conns) >= forwarderMaxConns {
		return false
	}
	f.conns[c] = struct{}{}
	return true
}

func (f *forwarder) untrack(cs ...net.Conn) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range cs {
		delete(f.conns, c)
		c.Close()
	}
}

// pipe copies bytes between the client connection and a new connection to the target.
func (f *forwarder) pipe(client net.Conn) {
	up, err := net.DialTimeout("tcp", f.target, 5*time.Second)
	if err != nil {
		f.untrack(client)
		return
	}
	if !f.track(up) {
		up.Close()
		f.untrack(client)
		return
	}
	done := make(chan struct{}, 2)
	copyHalf := func(dst, src net.Conn) {
		_, _ = io.Copy(idleConn{dst}, idleConn{src})
		if tc, ok := dst.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		done <- struct{}{}
	}
	go copyHalf(up, client)
	go copyHalf(client, up)
	<-done
	<-done
	f.untrack(client, up)
}

// Close stops the forwarder; it may be called more than once.
func (f *forwarder) Close() {
	err := f.ln.Close()
	f.mu.Lock()
	for c := range f.conns {
		c.Close()
	}
	f.conns = nil
	f.mu.Unlock()
	if err == nil || !errors.Is(err, net.ErrClosed) {
		f.wg.Wait()
	}
}

// idleConn bounds each read and write by forwarderIdle, so a stuck peer cannot hold a copy forever.
type idleConn struct{ net.Conn }

func (c idleConn) Read(b []byte) (int, error) {
	_ = c.SetReadDeadline(time.Now().Add(forwarderIdle))
	return c.Conn.Read(b)
}

func (c idleConn) Write(b []byte) (int, error) {
	_ = c.SetWriteDeadline(time.Now().Add(forwarderIdle))
	return c.Conn.Write(b)
}

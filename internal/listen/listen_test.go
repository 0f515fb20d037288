package listen_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mcaspec/mcaspec/internal/listen"
)

func TestAddr(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"": "127.0.0.1:0", "localhost:80": "127.0.0.1:80", "127.0.0.5:1": "127.0.0.5:1", "[::1]:2": "[::1]:2"} {
		if got, err := listen.Addr(in); err != nil || got != want {
			t.Errorf("Addr(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	// Any host is accepted: servers listen where they are told.
	for in, want := range map[string]string{":9": ":9", "0.0.0.0:1": "0.0.0.0:1", "10.0.0.1:80": "10.0.0.1:80", "[::]:80": "[::]:80", "example.com:80": "example.com:80"} {
		if got, err := listen.Addr(in); err != nil || got != want {
			t.Errorf("Addr(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"nonsense", "127.0.0.1", "127.0.0.1:http", "127.0.0.1:70000"} {
		if _, err := listen.Addr(bad); !errors.Is(err, listen.ErrAddr) {
			t.Errorf("Addr(%q): %v, want ErrAddr", bad, err)
		}
	}
}

func TestExposure(t *testing.T) {
	t.Parallel()
	for addr, exposed := range map[string]bool{"127.0.0.1:0": false, "[::1]:80": false, "localhost:1": false, "0.0.0.0:9080": true, ":9080": true, "10.1.2.3:80": true, "[::]:80": true} {
		if got := listen.Exposure("fakeaz", addr) != ""; got != exposed {
			t.Errorf("Exposure(%q) says exposed=%v, want %v", addr, got, exposed)
		}
	}
}

func TestServerLifecycle(t *testing.T) {
	t.Parallel()
	var s listen.Server
	if err := s.Close(); err != nil {
		t.Fatalf("Close before Start: %v", err)
	}
	var srv listen.Server
	hang := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hang" {
			close(hang)
			<-srv.Done()
			return
		}
		_, _ = io.WriteString(w, "ok")
	})
	if err := srv.Start("127.0.0.1:0", &http.Server{Handler: h}); err != nil {
		t.Fatal(err)
	}
	if err := srv.Start("127.0.0.1:0", &http.Server{Handler: h}); !errors.Is(err, listen.ErrStarted) {
		t.Errorf("second Start: %v", err)
	}
	resp, err := http.Get(srv.URL() + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	go func() { _, _ = http.Get(srv.URL() + "/hang") }()
	<-hang
	start := time.Now()
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > listen.ShutdownGrace {
		t.Errorf("Close took %s with a hanging handler", d)
	}
	if err := srv.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// A server on every interface is reached by local clients through loopback.
func TestServerOnEveryInterface(t *testing.T) {
	t.Parallel()
	var srv listen.Server
	if err := srv.Start("0.0.0.0:0", &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })}); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if !strings.HasPrefix(srv.URL(), "http://127.0.0.1:") || listen.IsLoopback(srv.Addr()) {
		t.Fatalf("URL %q, Addr %q", srv.URL(), srv.Addr())
	}
	resp, err := http.Get(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

func TestStartSetsTheLimitsLeftZero(t *testing.T) {
	t.Parallel()
	var s listen.Server
	hs := &http.Server{Handler: http.NotFoundHandler(), ReadTimeout: time.Second}
	if err := s.Start("127.0.0.1:0", hs); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if hs.ReadTimeout != time.Second {
		t.Errorf("ReadTimeout = %v: a limit the server set was replaced", hs.ReadTimeout)
	}
	if hs.ReadHeaderTimeout != listen.DefaultReadHeaderTimeout || hs.IdleTimeout != listen.DefaultIdleTimeout || hs.MaxHeaderBytes != listen.DefaultMaxHeaderBytes {
		t.Errorf("limits = %v %v %d, want the defaults", hs.ReadHeaderTimeout, hs.IdleTimeout, hs.MaxHeaderBytes)
	}
	if hs.WriteTimeout != 0 {
		t.Errorf("WriteTimeout = %v, want it left to the server", hs.WriteTimeout)
	}
}

func TestStartOnAPortInUseWrapsEADDRINUSE(t *testing.T) {
	t.Parallel()
	var a, b listen.Server
	if err := a.Start("127.0.0.1:0", &http.Server{Handler: http.NotFoundHandler()}); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	err := b.Start(a.Addr(), &http.Server{Handler: http.NotFoundHandler()})
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("err = %v, want EADDRINUSE", err)
	}
}

// A request a handler holds on purpose (a hang fault) outlives the
// server's ReadTimeout: the default limits are safe for fakeaz's faults.
func TestAHeldRequestOutlivesReadTimeout(t *testing.T) {
	t.Parallel()
	var s listen.Server
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(400 * time.Millisecond):
			io.WriteString(w, "held")
		case <-r.Context().Done():
		}
	})
	if err := s.Start("127.0.0.1:0", &http.Server{Handler: h, ReadTimeout: 100 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	resp, err := http.Get(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "held" {
		t.Errorf("body %q: the ReadTimeout cut a held request", b)
	}
}

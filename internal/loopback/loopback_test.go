package loopback_test

import (
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/mcaspec/mcaspec/internal/loopback"
)

func TestAddr(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"": "127.0.0.1:0", "localhost:80": "127.0.0.1:80", "127.0.0.5:1": "127.0.0.5:1", "[::1]:2": "[::1]:2"} {
		if got, err := loopback.Addr(in); err != nil || got != want {
			t.Errorf("Addr(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{":9", "0.0.0.0:1", "10.0.0.1:80", "192.168.1.1:80", "example.com:80", "nonsense"} {
		if _, err := loopback.Addr(bad); !errors.Is(err, loopback.ErrNotLoopback) {
			t.Errorf("Addr(%q): %v, want ErrNotLoopback", bad, err)
		}
	}
}

func TestServerLifecycle(t *testing.T) {
	t.Parallel()
	var s loopback.Server
	if err := s.Close(); err != nil {
		t.Fatalf("Close before Start: %v", err)
	}
	var srv loopback.Server
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
	if err := srv.Start("127.0.0.1:0", &http.Server{Handler: h}); !errors.Is(err, loopback.ErrStarted) {
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
	if d := time.Since(start); d > loopback.ShutdownGrace {
		t.Errorf("Close took %s with a hanging handler", d)
	}
	if err := srv.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestHTTPURLAndClient(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"http://127.0.0.1:9/x", "http://localhost/", "http://[::1]:80/a?b=c"} {
		if _, err := loopback.HTTPURL("to", ok); err != nil {
			t.Errorf("HTTPURL(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "https://127.0.0.1/", "http://user:pw@127.0.0.1/", "http://10.0.0.1/", "http://example.com/", "::"} {
		if _, err := loopback.HTTPURL("to", bad); err == nil {
			t.Errorf("HTTPURL(%q) accepted", bad)
		}
	}
	// The client refuses to dial a non-loopback address even when asked to
	// (0.0.0.0 is not loopback; the dialer's Control hook refuses it before any connect).
	_, err := loopback.Client(time.Second).Get("http://0.0.0.0:9/")
	if !errors.Is(err, loopback.ErrNotLoopback) {
		t.Errorf("dialing a non-loopback address: %v, want ErrNotLoopback", err)
	}
}

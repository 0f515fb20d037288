package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcaspec/mcaspec/conformance"
	"github.com/mcaspec/mcaspec/conformance/harness"
	"github.com/mcaspec/mcaspec/reference/target"
)

// maxFaultHeap is the heap a faulty target may make the CLI hold: a run
// against the reference stays well under it, an unbounded read of an
// endless body would pass it within a second.
const maxFaultHeap = 512 << 20

// TestFaultMatrix runs the CLI against targets that misbehave in every way
// a real one can, and against an output folder it cannot write: each row
// asserts the exit code, that the message names the problem, a time bound,
// and that the heap stays bounded. Rows run one after another (the heap is
// the process's); the whole table takes 20 to 50 s (measured on 2 loaded cores).
func TestFaultMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the CLI against several faulty targets")
	}
	readOnly := t.TempDir()
	if err := os.Chmod(readOnly, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(readOnly, 0o755) })
	roOut := filepath.Join(readOnly, "out")
	if os.Geteuid() == 0 {
		roOut = "/sys/mcaspec-fault-matrix" // root writes through mode bits; sysfs refuses even root
	}
	fast := []string{"--response-bound", "1s", "--ready-timeout", "3s"}
	tests := []struct {
		name    string
		handler http.Handler // the target (nil: the reference, crashing)
		args    []string
		code    int
		phrase  string
		within  time.Duration
	}{
		{"hangs on everything", hang(func(*http.Request) bool { return true }), fast, conformance.ExitInvalid, "healthz", 20 * time.Second},
		{"hangs on valid tokens only", hang(looksValid), fast, conformance.ExitInvalid, "calibration", 20 * time.Second},
		{"closes without answering", closer(), fast, conformance.ExitInvalid, "calibration", 20 * time.Second},
		{"answers 200 to everything", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("{}")) }), fast, conformance.ExitInvalid, "calibration", 20 * time.Second},
		{"streams an endless body", endless(), fast, conformance.ExitInvalid, "calibration", 30 * time.Second},
		{"crashes mid-run", nil, []string{"--response-bound", "2s", "--ready-timeout", "3s", "--label-filter", "area:calibration || area:header"}, conformance.ExitInvalid, "stopped answering", 60 * time.Second},
		{"out on a read-only folder", healthy(), append([]string{"--out", roOut}, fast...), 2, "output folder", 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			azAddr := freeAddr(t)
			url := startFaultyTarget(t, tt.handler, azAddr)
			args := append([]string{"conformance", "--target", url, "--az-listen", azAddr}, tt.args...)
			if !containsStr(args, "--out") {
				args = append(args, "--out", filepath.Join(t.TempDir(), "out"))
			}
			peak, stop := watchHeap()
			ctx, cancel := context.WithTimeout(context.Background(), 2*tt.within)
			defer cancel()
			var stdout, stderr bytes.Buffer
			start := time.Now()
			code := runMain(ctx, args, &stdout, &stderr)
			took := time.Since(start)
			stop()
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.code, stderr.String())
			}
			if !strings.Contains(stderr.String()+stdout.String(), tt.phrase) {
				t.Errorf("the output does not name the problem (%q):\nstderr: %s", tt.phrase, stderr.String())
			}
			if took > tt.within {
				t.Errorf("took %v, want under %v", took, tt.within)
			}
			if p := peak.Load(); p > maxFaultHeap {
				t.Errorf("the heap reached %d MiB, over %d MiB", p>>20, maxFaultHeap>>20)
			}
			t.Logf("exit %d in %v, heap peak %d MiB", code, took.Round(time.Millisecond), peak.Load()>>20)
		})
	}
}

// watchHeap samples the heap until stop is called and keeps its peak.
func watchHeap() (*atomic.Uint64, func()) {
	var peak atomic.Uint64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > peak.Load() {
				peak.Store(m.HeapAlloc)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return &peak, func() { close(done); <-finished }
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// startFaultyTarget serves h (healthz answered unless h hangs on it); nil
// is the reference target configured for the harness's AZ at azAddr, which
// stops answering after its 10th request.
func startFaultyTarget(t *testing.T, h http.Handler, azAddr string) string {
	t.Helper()
	if h == nil {
		c, err := harness.PlannedContract(harness.Config{AZListen: azAddr, Profile: conformance.Strict}, "")
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := target.ConfigFromEnv(harness.Getenv(c))
		if err != nil {
			t.Fatal(err)
		}
		ref, err := target.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		var n atomic.Int64
		var srv *httptest.Server
		srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1) == 10 {
				go srv.CloseClientConnections()
				go srv.Listener.Close() // the process died: nothing listens any more
			}
			if n.Load() >= 10 {
				panic(http.ErrAbortHandler)
			}
			ref.ServeHTTP(w, r)
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() { srv.CloseClientConnections(); srv.Close() })
	return srv.URL
}

func healthy() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("{}")) })
}

// hang holds the requests when pred says so (until the client gives up);
// others are 401.
func hang(pred func(*http.Request) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" && !pred(r) {
			w.Write([]byte("{}"))
			return
		}
		if pred(r) {
			<-r.Context().Done()
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
	})
}

// looksValid: a bearer token whose unverified payload has an exp in the
// future (the harness's valid tokens do; its garbage does not).
func looksValid(r *http.Request) bool {
	f := strings.Fields(r.Header.Get("Authorization"))
	if len(f) < 2 {
		return false
	}
	parts := strings.Split(f[1], ".")
	if len(parts) != 3 {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	var c struct {
		Exp float64 `json:"exp"`
	}
	return err == nil && json.Unmarshal(b, &c) == nil && c.Exp > float64(time.Now().Unix())
}

// closer answers healthz and drops every other connection unanswered.
func closer() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			w.Write([]byte("{}"))
			return
		}
		panic(http.ErrAbortHandler)
	})
}

// endless answers 200 with a body that never ends (until the client goes).
func endless() http.Handler {
	chunk := bytes.Repeat([]byte(`{"imf.sub":"x",`), 4096)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			w.Write([]byte("{}"))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
}

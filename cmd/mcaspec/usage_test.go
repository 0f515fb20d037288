package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestUsageErrors drives the CLI through the usage errors a careless or
// hostile user makes (issue 20's list and its neighbours): each is exit 2
// with a plain message (no colour codes off a terminal) that names the
// problem, decided before anything starts (the time bound: no AZ, target
// or run was started), and leaves the user's files as they were.
func TestUsageErrors(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { busy.Close() })
	port := busy.Addr().String()

	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	curated := write("known.txt", "# mcaspec baseline\nHDR-002 NON-STRICT # curated\n")
	notBaseline := write("notes.md", "my notes\n")
	key := write("az.pem", "-----BEGIN RSA PRIVATE KEY-----\nkept\n-----END RSA PRIVATE KEY-----\n")
	results := write("results.json", `{"version":1}`)
	thesis := filepath.Join(dir, "thesis")
	os.Mkdir(thesis, 0o755)
	write("thesis/chapter1.tex", "mine")
	kept := map[string]string{curated: "", notBaseline: "", key: "", results: "", filepath.Join(thesis, "chapter1.tex"): ""}
	for p := range kept {
		kept[p] = string(mustRead(t, p))
	}

	tests := []struct {
		name   string
		args   []string
		phrase string
	}{
		{"target and target-cmd", []string{"conformance", "--target", "http://127.0.0.1:1", "--target-cmd", "node server.js"}, "give one of --target"},
		{"label filter Ginkgo cannot parse", []string{"conformance", "--label-filter", "((("}, "--label-filter"},
		{"label filter with --list", []string{"conformance", "--list", "--label-filter", "((("}, "--label-filter"},
		{"servers-listen not a host", []string{"conformance", "--servers-listen", "a b"}, "not a host"},
		{"negative response bound", []string{"conformance", "--response-bound", "-1s"}, "must not be negative"},
		{"negative ready timeout", []string{"conformance", "--ready-timeout", "-5s"}, "must not be negative"},
		{"write-baseline into a missing folder", []string{"conformance", "--write-baseline", filepath.Join(dir, "new", "dir", "f.txt")}, "does not exist"},
		{"write-baseline over a curated one from a focused run", []string{"conformance", "--focus", "HDR-001", "--write-baseline", curated}, "focused or filtered"},
		{"write-baseline over a filtered run", []string{"conformance", "--label-filter", "area:header", "--write-baseline", curated}, "--force"},
		{"write-baseline over a file that is not a baseline", []string{"conformance", "--write-baseline", notBaseline}, "not a baseline"},
		{"write-baseline over the baseline read", []string{"conformance", "--baseline", curated, "--write-baseline", curated}, "the --baseline this run reads"},
		{"out onto a folder that is not a run", []string{"conformance", "--out", thesis}, "not an earlier run"},
		{"port in use: conformance", []string{"conformance", "--az-listen", port}, "address already in use"},
		{"port in use: fakeaz", []string{"fakeaz", "--listen", port}, "address already in use"},
		{"port in use: idp", []string{"idp", "--listen", port}, "address already in use"},
		{"port in use: reference", []string{"reference", "--listen", port, "--server-url", "http://127.0.0.1:1/imf-authserver"}, "address already in use"},
		{"admin token with spaces: fakeaz", []string{"fakeaz", "--admin-token", " s3cret "}, "white space"},
		{"admin token with spaces: idp", []string{"idp", "--admin-token", " s3cret "}, "white space"},
		{"report of an endless file", []string{"report", "/dev/zero"}, "more than 64 MiB"},
		{"report onto its own input", []string{"report", "--html", results, results}, "its own input"},
		{"report into a missing folder", []string{"report", "--html", filepath.Join(dir, "nope", "r.html"), results}, "does not exist"},
		{"token key of an endless file", []string{"token", "--key", "/dev/zero", "--app-id", "x"}, "more than 1 MiB"},
		{"token write-key over an existing file", []string{"token", "--app-id", "x", "--write-key", key}, "--force"},
		{"token write-key onto the key read", []string{"token", "--key", key, "--app-id", "x", "--write-key", key}, "--key being read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			var stdout, stderr bytes.Buffer
			start := time.Now()
			code := runMain(ctx, tt.args, &stdout, &stderr)
			if code != 2 {
				t.Fatalf("exit %d, want 2; stderr: %s", code, stderr.String())
			}
			msg := stderr.String()
			if !strings.Contains(msg, tt.phrase) {
				t.Errorf("stderr does not say %q:\n%s", tt.phrase, msg)
			}
			if strings.Contains(msg, "\x1b[") {
				t.Errorf("stderr holds colour codes: %q", msg)
			}
			// Refused before anything started: nothing was printed on
			// stdout (a run prints its progress and results there). The
			// time is load-dependent and only logged.
			if stdout.Len() != 0 {
				t.Errorf("printed before refusing: %q", stdout.String())
			}
			t.Logf("refused in %v", time.Since(start).Round(time.Millisecond))
		})
	}
	t.Cleanup(func() {
		for p, want := range kept {
			if got, err := os.ReadFile(p); err != nil || string(got) != want {
				t.Errorf("%s was changed (now %q, err %v)", p, got, err)
			}
		}
	})
}

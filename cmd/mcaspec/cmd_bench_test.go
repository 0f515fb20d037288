package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcaspec/mcaspec/bench"
)

// TestBenchRefusesBadNumbers: a rate, factor or length that is not positive
// and finite is a usage error (exit 2) naming the flag, before anything runs:
// never a default, and never vegeta's unlimited rate.
func TestBenchRefusesBadNumbers(t *testing.T) {
	for _, args := range [][]string{
		{"--rate", "0"}, {"--rate", "-5"}, {"--rate", "NaN"}, {"--rate", "Inf"},
		{"--duration", "0"}, {"--duration", "-1s"}, {"--step-factor", "NaN"}, {"--start-rate", "0"},
		{"--cold-factor", "-1"}, {"--timeout", "0s"},
	} {
		var stdout, stderr bytes.Buffer
		code := runMain(context.Background(), append([]string{"bench", "--out", t.TempDir()}, args...), &stdout, &stderr)
		if code != 2 {
			t.Errorf("bench %s: exit %d, want 2 (stderr: %s)", strings.Join(args, " "), code, stderr.String())
			continue
		}
		if !strings.Contains(stderr.String(), args[0]) {
			t.Errorf("bench %s: the message does not name %s: %s", strings.Join(args, " "), args[0], stderr.String())
		}
		if stdout.Len() != 0 {
			t.Errorf("bench %s: printed %q before refusing", strings.Join(args, " "), stdout.String())
		}
	}
}

// signalWriter is a goroutine-safe log that closes seen when a line with
// want was written.
type signalWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want string
	seen chan struct{}
	once sync.Once
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

func (w *signalWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestBenchInterrupted: SIGINT/SIGTERM (the cancelled context main gets
// from signal.NotifyContext) in the middle of an attack saves what was
// measured, marks the report interrupted and exits 130.
func TestBenchInterrupted(t *testing.T) {
	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := &signalWriter{want: "correct", seen: make(chan struct{})}
	go func() {
		select {
		case <-stderr.seen: // the attack has run for a second
			cancel()
		case <-time.After(30 * time.Second):
		}
	}()
	var stdout bytes.Buffer
	began := time.Now()
	code := runMain(ctx, []string{"bench", "--out", out, "--compare", "reference", "--scenario", "hot", "--rate", "50", "--duration", "30s"}, &stdout, stderr)
	if code != exitInterrupted {
		t.Fatalf("exit %d, want %d; stderr: %s", code, exitInterrupted, stderr.String())
	}
	if took := time.Since(began); took > 20*time.Second {
		t.Errorf("took %v: the interruption did not stop the attack", took)
	}
	b, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep bench.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if !rep.Interrupted || rep.OK || rep.Requests == 0 {
		t.Errorf("report: interrupted %v, ok %v, %d requests: want an interrupted report of what was measured", rep.Interrupted, rep.OK, rep.Requests)
	}
	if !strings.Contains(stdout.String(), "INTERRUPTED") {
		t.Errorf("report.txt does not say it was interrupted:\n%s", stdout.String())
	}
	if _, err := os.Stat(filepath.Join(out, "results", "reference-hot"+bench.TallyFileSuffix)); err != nil {
		t.Errorf("no histogram file of the interrupted attack: %v", err)
	}
}

// TestBenchOutAndPoolFile: a second run into the same --out moves the
// first aside (never mixing results); an existing --pool-file that is not
// a pool file is refused without --force; --rate max runs a closed model;
// a bad --threshold is a usage error.
func TestBenchOutAndPoolFile(t *testing.T) {
	out := t.TempDir()
	args := []string{"bench", "--out", out, "--compare", "reference", "--scenario", "hot", "--rate", "max", "--max-workers", "2",
		"--duration", "200ms", "--requests", "50", "--measure-verify=false", "--quiet", "--threshold", "hot:p99.9<10s"}
	for i := range 2 {
		var stdout, stderr bytes.Buffer
		if code := runMain(context.Background(), args, &stdout, &stderr); code != 0 {
			t.Fatalf("run %d: exit %d: %s\n%s", i, code, stderr.String(), stdout.String())
		}
		if !strings.Contains(stdout.String(), "closed (--rate max)") || !strings.Contains(stdout.String(), "pass  reference/hot: threshold hot:p99.9<10s") {
			t.Errorf("run %d: report does not say closed model and the threshold:\n%s", i, stdout.String())
		}
	}
	if _, err := os.Stat(filepath.Join(out, "run.1", "results", "reference-hot.bin")); err != nil {
		t.Errorf("the first run was not moved aside: %v", err)
	}
	notPool := filepath.Join(t.TempDir(), "precious.txt")
	if err := os.WriteFile(notPool, []byte("keep me\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--scenario", "cold", "--pool-file", notPool}, "not a pool file"},
		{[]string{"--threshold", "hot:p99<fast"}, "--threshold"},
		{[]string{"--scenario", "cold", "--compare", "baseline"}, "cold"},
		{[]string{"--min-success", "2"}, "--min-success"},
	} {
		var stdout, stderr bytes.Buffer
		code := runMain(context.Background(), append([]string{"bench", "--out", t.TempDir(), "--quiet"}, tc.args...), &stdout, &stderr)
		if code != 2 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q: want 2 naming %s", tc.args, code, stderr.String(), tc.want)
		}
	}
	if b, _ := os.ReadFile(notPool); string(b) != "keep me\n" {
		t.Errorf("the file that is not a pool file was replaced: %q", b)
	}
}

// TestBenchMergeCLI: --merge of one shard of two fails (exit 2) unless
// --allow-missing-shards; a broken threshold on merged data exits 1.
func TestBenchMergeCLI(t *testing.T) {
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	run := []string{"bench", "--out", out, "--compare", "reference", "--scenario", "hot", "--rate", "40", "--duration", "300ms", "--shard", "0/2", "--measure-verify=false", "--quiet"}
	if code := runMain(context.Background(), run, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	glob := filepath.Join(out, "results", "*"+bench.TallyFileSuffix)
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"--merge", glob}, 2},
		{[]string{"--merge", glob, "--allow-missing-shards"}, 0},
		{[]string{"--merge", glob, "--allow-missing-shards", "--threshold", "hot:rate>=1000000"}, 1},
	} {
		stdout.Reset()
		stderr.Reset()
		if code := runMain(context.Background(), append([]string{"bench", "--out", t.TempDir()}, tc.args...), &stdout, &stderr); code != tc.code {
			t.Errorf("%v: exit %d, want %d: %s\n%s", tc.args, code, tc.code, stderr.String(), stdout.String())
		}
	}
}

// TestBenchSummaryMD: --summary-md writes the Markdown summary of a run and
// of a --merge (with its broken bound); a folder that does not exist is a
// usage error (exit 2) before anything runs.
func TestBenchSummaryMD(t *testing.T) {
	out, dir := t.TempDir(), t.TempDir()
	md := filepath.Join(dir, "summary.md")
	var stdout, stderr bytes.Buffer
	run := []string{"bench", "--out", out, "--compare", "reference", "--scenario", "hot", "--duration", "500ms", "--rate", "50",
		"--measure-verify=false", "--quiet", "--summary-md", md}
	if code := runMain(context.Background(), run, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	b, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	if s := string(b); !strings.HasPrefix(s, "## mcaspec bench: OK") || !strings.Contains(s, "| reference | hot | 50 |") || !strings.Contains(s, "Tool: ") {
		t.Errorf("run summary:\n%s", s)
	}
	merged := filepath.Join(dir, "merged.md")
	mergeArgs := []string{"bench", "--out", t.TempDir(), "--merge", filepath.Join(out, "results", "*"+bench.TallyFileSuffix),
		"--threshold", "hot:rate>=1000000", "--summary-md", merged}
	if code := runMain(context.Background(), mergeArgs, &stdout, &stderr); code != 1 {
		t.Fatalf("merge: exit %d, want 1: %s", code, stderr.String())
	}
	if b, err = os.ReadFile(merged); err != nil {
		t.Fatal(err)
	}
	if s := string(b); !strings.HasPrefix(s, "## mcaspec bench: FAILED") || !strings.Contains(s, "| **FAIL**") || !strings.Contains(s, "| reference | hot |") {
		t.Errorf("merge summary:\n%s", s)
	}
	stderr.Reset()
	missing := filepath.Join(dir, "no-such-folder", "summary.md")
	if code := runMain(context.Background(), append(run[:len(run)-1:len(run)-1], missing), &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "--summary-md") {
		t.Errorf("missing folder: exit %d, stderr %q: want 2 naming --summary-md", code, stderr.String())
	}
}

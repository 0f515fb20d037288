package main

import (
	"bufio"
	"encoding/json"
	"encoding/xml"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mcaspec/mcaspec/conformance"
)

// runMainEnv makes the test binary act as the mcaspec command (its main)
// when set: a test runs the CLI as a subprocess to signal it.
const runMainEnv = "MCASPEC_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
	}
	os.Exit(m.Run())
}

// mcaspecCmd is the mcaspec CLI (this test binary's main) as a subprocess.
func mcaspecCmd(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	return cmd
}

// SIGINT while a case runs: the reports are written for the cases done,
// the case in flight is SKIPPED "interrupted" (not FAIL: the reference is
// correct), the baseline is not consulted for it, and the exit code is 130.
func TestConformanceInterruptedMidCase(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "run")
	// KEY-006 holds the key endpoint for about 3.5 s: the signal lands in it.
	cmd := mcaspecCmd(t, "conformance", "--az-listen", "127.0.0.1:0", "--verbose", "--out", out,
		"--focus", "CAL-001,CAL-002,CAL-003,KEY-006")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	signalled := time.Time{}
	for sc.Scan() {
		if strings.Contains(sc.Text(), "CAL-003") && signalled.IsZero() {
			// KEY-006 starts now and lasts seconds; let it get under way.
			time.Sleep(500 * time.Millisecond)
			if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			signalled = time.Now()
		}
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != conformance.ExitInterrupted {
		t.Fatalf("exit %v, want %d; stderr:\n%s", err, conformance.ExitInterrupted, stderr.String())
	}
	if signalled.IsZero() {
		t.Fatal("the calibration cases never finished")
	}
	if d := time.Since(signalled); d > 10*time.Second {
		t.Errorf("the run took %v to stop after SIGINT", d)
	}
	if !strings.Contains(stderr.String(), "interrupted") {
		t.Errorf("stderr does not say the run was interrupted:\n%s", stderr.String())
	}
	rep, err := conformance.ReadReport(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Interrupted == "" {
		t.Error("results.json does not mark the run interrupted")
	}
	var skipped []string
	for _, r := range rep.Results {
		switch {
		case r.Verdict == conformance.Fail || r.Verdict == conformance.Errored:
			t.Errorf("%s is %s after the interruption: %s", r.ID, r.Verdict, r.Reason)
		case r.Verdict == conformance.Skipped && strings.HasPrefix(r.Reason, conformance.InterruptedReason):
			skipped = append(skipped, r.ID)
		}
	}
	if len(skipped) != 1 || skipped[0] != "KEY-006" {
		t.Errorf("interrupted cases %v, want [KEY-006]", skipped)
	}
	b, err := os.ReadFile(filepath.Join(out, "junit.xml"))
	if err != nil {
		t.Fatal(err)
	}
	var suites struct {
		Failures int `xml:"failures,attr"`
		Skipped  int `xml:"skipped,attr"`
	}
	if err := xml.Unmarshal(b, &suites); err != nil {
		t.Fatal(err)
	}
	if suites.Failures != 0 || suites.Skipped != 1 {
		t.Errorf("junit.xml counts %d failures and %d skipped, want 0 and 1", suites.Failures, suites.Skipped)
	}
	if !json.Valid(mustRead(t, filepath.Join(out, "results.json"))) {
		t.Error("results.json is not whole")
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

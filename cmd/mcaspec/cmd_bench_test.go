package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
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

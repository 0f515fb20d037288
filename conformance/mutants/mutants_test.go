package mutants_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/mcaspec/mcaspec/conformance"
	"github.com/mcaspec/mcaspec/conformance/mutants"
)

// TestEveryMutantIsCaught runs the whole catalogue against every mutant
// (strict profile) and fails for a mutant no case catches. It also writes
// the catch matrix to $MCASPEC_OUT/mutants.md when MCASPEC_OUT is set.
func TestEveryMutantIsCaught(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole catalogue once per mutant")
	}
	ms := mutants.All()
	if len(ms) < 15 {
		t.Fatalf("only %d mutants; want at least 15", len(ms))
	}
	mx := mutants.Run(context.Background(), ms, conformance.Strict, 4, func(o mutants.Outcome) {
		t.Logf("%-40s caught by %d case(s) in %s", o.Mutant, len(o.CaughtBy), o.Duration.Round(1e6))
	})
	for _, o := range mx.Outcomes {
		if o.Err != "" {
			t.Errorf("mutant %s: the run failed: %s", o.Mutant, o.Err)
		}
	}
	if esc := mx.Escaped(); len(esc) > 0 {
		t.Errorf("mutants no case catches: %v", esc)
	}
	t.Logf("%d cases catch no mutant: %v", len(mx.Idle), mx.Idle)
	if dir := os.Getenv("MCASPEC_OUT"); dir != "" {
		f, err := os.Create(filepath.Join(dir, "mutants.md"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := mx.WriteMarkdown(f); err != nil {
			t.Fatal(err)
		}
	}
}

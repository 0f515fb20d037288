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
// (strict profile unless the mutant names another) and fails for a mutant
// no intended case catches, for a run that could not happen, and for a case
// that catches nothing without a reason in NoMutant. It also writes the
// matrix to $MCASPEC_OUT/mutants.md when MCASPEC_OUT is set.
func TestEveryMutantIsCaught(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole catalogue once per mutant")
	}
	ms := mutants.All()
	if len(ms) < 15 {
		t.Fatalf("only %d mutants; want at least 15", len(ms))
	}
	mx := mutants.Run(context.Background(), ms, conformance.Strict, 4, func(o mutants.Outcome) {
		t.Logf("%-40s caught by %d intended case(s), %d other(s), %d ERROR in %s", o.Mutant, len(o.CaughtBy), len(o.CaughtElsewhere), len(o.Errored), o.Duration.Round(1e6))
	})
	for _, o := range mx.Outcomes {
		if o.Err != "" {
			t.Errorf("mutant %s: the run failed: %s", o.Mutant, o.Err)
		}
		if len(o.Errored) > 0 {
			t.Errorf("mutant %s: harness ERROR in %v", o.Mutant, o.Errored)
		}
	}
	if esc := mx.Escaped(); len(esc) > 0 {
		t.Errorf("mutants no intended case catches: %v", esc)
	}
	if len(mx.Unexplained) > 0 {
		t.Errorf("cases that catch no mutant and say not why (mutants.NoMutant): %v", mx.Unexplained)
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

// Every mutant names intended cases that exist, and NoMutant names real cases.
func TestMutantsNameRealCases(t *testing.T) {
	t.Parallel()
	known := map[string]bool{}
	for _, c := range conformance.Catalogue() {
		known[c.ID] = true
	}
	for _, a := range conformance.Areas() {
		known[a.Key] = true
	}
	seen := map[string]bool{}
	for _, m := range mutants.All() {
		if seen[m.Name] {
			t.Errorf("mutant %s defined twice", m.Name)
		}
		seen[m.Name] = true
		if len(m.Intended) == 0 {
			t.Errorf("mutant %s names no intended case", m.Name)
		}
		for _, x := range m.Intended {
			if !known[x] {
				t.Errorf("mutant %s: intended %q is neither a case ID nor an area", m.Name, x)
			}
		}
		if m.Profile != "" {
			if _, err := conformance.ParseProfile(string(m.Profile)); err != nil {
				t.Errorf("mutant %s: %v", m.Name, err)
			}
		}
	}
	for id, why := range mutants.NoMutant() {
		if !known[id] || why == "" {
			t.Errorf("NoMutant: %q (%q) is not a case with a reason", id, why)
		}
	}
}

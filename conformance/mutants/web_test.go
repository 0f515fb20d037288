package mutants_test

import (
	"context"
	"testing"

	"github.com/mcaspec/mcaspec/conformance"
	"github.com/mcaspec/mcaspec/conformance/kit"
	"github.com/mcaspec/mcaspec/conformance/mutants"
)

// TestWebMutantsAreCaught runs the web family against each web mutant (a
// quicker subset of TestEveryMutantIsCaught): each must be caught by a case
// meant for it, without a harness ERROR.
func TestWebMutantsAreCaught(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the web family once per web mutant")
	}
	t.Parallel()
	ms := mutants.Web()
	mx := mutants.Run(context.Background(), ms, conformance.Strict, 2, func(o mutants.Outcome) {
		t.Logf("%-34s caught by %v, elsewhere %v, ERROR %v in %s", o.Mutant, o.CaughtBy, o.CaughtElsewhere, o.Errored, o.Duration.Round(1e6))
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
		t.Errorf("web mutants no intended case catches: %v", esc)
	}
	why := mutants.NoMutant()
	for _, c := range conformance.Catalogue() {
		if c.AppliesTo(kit.FamilyWeb) && len(mx.Catchers[c.ID]) == 0 && why[c.ID] == "" {
			t.Errorf("web case %s catches no web mutant and NoMutant says not why", c.ID)
		}
	}
}

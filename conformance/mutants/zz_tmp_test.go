package mutants_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/mcaspec/mcaspec/conformance"
	"github.com/mcaspec/mcaspec/conformance/mutants"
)

func TestTmpSomeWebMutants(t *testing.T) {
	names := strings.Split(os.Getenv("ONLY"), ",")
	var ms []mutants.Mutant
	for _, m := range mutants.Web() {
		if slices.Contains(names, m.Name) {
			ms = append(ms, m)
		}
	}
	mx := mutants.Run(context.Background(), ms, conformance.Strict, 2, func(o mutants.Outcome) {
		t.Logf("%-34s caught by %v, elsewhere %v, ERROR %v err %q in %s", o.Mutant, o.CaughtBy, o.CaughtElsewhere, o.Errored, o.Err, o.Duration.Round(1e6))
	})
	if esc := mx.Escaped(); len(esc) > 0 {
		t.Errorf("escaped: %v", esc)
	}
}

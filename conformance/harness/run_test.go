package harness_test

import (
	"strings"
	"testing"

	"github.com/mcaspec/mcaspec/conformance"
	"github.com/mcaspec/mcaspec/conformance/harness"
	"github.com/mcaspec/mcaspec/conformance/kit"
)

func TestCasesPerFamily(t *testing.T) {
	t.Parallel()
	all := 0
	for _, c := range conformance.Catalogue() {
		if c.AppliesTo(kit.FamilyMCA) || c.AppliesTo(kit.FamilyAppID) {
			all++ // a bearer case
		}
	}
	mca := harness.Cases(harness.Config{})
	if len(mca) == 0 || len(mca) >= all {
		t.Errorf("unset family (MCA): %d cases, want some but not all of %d bearer cases (KEY-015 is App ID only)", len(mca), all)
	}
	for _, c := range mca {
		if !c.AppliesTo(kit.FamilyMCA) {
			t.Errorf("%s does not apply to MCA", c.ID)
		}
	}
	appid := harness.Cases(harness.Config{Family: kit.FamilyAppID})
	if len(appid) == 0 || len(appid) >= all {
		t.Errorf("App ID: %d cases, want some but not all of %d", len(appid), all)
	}
	for _, c := range appid {
		if !c.AppliesTo(kit.FamilyAppID) {
			t.Errorf("%s does not apply to App ID", c.ID)
		}
	}
}

func TestOrder(t *testing.T) {
	t.Parallel()
	cs := harness.Order(conformance.Catalogue(), true)
	if cs[0].Area != "calibration" {
		t.Errorf("first case %s, want calibration", cs[0].ID)
	}
	seenLate := false
	for _, c := range cs {
		late := c.NeedsAny(conformance.NeedAZControl, conformance.NeedDisruptive)
		if seenLate && !late {
			t.Errorf("%s runs after a disruptive or AZ-control case in fixed-app mode", c.ID)
		}
		seenLate = seenLate || late
	}
	last := cs[len(cs)-1]
	if !last.NeedsAny(conformance.NeedDisruptive) {
		t.Errorf("last case %s is not a disruptive one", last.ID)
	}
}

func TestBaselineCompare(t *testing.T) {
	t.Parallel()
	b, err := harness.ParseBaseline(stringsReader("# comment\nHDR-002 NON-STRICT # why\nTIM-004 FAIL\nSIG-001 FAIL\n"), "b.txt")
	if err != nil {
		t.Fatal(err)
	}
	rs := []conformance.Result{
		{ID: "HDR-002", Verdict: conformance.NonStrict}, // expected
		{ID: "TIM-004", Verdict: conformance.Pass},      // stale: got better
		{ID: "AUD-001", Verdict: conformance.Fail},      // new
		{ID: "TIM-006", Verdict: conformance.Informational},
	}
	o := b.Compare("b.txt", rs)
	if len(o.Expected) != 1 || len(o.Stale) != 1 || len(o.New) != 1 {
		t.Errorf("expected %v stale %v new %v", o.Expected, o.Stale, o.New)
	}
	for _, bad := range []string{"HDR-002", "HDR-002 PASS", "HDR-002 FAIL\nHDR-002 FAIL"} {
		if _, err := harness.ParseBaseline(stringsReader(bad), "bad.txt"); err == nil {
			t.Errorf("baseline %q accepted", bad)
		}
	}
}

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }

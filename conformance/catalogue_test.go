package conformance_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/mcaspec/mcaspec/conformance"
)

func TestCatalogueIsValid(t *testing.T) {
	t.Parallel()
	cs := conformance.Catalogue()
	if err := conformance.Validate(cs); err != nil {
		t.Fatal(err)
	}
	if len(cs) < 80 {
		t.Errorf("only %d cases; the catalogue must have at least 80", len(cs))
	}
	// Every area of shared/cases.md is covered.
	perArea := map[string]int{}
	for _, c := range cs {
		perArea[c.Area]++
	}
	for _, a := range conformance.Areas() {
		if perArea[a.Key] == 0 {
			t.Errorf("area %s (%s) has no case", a.Key, a.Title)
		}
	}
	// Calibration runs first.
	for i, id := range conformance.CalibrationIDs() {
		if cs[i].ID != id {
			t.Errorf("case %d is %s, want calibration case %s first", i, cs[i].ID, id)
		}
	}
	labelSafe := regexp.MustCompile(`^[a-z]+:[A-Za-z0-9-]+$`)
	for _, c := range cs {
		for _, p := range conformance.Profiles() {
			for _, l := range c.Labels(p) {
				if !labelSafe.MatchString(l) {
					t.Errorf("%s: label %q is not label-safe", c.ID, l)
				}
			}
		}
		if !strings.Contains(c.Rule, "MUST") && !strings.Contains(c.Rule, "SHOULD") && c.Expect[conformance.Strict].Level != conformance.Info {
			t.Errorf("%s: rule %q states no MUST or SHOULD", c.ID, c.Rule)
		}
		if c.Recipe.Describe() == "" {
			t.Errorf("%s: recipe has no description", c.ID)
		}
	}
}

func TestValidateCatchesBadCatalogues(t *testing.T) {
	t.Parallel()
	good := conformance.Catalogue()[0]
	tests := []struct {
		name string
		mod  func(c *conformance.Case)
	}{
		{"positional id", func(c *conformance.Case) { c.ID = "CAL-1" }},
		{"wrong prefix", func(c *conformance.Case) { c.ID = "HDR-999" }},
		{"no rule", func(c *conformance.Case) { c.Rule = "" }},
		{"no refs", func(c *conformance.Case) { c.Refs = nil }},
		{"no strict expectation", func(c *conformance.Case) {
			c.Expect = map[conformance.Profile]conformance.Expect{conformance.MCA: c.Expect[conformance.MCA]}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := good
			tt.mod(&c)
			if err := conformance.Validate([]conformance.Case{c}); err == nil {
				t.Error("Validate accepted a bad case")
			}
		})
	}
	if err := conformance.Validate([]conformance.Case{good, good}); err == nil {
		t.Error("Validate accepted a duplicate ID")
	}
}

func TestClosest(t *testing.T) {
	t.Parallel()
	cs := conformance.Catalogue()
	tests := []struct {
		in   string
		want string // first suggestion ("": only the area is checked)
	}{
		{"HDR-01", "HDR-001"},
		{"hdr-003", "HDR-003"},
		{"SIG-099", "SIG-009"},
		{"HDR-099", "HDR-009"},
		{"KEY-13", ""}, // several at distance 2: any KEY case will do
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got := conformance.Closest(cs, tt.in, 3)
			if len(got) != 3 {
				t.Fatalf("Closest(%q) = %v, want 3 IDs", tt.in, got)
			}
			if tt.want != "" && got[0] != tt.want {
				t.Errorf("Closest(%q) = %v, want %s first", tt.in, got, tt.want)
			}
			if !strings.HasPrefix(got[0], strings.ToUpper(tt.in[:3])) {
				t.Errorf("Closest(%q) = %v, want the same area first", tt.in, got)
			}
		})
	}
}

package conformance_test

import (
	"encoding/json"
	"testing"

	"github.com/mcaspec/mcaspec/conformance"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

func TestParseFamily(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, generation string
		flow             conformance.Flow
		shape            tokenfactory.Shape
		kind             conformance.Family
		ok               bool
	}{
		{"", "", conformance.FlowBearer, tokenfactory.ShapeMCA, conformance.FamilyMCA, true},
		{"mca", "", conformance.FlowBearer, tokenfactory.ShapeMCA, conformance.FamilyMCA, true},
		{"appid", "", conformance.FlowBearer, tokenfactory.ShapeAppIDV4, conformance.FamilyAppID, true},
		{"appid", "v3", conformance.FlowBearer, tokenfactory.ShapeAppIDV3, conformance.FamilyAppID, true},
		{"appid", "v3-host", conformance.FlowBearer, tokenfactory.ShapeAppIDV3Host, conformance.FamilyAppID, true},
		{"web", "", conformance.FlowWeb, tokenfactory.ShapeMCA, conformance.FamilyWeb, true},
		{"web-appid", "", conformance.FlowWeb, tokenfactory.ShapeAppIDV4, conformance.FamilyWebAppID, true},
		{"web-appid", "v3", conformance.FlowWeb, tokenfactory.ShapeAppIDV3, conformance.FamilyWebAppID, true},
		{"mca", "v3", "", "", conformance.Family{}, false},
		{"web", "v4", "", "", conformance.Family{}, false},
		{"appid", "v5", "", "", conformance.Family{}, false},
		{"oidc", "", "", "", conformance.Family{}, false},
		{"MCA", "", "", "", conformance.Family{}, false},
	} {
		f, err := conformance.ParseFamily(tc.name, tc.generation)
		if (err == nil) != tc.ok {
			t.Errorf("ParseFamily(%q, %q) error = %v, want ok=%v", tc.name, tc.generation, err, tc.ok)
			continue
		}
		if !tc.ok {
			continue
		}
		if f.Flow() != tc.flow || f.Shape() != tc.shape || f.Kind() != tc.kind || f.IsWeb() != (tc.flow == conformance.FlowWeb) {
			t.Errorf("ParseFamily(%q, %q) = %s flow %s shape %s kind %s, want %s %s %s", tc.name, tc.generation, f, f.Flow(), f.Shape(), f.Kind(), tc.flow, tc.shape, tc.kind)
		}
		if want := tc.name; want != "" && f.Name() != want {
			t.Errorf("ParseFamily(%q, %q).Name() = %q", tc.name, tc.generation, f.Name())
		}
		if tc.generation != "" && f.Generation() != tc.generation {
			t.Errorf("ParseFamily(%q, %q).Generation() = %q", tc.name, tc.generation, f.Generation())
		}
	}
}

// TestFamilyZeroIsMCA: the zero Family is MCA (the one default), and the
// JSON form is the name without the generation.
func TestFamilyZeroIsMCA(t *testing.T) {
	t.Parallel()
	var zero conformance.Family
	if zero != conformance.FamilyMCA || zero.Shape() != tokenfactory.ShapeMCA || zero.Flow() != conformance.FlowBearer || zero.Name() != "mca" {
		t.Fatalf("zero Family = %s (%s, %s), want mca bearer", zero, zero.Flow(), zero.Shape())
	}
	f, _ := conformance.ParseFamily("appid", "v3-host")
	b, err := json.Marshal(struct{ F conformance.Family }{f})
	if err != nil || string(b) != `{"F":"appid"}` {
		t.Fatalf("Marshal = %s, %v", b, err)
	}
	var back struct{ F conformance.Family }
	if err := json.Unmarshal([]byte(`{"F":""}`), &back); err != nil || back.F != conformance.FamilyMCA {
		t.Errorf(`Unmarshal "" = %s, %v; want mca`, back.F, err)
	}
	if err := json.Unmarshal([]byte(`{"F":"web-appid"}`), &back); err != nil || back.F != conformance.FamilyWebAppID {
		t.Errorf(`Unmarshal web-appid = %s, %v`, back.F, err)
	}
	if err := json.Unmarshal([]byte(`{"F":"nope"}`), &back); err == nil {
		t.Error("Unmarshal of an unknown family succeeded")
	}
	if f.String() != "appid/v3-host" || conformance.FamilyAppID.String() != "appid" {
		t.Errorf("String() = %q, %q", f, conformance.FamilyAppID)
	}
}

// TestAppliesToEveryGeneration: a case listing an App ID family applies to
// every generation of it, and a case listing none to every bearer family.
func TestAppliesToEveryGeneration(t *testing.T) {
	t.Parallel()
	v3, _ := conformance.ParseFamily("appid", "v3")
	webV3, _ := conformance.ParseFamily("web-appid", "v3")
	appidOnly := conformance.Case{Families: []conformance.Family{conformance.FamilyAppID}}
	bearer := conformance.Case{}
	web := conformance.Case{Families: []conformance.Family{conformance.FamilyWeb, conformance.FamilyWebAppID}}
	for _, tc := range []struct {
		c    conformance.Case
		f    conformance.Family
		want bool
	}{
		{appidOnly, v3, true}, {appidOnly, conformance.FamilyMCA, false}, {appidOnly, webV3, false},
		{bearer, v3, true}, {bearer, conformance.FamilyMCA, true}, {bearer, webV3, false},
		{web, webV3, true}, {web, v3, false},
	} {
		if got := tc.c.AppliesTo(tc.f); got != tc.want {
			t.Errorf("%v.AppliesTo(%s) = %v, want %v", tc.c.Families, tc.f, got, tc.want)
		}
	}
}

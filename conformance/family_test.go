package conformance_test

import (
	"encoding/json"
	"testing"

	"github.com/mcaspec/mcaspec/conformance"
	"github.com/mcaspec/mcaspec/conformance/kit"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

func TestParseFamily(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, generation string
		flow             kit.Flow
		shape            tokenfactory.Shape
		kind             kit.Family
		ok               bool
	}{
		{"", "", kit.FlowBearer, tokenfactory.ShapeMCA, kit.FamilyMCA, true},
		{"mca", "", kit.FlowBearer, tokenfactory.ShapeMCA, kit.FamilyMCA, true},
		{"appid", "", kit.FlowBearer, tokenfactory.ShapeAppIDV4, kit.FamilyAppID, true},
		{"appid", "v3", kit.FlowBearer, tokenfactory.ShapeAppIDV3, kit.FamilyAppID, true},
		{"appid", "v3-host", kit.FlowBearer, tokenfactory.ShapeAppIDV3Host, kit.FamilyAppID, true},
		{"web", "", kit.FlowWeb, tokenfactory.ShapeMCA, kit.FamilyWeb, true},
		{"web-appid", "", kit.FlowWeb, tokenfactory.ShapeAppIDV4, kit.FamilyWebAppID, true},
		{"web-appid", "v3", kit.FlowWeb, tokenfactory.ShapeAppIDV3, kit.FamilyWebAppID, true},
		{"mca", "v3", "", "", kit.Family{}, false},
		{"web", "v4", "", "", kit.Family{}, false},
		{"appid", "v5", "", "", kit.Family{}, false},
		{"oidc", "", "", "", kit.Family{}, false},
		{"MCA", "", "", "", kit.Family{}, false},
	} {
		f, err := kit.ParseFamily(tc.name, tc.generation)
		if (err == nil) != tc.ok {
			t.Errorf("ParseFamily(%q, %q) error = %v, want ok=%v", tc.name, tc.generation, err, tc.ok)
			continue
		}
		if !tc.ok {
			continue
		}
		if f.Flow() != tc.flow || f.Shape() != tc.shape || f.Kind() != tc.kind || f.IsWeb() != (tc.flow == kit.FlowWeb) {
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
	var zero kit.Family
	if zero != kit.FamilyMCA || zero.Shape() != tokenfactory.ShapeMCA || zero.Flow() != kit.FlowBearer || zero.Name() != "mca" {
		t.Fatalf("zero Family = %s (%s, %s), want mca bearer", zero, zero.Flow(), zero.Shape())
	}
	f, _ := kit.ParseFamily("appid", "v3-host")
	b, err := json.Marshal(struct{ F kit.Family }{f})
	if err != nil || string(b) != `{"F":"appid"}` {
		t.Fatalf("Marshal = %s, %v", b, err)
	}
	var back struct{ F kit.Family }
	if err := json.Unmarshal([]byte(`{"F":""}`), &back); err != nil || back.F != kit.FamilyMCA {
		t.Errorf(`Unmarshal "" = %s, %v; want mca`, back.F, err)
	}
	if err := json.Unmarshal([]byte(`{"F":"web-appid"}`), &back); err != nil || back.F != kit.FamilyWebAppID {
		t.Errorf(`Unmarshal web-appid = %s, %v`, back.F, err)
	}
	if err := json.Unmarshal([]byte(`{"F":"nope"}`), &back); err == nil {
		t.Error("Unmarshal of an unknown family succeeded")
	}
	if f.String() != "appid/v3-host" || kit.FamilyAppID.String() != "appid" {
		t.Errorf("String() = %q, %q", f, kit.FamilyAppID)
	}
}

// TestAppliesToEveryGeneration: a case listing an App ID family applies to
// every generation of it, and a case listing none to every bearer family.
func TestAppliesToEveryGeneration(t *testing.T) {
	t.Parallel()
	v3, _ := kit.ParseFamily("appid", "v3")
	webV3, _ := kit.ParseFamily("web-appid", "v3")
	appidOnly := conformance.Case{Families: []kit.Family{kit.FamilyAppID}}
	bearer := conformance.Case{}
	web := conformance.Case{Families: []kit.Family{kit.FamilyWeb, kit.FamilyWebAppID}}
	for _, tc := range []struct {
		c    conformance.Case
		f    kit.Family
		want bool
	}{
		{appidOnly, v3, true}, {appidOnly, kit.FamilyMCA, false}, {appidOnly, webV3, false},
		{bearer, v3, true}, {bearer, kit.FamilyMCA, true}, {bearer, webV3, false},
		{web, webV3, true}, {web, v3, false},
	} {
		if got := tc.c.AppliesTo(tc.f); got != tc.want {
			t.Errorf("%v.AppliesTo(%s) = %v, want %v", tc.c.Families, tc.f, got, tc.want)
		}
	}
}

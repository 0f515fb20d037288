package kit

import (
	"fmt"

	"github.com/mcaspec/mcaspec/tokenfactory"
)

// Flow is how a target takes its tokens: a bearer resource (an
// Authorization header on each request) or a website signing users in (the
// authorization-code flow).
type Flow string

// Flows.
const (
	FlowBearer Flow = "bearer"
	FlowWeb    Flow = "web"
)

// Family is the protocol family of a target: its flow and the shape of the
// tokens its authorization server issues (tokenfactory.Shape, App ID
// generations included). It is the one value the CLI, the harness, the
// runner, the mutants and the reports ask about the family; ParseFamily is
// where a family is read from its name. The zero Family is FamilyMCA.
//
// Its JSON and text form is its name (mca, appid, web, web-appid): the App
// ID generation is not part of it (Generation).
type Family struct {
	web   bool
	shape tokenfactory.Shape // "" is tokenfactory.ShapeMCA
}

// Families, as a case lists them (an App ID family stands for every App ID
// generation, see Kind). FamilyMCA is the zero Family.
var (
	// FamilyMCA: MCA tokens (publickey endpoint, jpk header, string aud) for
	// bearer targets.
	FamilyMCA = Family{}
	// FamilyAppID: App ID tokens (JWKS by kid, aud array, tenant, ver) for
	// bearer targets, generation v4.
	FamilyAppID = Family{shape: tokenfactory.ShapeAppIDV4}
	// FamilyWeb: web sign-in targets (the authorization-code flow,
	// cases_web.go) against the MCA AZ.
	FamilyWeb = Family{web: true}
	// FamilyWebAppID is the web family against an App ID tenant (the
	// endpoints under the oauthServerUrl, JWKS by kid, aud the client id):
	// App ID's WebAppStrategy.
	FamilyWebAppID = Family{web: true, shape: tokenfactory.ShapeAppIDV4}
)

// familyNames are the names of the families, as ParseFamily reads them.
var familyNames = [...]struct {
	name  string
	web   bool
	appID bool
}{
	{"mca", false, false},
	{"appid", false, true},
	{"web", true, false},
	{"web-appid", true, true},
}

// ParseFamily returns the family of a name (mca, appid, web or web-appid;
// "" is mca) and an App ID generation (tokenfactory.AppIDShape: v4, the
// default, v3 or v3-host; "" for the default, and only "" for an MCA
// family).
func ParseFamily(name, generation string) (Family, error) {
	if name == "" {
		name = FamilyMCA.Name()
	}
	for _, n := range familyNames {
		if n.name != name {
			continue
		}
		f := Family{web: n.web}
		if !n.appID {
			if generation != "" {
				return Family{}, fmt.Errorf("the App ID generation %q needs an App ID family (appid or web-appid), not %s", generation, name)
			}
			return f, nil
		}
		sh, err := tokenfactory.AppIDShape(generation)
		if err != nil {
			return Family{}, err
		}
		f.shape = sh
		return f, nil
	}
	return Family{}, fmt.Errorf("unknown protocol family %q (want mca, appid, web or web-appid)", name)
}

// Flow is the family's flow.
func (f Family) Flow() Flow {
	if f.web {
		return FlowWeb
	}
	return FlowBearer
}

// IsWeb reports whether f is a web sign-in family.
func (f Family) IsWeb() bool { return f.web }

// Shape is the shape of the tokens of the family's authorization server.
func (f Family) Shape() tokenfactory.Shape {
	if f.shape == "" {
		return tokenfactory.ShapeMCA
	}
	return f.shape
}

// AppID reports whether the family's tokens are App ID tokens.
func (f Family) AppID() bool { return f.shape.AppID() }

// Generation is the App ID generation of the family's tokens ("" for MCA).
func (f Family) Generation() string { return f.shape.Generation() }

// Kind is f without its App ID generation (the default one): the family as
// a case lists it.
func (f Family) Kind() Family {
	if f.AppID() {
		f.shape = tokenfactory.ShapeAppIDV4
	}
	return f
}

// Name is the family's name (mca, appid, web or web-appid).
func (f Family) Name() string {
	for _, n := range familyNames {
		if n.web == f.web && n.appID == f.AppID() {
			return n.name
		}
	}
	return "" // unreachable: familyNames covers every combination
}

// String is Name, with the App ID generation when it is not the default
// (appid/v3).
func (f Family) String() string {
	if g := f.Generation(); g != "" && f != f.Kind() {
		return f.Name() + "/" + g
	}
	return f.Name()
}

// MarshalText writes the family's name.
func (f Family) MarshalText() ([]byte, error) { return []byte(f.Name()), nil }

// UnmarshalText reads a family's name (ParseFamily, default generation).
func (f *Family) UnmarshalText(b []byte) error {
	g, err := ParseFamily(string(b), "")
	if err != nil {
		return err
	}
	*f = g
	return nil
}

package tokenfactory

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Shape is the form of the tokens a Factory mints: which claims its access,
// id and service tokens carry and which fields their header has. Set it with
// WithShape; the default is ShapeMCA. It is the one place that knows the
// difference between MCA and App ID tokens: mint through the Factory
// (AccessToken, IDToken, ServiceToken) and the shape decides.
type Shape string

// Token shapes.
//
// The App ID shapes follow the generations of the IBM Cloud App ID token as
// the npm ibmcloud-appid SDK read them. In all of them the factory's issuer
// (WithIssuer) is the tenant's oauthServerUrl, the header carries a "kid"
// (WithKeyID) and no "jpk", and the claims are tenant (the app id), scope,
// amr and sub. They differ in three places:
//
//	shape             ibmcloud-appid   iss                          aud      header
//	ShapeAppIDV3Host  up to 4.2.1      host[:port] of the issuer    string   "typ": "JOSE"
//	ShapeAppIDV3      5.x              the issuer (well-known one)  string   "typ": "JOSE"
//	ShapeAppIDV4      6.0.0 and later  the issuer (well-known one)  array    "typ": "JWT", "ver": 4
//
// An array aud is [app id] for device tokens and [client id, app id] for
// service tokens; a string aud is the first of them.
const (
	// ShapeMCA is the token of the MCA authorization server: aud the app id
	// (a string), prn the client id, the imf.* claims in id tokens, the
	// signer's key as a "jpk" header. Its iss is the configured issuer as is;
	// the real AZ's is MCAIssuer(serverUrl), "{serverUrl}/authorization/"
	// (what fakeaz configures).
	ShapeMCA Shape = "mca"
	// ShapeAppIDV4 is the App ID v4 token (ibmcloud-appid 6.0.0 and later).
	ShapeAppIDV4 Shape = "appid-v4"
	// ShapeAppIDV3 is the App ID v3 token with the well-known issuer (ibmcloud-appid 5.x).
	ShapeAppIDV3 Shape = "appid-v3"
	// ShapeAppIDV3Host is the App ID v3 token whose iss is the host of the
	// oauthServerUrl (ibmcloud-appid up to 4.2.1).
	ShapeAppIDV3Host Shape = "appid-v3-host"
)

// App ID token values.
const (
	// AppIDVersion is the "ver" header of ShapeAppIDV4 tokens (the
	// ibmcloud-appid SDK reads the token version from the header).
	AppIDVersion = 4
	// AppIDDefaultScope is the scope the App ID APIStrategy requires in every
	// access token, and the scope of App ID service tokens.
	AppIDDefaultScope = "appid_default"
	// AppIDUserScope is the scope claim of App ID access tokens for devices.
	AppIDUserScope = "openid appid_default appid_readprofile appid_readuserattr appid_writeuserattr appid_authenticated"
	// AppIDAnonymousAMR is the amr of App ID tokens without a user.
	AppIDAnonymousAMR = "appid_anon"
	// AppIDClientCredentialsAMR is the amr of App ID service (client_credentials) tokens.
	AppIDClientCredentialsAMR = "appid_client_credentials"
)

// ErrShape is wrapped by the error of an unknown shape (ParseShape, New).
var ErrShape = errors.New("tokenfactory: unknown token shape")

var shapes = []Shape{ShapeMCA, ShapeAppIDV4, ShapeAppIDV3, ShapeAppIDV3Host}

// Shapes returns every token shape.
func Shapes() []Shape { return append([]Shape(nil), shapes...) }

// ParseShape returns the shape named s ("" is ShapeMCA).
func ParseShape(s string) (Shape, error) {
	if s == "" {
		return ShapeMCA, nil
	}
	for _, sh := range shapes {
		if string(sh) == s {
			return sh, nil
		}
	}
	names := make([]string, len(shapes))
	for i, sh := range shapes {
		names[i] = string(sh)
	}
	return "", fmt.Errorf("%w %q: use one of %s", ErrShape, s, strings.Join(names, ", "))
}

// App ID token generations: the names of the App ID shapes where a user
// picks one (fakeaz's "generation", mcaspec's --appid-generation).
const (
	// AppIDGenerationV4 names ShapeAppIDV4, the default App ID generation.
	AppIDGenerationV4 = "v4"
	// AppIDGenerationV3 names ShapeAppIDV3.
	AppIDGenerationV3 = "v3"
	// AppIDGenerationV3Host names ShapeAppIDV3Host.
	AppIDGenerationV3Host = "v3-host"
)

// appIDGenerations pairs each App ID generation with its shape, the default first.
var appIDGenerations = [...]struct {
	name  string
	shape Shape
}{
	{AppIDGenerationV4, ShapeAppIDV4},
	{AppIDGenerationV3, ShapeAppIDV3},
	{AppIDGenerationV3Host, ShapeAppIDV3Host},
}

// AppIDShape returns the App ID shape of a generation name: "v4"
// (ShapeAppIDV4, also ""), "v3" (ShapeAppIDV3) or "v3-host"
// (ShapeAppIDV3Host). Another name is an error wrapping ErrShape.
func AppIDShape(generation string) (Shape, error) {
	if generation == "" {
		return appIDGenerations[0].shape, nil
	}
	for _, g := range appIDGenerations {
		if g.name == generation {
			return g.shape, nil
		}
	}
	return "", fmt.Errorf("%w: App ID generation %q: use %q (ibmcloud-appid 6 and later, the default), %q (5.x) or %q (up to 4.2.1)",
		ErrShape, generation, AppIDGenerationV4, AppIDGenerationV3, AppIDGenerationV3Host)
}

// Generation returns the App ID generation name of an App ID shape (see
// AppIDShape), "" for another shape.
func (s Shape) Generation() string {
	for _, g := range appIDGenerations {
		if g.shape == s {
			return g.name
		}
	}
	return ""
}

// AppID reports whether s is one of the App ID shapes.
func (s Shape) AppID() bool {
	return s == ShapeAppIDV4 || s == ShapeAppIDV3 || s == ShapeAppIDV3Host
}

// WithShape sets the shape of the minted tokens (default ShapeMCA). An App
// ID shape turns the "jpk" header off unless WithJPK says otherwise. An
// unknown shape makes New fail.
func WithShape(s Shape) Option { return func(f *Factory) { f.shape = s } }

// Shape returns the shape of the tokens the factory mints.
func (f *Factory) Shape() Shape { return f.shape }

// shapeIssuer is the iss a shape writes for the configured issuer.
func shapeIssuer(s Shape, issuer string) string {
	if s != ShapeAppIDV3Host {
		return issuer
	}
	if u, err := url.Parse(issuer); err == nil && u.Host != "" {
		return u.Host
	}
	return issuer
}

// shapeHeader adds the header fields of the shape to h.
func shapeHeader(s Shape, h map[string]any) {
	switch s {
	case ShapeAppIDV4:
		h["typ"] = "JWT"
		h["ver"] = AppIDVersion
	case ShapeAppIDV3, ShapeAppIDV3Host:
		h["typ"] = "JOSE"
	}
}

// audience is the aud of an App ID token: the array auds (ShapeAppIDV4) or its first entry.
func (f *Factory) audience(auds ...string) any {
	if f.shape == ShapeAppIDV4 {
		out := make([]any, len(auds))
		for i, a := range auds {
			out[i] = a
		}
		return out
	}
	return auds[0]
}

// appIDAccessClaims: iss, iat, exp, aud (the app id), sub = client id,
// tenant = app id, scope = AppIDUserScope, amr = [AppIDAnonymousAMR].
// Access.Scope (the MCA imf.scope) is ignored.
func (f *Factory) appIDAccessClaims(a Access, now time.Time) map[string]any {
	c := f.baseClaims(a.AppID, now)
	c["aud"] = f.audience(a.AppID)
	c["sub"] = a.ClientID
	c["tenant"] = a.AppID
	c["scope"] = AppIDUserScope
	c["amr"] = []any{AppIDAnonymousAMR}
	return c
}

// appIDServiceClaims: as appIDAccessClaims with aud = client id and app id
// (App ID puts the client there; the app id keeps the token acceptable to the
// app's own resources), azp = client id, scope = AppIDDefaultScope and amr =
// [AppIDClientCredentialsAMR].
func (f *Factory) appIDServiceClaims(a Access, now time.Time) map[string]any {
	c := f.appIDAccessClaims(a, now)
	c["aud"] = f.audience(a.ClientID, a.AppID)
	c["azp"] = a.ClientID
	c["scope"] = AppIDDefaultScope
	c["amr"] = []any{AppIDClientCredentialsAMR}
	return c
}

// appIDIDClaims: iss, iat, exp, aud (the app id), tenant = app id, sub as the
// MCA id token's (SubjectFor), amr = [user's authBy] (anonymous:
// [AppIDAnonymousAMR]), with a user also name = displayName and identities =
// [{"provider": authBy, "id": user id[, "attributes"]}], and oauth_client
// describing the device and application (App ID's mobile-client fields).
func (f *Factory) appIDIDClaims(t ID, now time.Time) map[string]any {
	c := f.baseClaims(t.AppID, now)
	c["aud"] = f.audience(t.AppID)
	c["tenant"] = t.AppID
	c["sub"] = t.Subject
	if t.Subject == "" {
		c["sub"] = SubjectFor(t.ClientID, t.User)
	}
	c["amr"] = []any{AppIDAnonymousAMR}
	c["oauth_client"] = map[string]any{
		"type":              "mobileapp",
		"software_id":       t.Application.ID,
		"software_version":  t.Application.Version,
		"device_id":         t.Device.ID,
		"device_model":      t.Device.Model,
		"device_os":         t.Device.Platform,
		"device_os_version": t.Device.OSVersion,
	}
	if u := t.User; u != nil {
		c["amr"] = []any{u.AuthBy}
		c["name"] = u.DisplayName
		id := map[string]any{"provider": u.AuthBy, "id": u.ID}
		if u.Attributes != nil {
			id["attributes"] = u.Attributes
		}
		c["identities"] = []any{id}
	}
	return c
}

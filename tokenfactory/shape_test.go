package tokenfactory_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

// decode verifies tok with the test key and returns its header and claims.
func decode(t *testing.T, tok string) (header, claims map[string]any) {
	t.Helper()
	payload, err := jws.Verify([]byte(tok), jws.WithKey(jwa.RS256(), &testKey(t).PublicKey))
	if err != nil {
		t.Fatalf("jwx does not verify the token: %v", err)
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	seg, _, _ := strings.Cut(tok, ".")
	hb, err := tokenfactory.B64.DecodeString(seg)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(hb, &header); err != nil {
		t.Fatal(err)
	}
	return header, claims
}

func keysOf(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestShapes(t *testing.T) {
	t.Parallel()
	const (
		app    = "0b5b5a8c-6a7d-4c36-9a3e-2f0e4b8a1c11"
		client = "c1"
		svc    = "svc"
		oauth  = "http://127.0.0.1:9080/imf-authserver/oauth/v4/" + app
	)
	now := time.Unix(1_700_000_000, 0)
	user := &tokenfactory.User{ID: "alice", AuthBy: "customRealm", DisplayName: "Alice"}
	access := tokenfactory.Access{AppID: app, ClientID: client, Scope: map[string]tokenfactory.Scope{"r": {Exp: 1}}}
	id := tokenfactory.ID{AppID: app, ClientID: client, User: user}
	service := tokenfactory.Access{AppID: app, ClientID: svc}
	appIDAccess := []string{"amr", "aud", "exp", "iat", "iss", "scope", "sub", "tenant"}
	appIDID := []string{"amr", "aud", "exp", "iat", "identities", "iss", "name", "oauth_client", "sub", "tenant"}
	appIDService := []string{"amr", "aud", "azp", "exp", "iat", "iss", "scope", "sub", "tenant"}
	tests := []struct {
		shape                           tokenfactory.Shape
		iss                             string
		header                          []string // header keys
		typ                             any
		ver                             any
		aud, serviceAud                 any
		accessKeys, idKeys, serviceKeys []string
	}{
		{tokenfactory.ShapeMCA, oauth, []string{"alg", "jpk"}, nil, nil, app, app,
			[]string{"aud", "exp", "iat", "imf.scope", "iss", "prn"},
			[]string{"aud", "exp", "iat", "imf.application", "imf.device", "imf.user", "iss", "sub"},
			[]string{"aud", "exp", "iat", "iss", "prn"}},
		{tokenfactory.ShapeAppIDV4, oauth, []string{"alg", "kid", "typ", "ver"}, "JWT", float64(4), []any{app}, []any{svc, app},
			appIDAccess, appIDID, appIDService},
		{tokenfactory.ShapeAppIDV3, oauth, []string{"alg", "kid", "typ"}, "JOSE", nil, app, svc,
			appIDAccess, appIDID, appIDService},
		{tokenfactory.ShapeAppIDV3Host, "127.0.0.1:9080", []string{"alg", "kid", "typ"}, "JOSE", nil, app, svc,
			appIDAccess, appIDID, appIDService},
	}
	for _, tc := range tests {
		t.Run(string(tc.shape), func(t *testing.T) {
			t.Parallel()
			opts := []tokenfactory.Option{tokenfactory.WithShape(tc.shape), tokenfactory.WithIssuer(oauth),
				tokenfactory.WithClock(func() time.Time { return now })}
			if tc.shape.AppID() {
				opts = append(opts, tokenfactory.WithKeyID("k1"))
			}
			f, err := tokenfactory.New(testKey(t), opts...)
			if err != nil {
				t.Fatal(err)
			}
			if f.Shape() != tc.shape || f.Issuer() != tc.iss {
				t.Errorf("Shape() = %s, Issuer() = %q; want %s, %q", f.Shape(), f.Issuer(), tc.shape, tc.iss)
			}
			at, err := f.AccessToken(access)
			if err != nil {
				t.Fatal(err)
			}
			it, err := f.IDToken(id)
			if err != nil {
				t.Fatal(err)
			}
			st, err := f.ServiceToken(service)
			if err != nil {
				t.Fatal(err)
			}
			for _, tok := range []struct {
				name string
				tok  string
				keys []string
				aud  any
			}{{"access", at, tc.accessKeys, tc.aud}, {"id", it, tc.idKeys, tc.aud}, {"service", st, tc.serviceKeys, tc.serviceAud}} {
				h, c := decode(t, tok.tok)
				if got := keysOf(h); !slices.Equal(got, tc.header) || h["typ"] != tc.typ || h["ver"] != tc.ver {
					t.Errorf("%s header %v, want keys %v, typ %v, ver %v", tok.name, h, tc.header, tc.typ, tc.ver)
				}
				if got := keysOf(c); !slices.Equal(got, tok.keys) {
					t.Errorf("%s claims %v, want keys %v", tok.name, got, tok.keys)
				}
				if c["iss"] != tc.iss || !reflect.DeepEqual(c["aud"], tok.aud) {
					t.Errorf("%s iss %v aud %v, want %q %v", tok.name, c["iss"], c["aud"], tc.iss, tok.aud)
				}
				if tc.shape.AppID() && c["tenant"] != app {
					t.Errorf("%s tenant %v, want %s", tok.name, c["tenant"], app)
				}
			}
			if !tc.shape.AppID() {
				return
			}
			_, c := decode(t, st)
			if c["sub"] != svc || c["azp"] != svc || c["scope"] != tokenfactory.AppIDDefaultScope || !reflect.DeepEqual(c["amr"], []any{tokenfactory.AppIDClientCredentialsAMR}) {
				t.Errorf("service claims %v", c)
			}
			_, c = decode(t, at)
			if c["sub"] != client || c["scope"] != tokenfactory.AppIDUserScope || !reflect.DeepEqual(c["amr"], []any{tokenfactory.AppIDAnonymousAMR}) {
				t.Errorf("access claims %v", c)
			}
			// Mutations act on the shaped draft.
			expired, err := f.AccessToken(access, tokenfactory.ExpiredBy(time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			if h, c := decode(t, expired); c["exp"] != float64(now.Add(-time.Minute).Unix()) || c["tenant"] != app || h["typ"] != tc.typ {
				t.Errorf("ExpiredBy on %s: header %v claims %v", tc.shape, h, c)
			}
		})
	}
}

func TestShapeJPKOverride(t *testing.T) {
	t.Parallel()
	f, err := tokenfactory.New(testKey(t), tokenfactory.WithShape(tokenfactory.ShapeAppIDV4), tokenfactory.WithJPK(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := f.Header()["jpk"]; !ok {
		t.Errorf("App ID shape with WithJPK(true): header %v has no jpk", f.Header())
	}
}

func TestParseShape(t *testing.T) {
	t.Parallel()
	for _, s := range tokenfactory.Shapes() {
		if got, err := tokenfactory.ParseShape(string(s)); err != nil || got != s {
			t.Errorf("ParseShape(%q) = %q, %v", s, got, err)
		}
	}
	if got, err := tokenfactory.ParseShape(""); err != nil || got != tokenfactory.ShapeMCA {
		t.Errorf(`ParseShape("") = %q, %v; want mca`, got, err)
	}
	_, err := tokenfactory.ParseShape("appid")
	if err == nil || !strings.Contains(err.Error(), "appid-v4") {
		t.Errorf(`ParseShape("appid") = %v; want an error listing the shapes`, err)
	}
	if _, err := tokenfactory.New(testKey(t), tokenfactory.WithShape("jwt")); err == nil {
		t.Error("New with an unknown shape succeeded")
	}
	if !errors.Is(err, tokenfactory.ErrShape) {
		t.Errorf("ParseShape error %v does not wrap ErrShape", err)
	}
}

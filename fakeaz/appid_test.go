package fakeaz_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcaspec/mcaspec/fakeaz"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

// newAppIDEnv is a started server with an MCA app (e.app) and an App ID profile app.
func newAppIDEnv(t *testing.T) (*env, fakeaz.App) {
	t.Helper()
	e := newEnv(t)
	a, err := e.s.AddApp(fakeaz.App{Shape: tokenfactory.ShapeAppIDV4,
		ServiceClients: []fakeaz.ServiceClient{{ClientID: "svc", Secret: "s3cret"}}})
	if err != nil {
		t.Fatal(err)
	}
	return e, a
}

// tokenHeader decodes the protected header of a compact JWS.
func tokenHeader(t *testing.T, tok string) map[string]any {
	t.Helper()
	seg, _, _ := strings.Cut(tok, ".")
	b, err := tokenfactory.B64.DecodeString(seg)
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	return h
}

func TestAppIDProfileValidation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		profile string
		want    tokenfactory.Shape
		ok      bool
	}{
		{"", tokenfactory.ShapeMCA, true}, {fakeaz.ProfileMCA, tokenfactory.ShapeMCA, true},
		{fakeaz.ProfileAppID, tokenfactory.ShapeAppIDV4, true}, {"AppID", "", false}, {"oidc", "", false},
	} {
		c, err := fakeaz.ParseConfig([]byte(`{"apps":[{"appId":"0b5b5a8c-6a7d-4c36-9a3e-2f0e4b8a1c11","profile":"` + tc.profile + `"}]}`))
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, fakeaz.ErrInvalidConfig)) {
			t.Errorf("profile %q: ParseConfig() = %v, want ok=%v", tc.profile, err, tc.ok)
			continue
		}
		if err == nil && c.Apps[0].TokenShape() != tc.want {
			t.Errorf("profile %q: shape %s, want %s", tc.profile, c.Apps[0].TokenShape(), tc.want)
		}
	}
	if err := (fakeaz.App{Shape: "appid-v9"}).Validate(); !errors.Is(err, fakeaz.ErrInvalidApp) {
		t.Errorf("Validate of an unknown shape = %v, want ErrInvalidApp", err)
	}
}

func TestAppIDTokenShape(t *testing.T) {
	t.Parallel()
	e, a := newAppIDEnv(t)
	f, err := e.s.Factory(a.ID)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := e.s.PublicKey(a.ID)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := e.s.JWKS(a.ID)
	if err != nil {
		t.Fatal(err)
	}
	iss := e.s.OAuthServerURL(a.ID)
	if want := strings.TrimSuffix(e.s.URL(), fakeaz.BasePath) + "/imf-authserver/oauth/v4/" + a.ID; iss != want {
		t.Fatalf("OAuthServerURL = %q, want %q", iss, want)
	}
	user := &tokenfactory.User{ID: "alice", AuthBy: "customRealm", DisplayName: "Alice", Attributes: map[string]any{"team": "blue"}}
	dev := tokenfactory.Device{ID: "dev-1", Platform: "iOS", Model: "iPhone", OSVersion: "17.2"}
	appl := tokenfactory.Application{ID: "com.example.app", Version: "1.0"}
	at, err := fakeaz.AppIDAccessToken(f, tokenfactory.Access{AppID: a.ID, ClientID: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	it, err := fakeaz.AppIDIDToken(f, tokenfactory.ID{AppID: a.ID, ClientID: "c1", User: user, Device: dev, Application: appl})
	if err != nil {
		t.Fatal(err)
	}
	anon, err := fakeaz.AppIDIDToken(f, tokenfactory.ID{AppID: a.ID, ClientID: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	expired, err := fakeaz.AppIDAccessToken(f, tokenfactory.Access{AppID: a.ID, ClientID: "c1"}, tokenfactory.ExpiredBy(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now().Unix()
	tests := []struct {
		name  string
		tok   string
		check func(t *testing.T, h, c map[string]any)
	}{
		{"access", at, func(t *testing.T, h, c map[string]any) {
			if c["sub"] != "c1" || c["scope"] != fakeaz.AppIDUserScope || !slices.Equal(c["amr"].([]any), []any{"appid_anon"}) {
				t.Errorf("access claims %v", c)
			}
			if c["exp"].(float64) != float64(now+3600) || c["iat"].(float64) != float64(now) {
				t.Errorf("iat/exp %v/%v, want %d/%d", c["iat"], c["exp"], now, now+3600)
			}
		}},
		{"id with user", it, func(t *testing.T, h, c map[string]any) {
			if c["sub"] != tokenfactory.SubjectFor("c1", user) || c["name"] != "Alice" {
				t.Errorf("id claims %v", c)
			}
			ids, _ := c["identities"].([]any)
			if len(ids) != 1 || ids[0].(map[string]any)["provider"] != "customRealm" || ids[0].(map[string]any)["id"] != "alice" {
				t.Errorf("identities %v", c["identities"])
			}
			oc, _ := c["oauth_client"].(map[string]any)
			if oc["device_id"] != "dev-1" || oc["device_os"] != "iOS" || oc["software_id"] != "com.example.app" || oc["software_version"] != "1.0" {
				t.Errorf("oauth_client %v", oc)
			}
		}},
		{"anonymous id", anon, func(t *testing.T, h, c map[string]any) {
			if c["sub"] != "::c1" || c["identities"] != nil || !slices.Equal(c["amr"].([]any), []any{"appid_anon"}) {
				t.Errorf("anonymous id claims %v", c)
			}
		}},
		{"mutation applied after shaping", expired, func(t *testing.T, h, c map[string]any) {
			if c["exp"].(float64) != float64(now-60) || c["tenant"] != a.ID {
				t.Errorf("ExpiredBy(1m): exp %v tenant %v", c["exp"], c["tenant"])
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := tokenHeader(t, tc.tok)
			if h["alg"] != "RS256" || h["kid"] != keys[0].Kid || h["typ"] != "JWT" || h["ver"] != float64(4) || h["jpk"] != nil {
				t.Errorf("header %v: want alg RS256, kid %s, typ JWT, ver 4, no jpk", h, keys[0].Kid)
			}
			c := verifyToken(t, tc.tok, pub)
			if c["iss"] != iss || c["tenant"] != a.ID {
				t.Errorf("iss %v tenant %v, want %s %s", c["iss"], c["tenant"], iss, a.ID)
			}
			if aud, ok := c["aud"].([]any); !ok || len(aud) != 1 || aud[0] != a.ID {
				t.Errorf("aud %#v, want [%q]", c["aud"], a.ID)
			}
			tc.check(t, h, c)
		})
	}
}

func TestAppIDEndpoints(t *testing.T) {
	t.Parallel()
	e, a := newAppIDEnv(t)
	pub, err := e.s.PublicKey(a.ID)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := e.s.JWKS(a.ID)
	if err != nil {
		t.Fatal(err)
	}
	base := e.s.OAuthServerURL(a.ID)
	basic := func(id, secret string) string {
		r, _ := http.NewRequest(http.MethodGet, "http://x", nil)
		r.SetBasicAuth(id, secret)
		return r.Header.Get("Authorization")
	}
	tests := []struct {
		name, method, url, ctype, body, authz string
		status                                int
		errCode                               string
		check                                 func(t *testing.T, body []byte)
	}{
		{name: "publickeys", method: "GET", url: base + "/publickeys", status: 200, check: func(t *testing.T, b []byte) {
			var j struct{ Keys []fakeaz.JWK }
			if err := json.Unmarshal(b, &j); err != nil || len(j.Keys) != 1 || j.Keys[0] != keys[0] {
				t.Errorf("publickeys %s: %v", b, err)
			}
			k, err := tokenfactory.DecodeModExp(j.Keys[0].N, j.Keys[0].E)
			if err != nil || !k.Equal(pub) {
				t.Errorf("publickeys key is not the app's key: %v", err)
			}
		}},
		{name: "discovery", method: "GET", url: base + "/.well-known/openid-configuration", status: 200, check: func(t *testing.T, b []byte) {
			var j map[string]any
			if err := json.Unmarshal(b, &j); err != nil || j["issuer"] != base || j["jwks_uri"] != base+"/publickeys" || j["token_endpoint"] != base+"/token" {
				t.Errorf("discovery %s: %v", b, err)
			}
		}},
		{name: "token by form", method: "POST", url: base + "/token", ctype: "application/x-www-form-urlencoded", body: "grant_type=client_credentials", authz: basic("svc", "s3cret"), status: 200, check: func(t *testing.T, b []byte) {
			var j fakeaz.TokenResponse
			if err := json.Unmarshal(b, &j); err != nil || j.TokenType != "Bearer" || j.ExpiresIn != 3600 {
				t.Fatalf("token response %s: %v", b, err)
			}
			c := verifyToken(t, j.AccessToken, pub)
			if aud, _ := c["aud"].([]any); !slices.Equal(aud, []any{"svc", a.ID}) || c["sub"] != "svc" || c["iss"] != base || c["scope"] != "appid_default" {
				t.Errorf("service token claims %v", c)
			}
			if h := tokenHeader(t, j.AccessToken); h["kid"] != keys[0].Kid || h["ver"] != float64(4) {
				t.Errorf("service token header %v", h)
			}
		}},
		{name: "token by JSON (as the ibmcloud-appid SDK sends it)", method: "POST", url: base + "/token", ctype: "application/json", body: `{"grant_type":"client_credentials"}`, authz: basic("svc", "s3cret"), status: 200},
		{name: "token wrong secret", method: "POST", url: base + "/token", ctype: "application/x-www-form-urlencoded", body: "grant_type=client_credentials", authz: basic("svc", "nope"), status: 401, errCode: "invalid_client"},
		{name: "token without Basic", method: "POST", url: base + "/token", ctype: "application/x-www-form-urlencoded", body: "grant_type=client_credentials", status: 401, errCode: "invalid_client"},
		{name: "token other grant", method: "POST", url: base + "/token", ctype: "application/x-www-form-urlencoded", body: "grant_type=password", authz: basic("svc", "s3cret"), status: 400, errCode: "unsupported_grant_type"},
		{name: "token bad JSON", method: "POST", url: base + "/token", ctype: "application/json", body: `{"grant_type":`, authz: basic("svc", "s3cret"), status: 400, errCode: "invalid_request"},
		{name: "token by GET", method: "GET", url: base + "/token", status: 405, errCode: "method_not_allowed"},
		{name: "unknown endpoint", method: "GET", url: base + "/userinfo", status: 404, errCode: "not_found"},
		{name: "unknown app", method: "GET", url: e.s.OAuthServerURL("0b5b5a8c-6a7d-4c36-9a3e-2f0e4b8a1c11") + "/publickeys", status: 404, errCode: "unknown_app"},
		{name: "MCA app has no App ID endpoints", method: "GET", url: e.s.OAuthServerURL(e.app.ID) + "/publickeys", status: 404, errCode: "unknown_app"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(tc.method, tc.url, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			if tc.authz != "" {
				req.Header.Set("Authorization", tc.authz)
			}
			resp, b := do(t, e.hc, req)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, b)
			}
			if tc.errCode != "" {
				if got := errCode(t, b); got != tc.errCode {
					t.Errorf("error %q, want %q", got, tc.errCode)
				}
			}
			if tc.check != nil {
				tc.check(t, b)
			}
		})
	}
}

func TestAppIDFaultsAndStats(t *testing.T) {
	t.Parallel()
	e, a := newAppIDEnv(t)
	u := e.s.OAuthServerURL(a.ID) + "/publickeys"
	if err := e.s.SetFault(fakeaz.FaultSpec{Endpoint: fakeaz.EndpointPublicKey, AppID: a.ID, Status: 503, Body: `{"error":"down"}`}); err != nil {
		t.Fatal(err)
	}
	if resp, b := get(t, e.hc, u, nil); resp.StatusCode != 503 {
		t.Fatalf("faulted publickeys: %d %s", resp.StatusCode, b)
	}
	e.s.ClearFaults()
	if resp, b := get(t, e.hc, u, nil); resp.StatusCode != 200 {
		t.Fatalf("publickeys after ClearFaults: %d %s", resp.StatusCode, b)
	}
	if n := e.s.Stats().Count(fakeaz.EndpointPublicKey, a.ID); n != 2 {
		t.Errorf("publickeys counted %d times, want 2", n)
	}
}

func TestAppIDAdminTokens(t *testing.T) {
	t.Parallel()
	e, a := newAppIDEnv(t)
	tests := []struct {
		name    string
		appID   string
		wantArr bool
	}{
		{"App ID profile app", a.ID, true},
		{"MCA app unchanged", e.app.ID, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			status, b := adminDo(t, e, "POST", "/apps/"+tc.appID+"/tokens", `{"clientId":"c1","user":{"id":"bob","authBy":"r","displayName":"Bob"}}`)
			if status != 200 {
				t.Fatalf("mint: %d %s", status, b)
			}
			var tr fakeaz.TokenResponse
			if err := json.Unmarshal(b, &tr); err != nil {
				t.Fatal(err)
			}
			pub, err := e.s.PublicKey(tc.appID)
			if err != nil {
				t.Fatal(err)
			}
			ac, ic := verifyToken(t, tr.AccessToken, pub), verifyToken(t, tr.IDToken, pub)
			_, isArr := ac["aud"].([]any)
			if isArr != tc.wantArr {
				t.Errorf("access aud %#v: array %v, want %v", ac["aud"], isArr, tc.wantArr)
			}
			if tc.wantArr && (ic["name"] != "Bob" || ac["iss"] != e.s.OAuthServerURL(tc.appID)) {
				t.Errorf("App ID tokens: access %v id %v", ac, ic)
			}
			if !tc.wantArr && ac["iss"] != tokenfactory.MCAIssuer(e.s.URL()) {
				t.Errorf("MCA iss %v, want %s", ac["iss"], tokenfactory.MCAIssuer(e.s.URL()))
			}
		})
	}
	if status, b := adminDo(t, e, "POST", "/apps/"+a.ID+"/tokens", `{}`); status != 400 {
		t.Errorf("mint without clientId: %d %s", status, b)
	}
}

func TestAppIDGenerationValidation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		profile, generation string
		ok                  bool
	}{
		{fakeaz.ProfileAppID, "", true},
		{fakeaz.ProfileAppID, fakeaz.AppIDGenerationV4, true},
		{fakeaz.ProfileAppID, fakeaz.AppIDGenerationV3, true},
		{fakeaz.ProfileAppID, fakeaz.AppIDGenerationV3Host, true},
		{fakeaz.ProfileAppID, "v5", false},
		{"", fakeaz.AppIDGenerationV3, false},
		{fakeaz.ProfileMCA, fakeaz.AppIDGenerationV4, false},
	} {
		var a fakeaz.App
		err := json.Unmarshal([]byte(`{"profile":"`+tc.profile+`","generation":"`+tc.generation+`"}`), &a)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, fakeaz.ErrInvalidApp)) {
			t.Errorf("profile %q generation %q: Unmarshal = %v, want ok=%v", tc.profile, tc.generation, err, tc.ok)
			continue
		}
		if err != nil {
			continue
		}
		b, err := json.Marshal(a)
		var back fakeaz.App
		if err != nil || json.Unmarshal(b, &back) != nil || back.TokenShape() != a.TokenShape() {
			t.Errorf("profile %q generation %q: %s does not read back as %s", tc.profile, tc.generation, b, a.TokenShape())
		}
	}
	c, err := fakeaz.ParseConfig([]byte(`{"apps":[{"appId":"0b5b5a8c-6a7d-4c36-9a3e-2f0e4b8a1c11","profile":"appid","generation":"v3-host"}]}`))
	if err != nil || c.Apps[0].TokenShape() != tokenfactory.ShapeAppIDV3Host {
		t.Fatalf("config with generation: %+v, %v", c, err)
	}
}

// TestAppIDGenerations: each generation's tokens (factory, token endpoint,
// admin mint) have its shape, and the discovery issuer is their iss.
func TestAppIDGenerations(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	host := strings.TrimPrefix(strings.TrimSuffix(e.s.URL(), fakeaz.BasePath), "http://")
	tests := []struct {
		generation string
		shape      tokenfactory.Shape
		hostIss    bool
		typ        string
		ver        any
		arrayAud   bool
	}{
		{"", tokenfactory.ShapeAppIDV4, false, "JWT", float64(4), true},
		{fakeaz.AppIDGenerationV4, tokenfactory.ShapeAppIDV4, false, "JWT", float64(4), true},
		{fakeaz.AppIDGenerationV3, tokenfactory.ShapeAppIDV3, false, "JOSE", nil, false},
		{fakeaz.AppIDGenerationV3Host, tokenfactory.ShapeAppIDV3Host, true, "JOSE", nil, false},
	}
	for _, tc := range tests {
		t.Run("generation "+tc.generation, func(t *testing.T) {
			t.Parallel()
			a, err := e.s.AddApp(fakeaz.App{Shape: tc.shape,
				ServiceClients: []fakeaz.ServiceClient{{ClientID: "svc", Secret: "s3cret"}}})
			if err != nil {
				t.Fatal(err)
			}
			base := e.s.OAuthServerURL(a.ID)
			iss := base
			if tc.hostIss {
				iss = host
			}
			f, err := e.s.Factory(a.ID)
			if err != nil {
				t.Fatal(err)
			}
			if a.TokenShape() != tc.shape || f.Shape() != tc.shape || f.Issuer() != iss {
				t.Fatalf("TokenShape %s, factory shape %s issuer %q; want %s, %q", a.TokenShape(), f.Shape(), f.Issuer(), tc.shape, iss)
			}
			_, b := get(t, e.hc, base+"/.well-known/openid-configuration", nil)
			var disc map[string]any
			if err := json.Unmarshal(b, &disc); err != nil || disc["issuer"] != iss || disc["jwks_uri"] != base+"/publickeys" {
				t.Errorf("discovery %s: %v; want issuer %q", b, err, iss)
			}
			req, _ := http.NewRequest(http.MethodPost, base+"/token", strings.NewReader("grant_type=client_credentials"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth("svc", "s3cret")
			resp, b := do(t, e.hc, req)
			var svc fakeaz.TokenResponse
			if resp.StatusCode != 200 || json.Unmarshal(b, &svc) != nil {
				t.Fatalf("token endpoint: %d %s", resp.StatusCode, b)
			}
			status, b := adminDo(t, e, "POST", "/apps/"+a.ID+"/tokens", `{"clientId":"c1"}`)
			var minted fakeaz.TokenResponse
			if status != 200 || json.Unmarshal(b, &minted) != nil {
				t.Fatalf("admin mint: %d %s", status, b)
			}
			pub, err := e.s.PublicKey(a.ID)
			if err != nil {
				t.Fatal(err)
			}
			for name, tok := range map[string]string{"service": svc.AccessToken, "access": minted.AccessToken, "id": minted.IDToken} {
				h, c := tokenHeader(t, tok), verifyToken(t, tok, pub)
				if h["typ"] != tc.typ || h["ver"] != tc.ver || h["jpk"] != nil || h["kid"] == nil {
					t.Errorf("%s header %v: want typ %s, ver %v, a kid, no jpk", name, h, tc.typ, tc.ver)
				}
				_, isArr := c["aud"].([]any)
				if c["iss"] != iss || isArr != tc.arrayAud || c["tenant"] != a.ID {
					t.Errorf("%s claims %v: want iss %q, array aud %v, tenant %s", name, c, iss, tc.arrayAud, a.ID)
				}
			}
		})
	}
}

func TestAppIDTokenNeedsAppIDFactory(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f, err := e.s.Factory(e.app.ID) // an MCA app
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fakeaz.AppIDAccessToken(f, tokenfactory.Access{AppID: e.app.ID, ClientID: "c1"}); err == nil || !strings.Contains(err.Error(), "profile") {
		t.Errorf("AppIDAccessToken with an MCA factory: %v, want an error naming the profile", err)
	}
	if _, err := fakeaz.AppIDIDToken(f, tokenfactory.ID{AppID: e.app.ID, ClientID: "c1"}); err == nil {
		t.Error("AppIDIDToken with an MCA factory succeeded")
	}
}

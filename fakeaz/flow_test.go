package fakeaz_test

import (
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mcaspec/mcaspec/fakeaz"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

func TestRegisterAcceptsEveryCSREncoding(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cases := []struct {
		name        string
		bits        int
		enc         func([]byte) string
		leadingZero bool
	}{
		{"unpadded base64url", 2048, nil, false},
		{"padded base64url", 2048, paddedURL, false},
		{"standard alphabet with escaped slashes", 2048, stdEnc, false},
		{"leading zero byte on modulus", 1024, nil, true},
		{"padded standard alphabet and leading zero", 1024, stdEnc, true},
		{"512-bit key", 512, nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := newDevice(t, tc.bits)
			d.modEnc, d.leadingZero = tc.enc, tc.leadingZero
			resp, body := postForm(t, e.hc, e.appURL(e.app.ID, "clients/instance"), url.Values{"CSR": {d.csr(t)}}, map[string]string{"X-WL-Session": "s1"})
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			var r struct{ Certificate, ClientID string }
			if err := json.Unmarshal(body, &r); err != nil {
				t.Fatal(err)
			}
			if !regexp.MustCompile(`^[0-9a-f]{40}$`).MatchString(r.ClientID) {
				t.Errorf("clientId %q is not 40 hex chars", r.ClientID)
			}
			der, err := base64.StdEncoding.DecodeString(r.Certificate)
			if err != nil {
				t.Fatalf("certificate is not base64: %v", err)
			}
			cert, err := x509.ParseCertificate(der)
			if err != nil {
				t.Fatalf("certificate is not DER X.509: %v", err)
			}
			// DC=<applicationId>, UID=<clientId>, as the SDKs' test certificates
			// (fakedevice/testdata/sdk-vectors.json).
			uid := asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 1}
			dc := asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 25}
			if n := cert.Subject.Names; len(n) != 2 || !n[0].Type.Equal(dc) || n[0].Value != bundle || !n[1].Type.Equal(uid) || n[1].Value != r.ClientID {
				t.Errorf("subject %v, want DC=%s, UID=%s", n, bundle, r.ClientID)
			}
			if !d.key.PublicKey.Equal(cert.PublicKey) {
				t.Error("certificate does not carry the device key")
			}
			ca, err := e.s.CACertificate()
			if err != nil {
				t.Fatal(err)
			}
			if err := cert.CheckSignatureFrom(ca); err != nil {
				t.Errorf("certificate not signed by the AZ CA: %v", err)
			}
			cs, err := e.s.Clients(e.app.ID)
			if err != nil {
				t.Fatal(err)
			}
			var found *fakeaz.Client
			for i := range cs {
				if cs[i].ClientID == r.ClientID {
					found = &cs[i]
				}
			}
			if found == nil || found.DeviceID != "dev-1" || found.DeviceModel != "iPhone" || found.DeviceOS != "iOS" ||
				found.DeviceOSVersion != "" || found.KeyBits != tc.bits || found.ApplicationVersion != "1.0" {
				t.Errorf("stored client %+v", found)
			}
		})
	}
}

func TestRegisterRejects(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ios, err := e.s.AddApp(fakeaz.App{BundleID: bundle, Platform: fakeaz.PlatformAndroid})
	if err != nil {
		t.Fatal(err)
	}
	sharedKeys(t)
	good := newDevice(t, 512)
	tamperedSig := func() string {
		c := good.csr(t)
		other := *good
		other.key = devKeys[1]
		o := other.csr(t)
		return c[:strings.LastIndex(c, ".")] + o[strings.LastIndex(o, "."):]
	}
	tinyKey := signJWS(t, good.key, `{"alg":"RS256","jpk":{"alg":"RSA","mod":"AQAB","exp":"AQAB"}}`, `{"applicationId":"com.example.app"}`)
	cases := []struct {
		name    string
		appID   string
		csr     string
		payload map[string]any
		status  int
		code    string
	}{
		{"wrong bundle id", "", "", map[string]any{"applicationId": "com.evil.app"}, 403, "unauthorized_client"},
		{"wrong version", "", "", map[string]any{"applicationVersion": "9.9"}, 403, "unauthorized_client"},
		{"wrong platform", ios.ID, "", nil, 403, "unauthorized_client"},
		{"signature by another key", "", tamperedSig(), nil, 400, "invalid_request"},
		{"not a JWS", "", "not-a-jws", nil, 400, "invalid_request"},
		{"HS256 header", "", signJWS(t, good.key, `{"alg":"HS256","jpk":{}}`, `{}`), nil, 400, "invalid_request"},
		{"no jpk", "", signJWS(t, good.key, `{"alg":"RS256"}`, `{}`), nil, 400, "invalid_request"},
		{"key too small", "", tinyKey, nil, 400, "invalid_request"},
		{"missing CSR", "", "-", nil, 400, "invalid_request"},
		{"unknown app", "00000000-0000-4000-8000-000000000000", "", nil, 404, "unknown_app"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			appID := tc.appID
			if appID == "" {
				appID = e.app.ID
			}
			d := *good
			d.payload = tc.payload
			csr := tc.csr
			if csr == "" {
				csr = d.csr(t)
			}
			form := url.Values{"CSR": {csr}}
			if csr == "-" {
				form = url.Values{}
			}
			resp, body := postForm(t, e.hc, e.appURL(appID, "clients/instance"), form, nil)
			if resp.StatusCode != tc.status || errCode(t, body) != tc.code {
				t.Fatalf("got %d %s, want %d %s", resp.StatusCode, body, tc.status, tc.code)
			}
		})
	}
}

func TestAnonymousFlowIssuesVerifiableTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := newDevice(t, 512)
	cid := e.register(t, e.app.ID, d)
	code := e.code(t, e.app.ID, cid, d)
	resp, body := e.redeem(t, e.app.ID, cid, code, d.key)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token: %d %s", resp.StatusCode, body)
	}
	var tr fakeaz.TokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		t.Fatal(err)
	}
	if tr.TokenType != "Bearer" || tr.ExpiresIn != 3600 || tr.AccessToken == "" || tr.IDToken == "" {
		t.Fatalf("token response %s", body)
	}
	// The publickey endpoint's key verifies both tokens.
	resp, body = get(t, e.hc, e.appURL(e.app.ID, "publickey"), nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("publickey: %d", resp.StatusCode)
	}
	pub, err := tokenfactory.ParsePublicKeyJSON(body)
	if err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now().Unix()
	at := verifyToken(t, tr.AccessToken, pub)
	want := map[string]any{"iss": tokenfactory.MCAIssuer(e.s.URL()), "aud": e.app.ID, "prn": cid, "iat": float64(now), "exp": float64(now + 3600)}
	for k, v := range want {
		if at[k] != v {
			t.Errorf("access %s = %v, want %v", k, at[k], v)
		}
	}
	if _, ok := at["imf.scope"]; ok {
		t.Error("anonymous access token carries imf.scope")
	}
	id := verifyToken(t, tr.IDToken, pub)
	if id["sub"] != "::"+cid || id["aud"] != e.app.ID || id["iss"] != tokenfactory.MCAIssuer(e.s.URL()) {
		t.Errorf("id token claims %v", id)
	}
	if _, ok := id["imf.user"]; ok {
		t.Error("anonymous id token carries imf.user")
	}
	dev, _ := json.Marshal(id["imf.device"])
	if string(dev) != `{"id":"dev-1","model":"iPhone","osVersion":"","platform":"iOS"}` {
		t.Errorf("imf.device = %s", dev)
	}
	appc, _ := json.Marshal(id["imf.application"])
	if string(appc) != `{"id":"com.example.app","version":"1.0"}` {
		t.Errorf("imf.application = %s", appc)
	}
	if !strings.HasPrefix(e.s.URL(), "http://127.0.0.1:") || !strings.HasSuffix(e.s.URL(), "/imf-authserver") {
		t.Errorf("URL() = %q", e.s.URL())
	}
}

func TestTokenErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fakeaz.WithCodeLifetime(time.Minute))
	sharedKeys(t)
	cases := []struct {
		name   string
		run    func(t *testing.T, cid string, d *device) (*http.Response, []byte)
		status int
		code   string
	}{
		{"reused code", func(t *testing.T, cid string, d *device) (*http.Response, []byte) {
			c := e.code(t, e.app.ID, cid, d)
			if r, b := e.redeem(t, e.app.ID, cid, c, d.key); r.StatusCode != 200 {
				t.Fatalf("first use: %d %s", r.StatusCode, b)
			}
			return e.redeem(t, e.app.ID, cid, c, d.key)
		}, 400, "invalid_grant"},
		{"wrong device key", func(t *testing.T, cid string, d *device) (*http.Response, []byte) {
			return e.redeem(t, e.app.ID, cid, e.code(t, e.app.ID, cid, d), devKeys[1])
		}, 400, "invalid_grant"},
		{"no X-WL-Authenticate", func(t *testing.T, cid string, d *device) (*http.Response, []byte) {
			return e.redeem(t, e.app.ID, cid, e.code(t, e.app.ID, cid, d), nil)
		}, 400, "invalid_grant"},
		{"unknown code", func(t *testing.T, cid string, d *device) (*http.Response, []byte) {
			return e.redeem(t, e.app.ID, cid, "bm9wZQ", d.key)
		}, 400, "invalid_grant"},
		{"unknown client", func(t *testing.T, cid string, d *device) (*http.Response, []byte) {
			return e.redeem(t, e.app.ID, "ffff", e.code(t, e.app.ID, cid, d), d.key)
		}, 400, "unauthorized_client"},
		{"code of another client", func(t *testing.T, cid string, d *device) (*http.Response, []byte) {
			d2 := newDevice(t, 1024)
			cid2 := e.register(t, e.app.ID, d2)
			return e.redeem(t, e.app.ID, cid2, e.code(t, e.app.ID, cid, d), d2.key)
		}, 400, "invalid_grant"},
		{"unknown app", func(t *testing.T, cid string, d *device) (*http.Response, []byte) {
			return e.redeem(t, "00000000-0000-4000-8000-000000000000", cid, "x", d.key)
		}, 404, "unknown_app"},
		{"unsupported grant", func(t *testing.T, cid string, d *device) (*http.Response, []byte) {
			return postForm(t, e.hc, e.appURL(e.app.ID, "token"), url.Values{"grant_type": {"password"}}, nil)
		}, 400, "unsupported_grant_type"},
		{"oversized body", func(t *testing.T, cid string, d *device) (*http.Response, []byte) {
			return postForm(t, e.hc, e.appURL(e.app.ID, "token"), url.Values{"grant_type": {strings.Repeat("x", 100<<10)}}, nil)
		}, 400, "invalid_request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := newDevice(t, 512)
			cid := e.register(t, e.app.ID, d)
			resp, body := tc.run(t, cid, d)
			if resp.StatusCode != tc.status || errCode(t, body) != tc.code {
				t.Fatalf("got %d %s, want %d %s", resp.StatusCode, body, tc.status, tc.code)
			}
		})
	}
}

func TestExpiredCode(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fakeaz.WithCodeLifetime(time.Minute))
	d := newDevice(t, 512)
	cid := e.register(t, e.app.ID, d)
	code := e.code(t, e.app.ID, cid, d)
	e.clock.Advance(time.Minute)
	resp, body := e.redeem(t, e.app.ID, cid, code, d.key)
	if resp.StatusCode != 400 || errCode(t, body) != "invalid_grant" || !strings.Contains(string(body), "expired") {
		t.Fatalf("got %d %s, want 400 invalid_grant (expired)", resp.StatusCode, body)
	}
}

func TestRevokedClient(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d, other := newDevice(t, 512), newDevice(t, 1024)
	cid := e.register(t, e.app.ID, d)
	otherID := e.register(t, e.app.ID, other)
	pending := e.code(t, e.app.ID, cid, d)
	if err := e.s.RevokeClient(e.app.ID, cid); err != nil {
		t.Fatal(err)
	}
	resp := e.authorize(t, e.app.ID, cid, d, "")
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("authorization after revocation: %d, want 403", resp.StatusCode)
	}
	r, body := e.redeem(t, e.app.ID, cid, pending, d.key)
	if r.StatusCode != 400 || errCode(t, body) != "unauthorized_client" {
		t.Errorf("token after revocation: %d %s, want 400 unauthorized_client", r.StatusCode, body)
	}
	// Other devices are untouched.
	r, body = e.redeem(t, e.app.ID, otherID, e.code(t, e.app.ID, otherID, other), other.key)
	if r.StatusCode != 200 {
		t.Errorf("other client: %d %s", r.StatusCode, body)
	}
	if err := e.s.RevokeClient(e.app.ID, "nope"); err == nil {
		t.Error("revoking an unknown client succeeded")
	}
}

func TestClientCredentials(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cases := []struct {
		name, user, pass string
		status           int
		code             string
	}{
		{"good secret", "svc", "s3cret", 200, ""},
		{"bad secret", "svc", "wrong", 401, "invalid_client"},
		{"unknown client", "nobody", "s3cret", 401, "invalid_client"},
		{"no credentials", "", "", 401, "invalid_client"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req, _ := http.NewRequest(http.MethodPost, e.appURL(e.app.ID, "token"), strings.NewReader("grant_type=client_credentials"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tc.user != "" {
				req.SetBasicAuth(tc.user, tc.pass)
			}
			resp, body := do(t, e.hc, req)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d %s, want %d", resp.StatusCode, body, tc.status)
			}
			if tc.status != 200 {
				if errCode(t, body) != tc.code {
					t.Fatalf("body %s, want error %s", body, tc.code)
				}
				return
			}
			var tr fakeaz.TokenResponse
			if err := json.Unmarshal(body, &tr); err != nil || tr.TokenType != "Bearer" || tr.IDToken != "" || tr.ExpiresIn != 3600 {
				t.Fatalf("body %s (%v)", body, err)
			}
			pub, _ := e.s.PublicKey(e.app.ID)
			c := verifyToken(t, tr.AccessToken, pub)
			if c["aud"] != e.app.ID || c["prn"] != "svc" || c["iss"] != tokenfactory.MCAIssuer(e.s.URL()) {
				t.Errorf("claims %v", c)
			}
		})
	}
}

func TestFactoryAndClockOffset(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.s.SetClockOffset(-2 * time.Hour)
	f, err := e.s.Factory(e.app.ID)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := f.AccessToken(tokenfactory.Access{AppID: e.app.ID, ClientID: "c"})
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := e.s.PublicKey(e.app.ID)
	c := verifyToken(t, tok, pub)
	want := e.clock.Now().Add(-2 * time.Hour).Unix()
	if c["iat"] != float64(want) || c["exp"] != float64(want+3600) || c["iss"] != tokenfactory.MCAIssuer(e.s.URL()) {
		t.Errorf("claims %v, want iat %d", c, want)
	}
	// Tokens from the endpoint are skewed too.
	d := newDevice(t, 512)
	cid := e.register(t, e.app.ID, d)
	_, body := e.redeem(t, e.app.ID, cid, e.code(t, e.app.ID, cid, d), d.key)
	var tr fakeaz.TokenResponse
	_ = json.Unmarshal(body, &tr)
	if c := verifyToken(t, tr.AccessToken, pub); c["iat"] != float64(want) {
		t.Errorf("endpoint token iat %v, want %d", c["iat"], want)
	}
	if _, err := e.s.Factory("00000000-0000-4000-8000-000000000000"); err == nil {
		t.Error("Factory of an unknown app succeeded")
	}
}

func TestRotation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	old, _ := e.s.PublicKey(e.app.ID)
	if err := e.s.RotateKey(e.app.ID, time.Minute); err != nil {
		t.Fatal(err)
	}
	cur, _ := e.s.PublicKey(e.app.ID)
	if cur.Equal(old) {
		t.Fatal("RotateKey kept the key")
	}
	_, body := get(t, e.hc, e.appURL(e.app.ID, "publickey"), nil)
	if pk, err := tokenfactory.ParsePublicKeyJSON(body); err != nil || !pk.Equal(cur) {
		t.Errorf("publickey serves the old key after rotation (%v)", err)
	}
	jwks := func() []fakeaz.JWK {
		_, body := get(t, e.hc, e.appURL(e.app.ID, "jwks"), nil)
		var ks struct{ Keys []fakeaz.JWK }
		if err := json.Unmarshal(body, &ks); err != nil {
			t.Fatal(err)
		}
		return ks.Keys
	}
	if ks := jwks(); len(ks) != 2 || ks[0].N != tokenfactory.NewPublicKeyJSON(cur).N || ks[1].N != tokenfactory.NewPublicKeyJSON(old).N || ks[0].Kid == ks[1].Kid {
		t.Errorf("JWKS during overlap: %+v", ks)
	}
	e.clock.Advance(time.Minute)
	if ks := jwks(); len(ks) != 1 {
		t.Errorf("JWKS after overlap lists %d keys", len(ks))
	}
	// RetireOldKeys ends an overlap early.
	if err := e.s.RotateKey(e.app.ID, time.Hour); err != nil {
		t.Fatal(err)
	}
	if ks := jwks(); len(ks) != 2 {
		t.Errorf("JWKS after second rotation lists %d keys", len(ks))
	}
	if err := e.s.RetireOldKeys(e.app.ID); err != nil {
		t.Fatal(err)
	}
	if ks := jwks(); len(ks) != 1 {
		t.Errorf("JWKS after RetireOldKeys lists %d keys", len(ks))
	}
	// New tokens are signed by the new key.
	f, _ := e.s.Factory(e.app.ID)
	tok, _ := f.AccessToken(tokenfactory.Access{AppID: e.app.ID, ClientID: "c"})
	now, _ := e.s.PublicKey(e.app.ID)
	verifyToken(t, tok, now)
	// Discovery points at the JWKS.
	_, body = get(t, e.hc, e.appURL(e.app.ID, ".well-known/openid-configuration"), nil)
	var disc map[string]any
	if err := json.Unmarshal(body, &disc); err != nil || disc["issuer"] != e.s.URL() || disc["jwks_uri"] != e.appURL(e.app.ID, "jwks") {
		t.Errorf("discovery %s", body)
	}
}

func TestLogoutAndRouting(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cases := []struct {
		name, method, url string
		status            int
	}{
		{"logout", "GET", e.appURL(e.app.ID, "logout") + "?client_id=x", 200},
		{"logout without client", "GET", e.appURL(e.app.ID, "logout"), 400},
		{"unknown endpoint", "GET", e.appURL(e.app.ID, "nope"), 404},
		{"wrong method", "POST", e.appURL(e.app.ID, "publickey"), 405},
		{"outside the AZ", "GET", strings.TrimSuffix(e.s.URL(), "/imf-authserver") + "/other", 404},
		{"unknown app publickey", "GET", e.appURL("nope", "publickey"), 404},
		{"bad response_type", "GET", e.appURL(e.app.ID, "authorization") + "?response_type=token&client_id=x&redirect_uri=http://localhost", 400},
		{"bad redirect_uri", "GET", e.appURL(e.app.ID, "authorization") + "?response_type=code&client_id=x&redirect_uri=nope", 400},
		{"unknown client", "GET", e.appURL(e.app.ID, "authorization") + "?response_type=code&client_id=x&redirect_uri=http://localhost", 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req, _ := http.NewRequest(tc.method, tc.url, nil)
			resp, body := do(t, e.hc, req)
			if resp.StatusCode != tc.status {
				t.Fatalf("%d %s, want %d", resp.StatusCode, body, tc.status)
			}
			if tc.status >= 400 {
				errCode(t, body)
			}
		})
	}
}

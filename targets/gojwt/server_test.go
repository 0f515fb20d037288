package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mcaspec/mcaspec/reference/target"
)

// fakeVerifier accepts the tokens it knows, with their claims.
type fakeVerifier map[string]Claims

func (f fakeVerifier) Verify(_ context.Context, tok string) (Claims, error) {
	if c, ok := f[tok]; ok {
		return c, nil
	}
	return nil, errors.New("signature invalid")
}

// compact builds an unsigned compact token with the given header (its claims are
// the fake verifier's, not the payload's).
func compact(t *testing.T, header map[string]any, name string) string {
	t.Helper()
	b, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b) + "." + base64.RawURLEncoding.EncodeToString([]byte(name)) + ".sig"
}

func TestProtect(t *testing.T) {
	t.Parallel()
	rs := map[string]any{"alg": "RS256", "kid": "k"}
	access := compact(t, rs, "access")
	id := compact(t, rs, "id")
	other := compact(t, rs, "other-client-id")
	noExp := compact(t, rs, "no-exp")
	crit := compact(t, map[string]any{"alg": "RS256", "crit": []string{"x"}}, "crit")
	v := fakeVerifier{
		access: {"sub": "client-1", "exp": 2e9},
		id: {"sub": "customRealm:alice:client-1", "exp": 2e9, "name": "Alice",
			"identities":   []any{map[string]any{"provider": "customRealm", "id": "alice"}},
			"oauth_client": map[string]any{"software_id": "com.example", "software_version": "1.0", "device_id": "d1", "device_os": "iOS", "device_model": "x", "device_os_version": "17"}},
		other: {"sub": "customRealm:bob:client-2", "exp": 2e9},
		noExp: {"sub": "client-1"},
		crit:  {"sub": "client-1", "exp": 2e9},
	}
	for _, tc := range []struct {
		name      string
		hardened  bool
		headers   []string
		status    int
		challenge string // the WWW-Authenticate error code, "" for a bare challenge
		sub       string // imf.sub of a 200
	}{
		{name: "no header", status: 401},
		{name: "access only", headers: []string{"Bearer " + access}, status: 200, sub: "client-1"},
		{name: "pair", headers: []string{"bearer\t" + access + "  " + id}, status: 200, sub: "customRealm:alice:client-1"},
		{name: "basic", headers: []string{"Basic dTpw"}, status: 401},
		{name: "three tokens", headers: []string{"Bearer " + access + " " + id + " " + id}, status: 400, challenge: "invalid_request"},
		{name: "two lines", headers: []string{"Bearer " + access, "Bearer " + access}, status: 400, challenge: "invalid_request"},
		{name: "bad signature", headers: []string{"Bearer " + access + "x"}, status: 401, challenge: "invalid_token"},
		{name: "bad id token", headers: []string{"Bearer " + access + " " + id + "x"}, status: 401, challenge: "invalid_token"},
		{name: "other client's id token, documented", headers: []string{"Bearer " + access + " " + other}, status: 200, sub: "customRealm:bob:client-2"},
		{name: "other client's id token, hardened", hardened: true, headers: []string{"Bearer " + access + " " + other}, status: 401, challenge: "invalid_token"},
		{name: "no exp, documented", headers: []string{"Bearer " + noExp}, status: 200, sub: "client-1"},
		{name: "no exp, hardened", hardened: true, headers: []string{"Bearer " + noExp}, status: 401, challenge: "invalid_token"},
		{name: "crit, hardened", hardened: true, headers: []string{"Bearer " + crit}, status: 401, challenge: "invalid_token"},
		{name: "pair, hardened", hardened: true, headers: []string{"Bearer " + access + " " + id}, status: 200, sub: "customRealm:alice:client-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newServer(t.Context(), target.Config{}, Tenant{Issuer: "http://az.test/oauth/v4/app"}, v, tc.hardened)
			req := httptest.NewRequest(http.MethodGet, "/v1/apps/8d3e0f5a-5c1b-4f7e-9a2d-6b4c3e2f1a00/protected", nil)
			for _, h := range tc.headers {
				req.Header.Add("Authorization", h)
			}
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			if tc.status == 200 {
				var sc map[string]any
				if err := json.Unmarshal(rec.Body.Bytes(), &sc); err != nil || sc["imf.sub"] != tc.sub {
					t.Fatalf("context %s (%v), want imf.sub %q", rec.Body, err, tc.sub)
				}
				return
			}
			ch := rec.Header().Get("WWW-Authenticate")
			if !strings.HasPrefix(ch, `Bearer realm="imfAuthentication"`) || strings.Contains(ch, "error=") != (tc.challenge != "") || !strings.Contains(ch, tc.challenge) {
				t.Fatalf("WWW-Authenticate %q, want error %q", ch, tc.challenge)
			}
		})
	}
}

func TestSecurityContextFromAppIDClaims(t *testing.T) {
	t.Parallel()
	ic := Claims{"sub": "customRealm:alice:c1", "name": "Alice",
		"identities":   []any{map[string]any{"provider": "customRealm", "id": "alice", "attributes": map[string]any{"tier": "gold"}}},
		"oauth_client": map[string]any{"software_id": "com.example", "software_version": "1.0", "device_id": "d1", "device_os": "iOS", "device_model": "m", "device_os_version": "17"}}
	got, _ := json.Marshal(securityContext(Claims{"sub": "c1"}, ic))
	want := `{"imf.application":{"id":"com.example","version":"1.0"},"imf.device":{"id":"d1","model":"m","osVersion":"17","platform":"iOS"},"imf.sub":"customRealm:alice:c1","imf.user":{"attributes":{"tier":"gold"},"authBy":"customRealm","displayName":"Alice","id":"alice"}}`
	if string(got) != want {
		t.Fatalf("got %s\nwant %s", got, want)
	}
	got, _ = json.Marshal(securityContext(Claims{"sub": "c1"}, nil))
	if want := `{"imf.application":{},"imf.device":{},"imf.sub":"c1","imf.user":{}}`; string(got) != want {
		t.Fatalf("without an id token: got %s, want %s", got, want)
	}
}

func TestRunUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{nil, {"nope"}, {"-x", "jwx"}, {"jwx", "go-oidc"}} {
		var out strings.Builder
		if code := run(t.Context(), args, func(string) string { return "" }, &out); code != 2 {
			t.Errorf("run(%q) = %d, want 2 (%s)", args, code, out.String())
		}
	}
	var out strings.Builder
	if code := run(t.Context(), []string{"jwx"}, func(string) string { return "" }, &out); code != 2 || !strings.Contains(out.String(), "MCA_SERVER_URL") {
		t.Errorf("without MCA_SERVER_URL: exit %d, %q; want 2 naming MCA_SERVER_URL", code, out.String())
	}
}

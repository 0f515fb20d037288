package google

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcaspec/mcaspec/fakeaz/idp"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

const client = "123-abc.apps.googleusercontent.com"

// Keys are shared: generation is slow.
var (
	keyOnce   = sync.OnceValues(func() (*rsa.PrivateKey, error) { return tokenfactory.GenerateKey(2048, nil) })
	otherOnce = sync.OnceValues(func() (*rsa.PrivateKey, error) { return tokenfactory.GenerateKey(1024, nil) })
)

func testKey(t *testing.T, f func() (*rsa.PrivateKey, error)) *rsa.PrivateKey {
	t.Helper()
	k, err := f()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

var alice = User{Sub: "110169484474386276334", Email: "alice@gmail.com", Name: "Alice Example"}

func setup(t *testing.T, opts ...Option) (*Server, *httptest.Server, *clock) {
	t.Helper()
	clk := &clock{now: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}
	s, err := New(append([]Option{WithKey(testKey(t, keyOnce)), WithClock(clk.Now)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	t.Cleanup(func() { _ = s.Close() })
	return s, ts, clk
}

func must(t *testing.T) func(string, error) string {
	return func(tok string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		kind TokenKind
		prep func(t *testing.T, s *Server, clk *clock) string
		want error
		msg  string
		// wantName is the expected DisplayName on success.
		wantName string
	}{
		{name: "id token", kind: IDToken, wantName: alice.Name, prep: func(t *testing.T, s *Server, _ *clock) string {
			return must(t)(s.IssueIDToken(client, alice, time.Hour))
		}},
		{name: "access token", kind: AccessToken, wantName: alice.Email, prep: func(t *testing.T, s *Server, _ *clock) string {
			return must(t)(s.IssueAccessToken(client, alice, time.Hour))
		}},
		{name: "id token expired", kind: IDToken, want: idp.ErrInvalidToken, msg: "Token expired", prep: func(t *testing.T, s *Server, clk *clock) string {
			tok := must(t)(s.IssueIDToken(client, alice, time.Hour))
			clk.Advance(time.Hour)
			return tok
		}},
		{name: "access token expired", kind: AccessToken, want: idp.ErrInvalidToken, msg: "Token expired", prep: func(t *testing.T, s *Server, clk *clock) string {
			tok := must(t)(s.IssueAccessToken(client, alice, 0))
			clk.Advance(DefaultTokenTTL)
			return tok
		}},
		{name: "id token revoked", kind: IDToken, want: idp.ErrInvalidToken, msg: "revoked", prep: func(t *testing.T, s *Server, _ *clock) string {
			tok := must(t)(s.IssueIDToken(client, alice, time.Hour))
			if !s.Revoke(tok) {
				t.Fatal("Revoke(id token) = false")
			}
			return tok
		}},
		{name: "access token revoked", kind: AccessToken, want: idp.ErrInvalidToken, msg: "revoked", prep: func(t *testing.T, s *Server, _ *clock) string {
			tok := must(t)(s.IssueAccessToken(client, alice, time.Hour))
			if !s.Revoke(tok) {
				t.Fatal("Revoke(access token) = false")
			}
			return tok
		}},
		{name: "id token wrong app", kind: IDToken, want: idp.ErrInvalidToken, msg: `issued for client "other"`, prep: func(t *testing.T, s *Server, _ *clock) string {
			return must(t)(s.IssueIDToken("other", alice, time.Hour))
		}},
		{name: "access token wrong app", kind: AccessToken, want: idp.ErrInvalidToken, msg: `issued for client "other"`, prep: func(t *testing.T, s *Server, _ *clock) string {
			return must(t)(s.IssueAccessToken("other", alice, time.Hour))
		}},
		{name: "id token signed by another key", kind: IDToken, want: idp.ErrInvalidToken, msg: "Invalid Value", prep: func(t *testing.T, s *Server, _ *clock) string {
			f, err := tokenfactory.New(testKey(t, otherOnce), tokenfactory.WithJPK(false), tokenfactory.WithKeyID(s.KeyID()))
			if err != nil {
				t.Fatal(err)
			}
			return must(t)(f.Sign(map[string]any{"iss": Issuer, "aud": client, "sub": "x", "exp": s.now().Add(time.Hour).Unix()}, s.now()))
		}},
		{name: "id token not from google", kind: IDToken, want: idp.ErrInvalidToken, prep: func(t *testing.T, s *Server, _ *clock) string {
			return must(t)(s.factory.Sign(map[string]any{"iss": "https://evil.example", "aud": client, "sub": "x", "exp": s.now().Add(time.Hour).Unix()}, s.now()))
		}},
		{name: "id token without exp", kind: IDToken, want: idp.ErrInvalidToken, prep: func(t *testing.T, s *Server, _ *clock) string {
			return must(t)(s.factory.Sign(map[string]any{"iss": Issuer, "aud": client, "sub": "x"}, s.now()))
		}},
		{name: "tampered id token", kind: IDToken, want: idp.ErrInvalidToken, prep: func(t *testing.T, s *Server, _ *clock) string {
			tok := must(t)(s.IssueIDToken(client, alice, time.Hour))
			parts := strings.Split(tok, ".")
			parts[1] = tokenfactory.B64.EncodeToString([]byte(`{"iss":"https://accounts.google.com","aud":"` + client + `","sub":"admin","exp":9999999999}`))
			return strings.Join(parts, ".")
		}},
		{name: "access token presented as id token", kind: IDToken, want: idp.ErrInvalidToken, prep: func(t *testing.T, s *Server, _ *clock) string {
			return must(t)(s.IssueAccessToken(client, alice, time.Hour))
		}},
		{name: "id token presented as access token", kind: AccessToken, want: idp.ErrInvalidToken, prep: func(t *testing.T, s *Server, _ *clock) string {
			return must(t)(s.IssueIDToken(client, alice, time.Hour))
		}},
		{name: "garbage", kind: IDToken, want: idp.ErrInvalidToken, msg: "Invalid Value", prep: func(*testing.T, *Server, *clock) string { return "a.b.c" }},
		{name: "empty", kind: AccessToken, want: idp.ErrInvalidToken, prep: func(*testing.T, *Server, *clock) string { return "" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, ts, clk := setup(t)
			tok := tc.prep(t, s, clk)
			id, err := Verify(t.Context(), ts.Client(), ts.URL+"/tokeninfo", client, tok, tc.kind)
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				if id.UserName != alice.Sub || id.DisplayName != tc.wantName || id.Attributes["email"] != alice.Email {
					t.Errorf("identity = %+v", id)
				}
				return
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("err = %v, want %v containing %q", err, tc.want, tc.msg)
			}
		})
	}
}

func TestVerifyProviderDown(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		fault   idp.Fault
		timeout time.Duration
		ctxErr  error
	}{
		{"500", idp.Fault{Status: 500}, 5 * time.Second, nil},
		{"hang", idp.Fault{Hang: true}, 100 * time.Millisecond, context.DeadlineExceeded},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, ts, _ := setup(t)
			tok := must(t)(s.IssueIDToken(client, alice, time.Hour))
			s.SetFault(tc.fault)
			ctx, cancel := context.WithTimeout(t.Context(), tc.timeout)
			defer cancel()
			start := time.Now()
			_, err := Verify(ctx, ts.Client(), ts.URL+"/tokeninfo", client, tok, IDToken)
			if !errors.Is(err, idp.ErrUnavailable) || errors.Is(err, idp.ErrInvalidToken) {
				t.Fatalf("err = %v, want ErrUnavailable only", err)
			}
			if tc.ctxErr != nil && !errors.Is(err, tc.ctxErr) {
				t.Errorf("err = %v, want it to wrap %v", err, tc.ctxErr)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

func TestVerifyArguments(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	if _, err := Verify(ctx, nil, "http://127.0.0.1:1/tokeninfo", "", "t", IDToken); err == nil {
		t.Error("empty client id accepted")
	}
	if _, err := Verify(ctx, nil, "http://127.0.0.1:1/tokeninfo", client, "t", TokenKind(7)); err == nil || !strings.Contains(err.Error(), "TokenKind(7)") {
		t.Errorf("bad kind: %v", err)
	}
	if _, err := Verify(ctx, nil, "::not a url", client, "t", IDToken); err == nil {
		t.Error("bad URL accepted")
	}
}

func TestTokenInfoWire(t *testing.T) {
	t.Parallel()
	s, ts, clk := setup(t)
	idTok := must(t)(s.IssueIDToken(client, alice, time.Hour))
	accTok := must(t)(s.IssueAccessToken(client, alice, time.Hour))
	if !strings.HasPrefix(accTok, AccessTokenPrefix) || strings.ContainsAny(accTok, "=+/") {
		t.Errorf("access token %q", accTok)
	}
	exp := strconv.FormatInt(clk.Now().Add(time.Hour).Unix(), 10)
	tests := []struct {
		name, method, path string
		status             int
		want               map[string]string
	}{
		{"id_token", "GET", "/tokeninfo?id_token=" + idTok, 200, map[string]string{
			"iss": Issuer, "aud": client, "azp": client, "sub": alice.Sub, "email": alice.Email, "name": alice.Name,
			"exp": exp, "email_verified": "true", "alg": "RS256", "kid": DefaultKeyID}},
		{"id_token by POST", "POST", "/tokeninfo?id_token=" + idTok, 200, map[string]string{"sub": alice.Sub}},
		{"v3 path", "GET", "/oauth2/v3/tokeninfo?id_token=" + idTok, 200, map[string]string{"sub": alice.Sub}},
		{"access_token", "GET", "/tokeninfo?access_token=" + accTok, 200, map[string]string{
			"aud": client, "sub": alice.Sub, "email": alice.Email, "exp": exp, "expires_in": "3600"}},
		{"garbage", "GET", "/tokeninfo?id_token=xyz", 400, map[string]string{"error": "invalid_token", "error_description": "Invalid Value"}},
		{"unknown access token", "GET", "/tokeninfo?access_token=ya29.nope", 400, map[string]string{"error": "invalid_token"}},
		{"no token", "GET", "/tokeninfo", 400, map[string]string{"error": "invalid_request"}},
		{"both tokens", "GET", "/tokeninfo?id_token=a&access_token=b", 400, map[string]string{"error": "invalid_request"}},
		{"DELETE", "DELETE", "/tokeninfo", 405, map[string]string{"error": "method_not_allowed"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequestWithContext(t.Context(), tc.method, ts.URL+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := ts.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var got map[string]any
			if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d (%v)", resp.StatusCode, tc.status, got)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s = %#v, want %q (all: %v)", k, got[k], v, got)
				}
			}
		})
	}
}

func TestJWKSVerifiesIDToken(t *testing.T) {
	t.Parallel()
	s, ts, _ := setup(t, WithKeyID("k2"))
	tok := must(t)(s.IssueIDToken(client, alice, time.Hour))
	resp, err := http.Get(ts.URL + "/oauth2/v3/certs")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var jwks struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&jwks); err != nil || len(jwks.Keys) != 1 {
		t.Fatalf("jwks %+v, %v", jwks, err)
	}
	k := jwks.Keys[0]
	pub, err := tokenfactory.DecodeModExp(k["n"], k["e"])
	if err != nil || k["kid"] != "k2" || k["alg"] != "RS256" || k["kty"] != "RSA" || k["use"] != "sig" {
		t.Fatalf("key %v: %v", k, err)
	}
	if !pub.Equal(s.PublicKey()) {
		t.Error("JWKS key differs from the signing key")
	}
	hdr, _ := tokenfactory.B64.DecodeString(strings.Split(tok, ".")[0])
	var h map[string]any
	if err := json.Unmarshal(hdr, &h); err != nil || h["kid"] != "k2" || h["alg"] != "RS256" || h["jpk"] != nil {
		t.Errorf("header = %s", hdr)
	}
}

func TestAdminAndRevokeEndpoint(t *testing.T) {
	t.Parallel()
	s, ts, _ := setup(t)
	post := func(path, ct, body string) (int, map[string]any) {
		t.Helper()
		resp, err := http.Post(ts.URL+path, ct, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %s is not JSON", path, b)
		}
		return resp.StatusCode, m
	}
	code, m := post("/admin/tokens", "application/json", `{"clientId":"`+client+`","user":{"sub":"7","name":"Seven"}}`)
	idTok, _ := m["idToken"].(string)
	if code != 200 || idTok == "" {
		t.Fatalf("issue id token: %d %v", code, m)
	}
	code, m = post("/admin/tokens", "application/json", `{"kind":"access_token","clientId":"`+client+`","user":{"sub":"7"},"ttlSeconds":60}`)
	accTok, _ := m["accessToken"].(string)
	if code != 200 || accTok == "" {
		t.Fatalf("issue access token: %d %v", code, m)
	}
	for _, body := range []string{`{"kind":"saml","clientId":"c","user":{"sub":"1"}}`, `{"clientId":"c"}`, `[]`} {
		if code, m := post("/admin/tokens", "application/json", body); code != 400 || m["error_description"] == "" {
			t.Errorf("%s: %d %v", body, code, m)
		}
	}
	id, err := Verify(t.Context(), nil, ts.URL+"/tokeninfo", client, idTok, IDToken)
	if err != nil || id.UserName != "7" || id.DisplayName != "Seven" || id.Attributes != nil {
		t.Fatalf("Verify = %+v, %v", id, err)
	}
	id, err = Verify(t.Context(), nil, ts.URL+"/tokeninfo", client, accTok, AccessToken)
	if err != nil || id.DisplayName != "7" {
		t.Fatalf("Verify access = %+v, %v (display name falls back to sub)", id, err)
	}
	// Google's own revoke endpoint (form), then the admin one (JSON).
	if code, m := post("/revoke", "application/x-www-form-urlencoded", "token="+accTok); code != 200 {
		t.Errorf("revoke: %d %v", code, m)
	}
	if code, _ := post("/revoke", "application/x-www-form-urlencoded", "token=nope"); code != 400 {
		t.Errorf("revoke unknown: %d", code)
	}
	if code, m := post("/admin/revoke", "application/json", `{"token":"`+idTok+`"}`); code != 200 || m["revoked"] != true {
		t.Errorf("admin revoke: %d %v", code, m)
	}
	for _, c := range []struct {
		tok  string
		kind TokenKind
	}{{accTok, AccessToken}, {idTok, IDToken}} {
		if _, err := Verify(t.Context(), nil, ts.URL+"/tokeninfo", client, c.tok, c.kind); !errors.Is(err, idp.ErrInvalidToken) {
			t.Errorf("%v after revoke: %v", c.kind, err)
		}
	}
	if st := s.Stats(); st.IDTokensIssued != 1 || st.AccessTokensIssued != 1 || st.Rejected != 2 {
		t.Errorf("stats = %+v", st)
	}
}

func TestStartRefusesOpenAdminOffLoopback(t *testing.T) {
	t.Parallel()
	s, err := New(WithKey(testKey(t, keyOnce)))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start("0.0.0.0:0"); !errors.Is(err, idp.ErrAdminExposed) {
		t.Errorf("Start(0.0.0.0:0) without an admin token: %v, want idp.ErrAdminExposed", err)
	}
	if err := s.Start(""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	tok := must(t)(s.IssueIDToken(client, alice, time.Hour))
	if _, err := Verify(t.Context(), nil, s.TokenInfoURL(), client, tok, IDToken); err != nil {
		t.Fatal(err)
	}
}

// FuzzTokenInfo feeds arbitrary id tokens to tokeninfo: 200 only for real
// tokens, never a panic.
func FuzzTokenInfo(f *testing.F) {
	for _, s := range []string{"a.b.c", "", "..", "eyJhbGciOiJSUzI1NiJ9.e30.AA"} {
		f.Add(s)
	}
	key, err := keyOnce()
	if err != nil {
		f.Fatal(err)
	}
	s, err := New(WithKey(key))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		req := httptest.NewRequest(http.MethodPost, "/tokeninfo", strings.NewReader("id_token="+url.QueryEscape(tok)))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != 400 {
			t.Fatalf("status %d for %q: %s", rec.Code, tok, rec.Body)
		}
	})
}

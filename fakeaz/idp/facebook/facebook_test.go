package facebook

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcaspec/mcaspec/fakeaz/idp"
)

const (
	appID  = "1234567890"
	secret = "s3cret"
)

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

var alice = User{ID: "10001", Name: "Alice Example", Email: "alice@example.com"}

func setup(t *testing.T) (*Server, *httptest.Server, *clock) {
	t.Helper()
	clk := &clock{now: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}
	s := New(WithApp(appID, secret), WithClock(clk.Now))
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	t.Cleanup(func() { _ = s.Close() })
	return s, ts, clk
}

func TestVerify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// prep returns the token to verify.
		prep func(s *Server, clk *clock) string
		// verify overrides the app credentials Verify uses.
		app, secret string
		want        error
		msg         string
	}{
		{name: "valid", prep: func(s *Server, _ *clock) string { return s.IssueToken(appID, alice, time.Hour) }},
		{name: "valid, default ttl", prep: func(s *Server, clk *clock) string {
			tok := s.IssueToken(appID, alice, 0)
			clk.Advance(DefaultTokenTTL - time.Second)
			return tok
		}},
		{name: "expired", prep: func(s *Server, clk *clock) string {
			tok := s.IssueToken(appID, alice, time.Hour)
			clk.Advance(time.Hour)
			return tok
		}, want: idp.ErrInvalidToken, msg: "Session has expired"},
		{name: "issued expired", prep: func(s *Server, _ *clock) string { return s.IssueToken(appID, alice, -time.Second) }, want: idp.ErrInvalidToken, msg: "expired"},
		{name: "revoked", prep: func(s *Server, _ *clock) string {
			tok := s.IssueToken(appID, alice, time.Hour)
			if !s.Revoke(tok) {
				panic("revoke of a known token reported false")
			}
			return tok
		}, want: idp.ErrInvalidToken, msg: "invalidated"},
		{name: "wrong app", prep: func(s *Server, _ *clock) string { return s.IssueToken("999", alice, time.Hour) }, want: idp.ErrInvalidToken, msg: `issued for app "999"`},
		{name: "garbage", prep: func(*Server, *clock) string { return "not-a-token" }, want: idp.ErrInvalidToken, msg: "Invalid OAuth access token"},
		{name: "empty", prep: func(*Server, *clock) string { return "" }, want: idp.ErrInvalidToken},
		{name: "wrong secret", prep: func(s *Server, _ *clock) string { return s.IssueToken(appID, alice, time.Hour) }, secret: "nope", want: idp.ErrProtocol, msg: "check the app id and secret"},
		{name: "unregistered app", prep: func(s *Server, _ *clock) string { return s.IssueToken("777", alice, time.Hour) }, app: "777", want: idp.ErrProtocol},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, ts, clk := setup(t)
			tok := tc.prep(s, clk)
			app, sec := appID, secret
			if tc.app != "" {
				app = tc.app
			}
			if tc.secret != "" {
				sec = tc.secret
			}
			id, err := Verify(t.Context(), ts.Client(), ts.URL, app, sec, tok)
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				if id.UserName != alice.ID || id.DisplayName != alice.Name || id.Attributes["email"] != alice.Email {
					t.Errorf("identity = %+v", id)
				}
				if st := s.Stats(); st.DebugToken != 1 || st.Me != 1 || st.Rejected != 0 {
					t.Errorf("stats = %+v", st)
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
			tok := s.IssueToken(appID, alice, time.Hour)
			s.SetFault(tc.fault)
			ctx, cancel := context.WithTimeout(t.Context(), tc.timeout)
			defer cancel()
			start := time.Now()
			_, err := Verify(ctx, ts.Client(), ts.URL, appID, secret, tok)
			if !errors.Is(err, idp.ErrUnavailable) || errors.Is(err, idp.ErrInvalidToken) {
				t.Fatalf("err = %v, want ErrUnavailable only", err)
			}
			if tc.ctxErr != nil && !errors.Is(err, tc.ctxErr) {
				t.Errorf("err = %v, want it to wrap %v", err, tc.ctxErr)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("took %v", d)
			}
			if s.Stats().Faults != 1 {
				t.Errorf("faults = %d", s.Stats().Faults)
			}
		})
	}
}

// TestVerifyMeFailsAfterDebugToken covers a token revoked between the two calls.
func TestVerifyMeFailsAfterDebugToken(t *testing.T) {
	t.Parallel()
	s, _, _ := setup(t)
	tok := s.IssueToken(appID, alice, time.Hour)
	// A proxy that revokes the token once debug_token has answered.
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.ServeHTTP(w, r)
		if strings.HasSuffix(r.URL.Path, "/debug_token") {
			s.Revoke(tok)
		}
	}))
	t.Cleanup(proxy.Close)

	_, err := Verify(t.Context(), proxy.Client(), proxy.URL+"/v2.5", appID, secret, tok)
	if !errors.Is(err, idp.ErrInvalidToken) || !strings.Contains(err.Error(), "facebook me") {
		t.Errorf("err = %v, want ErrInvalidToken from /me", err)
	}
}

func getJSON(t *testing.T, u string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatalf("GET %s: body is not a JSON object: %v", u, err)
	}
	return resp.StatusCode, m
}

func TestGraphWire(t *testing.T) {
	t.Parallel()
	s, ts, clk := setup(t)
	tok := s.IssueToken(appID, alice, time.Hour)
	if strings.ContainsAny(tok, "=+/") || len(tok) != 43 {
		t.Errorf("token %q is not 32 bytes of unpadded base64url", tok)
	}
	appTok := "&access_token=" + appID + "%7C" + secret
	tests := []struct {
		name, path string
		status     int
		check      func(m map[string]any) bool
	}{
		{"debug_token valid", "/debug_token?input_token=" + tok + appTok, 200, func(m map[string]any) bool {
			d := m["data"].(map[string]any)
			return d["is_valid"] == true && d["app_id"] == appID && d["user_id"] == alice.ID &&
				d["expires_at"] == float64(clk.Now().Add(time.Hour).Unix()) && d["error"] == nil
		}},
		{"debug_token with version prefix", "/v2.5/debug_token?input_token=" + tok + appTok, 200, func(m map[string]any) bool {
			return m["data"].(map[string]any)["is_valid"] == true
		}},
		{"debug_token unknown", "/debug_token?input_token=zzz" + appTok, 200, func(m map[string]any) bool {
			d := m["data"].(map[string]any)
			return d["is_valid"] == false && d["error"].(map[string]any)["code"] == float64(190)
		}},
		{"debug_token no input", "/debug_token?" + appTok[1:], 400, func(m map[string]any) bool {
			return m["error"].(map[string]any)["code"] == float64(100)
		}},
		{"debug_token bad app token", "/debug_token?input_token=" + tok + "&access_token=" + appID + "%7Cwrong", 400, func(m map[string]any) bool {
			e := m["error"].(map[string]any)
			return e["type"] == "OAuthException" && e["code"] == float64(190)
		}},
		{"debug_token no app token", "/debug_token?input_token=" + tok, 400, func(m map[string]any) bool {
			return m["error"].(map[string]any)["code"] == float64(104)
		}},
		{"me", "/me?fields=id,name,email&access_token=" + tok, 200, func(m map[string]any) bool {
			return m["id"] == alice.ID && m["name"] == alice.Name && m["email"] == alice.Email
		}},
		{"me default fields", "/me?access_token=" + tok, 200, func(m map[string]any) bool {
			return m["id"] == alice.ID && m["name"] == alice.Name && m["email"] == nil
		}},
		{"me bad token", "/me?access_token=garbage", 400, func(m map[string]any) bool {
			e := m["error"].(map[string]any)
			return e["type"] == "OAuthException" && e["code"] == float64(190) && e["message"] != "" && e["error_subcode"] == nil
		}},
		{"me expired token", "/me?access_token=" + s.IssueToken(appID, alice, -time.Second), 400, func(m map[string]any) bool {
			return m["error"].(map[string]any)["error_subcode"] == float64(463)
		}},
		{"me no token", "/me", 400, func(m map[string]any) bool {
			return m["error"].(map[string]any)["code"] == float64(2500)
		}},
		{"unknown route", "/friends", 400, func(m map[string]any) bool {
			return m["error"].(map[string]any)["code"] == float64(100)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, m := getJSON(t, ts.URL+tc.path)
			if code != tc.status || !tc.check(m) {
				t.Errorf("got %d %v", code, m)
			}
		})
	}
}

func TestAdminAPI(t *testing.T) {
	t.Parallel()
	s, ts, clk := setup(t)
	post := func(path, body string) (int, map[string]any) {
		t.Helper()
		resp, err := http.Post(ts.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		b, _ := io.ReadAll(resp.Body)
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %s is not JSON", path, b)
		}
		return resp.StatusCode, m
	}
	code, m := post("/admin/apps", `{"id":"app2","secret":"sec2"}`)
	if code != 200 {
		t.Fatalf("add app: %d %v", code, m)
	}
	code, m = post("/admin/tokens", `{"appId":"app2","user":{"id":"42","name":"Bob"},"ttlSeconds":60}`)
	tok, _ := m["accessToken"].(string)
	if code != 200 || tok == "" || m["expiresAt"] != float64(clk.Now().Add(time.Minute).Unix()) {
		t.Fatalf("issue: %d %v", code, m)
	}
	id, err := Verify(t.Context(), nil, ts.URL, "app2", "sec2", tok)
	if err != nil || id.UserName != "42" || id.DisplayName != "Bob" || id.Attributes != nil {
		t.Fatalf("Verify = %+v, %v", id, err)
	}
	for _, body := range []string{`{"appId":"app2"}`, `{"user":{"id":"1"}}`, `nope`} {
		if code, m := post("/admin/tokens", body); code != 400 || m["error_description"] == "" {
			t.Errorf("issue %s: %d %v", body, code, m)
		}
	}
	if code, m := post("/admin/revoke", `{"token":"`+tok+`"}`); code != 200 || m["revoked"] != true {
		t.Errorf("revoke: %d %v", code, m)
	}
	if code, m := post("/admin/revoke", `{"token":"unknown"}`); code != 200 || m["revoked"] != false {
		t.Errorf("revoke unknown: %d %v", code, m)
	}
	if _, err := Verify(t.Context(), nil, ts.URL, "app2", "sec2", tok); !errors.Is(err, idp.ErrInvalidToken) {
		t.Errorf("revoked over HTTP: %v", err)
	}
	if code, _ := post("/admin/fault", `{"status":500}`); code != 200 {
		t.Fatal("set fault")
	}
	if _, err := Verify(t.Context(), nil, ts.URL, "app2", "sec2", tok); !errors.Is(err, idp.ErrUnavailable) {
		t.Errorf("with fault: %v", err)
	}
	code, m = getJSON(t, ts.URL+"/admin/stats")
	if code != 200 || m["tokensIssued"] != float64(1) || m["faults"] != float64(1) || s.Stats().TokensIssued != 1 {
		t.Errorf("stats: %d %v", code, m)
	}
}

func TestVerifyMalformedGraph(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		debug, me string
		want      error
	}{
		{"debug not json", `<html>`, `{}`, idp.ErrProtocol},
		{"debug no data", `{}`, `{}`, idp.ErrProtocol},
		{"valid without user", `{"data":{"is_valid":true,"app_id":"1234567890"}}`, `{}`, idp.ErrProtocol},
		{"numeric ids accepted", `{"data":{"is_valid":true,"app_id":1234567890,"user_id":5}}`, `{"id":5,"name":"N"}`, nil},
		{"me for another user", `{"data":{"is_valid":true,"app_id":"1234567890","user_id":"5"}}`, `{"id":"6"}`, idp.ErrProtocol},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.HasSuffix(r.URL.Path, "/debug_token") {
					_, _ = io.WriteString(w, tc.debug)
					return
				}
				_, _ = io.WriteString(w, tc.me)
			}))
			t.Cleanup(ts.Close)
			id, err := Verify(t.Context(), ts.Client(), ts.URL, appID, secret, "tok")
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if tc.want == nil && (id.UserName != "5" || id.DisplayName != "N") {
				t.Errorf("identity = %+v", id)
			}
		})
	}
}

func TestStartRefusesOpenAdminOffLoopback(t *testing.T) {
	t.Parallel()
	s := New(WithApp(appID, secret))
	if err := s.Start("0.0.0.0:0"); !errors.Is(err, idp.ErrAdminExposed) {
		t.Errorf("Start(0.0.0.0:0) without an admin token: %v, want idp.ErrAdminExposed", err)
	}
	if err := s.Start("localhost:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	tok := s.IssueToken(appID, alice, time.Hour)
	if _, err := Verify(t.Context(), nil, s.URL(), appID, secret, tok); err != nil {
		t.Fatal(err)
	}
}

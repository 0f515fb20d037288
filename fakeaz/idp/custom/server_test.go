package custom

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcaspec/mcaspec/fakeaz/idp"
)

const app = "11111111-2222-3333-4444-555555555555"

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)} }
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

// setup starts a simulator with DefaultConfig behind httptest and a client for it.
func setup(t *testing.T, opts ...Option) (*Server, *Client, *clock) {
	t.Helper()
	clk := newClock()
	s, err := New(DefaultConfig(), append([]Option{WithClock(clk.Now)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	t.Cleanup(func() { _ = s.Close() }) // runs first: releases hanging handlers
	return s, &Client{BaseURL: ts.URL, HTTP: ts.Client()}, clk
}

func answer(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestOneStepLogin(t *testing.T) {
	t.Parallel()
	s, c, _ := setup(t)
	ctx := t.Context()
	hdr := map[string]string{"Accept-Language": "en"}

	r, err := c.StartAuthorization(ctx, app, DefaultRealm, hdr)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != StatusChallenge || r.StateID != "" || string(r.Challenge) != `{"message":"Enter username and password"}` {
		t.Fatalf("start: got %+v challenge %s", r, r.Challenge)
	}
	r, err = c.HandleChallengeAnswer(ctx, app, DefaultRealm, hdr, "", answer(t, map[string]string{"username": "alice", "password": "alice123"}))
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != StatusSuccess || r.UserIdentity == nil {
		t.Fatalf("answer: got %+v", r)
	}
	got := r.UserIdentity
	if got.UserName != "alice" || got.DisplayName != "Alice Example" || got.Attributes["email"] != "alice@example.com" {
		t.Errorf("identity = %+v", got)
	}
	if st := s.Stats(); st.StartAuthorization != 1 || st.HandleChallengeAnswer != 1 || st.Successes != 1 || st.Challenges != 1 {
		t.Errorf("stats = %+v", st)
	}
}

func TestFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		stateID string
		answer  string
	}{
		{"wrong password", "", `{"username":"alice","password":"nope"}`},
		{"unknown user", "", `{"username":"zed","password":"x"}`},
		{"always-fail user with right password", "", `{"username":"mallory","password":"mallory123"}`},
		{"empty answer object", "", `{}`},
		{"answer is a string", "", `"alice"`},
		{"answer is null", "", `null`},
		{"password of wrong type", "", `{"username":"alice","password":123}`},
		{"unknown stateId", "bm90LWEtc3RhdGU", `{"pin":"4321"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, c, _ := setup(t)
			r, err := c.HandleChallengeAnswer(t.Context(), app, DefaultRealm, nil, tc.stateID, json.RawMessage(tc.answer))
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != StatusFailure || r.UserIdentity != nil || r.StateID != "" {
				t.Errorf("got %+v, want a bare failure", r)
			}
			if s.Stats().Failures != 1 {
				t.Errorf("failures counter = %d", s.Stats().Failures)
			}
		})
	}
}

func TestTwoStepLoginWithState(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pwd := `{"username":"bob","password":"bob123"}`
	tests := []struct {
		name    string
		advance time.Duration
		app     string
		pin     string
		want    string
	}{
		{"right pin", 0, app, `{"pin":"4321"}`, StatusSuccess},
		{"wrong pin", 0, app, `{"pin":"0000"}`, StatusFailure},
		{"pin as number", 0, app, `{"pin":4321}`, StatusFailure},
		{"state expired", DefaultStateTTL, app, `{"pin":"4321"}`, StatusFailure},
		{"state of another app", 0, "other-app", `{"pin":"4321"}`, StatusFailure},
		{"answer not an object", 0, app, `[]`, StatusFailure},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, c, clk := setup(t)
			r, err := c.HandleChallengeAnswer(ctx, app, DefaultRealm, nil, "", json.RawMessage(pwd))
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != StatusChallenge || r.StateID == "" || !strings.Contains(string(r.Challenge), DefaultPINMessage) {
				t.Fatalf("after password: %+v %s, want a PIN challenge with a stateId", r, r.Challenge)
			}
			if strings.ContainsAny(r.StateID, "=+/") {
				t.Errorf("stateId %q is not unpadded base64url", r.StateID)
			}
			clk.Advance(tc.advance)
			got, err := c.HandleChallengeAnswer(ctx, tc.app, DefaultRealm, nil, r.StateID, json.RawMessage(tc.pin))
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != tc.want {
				t.Fatalf("status %q, want %q", got.Status, tc.want)
			}
			if tc.want == StatusSuccess && (got.UserIdentity == nil || got.UserIdentity.UserName != "bob") {
				t.Errorf("identity = %+v", got.UserIdentity)
			}
			// Single use: whatever happened, the state is gone.
			again, err := c.HandleChallengeAnswer(ctx, app, DefaultRealm, nil, r.StateID, json.RawMessage(`{"pin":"4321"}`))
			if err != nil {
				t.Fatal(err)
			}
			if again.Status != StatusFailure {
				t.Errorf("reused stateId: status %q, want failure", again.Status)
			}
			if n := s.PendingStates(); n != 0 {
				t.Errorf("pending states = %d", n)
			}
		})
	}
}

func TestBadRequests(t *testing.T) {
	t.Parallel()
	s, _, _ := setup(t)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	tests := []struct {
		name, method, path, body string
		status                   int
		msg                      string
	}{
		{"not json", "POST", "/apps/a/customRealm/startAuthorization", `headers=1`, 400, "not a JSON object"},
		{"empty body", "POST", "/apps/a/customRealm/startAuthorization", ``, 400, "empty"},
		{"truncated", "POST", "/apps/a/customRealm/handleChallengeAnswer", `{"headers":{}`, 400, "invalid JSON"},
		{"trailing data", "POST", "/apps/a/customRealm/startAuthorization", `{"headers":{}} {}`, 400, "trailing"},
		{"array", "POST", "/apps/a/customRealm/startAuthorization", `[{"headers":{}}]`, 400, "not a JSON object"},
		{"no headers", "POST", "/apps/a/customRealm/startAuthorization", `{}`, 400, `"headers" is missing`},
		{"headers not object", "POST", "/apps/a/customRealm/startAuthorization", `{"headers":"x"}`, 400, "invalid JSON"},
		{"no challengeAnswer", "POST", "/apps/a/customRealm/handleChallengeAnswer", `{"headers":{}}`, 400, "challengeAnswer"},
		{"stateId not string", "POST", "/apps/a/customRealm/handleChallengeAnswer", `{"headers":{},"stateId":5,"challengeAnswer":{}}`, 400, "invalid JSON"},
		{"GET", "GET", "/apps/a/customRealm/startAuthorization", ``, 405, "POST"},
		{"unknown realm", "POST", "/apps/a/nope/startAuthorization", `{"headers":{}}`, 404, `realm "nope"`},
		{"unknown route", "POST", "/apps/a/customRealm/other", `{}`, 404, "no route"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequestWithContext(t.Context(), tc.method, ts.URL+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := ts.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var e struct {
				Error       string `json:"error"`
				Description string `json:"error_description"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
				t.Fatalf("error body is not JSON: %v", err)
			}
			if resp.StatusCode != tc.status || e.Error == "" || !strings.Contains(e.Description, tc.msg) {
				t.Errorf("got %d %+v, want %d with a description containing %q", resp.StatusCode, e, tc.status, tc.msg)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
}

func TestRealmRestrictedToApps(t *testing.T) {
	t.Parallel()
	cfg := Config{Realms: map[string]Realm{"r": {Apps: []string{"app-1"}, Message: "Who are you?", Users: []User{{UserName: "u", Password: "p"}}}}}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	c := &Client{BaseURL: ts.URL + "/", HTTP: ts.Client()}
	r, err := c.StartAuthorization(t.Context(), "app-1", "r", nil)
	if err != nil || string(r.Challenge) != `{"message":"Who are you?"}` {
		t.Fatalf("configured app: %+v, %v", r, err)
	}
	r, err = c.HandleChallengeAnswer(t.Context(), "app-1", "r", nil, "", json.RawMessage(`{"username":"u","password":"p"}`))
	if err != nil || r.Status != StatusSuccess || r.UserIdentity.DisplayName != "u" {
		t.Fatalf("login: %+v, %v (display name should default to the user name)", r, err)
	}
	_, err = c.StartAuthorization(t.Context(), "app-2", "r", nil)
	if !errors.Is(err, idp.ErrProtocol) || !strings.Contains(err.Error(), `not configured for app "app-2"`) {
		t.Errorf("other app: err = %v, want ErrProtocol naming the app", err)
	}
}

func TestClientProviderDown(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		fault   idp.Fault
		timeout time.Duration
		ctxErr  error
	}{
		{"500", idp.Fault{Status: 500}, 5 * time.Second, nil},
		{"503", idp.Fault{Status: 503}, 5 * time.Second, nil},
		{"hang", idp.Fault{Hang: true}, 100 * time.Millisecond, context.DeadlineExceeded},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, c, _ := setup(t)
			s.SetFault(tc.fault)
			ctx, cancel := context.WithTimeout(t.Context(), tc.timeout)
			defer cancel()
			start := time.Now()
			_, err := c.StartAuthorization(ctx, app, DefaultRealm, nil)
			if !errors.Is(err, idp.ErrUnavailable) {
				t.Fatalf("err = %v, want ErrUnavailable", err)
			}
			if tc.ctxErr != nil && !errors.Is(err, tc.ctxErr) {
				t.Errorf("err = %v, want it to wrap %v", err, tc.ctxErr)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("took %v: the client did not respect the context", d)
			}
			_, err = c.HandleChallengeAnswer(ctx, app, DefaultRealm, nil, "", json.RawMessage(`{}`))
			if !errors.Is(err, idp.ErrUnavailable) {
				t.Errorf("answer: err = %v, want ErrUnavailable", err)
			}
			if s.Stats().Faults == 0 {
				t.Error("faults counter not incremented")
			}
		})
	}
}

func TestClientUnreachable(t *testing.T) {
	t.Parallel()
	ts := httptest.NewServer(http.NotFoundHandler())
	url := ts.URL
	ts.Close() // nothing listens there any more
	c := &Client{BaseURL: url}
	_, err := c.StartAuthorization(t.Context(), app, DefaultRealm, nil)
	if !errors.Is(err, idp.ErrUnavailable) {
		t.Errorf("err = %v, want ErrUnavailable", err)
	}
}

// TestClientStrictContract runs the client against IdPs that break the contract.
func TestClientStrictContract(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		body   string
		want   error
	}{
		{"unknown status", 200, `{"status":"ok"}`, idp.ErrProtocol},
		{"success without identity", 200, `{"status":"success"}`, idp.ErrProtocol},
		{"success without userName", 200, `{"status":"success","userIdentity":{"displayName":"x"}}`, idp.ErrProtocol},
		{"challenge without challenge", 200, `{"status":"challenge"}`, idp.ErrProtocol},
		{"html", 200, `<html>`, idp.ErrProtocol},
		{"401", 401, `{}`, idp.ErrProtocol},
		{"502", 502, `bad gateway`, idp.ErrUnavailable},
		{"ok success", 200, `{"status":"success","userIdentity":{"userName":"u","displayName":"U","attributes":{"a":1}}}`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got struct {
				Headers map[string]string `json:"headers"`
				StateID string            `json:"stateId"`
				Answer  json.RawMessage   `json:"challengeAnswer"`
			}
			var path string
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				path = r.URL.Path
				_ = json.NewDecoder(r.Body).Decode(&got)
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			}))
			t.Cleanup(ts.Close)
			c := &Client{BaseURL: ts.URL, HTTP: ts.Client()}
			r, err := c.HandleChallengeAnswer(t.Context(), "app 1", "realm", map[string]string{"h": "v"}, "st", json.RawMessage(`{"k":1}`))
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if path != "/apps/app 1/realm/handleChallengeAnswer" || got.Headers["h"] != "v" || got.StateID != "st" || string(got.Answer) != `{"k":1}` {
				t.Errorf("request: path %q body %+v", path, got)
			}
			if tc.want == nil && r.UserIdentity.Attributes["a"] != float64(1) {
				t.Errorf("reply = %+v", r)
			}
		})
	}
}

func TestStart(t *testing.T) {
	t.Parallel()
	s, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start("127.0.0.1"); err == nil || !strings.Contains(err.Error(), "host:port") {
		t.Errorf("Start(127.0.0.1) = %v, want a host:port refusal", err)
	}
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") {
		t.Errorf("URL = %q", s.URL())
	}
	if err := s.Start("127.0.0.1:0"); err == nil {
		t.Error("second Start succeeded")
	}
	c := &Client{BaseURL: s.URL()}
	r, err := c.StartAuthorization(t.Context(), app, DefaultRealm, nil)
	if err != nil || r.Status != StatusChallenge {
		t.Fatalf("%+v, %v", r, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.StartAuthorization(t.Context(), app, DefaultRealm, nil); !errors.Is(err, idp.ErrUnavailable) {
		t.Errorf("after Close: err = %v, want ErrUnavailable", err)
	}
}

func TestAdminAPI(t *testing.T) {
	t.Parallel()
	s, c, _ := setup(t)
	base := c.BaseURL
	post := func(path, body string) (int, string) {
		t.Helper()
		resp, err := http.Post(base+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := post("/admin/users", `{"realm":"newRealm","user":{"userName":"carol","password":"pw","attributes":{"dept":"x"}}}`); code != 200 {
		t.Fatalf("add user: %d %s", code, body)
	}
	if code, body := post("/admin/users", `{"realm":"newRealm","user":{}}`); code != 400 || !strings.Contains(body, "userName") {
		t.Errorf("bad user: %d %s", code, body)
	}
	r, err := c.HandleChallengeAnswer(t.Context(), app, "newRealm", nil, "", json.RawMessage(`{"username":"carol","password":"pw"}`))
	if err != nil || r.Status != StatusSuccess || r.UserIdentity.Attributes["dept"] != "x" {
		t.Fatalf("added user login: %+v, %v", r, err)
	}
	if code, body := post("/admin/fault", `{"status":503}`); code != 200 {
		t.Fatalf("fault: %d %s", code, body)
	}
	if _, err := c.StartAuthorization(t.Context(), app, DefaultRealm, nil); !errors.Is(err, idp.ErrUnavailable) {
		t.Errorf("with fault: %v", err)
	}
	if code, _ := post("/admin/fault", `{"status":7}`); code != 400 {
		t.Errorf("bad fault status accepted: %d", code)
	}
	if code, _ := post("/admin/fault", `{}`); code != 200 {
		t.Error("clearing the fault failed")
	}
	resp, err := http.Get(base + "/admin/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st Stats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	if st != s.Stats() || st.Successes != 1 || st.Faults != 1 {
		t.Errorf("stats over HTTP %+v, in Go %+v", st, s.Stats())
	}
}

func TestConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "idp.json")
	if err := os.WriteFile(good, []byte(`{"realms":{"r":{"users":[{"userName":"u","password":"p","pin":"1"}]}},"stateTtlSeconds":5}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(good)
	if err != nil || cfg.stateTTL() != 5*time.Second || cfg.Realms["r"].Users[0].PIN != "1" {
		t.Fatalf("LoadConfig = %+v, %v", cfg, err)
	}
	tests := []struct{ name, json, msg string }{
		{"not json", `realms`, "invalid JSON"},
		{"no realms", `{}`, "no realms"},
		{"empty realm name", `{"realms":{"":{}}}`, "empty realm"},
		{"empty user name", `{"realms":{"r":{"users":[{"password":"p"}]}}}`, "empty userName"},
		{"duplicate user", `{"realms":{"r":{"users":[{"userName":"u"},{"userName":"u"}]}}}`, "twice"},
		{"negative ttl", `{"realms":{"r":{}},"stateTtlSeconds":-1}`, "negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseConfig([]byte(tc.json))
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("err = %v, want %q", err, tc.msg)
			}
		})
	}
	if _, err := LoadConfig(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("missing file accepted")
	}
	if _, err := New(Config{}); !errors.Is(err, ErrConfig) {
		t.Errorf("New(empty) = %v, want ErrConfig", err)
	}
}

// TestStateIDsFromInjectedRand checks that randomness is injectable.
func TestStateIDsFromInjectedRand(t *testing.T) {
	t.Parallel()
	_, c, _ := setup(t, WithRand(strings.NewReader(strings.Repeat("\x00", 32))))
	r, err := c.HandleChallengeAnswer(t.Context(), app, DefaultRealm, nil, "", json.RawMessage(`{"username":"bob","password":"bob123"}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Repeat("A", 43); r.StateID != want {
		t.Errorf("stateId = %q, want %q", r.StateID, want)
	}
	// The reader is exhausted now: the next state cannot be made.
	_, err = c.HandleChallengeAnswer(t.Context(), app, DefaultRealm, nil, "", json.RawMessage(`{"username":"bob","password":"bob123"}`))
	if !errors.Is(err, idp.ErrUnavailable) {
		t.Errorf("exhausted rand: err = %v, want ErrUnavailable (500)", err)
	}
}

// FuzzHandleChallengeAnswer feeds arbitrary bodies to the answer route: it
// must answer 200 or 400 with JSON, never panic or 500.
func FuzzHandleChallengeAnswer(f *testing.F) {
	for _, s := range []string{
		`{"headers":{},"challengeAnswer":{"username":"alice","password":"alice123"}}`,
		`{"headers":{},"stateId":"x","challengeAnswer":{"pin":"1"}}`,
		`{"headers":null}`, `[]`, `{"headers":{},"challengeAnswer":"s"}`,
	} {
		f.Add([]byte(s))
	}
	s, err := New(DefaultConfig())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/apps/a/"+DefaultRealm+"/handleChallengeAnswer", strings.NewReader(string(body)))
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != 200 && rec.Code != 400 {
			t.Fatalf("status %d for %q", rec.Code, body)
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("body %q is not JSON", rec.Body.String())
		}
	})
}

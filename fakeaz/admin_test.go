package fakeaz_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/mcaspec/mcaspec/fakeaz"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

func adminDo(t *testing.T, e *env, method, path, body string) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.s.AdminURL()+path, r)
	if err != nil {
		t.Fatal(err)
	}
	resp, b := do(t, e.hc, req)
	return resp.StatusCode, b
}

func TestAdminAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := newDevice(t, 512)
	cid := e.register(t, e.app.ID, d)
	const newID = "0b5b5a8c-6a7d-4c36-9a3e-2f0e4b8a1c11"
	steps := []struct {
		method, path, body string
		status             int
		contains           string
	}{
		{"GET", "/", "", 200, `"serverUrl":"` + e.s.URL()},
		{"GET", "/apps", "", 200, e.app.ID},
		{"POST", "/apps", `{"appId":"` + newID + `","bundleId":"com.x","realm":{"kind":"none"}}`, 201, newID},
		{"POST", "/apps", `{"appId":"` + newID + `"}`, 409, "conflict"},
		{"POST", "/apps", `{"appId":"not-a-guid"}`, 400, "GUID"},
		{"POST", "/apps", `{"realm":{"kind":"custom","name":"r","idpUrl":"ftp://idp.example"}}`, 400, "http(s) URL"},
		{"POST", "/apps", `{"bogus":1}`, 400, "invalid_request"},
		{"POST", "/apps", ``, 400, "empty"},
		{"POST", "/apps", `null`, 400, "not a JSON object"},
		{"POST", "/apps", `[]`, 400, "not a JSON object"},
		{"POST", "/apps", `{}{}`, 400, "more follows"},
		{"POST", "/apps", `{} x`, 400, "more follows"},
		{"GET", "/apps/" + newID, "", 200, `"bundleId":"com.x"`},
		{"DELETE", "/apps/" + newID, "", 204, ""},
		{"GET", "/apps/" + newID, "", 404, "not_found"},
		{"DELETE", "/apps/" + newID, "", 404, "not_found"},
		{"GET", "/apps/" + e.app.ID + "/clients", "", 200, `"clientId":"` + cid},
		{"POST", "/apps/" + e.app.ID + "/clients/nope/revoke", "", 404, "not_found"},
		{"POST", "/apps/" + e.app.ID + "/clients/" + cid + "/revoke", "", 204, ""},
		{"GET", "/apps/" + e.app.ID + "/clients", "", 200, `"revoked":true`},
		{"GET", "/apps/" + e.app.ID + "/keys", "", 200, `"current"`},
		{"POST", "/apps/" + e.app.ID + "/rotate-key", `{"overlap":"30s"}`, 200, `"keys"`},
		{"POST", "/apps/" + e.app.ID + "/rotate-key", ``, 200, `"keys"`},
		{"POST", "/apps/" + e.app.ID + "/retire-old-keys", ``, 200, `"keys"`},
		{"POST", "/apps/" + e.app.ID + "/tokens", `{"clientId":"c1","user":{"id":"u","authBy":"r","displayName":"U"}}`, 200, `"id_token"`},
		{"POST", "/apps/" + e.app.ID + "/tokens", `{}`, 400, "clientId"},
		{"POST", "/faults", `{"endpoint":"jwks","status":500,"delay":"1ms","for":60}`, 204, ""},
		{"POST", "/faults", `{"endpoint":"nope","status":500}`, 400, "invalid_request"},
		{"GET", "/faults", "", 200, `"endpoint":"jwks"`},
		{"DELETE", "/faults", "", 204, ""},
		{"GET", "/faults", "", 200, `[]`},
		{"GET", "/stats", "", 200, `"clients/instance":1`},
		{"DELETE", "/stats", "", 204, ""},
		{"GET", "/stats", "", 200, `"total":{}`},
		{"PUT", "/clock", `{"offset":"-5m"}`, 200, `"offset":"-5m0s"`},
		{"GET", "/clock", "", 200, `"offset":"-5m0s"`},
		{"PUT", "/clock", `{}`, 400, "offset"},
		{"GET", "/nope", "", 404, "not_found"},
	}
	for _, s := range steps {
		status, body := adminDo(t, e, s.method, s.path, s.body)
		if status != s.status || !strings.Contains(string(body), s.contains) {
			t.Errorf("%s %s %s: got %d %s, want %d containing %q", s.method, s.path, s.body, status, body, s.status, s.contains)
		}
	}
	// Every documented route was exercised above.
	for _, r := range fakeaz.AdminRoutes() {
		method, path, _ := strings.Cut(r, " ")
		path = strings.TrimPrefix(path, "/admin")
		found := false
		for _, s := range steps {
			p := strings.NewReplacer(e.app.ID, "{appId}", newID, "{appId}", cid, "{clientId}").Replace(s.path)
			if s.method == method && (p == path || (path == "/" && p == "/")) {
				found = true
			}
		}
		if !found {
			t.Errorf("admin route %s is not tested", r)
		}
	}
	if e.s.ClockOffset() != -5*60*1e9 {
		t.Errorf("clock offset %v after PUT /clock", e.s.ClockOffset())
	}
	// Minted tokens verify with the app key.
	_, body := adminDo(t, e, "POST", "/apps/"+e.app.ID+"/tokens", `{"clientId":"c1"}`)
	var tr fakeaz.TokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		t.Fatal(err)
	}
	pub, _ := e.s.PublicKey(e.app.ID)
	if c := verifyToken(t, tr.IDToken, pub); c["sub"] != "::c1" {
		t.Errorf("minted id token sub %v", c["sub"])
	}
}

func TestConfigFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	const appID = "0b5b5a8c-6a7d-4c36-9a3e-2f0e4b8a1c11"
	if err := os.WriteFile(good, []byte(`{"apps":[{"appId":"`+appID+`","bundleId":"com.x","versions":["2.0"],"platform":"android",
		"serviceClients":[{"clientId":"svc","secret":"pw"}]}],"codeLifetime":"30s","tokenLifetime":600}`), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := fakeaz.New(fakeaz.WithKeyGen(keyGen(t)), fakeaz.WithConfigFile(good))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	a, err := s.App(appID)
	if err != nil || a.BundleID != "com.x" || a.Platform != "android" || len(a.ServiceClients) != 1 {
		t.Fatalf("app from config: %+v %v", a, err)
	}
	f, _ := s.Factory(appID)
	tok, _ := f.AccessToken(tokenfactory.Access{AppID: appID, ClientID: "c"})
	c := verifyToken(t, tok, f.PublicKey())
	if c["exp"].(float64)-c["iat"].(float64) != 600 {
		t.Errorf("token lifetime from config: %v", c)
	}
	bad := []struct{ name, json string }{
		{"unknown field", `{"apps":[],"typo":1}`},
		{"bad realm", `{"apps":[{"realm":{"kind":"saml"}}]}`},
		{"duplicate", `{"apps":[{"appId":"` + appID + `"},{"appId":"` + appID + `"}]}`},
		{"not json", `apps:`},
	}
	for _, b := range bad {
		p := filepath.Join(dir, strings.ReplaceAll(b.name, " ", "_")+".json")
		if err := os.WriteFile(p, []byte(b.json), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := fakeaz.LoadConfig(p); !errors.Is(err, fakeaz.ErrInvalidApp) && !errors.Is(err, fakeaz.ErrInvalidConfig) {
			t.Errorf("%s: LoadConfig = %v", b.name, err)
		}
		if _, err := fakeaz.New(fakeaz.WithKeyGen(keyGen(t)), fakeaz.WithConfigFile(p)); err == nil {
			t.Errorf("%s: New succeeded with a bad config", b.name)
		}
	}
	if _, err := fakeaz.LoadConfig(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("LoadConfig of a missing file succeeded")
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestLogsOneLinePerRequest(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	e := newEnv(t, fakeaz.WithLogger(slog.New(slog.NewTextHandler(&buf, nil))))
	get(t, e.hc, e.appURL(e.app.ID, "publickey"), nil)
	postForm(t, e.hc, e.appURL(e.app.ID, "token"), nil, nil)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d log lines, want 2:\n%s", len(lines), buf.String())
	}
	for i, want := range []string{"endpoint=publickey app=" + e.app.ID + " status=200 outcome=ok", "endpoint=token app=" + e.app.ID + " status=400 outcome=invalid_request"} {
		if !strings.Contains(lines[i], want) {
			t.Errorf("line %q lacks %q", lines[i], want)
		}
	}
}

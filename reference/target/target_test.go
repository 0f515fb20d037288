package target_test

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	allow "github.com/mcaspec/mcaspec/internal/downstream"
	"github.com/mcaspec/mcaspec/reference/target"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

const appA = "a1b2c3d4-0000-4000-8000-00000000000a"

var (
	keyOnce sync.Once
	key     *rsa.PrivateKey
	keyErr  error
)

func testKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	keyOnce.Do(func() { key, keyErr = tokenfactory.GenerateKey(2048, nil) })
	if keyErr != nil {
		t.Fatal(keyErr)
	}
	return key
}

// stubAZ serves app A's public key and client-credential tokens minted by f.
type stubAZ struct {
	srv           *httptest.Server
	serverURL     string
	f             *tokenfactory.Factory
	tokenRequests atomic.Int64
}

func newStubAZ(t testing.TB) *stubAZ {
	t.Helper()
	az := &stubAZ{}
	az.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		base := "/imf-authserver/authorization/v1/apps/" + appA + "/"
		switch r.URL.Path {
		case base + "publickey":
			_ = json.NewEncoder(w).Encode(tokenfactory.NewPublicKeyJSON(az.f.PublicKey()))
		case base + "token":
			az.tokenRequests.Add(1)
			if r.Header.Get("Authorization") != "Basic "+base64.StdEncoding.EncodeToString([]byte("svc:secret")) {
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = w.Write([]byte(`{"error":"invalid_client"}`))
				return
			}
			tok, err := az.f.AccessToken(tokenfactory.Access{AppID: appA, ClientID: "svc"})
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			_ = json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 3600})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(az.srv.Close)
	az.serverURL = az.srv.URL + "/imf-authserver"
	var err error
	if az.f, err = tokenfactory.New(testKey(t), tokenfactory.WithIssuer(tokenfactory.MCAIssuer(az.serverURL))); err != nil {
		t.Fatal(err)
	}
	return az
}

func (az *stubAZ) header(t *testing.T) string {
	t.Helper()
	at, err := az.f.AccessToken(tokenfactory.Access{AppID: appA, ClientID: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	it, err := az.f.IDToken(tokenfactory.ID{AppID: appA, ClientID: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	return "Bearer  " + at + "\t" + it // odd spacing: propagation must keep it byte for byte
}

// downstream records what reaches it.
type downstream struct {
	srv   *httptest.Server
	mu    sync.Mutex
	calls []http.Header
}

func newDownstream(t *testing.T) *downstream {
	d := &downstream{}
	d.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.mu.Lock()
		hdr := r.Header.Clone()
		hdr.Set("X-Test-Path", r.URL.Path) // which request arrived
		d.calls = append(d.calls, hdr)
		d.mu.Unlock()
		w.WriteHeader(http.StatusTeapot)
		_, _ = w.Write([]byte("downstream body"))
	}))
	t.Cleanup(d.srv.Close)
	return d
}

func (d *downstream) got() []http.Header {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]http.Header(nil), d.calls...)
}

func startTarget(t *testing.T, az *stubAZ, secret string) *target.Server {
	t.Helper()
	s, err := target.New(target.Config{ServerURL: az.serverURL, AppID: appA, ClientID: "svc", Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func get(t *testing.T, u string, hdr map[string]string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = []string{v}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestRoutes(t *testing.T) {
	t.Parallel()
	az := newStubAZ(t)
	d := newDownstream(t)
	s := startTarget(t, az, "secret")
	h := az.header(t)
	to := url.QueryEscape(d.srv.URL + "/down")
	tests := []struct {
		name       string
		path       string
		hdr        map[string]string
		status     int
		downstream int // calls expected at the downstream during this case
	}{
		{"healthz", "/healthz", nil, 200, 0},
		{"protected", "/v1/apps/" + appA + "/protected", map[string]string{"Authorization": h}, 200, 0},
		{"protected without token", "/v1/apps/" + appA + "/protected", nil, 401, 0},
		{"propagate", "/v1/apps/" + appA + "/propagate?to=" + to, map[string]string{"Authorization": h, "X-Imf-User": `{"id":"admin"}`}, http.StatusTeapot, 1},
		{"propagate with invalid token", "/v1/apps/" + appA + "/propagate?to=" + to, map[string]string{"Authorization": h + "x"}, 401, 0},
		{"propagate to non-loopback", "/v1/apps/" + appA + "/propagate?to=" + url.QueryEscape("http://192.0.2.1/x"), map[string]string{"Authorization": h}, 400, 0},
		{"propagate to https", "/v1/apps/" + appA + "/propagate?to=" + url.QueryEscape("https://127.0.0.1/x"), map[string]string{"Authorization": h}, 400, 0},
		{"propagate without to", "/v1/apps/" + appA + "/propagate", map[string]string{"Authorization": h}, 400, 0},
		{"service-call", "/v1/apps/" + appA + "/service-call?to=" + to, map[string]string{"Authorization": h}, http.StatusTeapot, 1},
		{"service-call with invalid token", "/v1/apps/" + appA + "/service-call?to=" + to, nil, 401, 0},
	}
	for _, tc := range tests { // sequential: the downstream call count is shared
		before := len(d.got())
		status, body := get(t, s.URL()+tc.path, tc.hdr)
		if status != tc.status {
			t.Errorf("%s: status %d, want %d; body %s", tc.name, status, tc.status, body)
		}
		if n := len(d.got()) - before; n != tc.downstream {
			t.Errorf("%s: %d downstream calls, want %d", tc.name, n, tc.downstream)
		}
	}
	calls := d.got()
	if len(calls) != 2 {
		t.Fatalf("%d downstream calls", len(calls))
	}
	if got := calls[0].Values("Authorization"); len(got) != 1 || got[0] != h {
		t.Errorf("propagated Authorization %q, want %q byte for byte", got, h)
	}
	if v := calls[0].Get("X-Imf-User"); v != "" {
		t.Errorf("client-injected X-Imf-User forwarded: %q", v)
	}
	if got := calls[1].Get("Authorization"); !strings.HasPrefix(got, "Bearer ey") || got == h {
		t.Errorf("service-call Authorization %q, want the target's own token", got)
	}
}

func TestProtectedContext(t *testing.T) {
	t.Parallel()
	az := newStubAZ(t)
	s := startTarget(t, az, "secret")
	status, body := get(t, s.URL()+"/v1/apps/"+appA+"/protected", map[string]string{"Authorization": az.header(t)})
	var sc map[string]json.RawMessage
	if status != 200 || json.Unmarshal(body, &sc) != nil {
		t.Fatalf("status %d body %s", status, body)
	}
	if string(sc["imf.sub"]) != `"::c1"` {
		t.Errorf("imf.sub %s", sc["imf.sub"])
	}
}

func TestServiceTokenReused(t *testing.T) {
	t.Parallel()
	az := newStubAZ(t)
	d := newDownstream(t)
	s := startTarget(t, az, "secret")
	h := az.header(t)
	for range 5 {
		if status, body := get(t, s.URL()+"/v1/apps/"+appA+"/service-call?to="+url.QueryEscape(d.srv.URL), map[string]string{"Authorization": h}); status != http.StatusTeapot {
			t.Fatalf("status %d %s", status, body)
		}
	}
	if n := az.tokenRequests.Load(); n != 1 {
		t.Fatalf("%d token requests for 5 service calls, want 1", n)
	}
}

func TestServiceCallBadSecret(t *testing.T) {
	t.Parallel()
	az := newStubAZ(t)
	d := newDownstream(t)
	s := startTarget(t, az, "wrong")
	status, body := get(t, s.URL()+"/v1/apps/"+appA+"/service-call?to="+url.QueryEscape(d.srv.URL), map[string]string{"Authorization": az.header(t)})
	if status != http.StatusBadGateway || !strings.Contains(string(body), "invalid_client") || len(d.got()) != 0 {
		t.Fatalf("status %d body %s calls %d", status, body, len(d.got()))
	}
}

func TestBackendMode(t *testing.T) {
	t.Parallel()
	az := newStubAZ(t)
	s, err := target.New(target.Config{ServerURL: az.serverURL, AppID: appA, Mode: target.ModeBackend})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/v1/apps/other/protected", nil)
	req.Header.Set("Authorization", az.header(t))
	s.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("backend mode: status %d %s", rec.Code, rec.Body)
	}
}

func TestConfigFromEnv(t *testing.T) {
	t.Parallel()
	vcap := `{"AdvancedMobileAccess":[{"credentials":{"serverUrl":"http://127.0.0.1:1/imf-authserver","tenantId":"` + appA + `","clientId":"vc","secret":"vs"}}]}`
	tests := []struct {
		name string
		env  map[string]string
		want target.Config
		err  bool
	}{
		{"mca", map[string]string{"PORT": "8081", "MCA_SERVER_URL": "http://127.0.0.1:2/imf-authserver", "MCA_APP_ID": appA, "MCA_CLIENT_ID": "c", "MCA_SECRET": "s"},
			target.Config{Listen: "127.0.0.1:8081", ServerURL: "http://127.0.0.1:2/imf-authserver", AppID: appA, ClientID: "c", Secret: "s"}, false},
		{"vcap", map[string]string{"VCAP_SERVICES": vcap, "MCA_MODE": "backend"},
			target.Config{ServerURL: "http://127.0.0.1:1/imf-authserver", AppID: appA, ClientID: "vc", Secret: "vs", Mode: "backend"}, false},
		{"mca wins", map[string]string{"VCAP_SERVICES": vcap, "MCA_SECRET": "s2"},
			target.Config{ServerURL: "http://127.0.0.1:1/imf-authserver", AppID: appA, ClientID: "vc", Secret: "s2"}, false},
		{"missing server url", map[string]string{"MCA_APP_ID": appA}, target.Config{}, true},
		{"host", map[string]string{"HOST": "0.0.0.0", "PORT": "8081", "MCA_SERVER_URL": "http://az"},
			target.Config{Listen: "0.0.0.0:8081", ServerURL: "http://az"}, false},
		{"host without port", map[string]string{"HOST": "0.0.0.0", "MCA_SERVER_URL": "http://az"},
			target.Config{Listen: "0.0.0.0:0", ServerURL: "http://az"}, false},
		{"ipv6 host", map[string]string{"HOST": "::", "PORT": "80", "MCA_SERVER_URL": "http://az"},
			target.Config{Listen: "[::]:80", ServerURL: "http://az"}, false},
		{"bracketed ipv6 host", map[string]string{"HOST": "[::1]", "PORT": "80", "MCA_SERVER_URL": "http://az"},
			target.Config{Listen: "[::1]:80", ServerURL: "http://az"}, false},
		{"localhost", map[string]string{"HOST": "localhost", "PORT": "80", "MCA_SERVER_URL": "http://az"},
			target.Config{Listen: "127.0.0.1:80", ServerURL: "http://az"}, false},
		{"downstream hosts", map[string]string{"MCA_DOWNSTREAM_HOSTS": "sink:9001, loopback", "MCA_SERVER_URL": "http://az"},
			target.Config{ServerURL: "http://az", Downstream: mustAllow(t, "loopback,sink:9001")}, false},
		{"bad port", map[string]string{"PORT": "http", "MCA_SERVER_URL": "http://az"}, target.Config{}, true},
		{"bad host", map[string]string{"HOST": "a:b:c:d", "PORT": "1", "MCA_SERVER_URL": "http://az"}, target.Config{}, true},
		{"bad downstream hosts", map[string]string{"MCA_DOWNSTREAM_HOSTS": "http://sink:9001", "MCA_SERVER_URL": "http://az"}, target.Config{}, true},
	}
	for _, tc := range tests {
		got, err := target.ConfigFromEnv(func(k string) string { return tc.env[k] })
		if tc.err {
			if !errors.Is(err, target.ErrConfig) {
				t.Errorf("%s: err %v, want ErrConfig", tc.name, err)
			}
			continue
		}
		if err != nil || got.ServerURL != tc.want.ServerURL || got.AppID != tc.want.AppID || got.ClientID != tc.want.ClientID ||
			got.Secret != tc.want.Secret || got.Listen != tc.want.Listen || got.Mode != tc.want.Mode ||
			got.Downstream.String() != tc.want.Downstream.String() {
			t.Errorf("%s: got %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
	}
}

func mustAllow(t *testing.T, s string) allow.AllowList {
	t.Helper()
	a, err := allow.ParseAllowList(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// MCA_DOWNSTREAM_HOSTS decides which downstream a target calls: a host:port
// outside the list gets 400 with a JSON error and no request is made.
func TestDownstreamAllowList(t *testing.T) {
	t.Parallel()
	az := newStubAZ(t)
	d := newDownstream(t)
	u, err := url.Parse(d.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	other := "1"
	if u.Port() == other {
		other = "2"
	}
	h := az.header(t)
	for _, tc := range []struct {
		name, list, route string
		status            int
	}{
		{"default allows loopback", "", "propagate", http.StatusTeapot},
		{"host and port listed", "127.0.0.1:" + u.Port(), "propagate", http.StatusTeapot},
		{"host listed, any port", "127.0.0.1", "service-call", http.StatusTeapot},
		{"other port only", "127.0.0.1:" + other, "propagate", http.StatusBadRequest},
		{"other port only, service-call", "127.0.0.1:" + other, "service-call", http.StatusBadRequest},
		{"another host only", "sink.internal", "propagate", http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := target.New(target.Config{ServerURL: az.serverURL, AppID: appA, ClientID: "svc", Secret: "secret", Downstream: mustAllow(t, tc.list)})
			if err != nil {
				t.Fatal(err)
			}
			path := "/" + strings.ReplaceAll(tc.name, " ", "-")
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodGet, "/v1/apps/"+appA+"/"+tc.route+"?to="+url.QueryEscape(d.srv.URL+path), nil)
			req.Header.Set("Authorization", h)
			s.ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			called := false
			for _, c := range d.got() {
				called = called || c.Get("X-Test-Path") == path
			}
			if want := tc.status != http.StatusBadRequest; called != want {
				t.Errorf("downstream called: %v, want %v", called, want)
			}
			if tc.status != http.StatusBadRequest {
				return
			}
			var e struct{ Error string }
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error != "invalid_request" || !strings.Contains(rec.Body.String(), "MCA_DOWNSTREAM_HOSTS") {
				t.Errorf("body %s, want a JSON invalid_request naming MCA_DOWNSTREAM_HOSTS", rec.Body)
			}
			if rec.Header().Get("Content-Type") != "application/json" {
				t.Errorf("Content-Type %q", rec.Header().Get("Content-Type"))
			}
		})
	}
}

package baseline

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcaspec/mcaspec/internal/downstream"
)

func tok(claims string) string {
	e := base64.RawURLEncoding.EncodeToString
	return e([]byte(`{"alg":"RS256"}`)) + "." + e([]byte(claims)) + ".c2ln"
}

func TestProtected(t *testing.T) {
	t.Parallel()
	s := httptest.NewServer(New(Config{}))
	t.Cleanup(s.Close)
	access := tok(`{"prn":"client1","aud":"a"}`)
	id := tok(`{"sub":"realm:alice:client1","imf.user":{"id":"alice"}}`)
	tests := []struct {
		name, header string
		status       int
		sub          string
	}{
		{"access and id", "Bearer " + access + " " + id, 200, "realm:alice:client1"},
		{"access only", "Bearer " + access, 200, "client1"},
		{"forged but decodable (no validation)", "Bearer " + tok(`{"prn":"evil"}`), 200, "evil"},
		{"no header", "", 401, ""},
		{"not a JWS", "Bearer abc", 401, ""},
		{"basic", "Basic abc", 401, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req, _ := http.NewRequest(http.MethodGet, s.URL+"/v1/apps/a/protected", nil)
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			resp, err := s.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var sc struct {
				Sub  string          `json:"imf.sub"`
				User json.RawMessage `json:"imf.user"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&sc)
			if resp.StatusCode != tc.status || sc.Sub != tc.sub {
				t.Fatalf("got %d %q, want %d %q", resp.StatusCode, sc.Sub, tc.status, tc.sub)
			}
			if tc.status == 200 && len(sc.User) == 0 {
				t.Fatal("imf.user missing")
			}
		})
	}
}

func TestPropagate(t *testing.T) {
	t.Parallel()
	var got []string
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Header.Get("Authorization")+"|"+r.Header.Get("X-Imf-User"))
		_, _ = io.WriteString(w, "fine")
	}))
	t.Cleanup(down.Close)
	s := httptest.NewServer(New(Config{}))
	t.Cleanup(s.Close)
	h := "Bearer " + tok(`{"prn":"c"}`)
	for _, tc := range []struct {
		to     string
		status int
	}{{down.URL, 200}, {"http://example.com/", 400}, {"ftp://127.0.0.1/", 400}} {
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/v1/apps/a/propagate?to="+url.QueryEscape(tc.to), nil)
		req.Header.Set("Authorization", h)
		req.Header.Set("X-Imf-User", "admin")
		resp, err := s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Fatalf("to=%s: %d %s, want %d", tc.to, resp.StatusCode, body, tc.status)
		}
		if tc.status == 200 && !strings.Contains(string(body), `"downstream_status":200`) {
			t.Fatalf("body %s", body)
		}
	}
	if len(got) != 1 || got[0] != h+"|" {
		t.Fatalf("downstream saw %q, want exactly the Authorization header and no injected header", got)
	}
}

func TestServiceCallWithoutCredentials(t *testing.T) {
	t.Parallel()
	s := httptest.NewServer(New(Config{}))
	t.Cleanup(s.Close)
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/v1/apps/a/service-call?to=http://127.0.0.1:9/", nil)
	req.Header.Set("Authorization", "Bearer "+tok(`{"prn":"c"}`))
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("status %d, want 502", resp.StatusCode)
	}
}

func TestStart(t *testing.T) {
	t.Parallel()
	s := New(Config{})
	if err := s.Start(""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") || !strings.HasPrefix(s.Addr(), "127.0.0.1:") {
		t.Fatalf("URL %q, Addr %q: want 127.0.0.1 by default", s.URL(), s.Addr())
	}
}

// The bare server answers BareBody on /protected whatever the request,
// /healthz, and nothing else.
func TestBare(t *testing.T) {
	t.Parallel()
	s := New(Config{Bare: true})
	for _, tc := range []struct {
		name, method, path, header string
		status                     int
		body                       string
	}{
		{"protected without token", http.MethodGet, "/v1/apps/a/protected", "", 200, BareBody},
		{"protected with garbage", http.MethodGet, "/v1/apps/a/protected", "Bearer abc", 200, BareBody},
		{"protected with a token", http.MethodGet, "/v1/apps/a/protected", "Bearer " + tok(`{"prn":"c"}`), 200, BareBody},
		{"healthz", http.MethodGet, "/healthz", "", 200, `{"status":"ok"}` + "\n"},
		{"no propagate", http.MethodGet, "/v1/apps/a/propagate?to=http://127.0.0.1:9/", "Bearer " + tok(`{"prn":"c"}`), 404, ""},
		{"no service-call", http.MethodGet, "/v1/apps/a/service-call?to=http://127.0.0.1:9/", "Bearer " + tok(`{"prn":"c"}`), 404, ""},
		{"POST protected", http.MethodPost, "/v1/apps/a/protected", "", 405, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(tc.method, tc.path, nil)
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			s.ServeHTTP(rec, req)
			if rec.Code != tc.status || tc.body != "" && rec.Body.String() != tc.body {
				t.Fatalf("%d %q, want %d %q", rec.Code, rec.Body, tc.status, tc.body)
			}
			if tc.status == 200 && rec.Header().Get("Content-Type") != "application/json" {
				t.Errorf("Content-Type %q", rec.Header().Get("Content-Type"))
			}
		})
	}
	var sc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(BareBody), &sc); err != nil || len(sc) != 4 {
		t.Fatalf("BareBody is not the security context shape: %v", err)
	}
}

// MCA_DOWNSTREAM_HOSTS: a host:port outside the list gets 400 and no request.
func TestPropagateAllowList(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		_, _ = io.WriteString(w, "fine")
	}))
	t.Cleanup(down.Close)
	u, _ := url.Parse(down.URL)
	other := "1"
	if u.Port() == other {
		other = "2"
	}
	for _, tc := range []struct {
		list   string
		status int
	}{{"", 200}, {"127.0.0.1:" + u.Port(), 200}, {"127.0.0.1:" + other, 400}, {"sink.internal", 400}} {
		t.Run(tc.list, func(t *testing.T) {
			a, err := downstream.ParseAllowList(tc.list)
			if err != nil {
				t.Fatal(err)
			}
			before := calls.Load()
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodGet, "/v1/apps/a/propagate?to="+url.QueryEscape(down.URL), nil)
			req.Header.Set("Authorization", "Bearer "+tok(`{"prn":"c"}`))
			New(Config{Downstream: a}).ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Fatalf("%d %s, want %d", rec.Code, rec.Body, tc.status)
			}
			if n := calls.Load() - before; (n == 1) != (tc.status == 200) {
				t.Errorf("%d downstream calls", n)
			}
			if tc.status == 400 && !strings.Contains(rec.Body.String(), "MCA_DOWNSTREAM_HOSTS") {
				t.Errorf("body %s does not name MCA_DOWNSTREAM_HOSTS", rec.Body)
			}
		})
	}
}

func TestConfigFromEnv(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name                     string
		env                      map[string]string
		listen, server, downList string
		err                      bool
	}{
		{"empty", nil, "", "", "loopback only (127.0.0.0/8, ::1, localhost)", false},
		{"port", map[string]string{"PORT": "9"}, "127.0.0.1:9", "", "loopback only (127.0.0.0/8, ::1, localhost)", false},
		{"host and port", map[string]string{"HOST": "0.0.0.0", "PORT": "9", "MCA_SERVER_URL": "http://az"}, "0.0.0.0:9", "http://az", "loopback only (127.0.0.0/8, ::1, localhost)", false},
		{"vcap server url", map[string]string{"VCAP_SERVICES": `{"AdvancedMobileAccess":[{"credentials":{"serverUrl":"http://vcap"}}]}`}, "", "http://vcap", "loopback only (127.0.0.0/8, ::1, localhost)", false},
		{"downstream hosts", map[string]string{"MCA_DOWNSTREAM_HOSTS": "sink:9001"}, "", "", "sink:9001", false},
		{"bad downstream hosts", map[string]string{"MCA_DOWNSTREAM_HOSTS": "sink:x"}, "", "", "", true},
		{"bad port", map[string]string{"PORT": "x"}, "", "", "", true},
		{"bad vcap", map[string]string{"VCAP_SERVICES": "{"}, "", "", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := ConfigFromEnv(func(k string) string { return tc.env[k] })
			if tc.err {
				if !errors.Is(err, ErrConfig) {
					t.Fatalf("err %v, want ErrConfig", err)
				}
				return
			}
			if err != nil || c.Listen != tc.listen || c.ServerURL != tc.server || c.Downstream.String() != tc.downList {
				t.Fatalf("got %+v, %v", c, err)
			}
		})
	}
}

// firstLine signals the first line written to it.
type firstLine struct {
	mu   sync.Mutex
	buf  strings.Builder
	line chan string
}

func (w *firstLine) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	had := strings.Contains(w.buf.String(), "\n")
	w.buf.Write(p)
	if l, _, ok := strings.Cut(w.buf.String(), "\n"); ok && !had {
		w.line <- l
	}
	return len(p), nil
}

func TestServeFromEnv(t *testing.T) {
	t.Parallel()
	for _, bare := range []bool{false, true} {
		t.Run(fmt.Sprint("bare=", bare), func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(t.Context())
			out := &firstLine{line: make(chan string, 1)}
			var errOut strings.Builder
			env := map[string]string{"HOST": "127.0.0.1", "PORT": "0"}
			done := make(chan error, 1)
			go func() { done <- ServeFromEnv(ctx, func(k string) string { return env[k] }, bare, out, &errOut) }()
			var base string
			select {
			case base = <-out.line:
			case err := <-done:
				t.Fatalf("ServeFromEnv returned %v before printing its URL", err)
			case <-time.After(10 * time.Second):
				t.Fatal("no URL within 10 s")
			}
			resp, err := http.Get(base + "/v1/apps/a/protected")
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if want := map[bool]int{false: 401, true: 200}[bare]; resp.StatusCode != want || bare && string(b) != BareBody {
				t.Errorf("protected without token: %d %s", resp.StatusCode, b)
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if errOut.Len() != 0 {
				t.Errorf("stderr %q on loopback, want nothing", errOut.String())
			}
		})
	}
	err := ServeFromEnv(t.Context(), func(k string) string { return map[string]string{"MCA_DOWNSTREAM_HOSTS": "http://x"}[k] }, false, io.Discard, io.Discard)
	if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "MCA_DOWNSTREAM_HOSTS") {
		t.Fatalf("bad MCA_DOWNSTREAM_HOSTS: %v, want a config error naming it", err)
	}
}

// discard is a minimal ResponseWriter, so that the benchmark measures the handlers.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

// BenchmarkProtected compares the handler cost of /protected in the bare
// server (no token work) and the baseline (decodes the token, no validation),
// with an access and id token pair as the bench sends.
func BenchmarkProtected(b *testing.B) {
	h := "Bearer " + tok(`{"prn":"client1","aud":"a1b2c3d4-0000-4000-8000-00000000000a","exp":4102444800}`) + " " +
		tok(`{"sub":"customRealm:alice:client1","imf.user":{"id":"alice","authBy":"customRealm","displayName":"Alice"},"imf.device":{"id":"d1","platform":"Android"},"imf.application":{"id":"com.example","version":"1.0"}}`)
	for _, bc := range []struct {
		name string
		s    *Server
	}{{"bare", New(Config{Bare: true})}, {"baseline", New(Config{})}} {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, "/v1/apps/a1b2c3d4-0000-4000-8000-00000000000a/protected", nil)
			req.Header.Set("Authorization", h)
			b.ReportAllocs()
			for b.Loop() {
				bc.s.ServeHTTP(&discard{h: http.Header{}}, req)
			}
		})
	}
}

package baseline

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
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

func TestStartLoopbackOnly(t *testing.T) {
	t.Parallel()
	s := New(Config{})
	if err := s.Start("0.0.0.0:0"); err == nil {
		_ = s.Close()
		t.Fatal("Start accepted a non-loopback address")
	}
	if err := s.Start(""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") {
		t.Fatalf("URL %q", s.URL())
	}
}

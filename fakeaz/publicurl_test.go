package fakeaz_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mcaspec/mcaspec/fakeaz"
	"github.com/mcaspec/mcaspec/fakeaz/adminclient"
	"github.com/mcaspec/mcaspec/fakedevice"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

// getJSON GETs u and decodes a 200 JSON answer into out.
func getJSON(t *testing.T, hc *http.Client, u string, out any) {
	t.Helper()
	resp, body := get(t, hc, u, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", u, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, out); err != nil {
		t.Fatalf("GET %s: %v: %s", u, err, body)
	}
}

// TestBehindForwarder: fakeaz is reached only through a loopback forwarder standing in for a
// Docker port mapping (it listens on A, clients use B). The discovery document, admin-minted
// tokens and a device's tokens carry the URL with port B, and the tokens verify with the key
// fetched through B.
func TestBehindForwarder(t *testing.T) {
	t.Parallel()
	const secret = "forwarder-secret"
	for _, tc := range []struct {
		name   string
		listen string
		opts   func(publicURL string) []fakeaz.Option
		token  string
	}{
		{"from request, loopback", "127.0.0.1:0", func(string) []fakeaz.Option {
			return []fakeaz.Option{fakeaz.WithPublicURLFromRequest()}
		}, ""},
		{"from request, every interface with an admin token", "0.0.0.0:0", func(string) []fakeaz.Option {
			return []fakeaz.Option{fakeaz.WithPublicURLFromRequest(), fakeaz.WithAdminToken(secret)}
		}, secret},
		{"public URL", "127.0.0.1:0", func(u string) []fakeaz.Option {
			return []fakeaz.Option{fakeaz.WithPublicURL(u)}
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fwd := newForwarder(t)
			public := fmt.Sprintf("http://127.0.0.1:%d%s", fwd.Port(), fakeaz.BasePath)
			s, err := fakeaz.New(append([]fakeaz.Option{fakeaz.WithKeyGen(keyGen(t))}, tc.opts(public)...)...)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Start(tc.listen); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			fwd.start(strings.TrimPrefix(strings.TrimSuffix(s.AdminURL(), "/admin"), "http://"))
			if strings.Contains(s.URL(), fmt.Sprint(fwd.Port())) != (tc.name == "public URL") {
				t.Errorf("URL() = %s: want the public URL only with WithPublicURL", s.URL())
			}
			hc := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()

			admin := adminclient.New("http://"+fwd.Addr()+"/admin", tc.token, hc)
			app, err := admin.AddApp(ctx, fakeaz.App{BundleID: bundle})
			if err != nil {
				t.Fatal(err)
			}
			appURL := public + "/authorization/v1/apps/" + app.ID

			var disc map[string]any
			getJSON(t, hc, appURL+"/"+fakeaz.EndpointDiscovery, &disc)
			if disc["issuer"] != public || disc["jwks_uri"] != appURL+"/"+fakeaz.EndpointJWKS {
				t.Errorf("discovery through the forwarder: issuer %v, jwks_uri %v; want %s and %s/jwks", disc["issuer"], disc["jwks_uri"], public, appURL)
			}
			var index map[string]any
			req, _ := http.NewRequest(http.MethodGet, "http://"+fwd.Addr()+"/admin/", nil)
			if tc.token != "" {
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}
			if resp, body := do(t, hc, req); resp.StatusCode != http.StatusOK || json.Unmarshal(body, &index) != nil || index["serverUrl"] != public {
				t.Errorf("admin index through the forwarder: %d %s, want serverUrl %s", resp.StatusCode, body, public)
			}

			var pkJSON json.RawMessage
			getJSON(t, hc, appURL+"/"+fakeaz.EndpointPublicKey, &pkJSON)
			pub, err := tokenfactory.ParsePublicKeyJSON(pkJSON)
			if err != nil {
				t.Fatal(err)
			}

			minted, err := admin.MintToken(ctx, app.ID, adminclient.TokenRequest{})
			if err != nil {
				t.Fatal(err)
			}
			if iss := verifyToken(t, minted.AccessToken, pub)["iss"]; iss != tokenfactory.MCAIssuer(public) {
				t.Errorf("admin-minted token iss %v, want %s", iss, public)
			}

			sharedKeys(t)
			d, err := fakedevice.New(fakedevice.Config{ServerURL: public, AppID: app.ID, BundleID: bundle, Key: devKeys[2], HTTPClient: hc})
			if err != nil {
				t.Fatal(err)
			}
			if err := d.Login(ctx); err != nil {
				t.Fatalf("device login through the forwarder: %v", err)
			}
			toks := d.Tokens()
			for name, tok := range map[string]string{"access": toks.Access, "id": toks.ID} {
				if iss := verifyToken(t, tok, pub)["iss"]; iss != tokenfactory.MCAIssuer(public) {
					t.Errorf("device %s token iss %v, want %s", name, iss, public)
				}
			}
		})
	}
}

// TestPublicURLFromRequestHeaders: the serverUrl of a request comes from Forwarded,
// X-Forwarded-* or Host; headers that make no URL are answered 400, never a broken iss.
func TestPublicURLFromRequestHeaders(t *testing.T) {
	t.Parallel()
	s, err := fakeaz.New(fakeaz.WithKeyGen(keyGen(t)), fakeaz.WithPublicURLFromRequest())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	app, err := s.AddApp(fakeaz.App{BundleID: bundle})
	if err != nil {
		t.Fatal(err)
	}
	path := fakeaz.AppsPath + app.ID + "/" + fakeaz.EndpointDiscovery
	for _, tc := range []struct {
		name string
		host string
		hdr  map[string]string
		want string // issuer origin; "" means 400
	}{
		{"host", "fakeaz.local:9080", nil, "http://fakeaz.local:9080"},
		{"host without port", "fakeaz.local", nil, "http://fakeaz.local"},
		{"ipv6 host", "[::1]:8080", nil, "http://[::1]:8080"},
		{"x-forwarded", "internal:9080", map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "az.example.com"}, "https://az.example.com"},
		{"x-forwarded default port dropped", "internal:9080", map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "az.example.com", "X-Forwarded-Port": "443"}, "https://az.example.com"},
		{"x-forwarded-port replaces", "localhost:9080", map[string]string{"X-Forwarded-Port": "32768"}, "http://localhost:32768"},
		{"x-forwarded first value", "internal", map[string]string{"X-Forwarded-Host": "a.example:1000, b.example"}, "http://a.example:1000"},
		{"forwarded", "internal", map[string]string{"Forwarded": `for=192.0.2.60;proto=https;host="az.example:8443", for=10.0.0.1;host=other`}, "https://az.example:8443"},
		{"forwarded over x-forwarded", "internal", map[string]string{"Forwarded": "host=f.example", "X-Forwarded-Host": "x.example"}, "http://f.example"},
		{"garbage forwarded host", "internal", map[string]string{"X-Forwarded-Host": "evil.example/path?x"}, ""},
		{"host with user info", "internal", map[string]string{"X-Forwarded-Host": "user@evil.example"}, ""},
		{"bad scheme", "internal", map[string]string{"X-Forwarded-Proto": "javascript"}, ""},
		{"bad port", "internal", map[string]string{"X-Forwarded-Port": "99999"}, ""},
		{"bad forwarded syntax", "internal", map[string]string{"Forwarded": `host="unterminated`}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest(http.MethodGet, path, nil)
			req.Host = tc.host
			for k, v := range tc.hdr {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			if tc.want == "" {
				if rec.Code != http.StatusBadRequest || errCode(t, rec.Body.Bytes()) != "invalid_request" {
					t.Errorf("%d %s, want 400 invalid_request", rec.Code, rec.Body)
				}
				return
			}
			var disc struct {
				Issuer string `json:"issuer"`
			}
			if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &disc) != nil || disc.Issuer != tc.want+fakeaz.BasePath {
				t.Errorf("%d %s, want issuer %s%s", rec.Code, rec.Body, tc.want, fakeaz.BasePath)
			}
		})
	}
}

func TestParsePublicURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"http://fakeaz.bench.svc:9080/imf-authserver", "http://fakeaz.bench.svc:9080/imf-authserver"},
		{"https://az.example.com", "https://az.example.com/imf-authserver"},
		{"http://127.0.0.1:9080/", "http://127.0.0.1:9080/imf-authserver"},
		{"http://proxy.example/fake/imf-authserver/", "http://proxy.example/fake/imf-authserver"},
		{"http://[::1]:9080", "http://[::1]:9080/imf-authserver"},
		{"fakeaz:9080", ""},
		{"/imf-authserver", ""},
		{"ftp://az.example/imf-authserver", ""},
		{"http://az.example/other", ""},
		{"http://user:pw@az.example/imf-authserver", ""},
		{"http://az.example/imf-authserver?x=1", ""},
		{"http://az.example/imf-authserver#f", ""},
		{"http://az_ex ample/", ""},
	} {
		got, err := fakeaz.ParsePublicURL(tc.in)
		switch {
		case tc.want == "" && !errors.Is(err, fakeaz.ErrPublicURL):
			t.Errorf("ParsePublicURL(%q) = %q, %v; want ErrPublicURL", tc.in, got, err)
		case tc.want != "" && (err != nil || got != tc.want):
			t.Errorf("ParsePublicURL(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := fakeaz.New(fakeaz.WithPublicURL("fakeaz:9080")); !errors.Is(err, fakeaz.ErrPublicURL) {
		t.Errorf("New with a bad WithPublicURL: %v, want ErrPublicURL", err)
	}
}

// FuzzPublicURLFromRequest: whatever the forwarding headers, a request is answered 200 with an
// issuer ParsePublicURL accepts, or 400.
func FuzzPublicURLFromRequest(f *testing.F) {
	f.Add("fakeaz:9080", "", "", "", "")
	f.Add("internal", `proto=https;host="a.example:1"`, "http", "b.example", "8080")
	f.Add("[::1]:1", `host="[::1]"`, "HTTPS", "", "0443")
	s, err := fakeaz.New(fakeaz.WithKeyGen(keyGen(f)), fakeaz.WithPublicURLFromRequest())
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = s.Close() })
	app, err := s.AddApp(fakeaz.App{BundleID: bundle})
	if err != nil {
		f.Fatal(err)
	}
	path := fakeaz.AppsPath + app.ID + "/" + fakeaz.EndpointDiscovery
	f.Fuzz(func(t *testing.T, host, fwd, proto, xhost, port string) {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Host = host
		for k, v := range map[string]string{"Forwarded": fwd, "X-Forwarded-Proto": proto, "X-Forwarded-Host": xhost, "X-Forwarded-Port": port} {
			if v != "" {
				req.Header[k] = []string{v}
			}
		}
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusBadRequest:
		case http.StatusOK:
			var disc struct {
				Issuer string `json:"issuer"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &disc); err != nil {
				t.Fatal(err)
			}
			if host == "" && fwd == "" && xhost == "" {
				return // no host at all: the listen-derived URL (empty here)
			}
			if got, err := fakeaz.ParsePublicURL(disc.Issuer); err != nil || got != disc.Issuer {
				t.Fatalf("issuer %q from host %q, Forwarded %q, X-Forwarded %q %q %q: %v", disc.Issuer, host, fwd, proto, xhost, port, err)
			}
		default:
			t.Fatalf("status %d %s", rec.Code, rec.Body)
		}
	})
}

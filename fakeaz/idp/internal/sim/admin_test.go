package sim_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mcaspec/mcaspec/fakeaz/idp"
	"github.com/mcaspec/mcaspec/fakeaz/idp/custom"
	"github.com/mcaspec/mcaspec/fakeaz/idp/facebook"
	"github.com/mcaspec/mcaspec/fakeaz/idp/google"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

type simulator interface {
	Start(addr string) error
	URL() string
	Close() error
}

// simulators builds each simulator, with extra options of its own kind made from the admin token.
func simulators(t *testing.T, token string) map[string]simulator {
	t.Helper()
	var co []custom.Option
	var fo []facebook.Option
	key, err := tokenfactory.GenerateKey(2048, nil)
	if err != nil {
		t.Fatal(err)
	}
	gopts := []google.Option{google.WithKey(key)}
	if token != "" {
		co, fo, gopts = append(co, custom.WithAdminToken(token)), append(fo, facebook.WithAdminToken(token)), append(gopts, google.WithAdminToken(token))
	}
	c, err := custom.New(custom.DefaultConfig(), co...)
	if err != nil {
		t.Fatal(err)
	}
	g, err := google.New(gopts...)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]simulator{"custom": c, "facebook": facebook.New(fo...), "google": g}
}

// TestAdminExposure: off loopback, a simulator without an admin token does not start.
func TestAdminExposure(t *testing.T) {
	t.Parallel()
	for name, s := range simulators(t, "") {
		for _, addr := range []string{"0.0.0.0:0", ":0"} {
			if err := s.Start(addr); !errors.Is(err, idp.ErrAdminExposed) || !strings.Contains(err.Error(), "--admin-token") {
				t.Errorf("%s: Start(%s) = %v, want ErrAdminExposed naming --admin-token", name, addr, err)
			}
		}
		if err := s.Start("127.0.0.1:0"); err != nil {
			t.Errorf("%s: Start on loopback: %v", name, err)
		}
		_ = s.Close()
	}
	if err := facebook.New(facebook.WithAdminToken("")).Start("127.0.0.1:0"); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty admin token: %v, want a refusal", err)
	}
}

// TestAdminToken: on every interface, dialled through 127.0.0.1, the admin routes answer 401
// without the token or with another one and change nothing; with it they work.
func TestAdminToken(t *testing.T) {
	t.Parallel()
	const secret = "idp-admin-secret"
	hc := &http.Client{Timeout: 10 * time.Second}
	call := func(t *testing.T, method, u, token, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), method, u, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("WWW-Authenticate") + " " + string(b)
	}
	for name, s := range simulators(t, secret) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if err := s.Start("0.0.0.0:0"); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") {
				t.Fatalf("URL %s", s.URL())
			}
			for _, tok := range []string{"", "wrong", secret + "x"} {
				if st, body := call(t, http.MethodPut, s.URL()+"/admin/fault", tok, `{"status": 500}`); st != http.StatusUnauthorized || !strings.Contains(body, "Bearer") || !strings.Contains(body, `"unauthorized"`) {
					t.Errorf("PUT /admin/fault with token %q: %d %s, want 401", tok, st, body)
				}
			}
			if st, body := call(t, http.MethodGet, s.URL()+"/admin/fault", secret, ""); st != http.StatusOK || strings.Contains(body, "500") {
				t.Errorf("fault after refused calls: %d %s, want none set", st, body)
			}
			if st, body := call(t, http.MethodPut, s.URL()+"/admin/fault", secret, `{"status": 500}`); st != http.StatusOK {
				t.Errorf("PUT /admin/fault with the token: %d %s", st, body)
			}
			if st, body := call(t, http.MethodGet, s.URL()+"/admin/fault", secret, ""); st != http.StatusOK || !strings.Contains(body, "500") {
				t.Errorf("fault after the call with the token: %d %s, want status 500", st, body)
			}
		})
	}
}

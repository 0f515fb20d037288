package contract_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/mcaspec/mcaspec/contract"
)

func getenvOf(env []string) func(string) string {
	m := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return func(k string) string { return m[k] }
}

// TestContractEnvRoundTrip: what Env writes, FromEnv reads back (the one
// writer and the one reader of the contract's variables agree).
func TestContractEnvRoundTrip(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]contract.Contract{
		"bearer":  {ServerURL: "http://az/imf-authserver", Issuer: "http://az/imf-authserver/authorization/", AppID: "app", ClientID: "svc", Secret: "s", Host: "0.0.0.0", DownstreamHosts: "sink.internal:9001"},
		"backend": {ServerURL: "http://az/imf-authserver", AppID: "app", Backend: true},
		"web": {ServerURL: "http://az/imf-authserver", AppID: "app", ClientID: "svc", Secret: "s", Web: &contract.Web{ClientID: "web", Secret: "ws",
			AuthorizationEndpoint: "http://az/authorize", TokenEndpoint: "http://az/token", CallbackURL: "http://site/web/callback"}},
	} {
		got, err := contract.FromEnv(getenvOf(c.Env(8080)))
		if err != nil {
			t.Errorf("%s: FromEnv: %v", name, err)
			continue
		}
		if c.Host == "" {
			c.Host = contract.DefaultHost
		}
		if !reflect.DeepEqual(got, c) {
			t.Errorf("%s: FromEnv(Env()) = %+v (web %+v), want %+v (web %+v)", name, got, got.Web, c, c.Web)
		}
		if addr, err := contract.ListenFromEnv(getenvOf(c.Env(8080))); err != nil || !strings.HasSuffix(addr, ":8080") {
			t.Errorf("%s: ListenFromEnv = %q, %v", name, addr, err)
		}
	}
}

func TestContractFromEnvErrors(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		env  []string
		want error
	}{
		"no server url":  {[]string{"MCA_APP_ID=a"}, contract.ErrNoServerURL},
		"bad mode":       {[]string{"MCA_SERVER_URL=http://az", "MCA_MODE=frontend"}, contract.ErrConfig},
		"bad allow-list": {[]string{"MCA_SERVER_URL=http://az", "MCA_DOWNSTREAM_HOSTS=http://sink:1"}, contract.ErrConfig},
		"bad vcap":       {[]string{"VCAP_SERVICES={"}, contract.ErrConfig},
	} {
		_, err := contract.FromEnv(getenvOf(tc.env))
		if !errors.Is(err, tc.want) || !errors.Is(err, contract.ErrConfig) {
			t.Errorf("%s: FromEnv = %v, want %v", name, err, tc.want)
		}
	}
	c, err := contract.FromEnv(getenvOf([]string{"MCA_APP_ID=a"}))
	if c.AppID != "a" || err == nil {
		t.Errorf("FromEnv without a serverUrl = %+v, %v: want the rest read and an error", c, err)
	}
}

// TestContractServer: the one contract server answers its routes with the
// authenticator it is given.
func TestContractServer(t *testing.T) {
	t.Parallel()
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "auth="+r.Header.Get("Authorization"))
	}))
	t.Cleanup(down.Close)
	auth := contract.AuthenticatorFunc(func(w http.ResponseWriter, r *http.Request) (*contract.SecurityContext, bool) {
		if r.Header.Get("Authorization") != "Bearer good" {
			contract.WriteJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token"})
			return nil, false
		}
		return &contract.SecurityContext{Sub: "s", User: []byte("{}"), Device: []byte("{}"), Application: []byte("{}")}, true
	})
	s, err := contract.NewServer(contract.ServerConfig{Auth: auth})
	if err != nil {
		t.Fatal(err)
	}
	bare, err := contract.NewServer(contract.ServerConfig{Bare: []byte("{}\n")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := contract.NewServer(contract.ServerConfig{}); !errors.Is(err, contract.ErrConfig) {
		t.Errorf("NewServer without Auth = %v, want ErrConfig", err)
	}
	app := "/v1/apps/0b5b5a8c-6a7d-4c36-9a3e-2f0e4b8a1c11"
	for _, tc := range []struct {
		srv          *contract.Server
		path, auth   string
		status       int
		bodyContains string
	}{
		{s, "/healthz", "", 200, `"ok"`},
		{s, app + "/protected", "Bearer bad", 401, "invalid_token"},
		{s, app + "/protected", "Bearer good", 200, `{"imf.sub":"s","imf.user":{},"imf.device":{},"imf.application":{}}`},
		{s, app + "/propagate?to=" + down.URL + "/x", "Bearer good", 200, `auth=Bearer good`},
		{s, app + "/propagate?to=http://example.com/", "Bearer good", 400, "invalid_request"},
		{s, app + "/propagate?to=" + down.URL, "Bearer bad", 401, "invalid_token"},
		{s, app + "/service-call?to=" + down.URL, "Bearer good", 502, "no_service_credentials"},
		{bare, app + "/protected", "", 200, "{}"},
		{bare, app + "/propagate?to=" + down.URL, "Bearer good", 404, ""},
	} {
		req := httptest.NewRequest(http.MethodGet, tc.path, nil)
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		rec := httptest.NewRecorder()
		tc.srv.ServeHTTP(rec, req)
		if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.bodyContains) {
			t.Errorf("GET %s (%s) = %d %s, want %d with %q", tc.path, tc.auth, rec.Code, rec.Body, tc.status, tc.bodyContains)
		}
	}
}

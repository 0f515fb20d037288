package webrp_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/mcaspec/mcaspec/fakeaz"
	"github.com/mcaspec/mcaspec/reference/webrp"
)

// setup starts a fakeaz with an app and a web client, and the RP behind httptest.
func setup(t *testing.T, mut func(*webrp.Config)) (*fakeaz.Server, *webrp.RP, string) {
	t.Helper()
	az, err := fakeaz.New(fakeaz.WithKeyPoolSize(0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = az.Close() })
	if err := az.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	app, err := az.AddApp(fakeaz.App{})
	if err != nil {
		t.Fatal(err)
	}
	var rp *webrp.RP
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { rp.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	cb := srv.URL + webrp.CallbackPath
	if _, err := az.AddWebClient(fakeaz.WebClient{ClientID: "web", Secret: "s3cret", AppID: app.ID, RedirectURIs: []string{cb}}); err != nil {
		t.Fatal(err)
	}
	cfg := webrp.Config{ServerURL: az.URL(), AppID: app.ID, ClientID: "web", Secret: "s3cret",
		AuthorizationEndpoint: az.WebAuthorizationURL(app.ID), TokenEndpoint: az.WebTokenURL(app.ID), CallbackURL: cb}
	if mut != nil {
		mut(&cfg)
	}
	if rp, err = webrp.New(cfg); err != nil {
		t.Fatal(err)
	}
	return az, rp, srv.URL
}

func browser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar}
}

func TestSignInLogout(t *testing.T) {
	t.Parallel()
	_, _, base := setup(t, nil)
	b := browser(t)
	resp, err := b.Get(base + "/web/protected/page?x=1")
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		User map[string]any `json:"user"`
	}
	err = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || body.User["sub"] != fakeaz.WebSubject("web", fakeaz.DefaultWebUser) {
		t.Fatalf("after sign-in: %d %v %v", resp.StatusCode, body, err)
	}
	if resp.Request.URL.Path != "/web/protected/page" || resp.Request.URL.RawQuery != "x=1" {
		t.Errorf("returned to %s, want /web/protected/page?x=1", resp.Request.URL)
	}
	resp, _ = b.Get(base + "/web/logout")
	resp.Body.Close()
	nb := &http.Client{Jar: b.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, _ = nb.Get(base + "/web/protected")
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Errorf("after logout: %d, want 302 to the AZ", resp.StatusCode)
	}
}

func TestCallbackRefusals(t *testing.T) {
	t.Parallel()
	_, _, base := setup(t, nil)
	for _, q := range []string{"", "?code=x", "?state=forged&code=x"} {
		resp, err := http.Get(base + "/web/callback" + q)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("callback%s: %d, want 400", q, resp.StatusCode)
		}
	}
}

// A malformed or repeated callback parameter is a 400 of the RP (never a
// 500), and a callback without a code makes no token request.
func TestMalformedCallbacks(t *testing.T) {
	t.Parallel()
	az, _, base := setup(t, nil)
	b := browser(t)
	b.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for _, q := range []string{"state=%25E0%25A4%25A&code=x", "state=a&code=%E0%A4%A", "state=%FF%FE&code=x", "state=a&x=1",
		"state=" + strings.Repeat("S", 3000) + "&code=" + strings.Repeat("C", 3000), "state=a&state=b&code=x", "state=a&code=x&code=y"} {
		// a pending sign-in, so the browser has a session
		resp, err := b.Get(base + "/web/protected")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		state := mustLocation(t, resp).Query().Get("state")
		q = strings.Replace(q, "state=a&", "state="+state+"&", 1)
		before := az.Stats().Count(fakeaz.EndpointWebToken, "")
		if resp, err = b.Get(base + "/web/callback?" + q); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("callback?%.60s: %d, want 400", q, resp.StatusCode)
		}
		if n := az.Stats().Count(fakeaz.EndpointWebToken, "") - before; n != 0 {
			t.Errorf("callback?%.60s: %d token requests, want none", q, n)
		}
	}
}

func mustLocation(t *testing.T, resp *http.Response) *url.URL {
	t.Helper()
	u, err := resp.Location()
	if err != nil {
		t.Fatalf("%d without a Location: %v", resp.StatusCode, err)
	}
	return u
}

func TestConfig(t *testing.T) {
	t.Parallel()
	if _, err := webrp.New(webrp.Config{}); !errors.Is(err, webrp.ErrConfig) || !strings.Contains(err.Error(), "MCA_WEB_CLIENT_ID") {
		t.Errorf("empty config: %v", err)
	}
	env := map[string]string{"VCAP_SERVICES": `{"AdvancedMobileAccess":[{"credentials":{"serverUrl":"http://127.0.0.1:1/imf-authserver","tenantId":"app","clientId":"web","secret":"s","authorizationEndpoint":"http://127.0.0.1:1/a","tokenEndpoint":"http://127.0.0.1:1/t"}}]}`,
		"MCA_CALLBACK_URL": "http://127.0.0.1:2/web/callback", "MCA_WEB_SECRET": "s2"}
	c, err := webrp.ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil || c.ClientID != "web" || c.Secret != "s2" || c.TokenEndpoint != "http://127.0.0.1:1/t" || c.CallbackURL != "http://127.0.0.1:2/web/callback" {
		t.Errorf("ConfigFromEnv: %+v %v", c, err)
	}
	if _, err := webrp.New(c); err != nil {
		t.Errorf("New(ConfigFromEnv): %v", err)
	}
}

package fakeaz_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jws/jwsbb"
	"github.com/mcaspec/mcaspec/fakeaz"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

const (
	webCallback = "http://127.0.0.1:1/web/callback?tenant=t1"
	webSecret   = "web-secret"
)

// webEnv is an env with a web client "web" of its app.
func webEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t)
	if _, err := e.s.AddWebClient(fakeaz.WebClient{ClientID: "web", Secret: webSecret, AppID: e.app.ID, RedirectURIs: []string{webCallback}}); err != nil {
		t.Fatal(err)
	}
	return e
}

// webAuthorize sends the browser to the authorization endpoint and returns the response.
func (e *env) webAuthorize(t *testing.T, q url.Values, user string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.s.WebAuthorizationURL(e.app.ID)+"?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.AddCookie(&http.Cookie{Name: fakeaz.WebUserCookie, Value: user})
	}
	resp, _ := do(t, e.hc, req)
	return resp
}

func webQuery(extra ...string) url.Values {
	q := url.Values{"response_type": {"code"}, "client_id": {"web"}, "redirect_uri": {webCallback}, "state": {"st-1"}, "nonce": {"n-1"}}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	return q
}

// webCode runs the authorization step and returns the code from the callback URL.
func (e *env) webCode(t *testing.T, q url.Values, user string) string {
	t.Helper()
	resp := e.webAuthorize(t, q, user)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorization: %d, want 302", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if got := loc.Query().Get("state"); got != q.Get("state") {
		t.Errorf("state %q echoed as %q", q.Get("state"), got)
	}
	if loc.Query().Get("tenant") != "t1" || !strings.HasPrefix(loc.String(), "http://127.0.0.1:1/web/callback?") {
		t.Errorf("callback %s lost the redirect URI's own query", loc)
	}
	return loc.Query().Get("code")
}

func (e *env) webRedeem(t *testing.T, code string, form url.Values) (*http.Response, []byte) {
	t.Helper()
	f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {webCallback}}
	for k, v := range form {
		f[k] = v
	}
	basic := base64.StdEncoding.EncodeToString([]byte("web:" + webSecret))
	return postForm(t, e.hc, e.s.WebTokenURL(e.app.ID), f, map[string]string{"Authorization": "Basic " + basic})
}

func TestWebFlowIssuesIDTokenWithNonceAndUser(t *testing.T) {
	t.Parallel()
	e := webEnv(t)
	code := e.webCode(t, webQuery(), "bob")
	resp, body := e.webRedeem(t, code, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token: %d %s", resp.StatusCode, body)
	}
	var tr fakeaz.TokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		t.Fatal(err)
	}
	pub, _ := e.s.PublicKey(e.app.ID)
	c := verifyToken(t, tr.IDToken, pub)
	if c["nonce"] != "n-1" || c["sub"] != fakeaz.WebSubject("web", "bob") || c["aud"] != e.app.ID || c["iss"] != e.s.URL() {
		t.Errorf("id token claims %v", c)
	}
	h, _, _, _ := jwsbb.SplitCompactString(tr.IDToken)
	hb, _ := tokenfactory.B64.DecodeString(string(h))
	keys, _ := e.s.JWKS(e.app.ID)
	if !strings.Contains(string(hb), `"kid":"`+keys[0].Kid+`"`) {
		t.Errorf("id token header %s lacks the key's kid %s", hb, keys[0].Kid)
	}
	if tr.AccessToken == "" || tr.ExpiresIn <= 0 {
		t.Errorf("token response %+v", tr)
	}
	// Codes are single-use.
	if resp, body := e.webRedeem(t, code, nil); resp.StatusCode != http.StatusBadRequest || errCode(t, body) != "invalid_grant" {
		t.Errorf("second redemption: %d %s, want 400 invalid_grant", resp.StatusCode, body)
	}
	// Default user without the AZ cookie.
	code = e.webCode(t, webQuery(), "")
	_, body = e.webRedeem(t, code, nil)
	_ = json.Unmarshal(body, &tr)
	if c := verifyToken(t, tr.IDToken, pub); c["sub"] != fakeaz.WebSubject("web", fakeaz.DefaultWebUser) {
		t.Errorf("sub without the AZ cookie: %v", c["sub"])
	}
}

func TestWebAuthorizationRefusals(t *testing.T) {
	t.Parallel()
	e := webEnv(t)
	for _, tc := range []struct {
		name   string
		q      url.Values
		status int
		err    string // error in the body (400) or in the redirect (302)
	}{
		{"unknown client", webQuery("client_id", "nope"), 400, "invalid_client"},
		{"unregistered redirect", webQuery("redirect_uri", "http://evil.example/cb"), 400, "invalid_request"},
		{"redirect with another query", webQuery("redirect_uri", "http://127.0.0.1:1/web/callback"), 400, "invalid_request"},
		{"token response type", webQuery("response_type", "token"), 302, "unsupported_response_type"},
		{"bad pkce method", webQuery("code_challenge", "x", "code_challenge_method", "S512"), 302, "invalid_request"},
	} {
		resp := e.webAuthorize(t, tc.q, "")
		if resp.StatusCode != tc.status {
			t.Errorf("%s: %d, want %d", tc.name, resp.StatusCode, tc.status)
			continue
		}
		if tc.status == 302 {
			loc, _ := url.Parse(resp.Header.Get("Location"))
			if loc.Query().Get("error") != tc.err || loc.Query().Get("state") != "st-1" {
				t.Errorf("%s: redirect %s, want error=%s and the state", tc.name, loc, tc.err)
			}
		}
	}
	if resp := e.webAuthorize(t, webQuery(), "bad user!"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a bad AZ cookie: %d, want 400", resp.StatusCode)
	}
}

func TestWebTokenChecksClientRedirectAndPKCE(t *testing.T) {
	t.Parallel()
	e := webEnv(t)
	verifier := "a-verifier-of-forty-three-characters-or-more-xyz"
	sum := sha256.Sum256([]byte(verifier))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])
	q := webQuery("code_challenge", challenge, "code_challenge_method", "S256")
	for _, tc := range []struct {
		name   string
		form   url.Values
		status int
	}{
		{"no verifier", nil, 400},
		{"wrong verifier", url.Values{"code_verifier": {verifier + "x"}}, 400},
		{"other redirect_uri", url.Values{"code_verifier": {verifier}, "redirect_uri": {"http://127.0.0.1:1/other"}}, 400},
		{"right verifier", url.Values{"code_verifier": {verifier}}, 200},
	} {
		code := e.webCode(t, q, "")
		if resp, body := e.webRedeem(t, code, tc.form); resp.StatusCode != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.name, resp.StatusCode, body, tc.status)
		}
	}
	code := e.webCode(t, webQuery(), "")
	resp, _ := postForm(t, e.hc, e.s.WebTokenURL(e.app.ID), url.Values{"grant_type": {"authorization_code"}, "code": {code}},
		map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("web:wrong"))})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong secret: %d, want 401", resp.StatusCode)
	}
	resp, _ = postForm(t, e.hc, e.s.WebTokenURL(e.app.ID), url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"client_id": {"web"}, "client_secret": {webSecret}, "redirect_uri": {webCallback}}, nil)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("client_secret_post: %d, want 200", resp.StatusCode)
	}
}

func TestWebScenarios(t *testing.T) {
	t.Parallel()
	e := webEnv(t)
	pub, _ := e.s.PublicKey(e.app.ID)
	idToken := func(t *testing.T, sc fakeaz.WebScenario) (string, int) {
		t.Helper()
		if err := e.s.SetWebScenario("web", sc); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = e.s.SetWebScenario("web", fakeaz.WebScenario{}) }()
		code := e.webCode(t, webQuery(), "")
		resp, body := e.webRedeem(t, code, nil)
		var tr fakeaz.TokenResponse
		_ = json.Unmarshal(body, &tr)
		return tr.IDToken, resp.StatusCode
	}
	claims := func(tok string) (map[string]any, map[string]any) {
		h, p, _, _ := jwsbb.SplitCompactString(tok)
		hb, _ := tokenfactory.B64.DecodeString(string(h))
		pb, _ := tokenfactory.B64.DecodeString(string(p))
		var hm, pm map[string]any
		_ = json.Unmarshal(hb, &hm)
		_ = json.Unmarshal(pb, &pm)
		return hm, pm
	}
	verifies := func(tok string) bool {
		h, p, s, err := jwsbb.SplitCompactString(tok)
		if err != nil {
			return false
		}
		sig, _ := tokenfactory.B64.DecodeString(string(s))
		return jwsbb.Verify(pub, "RS256", []byte(string(h)+"."+string(p)), sig) == nil
	}
	for _, tc := range []struct {
		fault string
		check func(h, c map[string]any, ok bool) bool
	}{
		{fakeaz.WebIDTokenForged, func(h, c map[string]any, ok bool) bool { return !ok && h["alg"] == "RS256" }},
		{fakeaz.WebIDTokenBadSig, func(h, c map[string]any, ok bool) bool { return !ok }},
		{fakeaz.WebIDTokenAlgNone, func(h, c map[string]any, ok bool) bool { return h["alg"] == "none" }},
		{fakeaz.WebIDTokenHS256, func(h, c map[string]any, ok bool) bool { return h["alg"] == "HS256" }},
		{fakeaz.WebIDTokenExpired, func(h, c map[string]any, ok bool) bool { return ok && c["exp"].(float64) < float64(time.Now().Unix()) }},
		{fakeaz.WebIDTokenWrongAud, func(h, c map[string]any, ok bool) bool { return ok && c["aud"] == fakeaz.WebWrongAud }},
		{fakeaz.WebIDTokenWrongIss, func(h, c map[string]any, ok bool) bool { return ok && c["iss"] == fakeaz.WebWrongIss }},
		{fakeaz.WebIDTokenNoSub, func(h, c map[string]any, ok bool) bool { return ok && c["sub"] == nil }},
		{fakeaz.WebIDTokenNoIat, func(h, c map[string]any, ok bool) bool { return ok && c["iat"] == nil }},
		{fakeaz.WebIDTokenNoExp, func(h, c map[string]any, ok bool) bool { return ok && c["exp"] == nil }},
		{fakeaz.WebIDTokenWrongNonce, func(h, c map[string]any, ok bool) bool { return ok && c["nonce"] == fakeaz.WebWrongNonce }},
		{fakeaz.WebIDTokenUnknownKid, func(h, c map[string]any, ok bool) bool { return !ok && h["kid"] == fakeaz.WebUnknownKid }},
	} {
		tok, status := idToken(t, fakeaz.WebScenario{IDTokenFault: tc.fault})
		h, c := claims(tok)
		if status != 200 || !tc.check(h, c, verifies(tok)) {
			t.Errorf("%s: status %d, header %v, claims %v", tc.fault, status, h, c)
		}
	}
	if tok, status := idToken(t, fakeaz.WebScenario{OmitIDToken: true}); status != 200 || tok != "" {
		t.Errorf("omitIdToken: %d, id token %q", status, tok)
	}
	tok, _ := idToken(t, fakeaz.WebScenario{TokenLifetime: fakeaz.Duration(3 * time.Second)})
	if _, c := claims(tok); c["exp"].(float64)-c["iat"].(float64) != 3 {
		t.Errorf("tokenLifetime 3s: claims %v", c)
	}
	// Deny sends the browser back with the error and the state.
	_ = e.s.SetWebScenario("web", fakeaz.WebScenario{Deny: "access_denied"})
	resp := e.webAuthorize(t, webQuery(), "")
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != 302 || loc.Query().Get("error") != "access_denied" || loc.Query().Get("code") != "" || loc.Query().Get("state") != "st-1" {
		t.Errorf("deny: %d %s", resp.StatusCode, loc)
	}
	// Reset closes the connection.
	_ = e.s.SetWebScenario("web", fakeaz.WebScenario{Reset: true})
	req, _ := http.NewRequest(http.MethodPost, e.s.WebTokenURL(e.app.ID), strings.NewReader("grant_type=authorization_code&code=x"))
	req.SetBasicAuth("web", webSecret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, err := e.hc.Do(req); err == nil {
		resp.Body.Close()
		t.Errorf("reset: got %d, want a closed connection", resp.StatusCode)
	}
	if err := e.s.SetWebScenario("web", fakeaz.WebScenario{IDTokenFault: "nope"}); !errors.Is(err, fakeaz.ErrInvalidWebClient) {
		t.Errorf("unknown fault: %v", err)
	}
	if err := e.s.SetWebScenario("nope", fakeaz.WebScenario{}); !errors.Is(err, fakeaz.ErrUnknownClient) {
		t.Errorf("unknown client: %v", err)
	}
}

func TestWebTokenFaultsAreFaults(t *testing.T) {
	t.Parallel()
	e := webEnv(t)
	if err := e.s.SetFault(fakeaz.FaultSpec{Endpoint: fakeaz.EndpointWebToken, Status: 500, Body: "<html>oops</html>", ContentType: "text/html"}); err != nil {
		t.Fatal(err)
	}
	code := e.webCode(t, webQuery(), "")
	if resp, body := e.webRedeem(t, code, nil); resp.StatusCode != 500 || !strings.Contains(string(body), "oops") {
		t.Errorf("faulted token endpoint: %d %s", resp.StatusCode, body)
	}
	if n := e.s.Stats().Count(fakeaz.EndpointWebToken, e.app.ID); n != 1 {
		t.Errorf("web token requests counted: %d, want 1", n)
	}
}

func TestWebClientValidationAndAdmin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, c := range []fakeaz.WebClient{
		{ClientID: "", Secret: "s", AppID: e.app.ID, RedirectURIs: []string{webCallback}},
		{ClientID: "w", Secret: "", AppID: e.app.ID, RedirectURIs: []string{webCallback}},
		{ClientID: "w", Secret: "s", AppID: e.app.ID},
		{ClientID: "w", Secret: "s", AppID: e.app.ID, RedirectURIs: []string{"/relative"}},
		{ClientID: "w", Secret: "s", AppID: e.app.ID, RedirectURIs: []string{webCallback + "#frag"}},
	} {
		if _, err := e.s.AddWebClient(c); !errors.Is(err, fakeaz.ErrInvalidWebClient) {
			t.Errorf("AddWebClient(%+v): %v, want ErrInvalidWebClient", c, err)
		}
	}
	if _, err := e.s.AddWebClient(fakeaz.WebClient{ClientID: "w", Secret: "s", AppID: "0b5b5a8c-6a7d-4c36-9a3e-2f0e4b8a1c11", RedirectURIs: []string{webCallback}}); !errors.Is(err, fakeaz.ErrUnknownApp) {
		t.Errorf("unknown app: %v", err)
	}
	steps := []struct {
		method, path, body string
		status             int
	}{
		{"POST", "/web-clients", `{"clientId":"w","secret":"s","appId":"` + e.app.ID + `","redirectUris":["` + webCallback + `"]}`, 201},
		{"POST", "/web-clients", `{"clientId":"w","secret":"s","appId":"` + e.app.ID + `","redirectUris":["` + webCallback + `"]}`, 409},
		{"POST", "/web-clients", `{"clientId":"x","secret":"s","appId":"` + e.app.ID + `"}`, 400},
		{"GET", "/web-clients", "", 200},
		{"PUT", "/web-clients/w/scenario", `{"idTokenFault":"alg-none","tokenLifetime":"5s"}`, 200},
		{"PUT", "/web-clients/w/scenario", `{"idTokenFault":"bogus"}`, 400},
		{"PUT", "/web-clients/nope/scenario", `{}`, 404},
		{"DELETE", "/web-clients/w", "", 204},
		{"DELETE", "/web-clients/w", "", 404},
	}
	for _, s := range steps {
		if status, body := adminDo(t, e, s.method, s.path, s.body); status != s.status {
			t.Errorf("%s %s: %d %s, want %d", s.method, s.path, status, body, s.status)
		}
	}
	for _, r := range fakeaz.WebAdminRoutes() {
		method, path, _ := strings.Cut(r, " ")
		path = strings.NewReplacer("/admin", "", "{clientId}", "w").Replace(path)
		found := false
		for _, s := range steps {
			found = found || (s.method == method && s.path == path)
		}
		if !found {
			t.Errorf("web admin route %s is not tested", r)
		}
	}
	if _, err := e.s.AddWebClient(fakeaz.WebClient{ClientID: "gone", Secret: "s", AppID: e.app.ID, RedirectURIs: []string{webCallback}}); err != nil {
		t.Fatal(err)
	}
	if err := e.s.RemoveApp(e.app.ID); err != nil || len(e.s.WebClients(e.app.ID)) != 0 {
		t.Errorf("RemoveApp left web clients: %v %v", err, e.s.WebClients(e.app.ID))
	}
	cfg, err := fakeaz.ParseConfig([]byte(`{"apps":[],"webClients":[{"clientId":"w","secret":"s","appId":"x"}]}`))
	if err == nil || !errors.Is(err, fakeaz.ErrInvalidWebClient) {
		t.Errorf("ParseConfig with a web client without redirect URIs: %v %v", cfg, err)
	}
}

// The App ID flavour: the authorization endpoint under the oauthServerUrl,
// the code traded at the App ID token endpoint with a multipart body, aud
// the client id, the key in the JWKS by kid.
func TestWebAppIDFlavour(t *testing.T) {
	t.Parallel()
	for _, shape := range []tokenfactory.Shape{tokenfactory.ShapeAppIDV4, tokenfactory.ShapeAppIDV3, tokenfactory.ShapeAppIDV3Host} {
		t.Run(string(shape), func(t *testing.T) {
			t.Parallel()
			testWebAppIDShape(t, shape)
		})
	}
}

// testWebAppIDShape checks the id token of an App ID web sign-in has
// what the genuine WebAppStrategy of that generation compares: aud an array
// holding the client id (v4: 6.0.0 and later), the client id as a string
// (5.x and 4.x compare aud === clientId), iss the oauthServerUrl, or its host
// (4.x compares iss === the host of oauthServerUrl).
func testWebAppIDShape(t *testing.T, shape tokenfactory.Shape) {
	e := newEnv(t)
	app, err := e.s.AddApp(fakeaz.App{Shape: shape})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.AddWebClient(fakeaz.WebClient{ClientID: "web", Secret: webSecret, AppID: app.ID, RedirectURIs: []string{webCallback}}); err != nil {
		t.Fatal(err)
	}
	authz, token := e.s.WebEndpoints(app.ID)
	if authz != e.s.OAuthServerURL(app.ID)+"/authorization" || token != e.s.OAuthServerURL(app.ID)+"/token" || e.s.WebTokenEndpoint(app.ID) != fakeaz.EndpointToken {
		t.Fatalf("App ID web endpoints %s %s", authz, token)
	}
	resp, _ := get(t, e.hc, authz+"?"+webQuery().Encode(), nil)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	code := loc.Query().Get("code")
	if resp.StatusCode != http.StatusFound || code == "" {
		t.Fatalf("App ID authorization: %d %s", resp.StatusCode, loc)
	}
	var buf strings.Builder
	mw := multipart.NewWriter(&buf)
	for k, v := range map[string]string{"grant_type": "authorization_code", "code": code, "redirect_uri": webCallback, "client_id": "web"} {
		_ = mw.WriteField(k, v)
	}
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, token, strings.NewReader(buf.String()))
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.SetBasicAuth("web", webSecret)
	resp, body := do(t, e.hc, req)
	var tr fakeaz.TokenResponse
	if err := json.Unmarshal(body, &tr); err != nil || resp.StatusCode != http.StatusOK || tr.IDToken == "" {
		t.Fatalf("App ID token (multipart): %d %s", resp.StatusCode, body)
	}
	keys, _ := e.s.JWKS(app.ID)
	pub, _ := e.s.PublicKey(app.ID)
	c := verifyToken(t, tr.IDToken, pub)
	wantIss := e.s.OAuthServerURL(app.ID)
	if shape == tokenfactory.ShapeAppIDV3Host {
		u, _ := url.Parse(wantIss)
		wantIss = u.Host
	}
	aud, _ := c["aud"].([]any)
	audOK := len(aud) == 1 && aud[0] == "web"
	if shape != tokenfactory.ShapeAppIDV4 {
		audOK = c["aud"] == "web"
	}
	if !audOK || c["iss"] != wantIss || c["nonce"] != "n-1" {
		t.Errorf("%s id token claims %v (kid %s), want aud the client id and iss %s", shape, c, keys[0].Kid, wantIss)
	}
	// client_credentials still works there.
	resp, body = postForm(t, e.hc, token, url.Values{"grant_type": {"client_credentials"}}, map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("web:x"))})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("client_credentials with a web client: %d %s, want 401 (not a service client)", resp.StatusCode, body)
	}
}

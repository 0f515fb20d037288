package fakeaz_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mcaspec/mcaspec/fakeaz"
	"github.com/mcaspec/mcaspec/fakeaz/idp"
	"github.com/mcaspec/mcaspec/fakeaz/idp/custom"
	"github.com/mcaspec/mcaspec/fakeaz/idp/facebook"
	"github.com/mcaspec/mcaspec/fakeaz/idp/google"
)

// challenge asserts resp is a composite challenge for realm and returns the challenge object.
// failed marks a case answered with a WL-Authentication-Failure redirect.
const failed = 0

func challenge(t *testing.T, resp *http.Response, realm string) map[string]any {
	t.Helper()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != "WL-Composite-Challenge" {
		t.Fatalf("want a 401 WL-Composite-Challenge, got %d %q %s", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), body)
	}
	const pre, post = "/*-secure-\n", "*/"
	s := string(body)
	if len(s) < len(pre)+len(post) || s[:len(pre)] != pre || s[len(s)-len(post):] != post {
		t.Fatalf("challenge body is not wrapped in /*-secure-\\n...*/: %q", s)
	}
	var c struct {
		Challenges map[string]map[string]any `json:"challenges"`
	}
	if err := json.Unmarshal([]byte(s[len(pre):len(s)-len(post)]), &c); err != nil {
		t.Fatalf("challenge JSON: %v", err)
	}
	ch, ok := c.Challenges[realm]
	if !ok || len(c.Challenges) != 1 {
		t.Fatalf("challenges %v, want only realm %q", c.Challenges, realm)
	}
	return ch
}

// tokensFor redeems code and returns the verified id and access token claims.
func (e *env) tokensFor(t *testing.T, appID, cid string, d *device, code string) (id, access map[string]any) {
	t.Helper()
	resp, body := e.redeem(t, appID, cid, code, d.key)
	if resp.StatusCode != 200 {
		t.Fatalf("token: %d %s", resp.StatusCode, body)
	}
	var tr fakeaz.TokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		t.Fatal(err)
	}
	pub, _ := e.s.PublicKey(appID)
	return verifyToken(t, tr.IDToken, pub), verifyToken(t, tr.AccessToken, pub)
}

func TestCustomRealm(t *testing.T) {
	t.Parallel()
	idpSrv, err := custom.New(custom.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if err := idpSrv.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = idpSrv.Close() })
	e := newEnv(t)
	app, err := e.s.AddApp(fakeaz.App{BundleID: bundle, Realm: fakeaz.Realm{Kind: fakeaz.RealmCustom, Name: custom.DefaultRealm, IdPURL: idpSrv.URL()}})
	if err != nil {
		t.Fatal(err)
	}
	realm := custom.DefaultRealm
	answer := func(v any) string {
		b, _ := json.Marshal(map[string]any{realm: v})
		return "Bearer " + string(b)
	}
	t.Run("one step", func(t *testing.T) {
		t.Parallel()
		d := newDevice(t, 512)
		d.session = "one-step"
		cid := e.register(t, app.ID, d)
		ch := challenge(t, e.authorize(t, app.ID, cid, d, ""), realm)
		if ch["message"] != custom.DefaultMessage {
			t.Errorf("challenge %v", ch)
		}
		code := codeFrom(t, e.authorize(t, app.ID, cid, d, answer(map[string]string{"username": "alice", "password": "alice123"})))
		id, acc := e.tokensFor(t, app.ID, cid, d, code)
		if id["sub"] != realm+":alice:"+cid {
			t.Errorf("sub %v", id["sub"])
		}
		u, _ := json.Marshal(id["imf.user"])
		if string(u) != `{"attributes":{"email":"alice@example.com","role":"admin"},"authBy":"customRealm","displayName":"Alice Example","id":"alice"}` {
			t.Errorf("imf.user %s", u)
		}
		sc, _ := acc["imf.scope"].(map[string]any)
		if r, _ := sc[realm].(map[string]any); r["mandatory"] != true || r["exp"] != acc["exp"] {
			t.Errorf("imf.scope %v", acc["imf.scope"])
		}
	})
	t.Run("two steps with stateId", func(t *testing.T) {
		t.Parallel()
		d := newDevice(t, 1024)
		d.session = "two-steps"
		cid := e.register(t, app.ID, d)
		challenge(t, e.authorize(t, app.ID, cid, d, ""), realm)
		ch := challenge(t, e.authorize(t, app.ID, cid, d, answer(map[string]string{"username": "bob", "password": "bob123"})), realm)
		if ch["message"] != custom.DefaultPINMessage {
			t.Fatalf("second challenge %v", ch)
		}
		resp := e.authorize(t, app.ID, cid, d, answer(map[string]string{"pin": "4321"}))
		if ok := wlResultFrom(t, resp)["WL-Authentication-Success"][realm]; ok["userId"] != "bob" {
			t.Errorf("wl_result success %v, want userId bob", ok)
		}
		code := codeFrom(t, resp)
		if id, _ := e.tokensFor(t, app.ID, cid, d, code); id["sub"] != realm+":bob:"+cid {
			t.Errorf("sub %v", id["sub"])
		}
	})
	t.Run("failure", func(t *testing.T) {
		t.Parallel()
		d := newDevice(t, 2048)
		d.session = "failure"
		cid := e.register(t, app.ID, d)
		// A refused realm is a redirect with WL-Authentication-Failure and no
		// code (AuthorizationRequestManager in both SDKs), never a 400 (the iOS
		// SDK wipes its registration on a 400 from authorization).
		for _, authz := range []string{answer(map[string]string{"username": "alice", "password": "wrong"}), "Bearer {not json"} {
			resp := e.authorize(t, app.ID, cid, d, authz)
			res := wlResultFrom(t, resp)
			if f := res["WL-Authentication-Failure"][realm]; f == nil || f["reason"] == "" || strings.Contains(resp.Header.Get("Location"), "code=") {
				t.Errorf("%s: Location %q, want a failure for %s and no code", authz, resp.Header.Get("Location"), realm)
			}
		}
	})
}

func TestCustomRealmIdPDown(t *testing.T) {
	t.Parallel()
	idpSrv, err := custom.New(custom.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if err := idpSrv.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = idpSrv.Close() })
	idpSrv.SetFault(idp.Fault{Status: 503})
	e := newEnv(t)
	app, err := e.s.AddApp(fakeaz.App{Realm: fakeaz.Realm{Kind: fakeaz.RealmCustom, Name: custom.DefaultRealm, IdPURL: idpSrv.URL()}})
	if err != nil {
		t.Fatal(err)
	}
	d := newDevice(t, 512)
	cid := e.register(t, app.ID, d)
	resp := e.authorize(t, app.ID, cid, d, "")
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || errCode(t, body) != "temporarily_unavailable" {
		t.Errorf("IdP down: %d %s", resp.StatusCode, body)
	}
}

func TestFacebookRealm(t *testing.T) {
	t.Parallel()
	fb := facebook.New(facebook.WithApp("fb-app", "fb-secret"), facebook.WithApp("other-app", "x"))
	if err := fb.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fb.Close() })
	e := newEnv(t)
	app, err := e.s.AddApp(fakeaz.App{Realm: fakeaz.Realm{Kind: fakeaz.RealmFacebook, FacebookAppID: "fb-app", FacebookAppSecret: "fb-secret", GraphURL: fb.URL()}})
	if err != nil {
		t.Fatal(err)
	}
	user := facebook.User{ID: "10001", Name: "Alice", Email: "alice@example.com"}
	revoked := fb.IssueToken("fb-app", user, time.Hour)
	fb.Revoke(revoked)
	answer := func(tok string) string { return `Bearer {"wl_facebookRealm": {"accessToken": "` + tok + `"}}` }
	cases := []struct {
		name   string
		authz  string
		status int
	}{
		{"no answer: challenge", "", 401},
		{"valid token", answer(fb.IssueToken("fb-app", user, time.Hour)), 302},
		{"revoked token", answer(revoked), failed},
		{"other app's token", answer(fb.IssueToken("other-app", user, time.Hour)), failed},
		{"answer without accessToken", `Bearer {"wl_facebookRealm": {}}`, failed},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := newDevice(t, []int{512, 1024, 2048}[i%3])
			cid := e.register(t, app.ID, d)
			resp := e.authorize(t, app.ID, cid, d, tc.authz)
			switch tc.status {
			case 401:
				if ch := challenge(t, resp, fakeaz.FacebookRealm); ch["facebookAppId"] != "fb-app" {
					t.Errorf("challenge %v", ch)
				}
			case 302:
				id, _ := e.tokensFor(t, app.ID, cid, d, codeFrom(t, resp))
				u, _ := id["imf.user"].(map[string]any)
				if u["id"] != "10001" || u["authBy"] != fakeaz.FacebookRealm || u["displayName"] != "Alice" || id["sub"] != "wl_facebookRealm:10001:"+cid {
					t.Errorf("id token %v", id)
				}
			case failed:
				if r := wlResultFrom(t, resp)["WL-Authentication-Failure"]; len(r) != 1 || strings.Contains(resp.Header.Get("Location"), "code=") {
					t.Errorf("Location %q, want one realm's WL-Authentication-Failure and no code", resp.Header.Get("Location"))
				}
			default:
				body, _ := io.ReadAll(resp.Body)
				if resp.StatusCode != tc.status {
					t.Errorf("%d %s, want %d", resp.StatusCode, body, tc.status)
				}
				errCode(t, body)
			}
		})
	}
}

func TestGoogleRealm(t *testing.T) {
	t.Parallel()
	sharedKeys(t)
	g, err := google.New(google.WithKey(azKeys[3]))
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Close() })
	e := newEnv(t)
	app, err := e.s.AddApp(fakeaz.App{Realm: fakeaz.Realm{Kind: fakeaz.RealmGoogle, GoogleClientID: "g-client", TokenInfoURL: g.TokenInfoURL()}})
	if err != nil {
		t.Fatal(err)
	}
	user := google.User{Sub: "g-42", Email: "bob@example.com", Name: "Bob"}
	idTok, err := g.IssueIDToken("g-client", user, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	accTok, err := g.IssueAccessToken("g-client", user, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	otherTok, err := g.IssueIDToken("other-client", user, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		authz  string
		status int
	}{
		{"no answer: challenge", "", 401},
		{"iOS id token", `Bearer {"wl_googleRealm": {"idToken": "` + idTok + `"}}`, 302},
		{"Android access token", `Bearer {"wl_googleRealm": {"accessToken": "` + accTok + `"}}`, 302},
		{"token for another client", `Bearer {"wl_googleRealm": {"idToken": "` + otherTok + `"}}`, failed},
		{"garbage token", `Bearer {"wl_googleRealm": {"idToken": "garbage"}}`, failed},
		{"empty answer", `Bearer {"wl_googleRealm": {}}`, failed},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := newDevice(t, []int{512, 1024, 2048}[i%3])
			cid := e.register(t, app.ID, d)
			resp := e.authorize(t, app.ID, cid, d, tc.authz)
			switch tc.status {
			case 401:
				if ch := challenge(t, resp, fakeaz.GoogleRealm); ch["gClientId"] != "g-client" {
					t.Errorf("challenge %v", ch)
				}
			case 302:
				id, _ := e.tokensFor(t, app.ID, cid, d, codeFrom(t, resp))
				u, _ := id["imf.user"].(map[string]any)
				if u["id"] != "g-42" || u["authBy"] != fakeaz.GoogleRealm || id["sub"] != "wl_googleRealm:g-42:"+cid {
					t.Errorf("id token %v", id)
				}
			case failed:
				if r := wlResultFrom(t, resp)["WL-Authentication-Failure"]; len(r) != 1 || strings.Contains(resp.Header.Get("Location"), "code=") {
					t.Errorf("Location %q, want one realm's WL-Authentication-Failure and no code", resp.Header.Get("Location"))
				}
			default:
				body, _ := io.ReadAll(resp.Body)
				if resp.StatusCode != tc.status {
					t.Errorf("%d %s, want %d", resp.StatusCode, body, tc.status)
				}
				errCode(t, body)
			}
		})
	}
}

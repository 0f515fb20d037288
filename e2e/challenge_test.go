package e2e

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/mcaspec/mcaspec/fakeaz"
	"github.com/mcaspec/mcaspec/fakedevice"
)

// unquotedRealm puts a reverse proxy in front of a target that rewrites its
// challenge to `Bearer realm=imfAuthentication, ...` (no quotes): a
// validator that looks right to a human and to a lenient client.
func unquotedRealm(t *testing.T, targetURL string) string {
	t.Helper()
	u, err := url.Parse(targetURL)
	if err != nil {
		t.Fatal(err)
	}
	p := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: u.Scheme, Host: u.Host})
	p.ModifyResponse = func(r *http.Response) error {
		for i, v := range r.Header.Values("WWW-Authenticate") {
			r.Header["Www-Authenticate"][i] = strings.ReplaceAll(v, `realm="imfAuthentication"`, `realm=imfAuthentication`)
		}
		return nil
	}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return srv.URL + u.RequestURI()
}

// TestUnquotedRealmStrandsDevices: a target whose refusal says
// `Bearer realm=imfAuthentication` (no quotes) strands real devices. Neither
// SDK recognises it (Android AuthorizationHeaderHelper.java, iOS
// MCAAuthorizationManager.swift: they look for `"imfauthentication"` with
// the quotes), so a device holding expired tokens never re-authorizes and a
// fresh device never even registers: the app sees the 401. The same target
// with the quoted realm lets both recover. The rule the catalogue case
// applies (fakedevice.IsAuthChallengeForAll) fails the unquoted answer.
func TestUnquotedRealmStrandsDevices(t *testing.T) {
	t.Parallel()
	for _, platform := range []fakedevice.Platform{fakedevice.PlatformAndroid, fakedevice.PlatformIOS} {
		for _, quoted := range []bool{true, false} {
			name := string(platform) + map[bool]string{true: "/quoted realm", false: "/unquoted realm"}[quoted]
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				ctx := ctxT(t)
				az := newAZ(t)
				app := addApp(t, az, fakeaz.App{})
				ts := newTargets(t, az, app.ID, nil)
				resource := ts.protected()
				if !quoted {
					resource = unquotedRealm(t, resource)
				}

				// A fresh device: its first request goes out bare, as the SDKs' do.
				fresh := newDevice(t, az, app.ID, fakedevice.Config{Platform: platform})
				r := call(t, ctx, fresh, resource)
				if quoted != (r.Status == http.StatusOK) || quoted != (fresh.ClientID() != "") {
					t.Errorf("fresh device: %s, registered %v; want recovered: %v", r, fresh.ClientID() != "", quoted)
				}

				// A device whose tokens have expired (the AZ minted them 2 h late).
				d := newDevice(t, az, app.ID, fakedevice.Config{Platform: platform})
				az.SetClockOffset(-2 * fakeaz.DefaultTokenLifetime)
				if err := d.Login(ctx); err != nil {
					t.Fatal(err)
				}
				az.SetClockOffset(0)
				az.ResetStats()
				r = call(t, ctx, d, resource)
				www := r.Header.Values("WWW-Authenticate")
				reauth := az.Stats().Count(fakeaz.EndpointAuthorization, app.ID)
				if quoted {
					if r.Status != http.StatusOK || reauth != 1 {
						t.Errorf("quoted realm: %s after %d authorizations; want 200 after 1", r, reauth)
					}
					return
				}
				if r.Status != http.StatusUnauthorized || reauth != 0 {
					t.Errorf("unquoted realm: %s after %d authorizations; want the 401 and no authorization", r, reauth)
				}
				if fakedevice.IsAuthChallenge(platform, r.Status, www) || fakedevice.IsAuthChallengeForAll(r.Status, www) {
					t.Errorf("WWW-Authenticate %q recognised as a challenge", www)
				}
				if len(www) == 0 || !strings.Contains(www[0], "realm=imfAuthentication") {
					t.Errorf("precondition: the proxy did not rewrite the challenge: %q", www)
				}
			})
		}
	}
}

package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/mcaspec/mcaspec/fakeaz"
	"github.com/mcaspec/mcaspec/fakeaz/idp/custom"
	"github.com/mcaspec/mcaspec/fakeaz/idp/facebook"
	"github.com/mcaspec/mcaspec/fakeaz/idp/google"
	"github.com/mcaspec/mcaspec/fakedevice"
)

// TestCustomRealmRefused: credentials the custom IdP refuses end the
// authorization step with a WL-Authentication-Failure wl_result (the realm's
// failure handler is called); no code, no tokens.
func TestCustomRealmRefused(t *testing.T) {
	t.Parallel()
	idp := startCustomIdP(t)
	az := newAZ(t)
	app := addApp(t, az, fakeaz.App{Realm: customRealm(idp)})
	for _, tc := range []struct {
		name, user, password, pin string
	}{
		{"wrong password", "alice", "not-alice123", ""},
		{"unknown user", "eve", "eve123", ""},
		{"locked account", "mallory", "mallory123", ""},
		{"wrong PIN", "bob", "bob123", "0000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			handlers, failures := observed(map[string]fakedevice.Handler{
				custom.DefaultRealm: fakedevice.CustomCredentials(tc.user, tc.password).WithPIN(tc.pin)})
			d := newDevice(t, az, app.ID, fakedevice.Config{Handlers: handlers})
			err := d.Login(ctxT(t))
			wantAuthFailure(t, err, d, failures, custom.DefaultRealm, "the identity provider refused the credentials")
			if d.Tokens().Access != "" {
				t.Error("the device holds tokens after a refused login")
			}
		})
	}
	if n := az.Stats().Count(fakeaz.EndpointToken, app.ID); n != 0 {
		t.Errorf("token endpoint called %d times after refused logins, want 0", n)
	}
}

// TestRevokedDevice: after RevokeClient a new login fails at the
// authorization step and a pending code cannot be redeemed; tokens issued
// before stay valid at the target until exp (self-contained JWTs, checked
// offline); other devices are untouched.
func TestRevokedDevice(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	az := newAZ(t)
	app := addApp(t, az, fakeaz.App{})
	ts := newTargets(t, az, app.ID, nil)

	revoked := newDevice(t, az, app.ID, fakedevice.Config{})
	pending := newDevice(t, az, app.ID, fakedevice.Config{})
	other := newDevice(t, az, app.ID, fakedevice.Config{})
	for _, d := range []*fakedevice.Device{revoked, other} {
		if err := d.Login(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := pending.Register(ctx); err != nil {
		t.Fatal(err)
	}
	if err := pending.Authorize(ctx); err != nil { // holds a code, not yet redeemed
		t.Fatal(err)
	}
	live := revoked.AuthorizationHeader()
	want := wantContext(t, revoked)
	for _, d := range []*fakedevice.Device{revoked, pending} {
		if err := az.RevokeClient(app.ID, d.ClientID()); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("new login", func(t *testing.T) {
		err := revoked.Login(ctx)
		wantAZError(t, err, fakedevice.OpAuthorize, http.StatusForbidden, "unauthorized_client",
			fmt.Sprintf("client_id %q has been revoked: register the device again", revoked.ClientID()))
	})
	t.Run("pending code", func(t *testing.T) {
		err := pending.ObtainTokens(ctx)
		wantAZError(t, err, fakedevice.OpToken, http.StatusBadRequest, "unauthorized_client",
			fmt.Sprintf("client_id %q has been revoked: register the device again", pending.ClientID()))
	})
	t.Run("live tokens stay valid until exp", func(t *testing.T) {
		r := get(t, ctx, ts.protected(), live)
		if r.Status != http.StatusOK {
			t.Fatalf("/protected with the revoked device's live tokens: %s", r)
		}
		checkContext(t, "/protected", r.Body, want)
	})
	t.Run("other devices untouched", func(t *testing.T) {
		if err := other.Authorize(ctx); err != nil {
			t.Fatal(err)
		}
		if err := other.ObtainTokens(ctx); err != nil {
			t.Fatal(err)
		}
		if r := call(t, ctx, other, ts.protected()); r.Status != http.StatusOK {
			t.Errorf("/protected: %s", r)
		}
	})
	t.Run("registering again", func(t *testing.T) {
		// The documented way out: a new registration gets a new client id.
		old := revoked.ClientID()
		if err := revoked.Register(ctx); err != nil {
			t.Fatal(err)
		}
		if err := revoked.Login(ctx); err != nil {
			t.Fatal(err)
		}
		if revoked.ClientID() == old {
			t.Errorf("re-registration kept the revoked client id %s", old)
		}
	})
}

// TestRegistrationRefused: a CSR for another bundle id, version or platform
// gets 403 unauthorized_client at clients/instance.
func TestRegistrationRefused(t *testing.T) {
	t.Parallel()
	az := newAZ(t)
	app := addApp(t, az, fakeaz.App{Versions: []string{"1.0", "1.1"}, Platform: fakeaz.PlatformIOS})
	for _, tc := range []struct {
		name string
		cfg  fakedevice.Config
		desc string
	}{
		{"wrong bundle id", fakedevice.Config{BundleID: "com.example.impostor"},
			fmt.Sprintf(`applicationId "com.example.impostor" is not registered for app %s (expected bundle id %q)`, app.ID, bundleID)},
		{"unregistered version", fakedevice.Config{AppVersion: "2.0"},
			fmt.Sprintf(`applicationVersion "2.0" is not registered for app %s (accepted: 1.0, 1.1)`, app.ID)},
		{"wrong platform", fakedevice.Config{Platform: fakedevice.PlatformAndroid},
			`environment "android" does not match the app's platform "ios"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := newDevice(t, az, app.ID, tc.cfg)
			err := d.Login(ctxT(t))
			wantAZError(t, err, fakedevice.OpRegister, http.StatusForbidden, "unauthorized_client", tc.desc)
			if d.ClientID() != "" {
				t.Errorf("refused device got client id %q", d.ClientID())
			}
		})
	}
	if cl, err := az.Clients(app.ID); err != nil || len(cl) != 0 {
		t.Errorf("clients after refused registrations: %v %v, want none", cl, err)
	}
}

// TestCodeRedemption drives the token endpoint by hand with the code of a
// real authorization step: a proof signed with another device's key is
// refused without burning the code, the code cannot be redeemed by another
// client, and a redeemed code cannot be reused.
func TestCodeRedemption(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	az := newAZ(t)
	app := addApp(t, az, fakeaz.App{})
	ts := newTargets(t, az, app.ID, nil)

	rec := &recorder{}
	a := newDevice(t, az, app.ID, fakedevice.Config{HTTPClient: rec.client()})
	b := newDevice(t, az, app.ID, fakedevice.Config{Key: devKey2})
	if err := b.Login(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Register(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Authorize(ctx); err != nil {
		t.Fatal(err)
	}
	code := rec.code(t)

	// Step by step on one code: order matters.
	steps := []struct {
		name, clientID string
		proof          string
		status         int
		errCode, desc  string
	}{
		{"no proof", a.ClientID(), "", http.StatusBadRequest, "invalid_grant",
			`header X-WL-Authenticate is missing: send a JWS over {"code": "<code>"} signed with the device key`},
		{"proof signed with a second device's key", a.ClientID(), proofOf(t, devKey2, code), http.StatusBadRequest, "invalid_grant",
			"X-WL-Authenticate does not prove possession of the registered device key: bad JWS: RS256 signature does not verify with the key: …"},
		{"proof for another code", a.ClientID(), proofOf(t, devKey, code+"x"), http.StatusBadRequest, "invalid_grant",
			`X-WL-Authenticate payload must be {"code": "<the code in the form>"}`},
		{"the code redeemed by the second device", b.ClientID(), proofOf(t, devKey2, code), http.StatusBadRequest, "invalid_grant",
			"the code was issued to another client"},
		{"the right proof (the code was not burnt)", a.ClientID(), proofOf(t, devKey, code), http.StatusOK, "", ""},
		{"the code reused", a.ClientID(), proofOf(t, devKey, code), http.StatusBadRequest, "invalid_grant",
			"the code has already been used (codes are single-use): run the authorization step again"},
	}
	for _, s := range steps {
		r := postToken(t, ctx, az, app.ID, codeForm(s.clientID, code), s.proof)
		if s.status == http.StatusOK {
			if r.Status != http.StatusOK {
				t.Fatalf("%s: %s", s.name, r)
			}
			var tok struct {
				Access string `json:"access_token"`
				ID     string `json:"id_token"`
			}
			if err := json.Unmarshal(r.Body, &tok); err != nil || tok.Access == "" || tok.ID == "" {
				t.Fatalf("%s: token answer %s: %v", s.name, r.Body, err)
			}
			// The tokens redeemed by hand work at the target.
			if r := get(t, ctx, ts.protected(), "Bearer "+tok.Access+" "+tok.ID); r.Status != http.StatusOK {
				t.Errorf("%s: /protected: %s", s.name, r)
			}
			continue
		}
		t.Run(s.name, func(t *testing.T) { wantAZReply(t, r, s.status, s.errCode, s.desc) })
	}

	// The device's own redemption after the hand-made one: the code is gone.
	err := a.ObtainTokens(ctx)
	wantAZError(t, err, fakedevice.OpToken, http.StatusBadRequest, "invalid_grant",
		"the code has already been used (codes are single-use): run the authorization step again")

	// A replay of a device's own token request (same form, same proof) is a reuse too.
	if err := a.Authorize(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.ObtainTokens(ctx); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	form, proof := rec.tokenForm, rec.proof
	rec.mu.Unlock()
	wantAZReply(t, postToken(t, ctx, az, app.ID, form, proof), http.StatusBadRequest, "invalid_grant",
		"the code has already been used (codes are single-use): run the authorization step again")
}

// TestProviderTokenRejected: a Facebook or Google token the provider no
// longer accepts ends the authorization step with a WL-Authentication-Failure
// wl_result for the realm.
func TestProviderTokenRejected(t *testing.T) {
	t.Parallel()
	type setup func(t *testing.T) (fakeaz.Realm, map[string]fakedevice.Handler)
	fbExpired := func(t *testing.T) (fakeaz.Realm, map[string]fakedevice.Handler) {
		clock := &fakeClock{}
		clock.ns.Store(time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC).UnixNano())
		fb := startFacebook(t, facebook.WithClock(clock.Now))
		tok := fb.IssueToken(fbAppID, facebook.User{ID: "10001", Name: "Alice"}, time.Hour)
		clock.Advance(time.Hour + time.Second) // the user token expires on the provider's clock
		return facebookRealm(fb), map[string]fakedevice.Handler{
			fakedevice.RealmFacebook: fakedevice.Facebook(providerToken(t, fbAppID, func() (string, error) { return tok, nil }))}
	}
	fbRevoked := func(t *testing.T) (fakeaz.Realm, map[string]fakedevice.Handler) {
		fb := startFacebook(t)
		tok := fb.IssueToken(fbAppID, facebook.User{ID: "10001", Name: "Alice"}, time.Hour)
		if !fb.Revoke(tok) {
			t.Fatal("Revoke: unknown token")
		}
		return facebookRealm(fb), map[string]fakedevice.Handler{
			fakedevice.RealmFacebook: fakedevice.Facebook(providerToken(t, fbAppID, func() (string, error) { return tok, nil }))}
	}
	fbOtherApp := func(t *testing.T) (fakeaz.Realm, map[string]fakedevice.Handler) {
		fb := startFacebook(t, facebook.WithApp("999", "other-secret"))
		tok := fb.IssueToken("999", facebook.User{ID: "10001", Name: "Alice"}, time.Hour)
		return facebookRealm(fb), map[string]fakedevice.Handler{
			fakedevice.RealmFacebook: fakedevice.Facebook(providerToken(t, fbAppID, func() (string, error) { return tok, nil }))}
	}
	googleRevoked := func(platform fakedevice.Platform) setup {
		return func(t *testing.T) (fakeaz.Realm, map[string]fakedevice.Handler) {
			g := startGoogle(t)
			issue := g.IssueIDToken
			if platform == fakedevice.PlatformAndroid {
				issue = g.IssueAccessToken
			}
			tok, err := issue(googleClient, google.User{Sub: "1101", Email: "alice@gmail.example"}, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if !g.Revoke(tok) {
				t.Fatal("Revoke: unknown token")
			}
			return googleRealm(g), map[string]fakedevice.Handler{
				fakedevice.RealmGoogle: fakedevice.Google(providerToken(t, googleClient, func() (string, error) { return tok, nil }), platform)}
		}
	}
	for _, tc := range []struct {
		name     string
		platform fakedevice.Platform
		setup    setup
		desc     string
	}{
		{"facebook expired", fakedevice.PlatformIOS, fbExpired,
			"Facebook rejected the token (expired, revoked or issued for another app): idp: provider rejected the token: facebook: Error validating access token: Session has expired on Mon, 01 Jan 2024 13:00:00 UTC. The current time is Mon, 01 Jan 2024 13:00:01 UTC."},
		{"facebook revoked", fakedevice.PlatformAndroid, fbRevoked,
			"Facebook rejected the token (expired, revoked or issued for another app): idp: provider rejected the token: facebook: Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons."},
		{"facebook token of another app", fakedevice.PlatformIOS, fbOtherApp,
			"Facebook rejected the token (expired, revoked or issued for another app): idp: provider rejected the token: facebook: token was issued for app \"999\", not \"" + fbAppID + "\""},
		{"google revoked id token", fakedevice.PlatformIOS, googleRevoked(fakedevice.PlatformIOS),
			"Google rejected the token (expired, revoked or issued for another app): idp: provider rejected the token: google tokeninfo refused the id_token: Token has been revoked"},
		{"google revoked access token", fakedevice.PlatformAndroid, googleRevoked(fakedevice.PlatformAndroid),
			"Google rejected the token (expired, revoked or issued for another app): idp: provider rejected the token: google tokeninfo refused the access_token: Token has been revoked"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			realm, handlers := tc.setup(t)
			az := newAZ(t)
			app := addApp(t, az, fakeaz.App{Realm: realm})
			realmName := fakedevice.RealmFacebook
			if _, ok := handlers[fakedevice.RealmGoogle]; ok {
				realmName = fakedevice.RealmGoogle
			}
			handlers, failures := observed(handlers)
			d := newDevice(t, az, app.ID, fakedevice.Config{Platform: tc.platform, Handlers: handlers})
			err := d.Login(ctxT(t))
			wantAuthFailure(t, err, d, failures, realmName, tc.desc)
			t.Logf("the user sees: %v", err)
		})
	}
}

// TestExpiredAccessToken: a token whose exp has passed is refused by the
// target with 401 invalid_token, whether the AZ minted it late (clock
// offset) or time moved on (a clock shared by AZ, target and device).
func TestExpiredAccessToken(t *testing.T) {
	t.Parallel()
	const lifetime = time.Hour
	for _, tc := range []struct {
		name string
		// prepare runs before the login; expire runs after it.
		prepare func(az *fakeaz.Server)
		expire  func(az *fakeaz.Server, clock *fakeClock)
	}{
		{"AZ clock offset: minted already expired",
			func(az *fakeaz.Server) { az.SetClockOffset(-lifetime - time.Minute) },
			func(*fakeaz.Server, *fakeClock) {}},
		{"AZ and target clocks move past exp",
			func(*fakeaz.Server) {},
			func(_ *fakeaz.Server, clock *fakeClock) { clock.Advance(lifetime) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := ctxT(t)
			clock := newFakeClock()
			az := newAZ(t, fakeaz.WithClock(clock.Now), fakeaz.WithTokenLifetime(lifetime))
			app := addApp(t, az, fakeaz.App{})
			ts := newTargets(t, az, app.ID, clock.Now)
			d := newDevice(t, az, app.ID, fakedevice.Config{Clock: clock.Now})
			tc.prepare(az)
			if err := d.Login(ctx); err != nil {
				t.Fatal(err)
			}
			if tok := d.Tokens(); tok.ExpiresIn != lifetime {
				t.Errorf("expires_in %v, want %v", tok.ExpiresIn, lifetime)
			}
			tc.expire(az, clock)
			r := get(t, ctx, ts.protected(), d.AuthorizationHeader())
			wantTargetError(t, r, http.StatusUnauthorized, invalidTokenC, "invalid_token", "access token: expired")
			// /propagate refuses it before forwarding anything.
			r = get(t, ctx, ts.propagate(), d.AuthorizationHeader())
			wantTargetError(t, r, http.StatusUnauthorized, invalidTokenC, "invalid_token", "access token: expired")
		})
	}
}

// TestCallReauthorizesOnce: when the target answers 401 naming
// imfAuthentication, Device.Call runs the authorization step and the code
// redemption again and retries the request exactly once.
func TestCallReauthorizesOnce(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// fixAZ says whether the AZ's clock is fixed before the retry, so the
		// second tokens are valid.
		fixAZ      bool
		wantStatus int
	}{
		{"second tokens valid", true, http.StatusOK},
		{"second tokens expired too", false, http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := ctxT(t)
			az := newAZ(t)
			app := addApp(t, az, fakeaz.App{})
			ts := newTargets(t, az, app.ID, nil)
			d := newDevice(t, az, app.ID, fakedevice.Config{})

			// The AZ mints tokens that are already expired; the device
			// believes them valid for an hour (its own clock + expires_in).
			az.SetClockOffset(-2 * fakeaz.DefaultTokenLifetime)
			if err := d.Login(ctx); err != nil {
				t.Fatal(err)
			}
			first := d.Tokens().Access
			if tc.fixAZ {
				az.SetClockOffset(0)
			}
			az.ResetStats()
			r := call(t, ctx, d, ts.protected())
			st := az.Stats()
			if r.Status != tc.wantStatus {
				t.Fatalf("Call: %s, want %d", r, tc.wantStatus)
			}
			if tc.wantStatus == http.StatusOK {
				checkContext(t, "/protected after re-login", r.Body, wantContext(t, d))
			} else {
				wantTargetError(t, r, http.StatusUnauthorized, invalidTokenC, "invalid_token", "access token: expired")
			}
			if tc.fixAZ && d.Tokens().Access == first {
				t.Error("the device still holds its first access token")
			}
			if a, tk, reg := st.Count(fakeaz.EndpointAuthorization, app.ID), st.Count(fakeaz.EndpointToken, app.ID), st.Count(fakeaz.EndpointRegister, app.ID); a != 1 || tk != 1 || reg != 0 {
				t.Errorf("during Call: %d authorization, %d token, %d registration requests; want 1, 1, 0 (one re-authorization, same registration)", a, tk, reg)
			}
			if tm := d.Timings(); tm.Requests != 3+1+2+1 { // login, first call, re-authorization, retry
				t.Errorf("device sent %d requests, want 7", tm.Requests)
			}
		})
	}
}

package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/mcaspec/mcaspec/fakeaz"
	"github.com/mcaspec/mcaspec/fakeaz/idp/custom"
	"github.com/mcaspec/mcaspec/fakeaz/idp/facebook"
	"github.com/mcaspec/mcaspec/fakeaz/idp/google"
	"github.com/mcaspec/mcaspec/fakedevice"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

// chainCase is one way of logging in: the realm of the app and the device's answers.
type chainCase struct {
	name     string
	platform fakedevice.Platform
	// setup starts the IdP the realm needs and returns the realm, the
	// device's challenge handlers, and the imf.user the id token must carry
	// (nil: anonymous).
	setup func(t *testing.T) (fakeaz.Realm, map[string]fakedevice.Handler, *wantUser)
}

type wantUser struct {
	id, authBy, displayName, email string
}

func anonymousCase(platform fakedevice.Platform) chainCase {
	return chainCase{"anonymous/" + string(platform), platform, func(*testing.T) (fakeaz.Realm, map[string]fakedevice.Handler, *wantUser) {
		return fakeaz.Realm{}, nil, nil
	}}
}

func customCase(name string, platform fakedevice.Platform, user, password, pin string, want wantUser) chainCase {
	return chainCase{name, platform, func(t *testing.T) (fakeaz.Realm, map[string]fakedevice.Handler, *wantUser) {
		idp := startCustomIdP(t)
		return customRealm(idp), map[string]fakedevice.Handler{
			custom.DefaultRealm: fakedevice.CustomCredentials(user, password).WithPIN(pin),
		}, &want
	}}
}

func facebookCase(platform fakedevice.Platform) chainCase {
	return chainCase{"facebook/" + string(platform), platform, func(t *testing.T) (fakeaz.Realm, map[string]fakedevice.Handler, *wantUser) {
		fb := startFacebook(t)
		tok := fb.IssueToken(fbAppID, facebook.User{ID: "10001", Name: "Alice Facebook", Email: "alice@fb.example"}, time.Hour)
		return facebookRealm(fb), map[string]fakedevice.Handler{
			fakedevice.RealmFacebook: fakedevice.Facebook(providerToken(t, fbAppID, func() (string, error) { return tok, nil })),
		}, &wantUser{"10001", fakeaz.FacebookRealm, "Alice Facebook", "alice@fb.example"}
	}}
}

// googleCase: iOS answers {"idToken": <JWT>}, Android {"accessToken": "ya29..."}.
func googleCase(platform fakedevice.Platform) chainCase {
	return chainCase{"google/" + string(platform), platform, func(t *testing.T) (fakeaz.Realm, map[string]fakedevice.Handler, *wantUser) {
		g := startGoogle(t)
		u := google.User{Sub: "1101", Email: "alice@gmail.example", Name: "Alice Google"}
		issue := g.IssueIDToken
		if platform == fakedevice.PlatformAndroid {
			issue = g.IssueAccessToken
		}
		// tokeninfo of an access token has no name (as Google's): the
		// display name falls back to the email.
		want := wantUser{"1101", fakeaz.GoogleRealm, "Alice Google", "alice@gmail.example"}
		if platform == fakedevice.PlatformAndroid {
			want.displayName = u.Email
		}
		tok, err := issue(googleClient, u, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return googleRealm(g), map[string]fakedevice.Handler{
			fakedevice.RealmGoogle: fakedevice.Google(providerToken(t, googleClient, func() (string, error) { return tok, nil }), platform),
		}, &want
	}}
}

var chainCases = []chainCase{
	anonymousCase(fakedevice.PlatformIOS),
	anonymousCase(fakedevice.PlatformAndroid),
	customCase("custom/one step/"+string(fakedevice.PlatformIOS), fakedevice.PlatformIOS, "alice", "alice123", "",
		wantUser{"alice", custom.DefaultRealm, "Alice Example", "alice@example.com"}),
	customCase("custom/password then PIN/"+string(fakedevice.PlatformAndroid), fakedevice.PlatformAndroid, "bob", "bob123", "4321",
		wantUser{"bob", custom.DefaultRealm, "Bob Example", "bob@example.com"}),
	facebookCase(fakedevice.PlatformIOS),
	facebookCase(fakedevice.PlatformAndroid),
	googleCase(fakedevice.PlatformIOS),
	googleCase(fakedevice.PlatformAndroid),
}

// TestChain runs device → fakeaz (each realm) → target /protected →
// /propagate to a second target → /service-call to the second target.
func TestChain(t *testing.T) {
	t.Parallel()
	for _, tc := range chainCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := ctxT(t)
			realm, handlers, user := tc.setup(t)
			az := newAZ(t)
			app := addApp(t, az, fakeaz.App{Realm: realm})
			ts := newTargets(t, az, app.ID, nil)
			d := newDevice(t, az, app.ID, fakedevice.Config{Platform: tc.platform, Handlers: handlers})

			if err := d.Login(ctx); err != nil {
				t.Fatalf("Login: %v", err)
			}
			c, err := d.IDTokenClaims()
			if err != nil {
				t.Fatal(err)
			}

			// The id token says who logged in on which device and app.
			wantSub := "::" + d.ClientID()
			if user != nil {
				wantSub = user.authBy + ":" + user.id + ":" + d.ClientID()
				switch {
				case c.User == nil:
					t.Errorf("id token has no imf.user, want %+v", *user)
				case c.User.ID != user.id || c.User.AuthBy != user.authBy || c.User.DisplayName != user.displayName ||
					c.User.Attributes["email"] != user.email:
					t.Errorf("imf.user %+v, want %+v", *c.User, *user)
				}
			} else if c.User != nil {
				t.Errorf("anonymous login: id token has imf.user %+v", *c.User)
			}
			if c.Sub != wantSub || c.Iss != tokenfactory.MCAIssuer(az.URL()) || c.Aud != app.ID {
				t.Errorf("id token sub %q iss %q aud %q, want %q %q %q", c.Sub, c.Iss, c.Aud, wantSub, tokenfactory.MCAIssuer(az.URL()), app.ID)
			}
			if c.Device.ID != d.DeviceID() || c.Application.ID != bundleID || c.Application.Version != fakedevice.DefaultAppVersion {
				t.Errorf("imf.device %+v imf.application %+v, want device %s app %s %s",
					c.Device, c.Application, d.DeviceID(), bundleID, fakedevice.DefaultAppVersion)
			}
			if wantOS := map[fakedevice.Platform]string{fakedevice.PlatformIOS: "iOS", fakedevice.PlatformAndroid: "Android"}[tc.platform]; c.Device.Platform != wantOS {
				t.Errorf("imf.device.platform %q, want %q", c.Device.Platform, wantOS)
			}
			want := wantContext(t, d)

			// 0. Without the header the target challenges the client.
			wantTargetError(t, get(t, ctx, ts.protected(), ""), http.StatusUnauthorized, imfChallenge,
				"unauthorized", "no Authorization header")

			// 1. /protected: the security context is the id token's.
			r := call(t, ctx, d, ts.protected())
			if r.Status != http.StatusOK {
				t.Fatalf("/protected: %s", r)
			}
			checkContext(t, "/protected", r.Body, want)

			// 2. /propagate: the second target accepts the forwarded header
			// and sees the same context.
			r = call(t, ctx, d, ts.propagate())
			ds := parseDownstream(t, r)
			if r.Status != http.StatusOK || ds.Status != http.StatusOK {
				t.Fatalf("/propagate: %s", r)
			}
			checkContext(t, "/propagate downstream", []byte(ds.Body), want)

			// 3. /service-call: the second target accepts the first one's
			// client-credentials token; the subject is the service client.
			r = call(t, ctx, d, ts.serviceCall())
			ds = parseDownstream(t, r)
			if r.Status != http.StatusOK || ds.Status != http.StatusOK {
				t.Fatalf("/service-call: %s", r)
			}
			checkContext(t, "/service-call downstream", []byte(ds.Body), map[string]any{
				"imf.sub": svcClientID, "imf.user": map[string]any{}, "imf.device": map[string]any{}, "imf.application": map[string]any{}})

			// One login, no silent re-login by Call, one service token.
			st := az.Stats()
			if n := st.Count(fakeaz.EndpointToken, app.ID); n != 2 {
				t.Errorf("token endpoint called %d times, want 2 (device code redemption + service token)", n)
			}
			if n := st.Count(fakeaz.EndpointRegister, app.ID); n != 1 {
				t.Errorf("registration called %d times, want 1", n)
			}
		})
	}
}

package fakedevice_test

// Devices against the real fakeaz (and the custom IdP simulator): the two
// were written separately from the same protocol.md, so this checks they
// agree on the wire.

import (
	"crypto/rsa"
	"errors"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v3/jws/jwsbb"
	"github.com/mcaspec/mcaspec/fakeaz"
	"github.com/mcaspec/mcaspec/fakeaz/idp/custom"
	"github.com/mcaspec/mcaspec/fakedevice"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

func startFakeAZ(t *testing.T, apps ...fakeaz.App) (*fakeaz.Server, []fakeaz.App) {
	t.Helper()
	keys(t)
	s, err := fakeaz.New(fakeaz.WithKeyGen(func() (*rsa.PrivateKey, error) { return azKey, nil }))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	var out []fakeaz.App
	for _, a := range apps {
		got, err := s.AddApp(a)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, got)
	}
	return s, out
}

func verifyAZToken(t *testing.T, pub *rsa.PublicKey, tok string) {
	t.Helper()
	seg := strings.Split(tok, ".")
	if len(seg) != 3 {
		t.Fatalf("token has %d segments", len(seg))
	}
	raw, err := tokenfactory.B64.DecodeString(seg[2])
	if err != nil {
		t.Fatal(err)
	}
	if err := jwsbb.Verify(pub, "RS256", []byte(seg[0]+"."+seg[1]), raw); err != nil {
		t.Errorf("token does not verify with the app's public key: %v", err)
	}
}

func TestFakeAZAnonymous(t *testing.T) {
	t.Parallel()
	s, apps := startFakeAZ(t, fakeaz.App{BundleID: testBundle})
	app := apps[0]
	pub, err := s.PublicKey(app.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		platform fakedevice.Platform
		quirks   *fakedevice.Quirks
	}{
		{"ios well-behaved", fakedevice.PlatformIOS, &fakedevice.Quirks{}},
		{"android well-behaved", fakedevice.PlatformAndroid, &fakedevice.Quirks{}},
		{"ios SDK", fakedevice.PlatformIOS, nil},
		{"android SDK", fakedevice.PlatformAndroid, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			key := devKey
			if tc.platform == fakedevice.PlatformIOS {
				key = quirkKey // exercises '+' and '\/' in jpk
			}
			d := newDevice(t, fakedevice.Config{ServerURL: s.URL(), AppID: app.ID, BundleID: testBundle,
				Platform: tc.platform, Key: key, Quirks: tc.quirks})
			ctx := ctxT(t)
			if err := d.Login(ctx); err != nil {
				t.Fatal(err)
			}
			tok := d.Tokens()
			verifyAZToken(t, pub, tok.Access)
			verifyAZToken(t, pub, tok.ID)
			c, err := d.IDTokenClaims()
			if err != nil {
				t.Fatal(err)
			}
			if c.Iss != tokenfactory.MCAIssuer(s.URL()) || c.Aud != app.ID || c.Sub != "::"+d.ClientID() || c.User != nil ||
				c.Device.ID != d.DeviceID() || c.Application.ID != testBundle {
				t.Errorf("claims %+v", c)
			}
			// A second authorization with the same registration works too.
			if err := d.Authorize(ctx); err != nil {
				t.Fatal(err)
			}
			if err := d.ObtainTokens(ctx); err != nil {
				t.Fatal(err)
			}
			if err := d.Logout(ctx); err != nil {
				t.Fatal(err)
			}
			clients, err := s.Clients(app.ID)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, cl := range clients {
				found = found || (cl.ClientID == d.ClientID() && cl.DeviceID == d.DeviceID() && cl.PublicKey.Equal(d.PublicKey()))
			}
			if !found {
				t.Errorf("fakeaz does not list client %s with the device's key", d.ClientID())
			}
		})
	}
}

func TestFakeAZFleetAndRevocation(t *testing.T) {
	t.Parallel()
	s, apps := startFakeAZ(t, fakeaz.App{BundleID: testBundle})
	app := apps[0]
	res, err := fakedevice.RunFleet(ctxT(t), fakedevice.FleetConfig{
		N: 30, Concurrency: 4,
		NewConfig: func(i int) fakedevice.Config {
			c := fakedevice.Config{ServerURL: s.URL(), AppID: app.ID, BundleID: testBundle, Key: devKey}
			if i%2 == 1 {
				c.Platform = fakedevice.PlatformAndroid
			}
			return c
		},
	})
	if err != nil || res.Succeeded != 30 {
		t.Fatalf("fleet: %v\n%s", err, res)
	}

	// A revoked device can no longer obtain tokens; the error says where.
	d := newDevice(t, fakedevice.Config{ServerURL: s.URL(), AppID: app.ID, BundleID: testBundle, Key: devKey})
	ctx := ctxT(t)
	if err := d.Login(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeClient(app.ID, d.ClientID()); err != nil {
		t.Fatal(err)
	}
	err = d.Authorize(ctx)
	if err == nil {
		err = d.ObtainTokens(ctx)
	}
	var he *fakedevice.HTTPError
	if !errors.As(err, &he) || he.Status < 400 || he.Status > 499 {
		t.Errorf("revoked device: %v, want a 4xx HTTPError", err)
	}
}

func TestFakeAZCustomIdP(t *testing.T) {
	t.Parallel()
	idp, err := custom.New(custom.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if err := idp.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = idp.Close() })
	s, apps := startFakeAZ(t, fakeaz.App{BundleID: testBundle,
		Realm: fakeaz.Realm{Kind: fakeaz.RealmCustom, Name: custom.DefaultRealm, IdPURL: idp.URL()}})
	app := apps[0]
	for _, tc := range []struct {
		name, user, password, pin string
		wantErr                   bool
	}{
		{"one step", "alice", "alice123", "", false},
		{"password then PIN", "bob", "bob123", "4321", false},
		{"wrong password", "alice", "nope", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := newDevice(t, fakedevice.Config{ServerURL: s.URL(), AppID: app.ID, BundleID: testBundle, Key: devKey,
				Handlers: map[string]fakedevice.Handler{custom.DefaultRealm: fakedevice.CustomCredentials(tc.user, tc.password).WithPIN(tc.pin)}})
			err := d.Login(ctxT(t))
			if tc.wantErr {
				if err == nil || !strings.HasPrefix(fakedevice.ErrorKind(err), "authorize/") {
					t.Errorf("Login: %v (%s), want an authorization failure", err, fakedevice.ErrorKind(err))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c, err := d.IDTokenClaims()
			if err != nil {
				t.Fatal(err)
			}
			if c.User == nil || c.User.ID != tc.user || c.User.AuthBy != custom.DefaultRealm ||
				c.Sub != custom.DefaultRealm+":"+tc.user+":"+d.ClientID() {
				t.Errorf("claims %+v user %+v", c, c.User)
			}
		})
	}
}

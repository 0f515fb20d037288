package fakeaz_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mcaspec/mcaspec/fakeaz"
	"github.com/mcaspec/mcaspec/fakeaz/adminclient"
)

// TestAdminToken: on every interface (0.0.0.0:0, dialled through 127.0.0.1) the admin API
// answers 401 without the secret or with another one and changes nothing; with it, it works.
func TestAdminToken(t *testing.T) {
	t.Parallel()
	const secret = "s3cret-admin"
	for _, listen := range []string{"0.0.0.0:0", "127.0.0.1:0"} {
		t.Run(listen, func(t *testing.T) {
			t.Parallel()
			s, err := fakeaz.New(fakeaz.WithKeyGen(keyGen(t)), fakeaz.WithAdminToken(secret))
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Start(listen); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			if !strings.HasPrefix(s.AdminURL(), "http://127.0.0.1:") {
				t.Fatalf("AdminURL %s, want a loopback URL", s.AdminURL())
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			hc := &http.Client{Timeout: 10 * time.Second}
			for _, tc := range []struct{ name, token, wantAuth string }{
				{"no token", "", `Bearer realm="fakeaz admin"`},
				{"wrong token", "not-the-secret", `Bearer realm="fakeaz admin", error="invalid_token"`},
				{"secret as prefix", secret + "x", `Bearer realm="fakeaz admin", error="invalid_token"`},
			} {
				c := adminclient.New(s.AdminURL(), tc.token, hc)
				_, err := c.AddApp(ctx, fakeaz.App{BundleID: bundle})
				var ae *adminclient.AdminError
				if !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized || ae.Code != "unauthorized" {
					t.Errorf("%s: AddApp: %v, want 401 unauthorized", tc.name, err)
				}
				if err := c.SetClockOffset(ctx, time.Hour); err == nil {
					t.Errorf("%s: SetClockOffset succeeded", tc.name)
				}
				req, _ := http.NewRequest(http.MethodGet, s.AdminURL()+"/stats", nil)
				if tc.token != "" {
					req.Header.Set("Authorization", "Bearer "+tc.token)
				}
				resp, body := do(t, hc, req)
				if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != tc.wantAuth || errCode(t, body) != "unauthorized" {
					t.Errorf("%s: GET stats: %d %q %s, want 401 with WWW-Authenticate %q", tc.name, resp.StatusCode, resp.Header.Get("WWW-Authenticate"), body, tc.wantAuth)
				}
			}
			if n := len(s.Apps()); n != 0 || s.ClockOffset() != 0 {
				t.Errorf("after refused calls: %d apps, clock offset %v; want nothing changed", n, s.ClockOffset())
			}
			c := adminclient.New(s.AdminURL(), secret, hc)
			app, err := c.AddApp(ctx, fakeaz.App{BundleID: bundle})
			if err != nil {
				t.Fatalf("with the secret: %v", err)
			}
			if _, err := c.MintToken(ctx, app.ID, adminclient.TokenRequest{}); err != nil {
				t.Errorf("with the secret: MintToken: %v", err)
			}
			// The AZ endpoints themselves need no admin token.
			resp, body := get(t, hc, s.AppURL(app.ID)+"/"+fakeaz.EndpointPublicKey, nil)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("publickey: %d %s", resp.StatusCode, body)
			}
		})
	}
}

// TestAdminExposure: an admin API without a token is refused off loopback, unless it has a
// loopback listener of its own.
func TestAdminExposure(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, listen string
		opts         []fakeaz.Option
		wantErr      bool
	}{
		{"every interface", "0.0.0.0:0", nil, true},
		{"empty host", ":0", nil, true},
		{"ipv6 every interface", "[::]:0", nil, true},
		{"admin listener on every interface", "127.0.0.1:0", []fakeaz.Option{fakeaz.WithAdminListen("0.0.0.0:0")}, true},
		{"loopback", "127.0.0.1:0", nil, false},
		{"localhost", "localhost:0", nil, false},
		{"every interface, admin on loopback", "0.0.0.0:0", []fakeaz.Option{fakeaz.WithAdminListen("127.0.0.1:0")}, false},
		{"every interface with a token", "0.0.0.0:0", []fakeaz.Option{fakeaz.WithAdminToken("x")}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := fakeaz.New(append([]fakeaz.Option{fakeaz.WithKeyGen(keyGen(t))}, tc.opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			err = s.Start(tc.listen)
			if tc.wantErr {
				if !errors.Is(err, fakeaz.ErrAdminExposed) || !strings.Contains(err.Error(), "--admin-token") || !strings.Contains(err.Error(), "--admin-listen") {
					t.Errorf("Start: %v, want ErrAdminExposed naming --admin-token and --admin-listen", err)
				}
				if s.Addr() != "" {
					t.Errorf("refused server listens on %s", s.Addr())
				}
				return
			}
			if err != nil {
				t.Fatalf("Start: %v", err)
			}
		})
	}
	if _, err := fakeaz.New(fakeaz.WithAdminToken("")); err == nil {
		t.Error("WithAdminToken(\"\") accepted")
	}
}

// TestAdminListen: with its own listener the admin API answers there, not on the main one.
func TestAdminListen(t *testing.T) {
	t.Parallel()
	s, err := fakeaz.New(fakeaz.WithKeyGen(keyGen(t)), fakeaz.WithAdminListen(""))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start("0.0.0.0:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if s.AdminAddr() == s.Addr() || !strings.HasPrefix(s.AdminAddr(), "127.0.0.1:") {
		t.Fatalf("admin on %s, server on %s: want a loopback admin listener of its own", s.AdminAddr(), s.Addr())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	hc := &http.Client{Timeout: 10 * time.Second}
	app, err := adminclient.New(s.AdminURL(), "", hc).AddApp(ctx, fakeaz.App{BundleID: bundle})
	if err != nil {
		t.Fatal(err)
	}
	main := strings.TrimSuffix(s.URL(), fakeaz.BasePath)
	if resp, body := get(t, hc, main+"/admin/apps", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("admin API on the main listener: %d %s, want 404", resp.StatusCode, body)
	}
	if resp, body := get(t, hc, strings.TrimSuffix(s.AdminURL(), "/admin")+fakeaz.AppsPath+app.ID+"/"+fakeaz.EndpointPublicKey, nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("AZ endpoint on the admin listener: %d %s, want 404", resp.StatusCode, body)
	}
	if resp, body := get(t, hc, s.AppURL(app.ID)+"/"+fakeaz.EndpointPublicKey, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("AZ endpoint on the main listener: %d %s", resp.StatusCode, body)
	}
}

package fakedevice_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/mcaspec/mcaspec/fakedevice"
)

// iOS wipes its registration and registers again on the first 400 from the
// authorization endpoint, and never calls back on a second
// (Source/mca/internal/AuthorizationProcessManager.swift lines 149-158);
// Android just fails.
func TestAuthorization400(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		platform  fakedevice.Platform
		times     int32
		wantErr   error
		wantRegs  int
		wantHTTP  bool
		wantFresh bool // a new clientId after the login
	}{
		{fakedevice.PlatformIOS, 1, nil, 2, false, true},
		{fakedevice.PlatformIOS, 2, fakedevice.ErrNoCallback, 2, true, true},
		{fakedevice.PlatformAndroid, 1, nil, 1, true, false},
	} {
		t.Run(string(tc.platform), func(t *testing.T) {
			t.Parallel()
			az := newAZ(t, anonymous)
			cfg := az.config()
			cfg.Platform = tc.platform
			d := newDevice(t, cfg)
			ctx := ctxT(t)
			if err := d.Register(ctx); err != nil {
				t.Fatal(err)
			}
			first := d.ClientID()
			az.failPath, az.failStatus, az.failBody, az.failLimit = "authorization", 400, `{"error":"invalid_request"}`, true
			az.failTimes.Store(tc.times)
			err := d.Login(ctx)
			var he *fakedevice.HTTPError
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) || tc.wantHTTP != errors.As(err, &he) || tc.wantErr == nil && !tc.wantHTTP && err != nil {
				t.Fatalf("Login: %v; want %v (HTTP error: %v)", err, tc.wantErr, tc.wantHTTP)
			}
			az.mu.Lock()
			regs := len(az.csrs)
			az.mu.Unlock()
			if regs != tc.wantRegs || (d.ClientID() != first) != tc.wantFresh {
				t.Errorf("%d registrations, clientId changed %v; want %d, %v", regs, d.ClientID() != first, tc.wantRegs, tc.wantFresh)
			}
		})
	}
}

// wl_result reaches the realm's handlers: handleSuccess on success; on a
// failure Android stops, iOS still takes the code
// (AuthorizationRequestManager: Android .java lines 350-388, iOS .swift lines 346-389).
func TestWLResultHandlers(t *testing.T) {
	t.Parallel()
	enc := func(v string) string { return url.QueryEscape(v) }
	for _, tc := range []struct {
		name        string
		platform    fakedevice.Platform
		wl          string
		wantErr     error
		wantSuccess string
		wantFailure string
	}{
		{"success", fakedevice.PlatformAndroid, `{"WL-Authentication-Success":{"r":{"userId":"u1"}}}`, nil, `{"userId":"u1"}`, ""},
		{"success", fakedevice.PlatformIOS, `{"WL-Authentication-Success":{"r":{"userId":"u1"}}}`, nil, `{"userId":"u1"}`, ""},
		{"failure with a code", fakedevice.PlatformAndroid, `{"WL-Authentication-Failure":{"r":{"reason":"no"}}}`, fakedevice.ErrAuthFailure, "", `{"reason":"no"}`},
		{"failure with a code", fakedevice.PlatformIOS, `{"WL-Authentication-Failure":{"r":{"reason":"no"}}}`, nil, "", `{"reason":"no"}`},
		{"key in another case", fakedevice.PlatformAndroid, `{"wl-authentication-success":{"r":{}}}`, nil, "", ""},
		{"key in another case", fakedevice.PlatformIOS, `{"wl-authentication-success":{"r":{}}}`, nil, `{}`, ""},
	} {
		t.Run(string(tc.platform)+"/"+tc.name, func(t *testing.T) {
			t.Parallel()
			az := newAZ(t, anonymous)
			az.location = func(code string) string { return "http://localhost?code=" + code + "&wl_result=" + enc(tc.wl) }
			var mu sync.Mutex
			var success, failure string
			cfg := az.config()
			cfg.Platform = tc.platform
			cfg.Handlers = map[string]fakedevice.Handler{"r": fakedevice.Observed{
				OnSuccess: func(_ context.Context, _ string, d json.RawMessage) { mu.Lock(); success = string(d); mu.Unlock() },
				OnFailure: func(_ context.Context, _ string, d json.RawMessage) { mu.Lock(); failure = string(d); mu.Unlock() },
			}}
			d := newDevice(t, cfg)
			err := d.Login(ctxT(t))
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("Login: %v, want %v", err, tc.wantErr)
			}
			mu.Lock()
			defer mu.Unlock()
			if success != tc.wantSuccess || failure != tc.wantFailure {
				t.Errorf("handlers got success %q failure %q, want %q %q", success, failure, tc.wantSuccess, tc.wantFailure)
			}
			if d.AuthResult() == nil || d.AuthResult().Raw != tc.wl {
				t.Errorf("AuthResult %+v", d.AuthResult())
			}
		})
	}
}

// Redirect statuses: okhttp's isRedirect on Android (300, 301, 302, 303,
// 307, 308), 300..<399 on iOS.
func TestRedirectStatus(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		platform fakedevice.Platform
		status   int
		ok       bool
	}{
		{fakedevice.PlatformAndroid, 303, true},
		{fakedevice.PlatformAndroid, 308, true},
		{fakedevice.PlatformAndroid, 304, false},
		{fakedevice.PlatformAndroid, 399, false},
		{fakedevice.PlatformIOS, 304, true},
		{fakedevice.PlatformIOS, 399, false},
	} {
		t.Run(string(tc.platform)+"/"+http.StatusText(tc.status), func(t *testing.T) {
			t.Parallel()
			az := newAZ(t, anonymous)
			cfg := az.config()
			cfg.Platform = tc.platform
			d := newDevice(t, cfg)
			ctx := ctxT(t)
			if err := d.Register(ctx); err != nil {
				t.Fatal(err)
			}
			az.redirectStatus = tc.status // the code redirect, Location included, with this status
			err := d.Authorize(ctx)
			if tc.ok != (err == nil) || (!tc.ok && !errors.Is(err, fakedevice.ErrBadResponse)) {
				t.Errorf("Authorize after %d: %v, want ok %v", tc.status, err, tc.ok)
			}
		})
	}
}

// Both SDKs need the id_token (Android getString throws; iOS saves nothing).
func TestTokenAnswerWithoutIDToken(t *testing.T) {
	t.Parallel()
	az := newAZ(t, anonymous)
	az.noIDToken = true
	d := newDevice(t, az.config())
	err := d.Login(ctxT(t))
	if !errors.Is(err, fakedevice.ErrBadResponse) || d.Tokens().Access != "" {
		t.Errorf("Login: %v, tokens %+v; want ErrBadResponse and no tokens", err, d.Tokens())
	}
}

// Both SDKs clear the tokens before sending logout (MCAAuthorizationManager.logout).
func TestLogoutClearsFirst(t *testing.T) {
	t.Parallel()
	az := newAZ(t, anonymous)
	d := newDevice(t, az.config())
	ctx := ctxT(t)
	if err := d.Login(ctx); err != nil {
		t.Fatal(err)
	}
	az.failPath, az.failStatus = "logout", http.StatusInternalServerError
	if err := d.Logout(ctx); err == nil {
		t.Error("a failing logout reported success")
	}
	if d.AuthorizationHeader() != "" || d.Tokens().Access != "" {
		t.Error("tokens kept after a failed logout")
	}
}

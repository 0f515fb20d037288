package fakedevice_test

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcaspec/mcaspec/fakedevice"
)

// Call re-authorizes on a challenge the platform's SDK recognises, at most
// twice on Android (core/api/Request.java lines 436-456) and once on iOS
// (bms-clientsdk-swift-core BMSURLSessionUtility.swift lines 60-75, 169-191).
func TestCallReauthorizesLikeTheSDK(t *testing.T) {
	t.Parallel()
	imf := []string{`Bearer realm="imfAuthentication", error="invalid_token"`}
	const a, i = fakedevice.PlatformAndroid, fakedevice.PlatformIOS
	for _, tc := range []struct {
		name       string
		platform   fakedevice.Platform
		reject     int32
		status     int
		www        []string
		body       string
		wantStatus int
		wantHits   int32
		wantAuth   int // authorization GETs (login + reauthorizations)
	}{
		{"no rejection", a, 0, 401, imf, "", 200, 1, 1},
		{"no rejection", i, 0, 401, imf, "", 200, 1, 1},
		{"401 once then ok", a, 1, 401, imf, "", 200, 2, 2},
		{"403 once then ok", i, 1, 403, imf, "", 200, 2, 2},
		{"always 401: android re-authorizes twice", a, 1000, 401, imf, "", 401, 3, 3},
		{"always 401: ios re-authorizes once", i, 1000, 401, imf, "", 401, 2, 2},
		{"unquoted realm: no retry", a, 1, 401, []string{`Bearer realm=imfAuthentication`}, "", 401, 1, 1},
		{"unquoted realm: no retry", i, 1, 401, []string{`Bearer realm=imfAuthentication`}, "", 401, 1, 1},
		{"Basic scheme: no retry", a, 1, 401, []string{`Basic realm="imfAuthentication"`}, "", 401, 1, 1},
		{"Basic scheme: no retry", i, 1, 401, []string{`Basic realm="imfAuthentication"`}, "", 401, 1, 1},
		{"Bearer second: android reads the first only", a, 1, 401, []string{`Basic realm="x"`, imf[0]}, "", 401, 1, 1},
		{"Bearer second: ios reads them joined", i, 1, 401, []string{`Basic realm="x"`, imf[0]}, "", 200, 2, 2},
		{"500 naming imfAuthentication: no retry", a, 1, 500, imf, "", 500, 1, 1},
		{"POST body replayed on retry", a, 1, 401, imf, "hello body", 200, 2, 2},
	} {
		t.Run(string(tc.platform)+"/"+tc.name, func(t *testing.T) {
			t.Parallel()
			az := newAZ(t, anonymous)
			cfg := az.config()
			cfg.Platform = tc.platform
			d := newDevice(t, cfg)
			ctx := ctxT(t)
			if err := d.Login(ctx); err != nil {
				t.Fatal(err)
			}
			az.rejectRes.Store(tc.reject)
			az.resStatus, az.resWWW = tc.status, tc.www
			method, body := http.MethodGet, io.Reader(nil)
			if tc.body != "" {
				method, body = http.MethodPost, strings.NewReader(tc.body)
			}
			req, err := http.NewRequestWithContext(ctx, method, az.resourceURL(), body)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := d.Call(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			if got := az.resourceHits.Load(); got != tc.wantHits {
				t.Errorf("resource saw %d requests, want %d", got, tc.wantHits)
			}
			az.mu.Lock()
			gets, bodies := az.authGETs, az.resBodies
			az.mu.Unlock()
			if gets != tc.wantAuth {
				t.Errorf("%d authorization steps, want %d", gets, tc.wantAuth)
			}
			for i, b := range bodies {
				if b != tc.body {
					t.Errorf("resource request %d body %q, want %q", i, b, tc.body)
				}
			}
		})
	}
}

// A device that has never logged in sends its first request bare, as the
// SDKs do (no cached header), and registers on the challenge.
func TestFirstCallWithoutTokens(t *testing.T) {
	t.Parallel()
	for _, platform := range []fakedevice.Platform{fakedevice.PlatformAndroid, fakedevice.PlatformIOS} {
		t.Run(string(platform), func(t *testing.T) {
			t.Parallel()
			az := newAZ(t, anonymous)
			cfg := az.config()
			cfg.Platform = platform
			d := newDevice(t, cfg)
			ctx := ctxT(t)
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, az.resourceURL(), nil)
			resp, err := d.Call(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 || az.resourceHits.Load() != 2 || d.ClientID() == "" {
				t.Errorf("status %d, %d resource hits, clientId %q; want 200 after one bare request and a registration",
					resp.StatusCode, az.resourceHits.Load(), d.ClientID())
			}
		})
	}
}

// The SDKs never read expires_in: an expired token is sent as it is. With
// ProactiveRefresh the device logs in again first.
func TestCallAndExpiresIn(t *testing.T) {
	t.Parallel()
	for _, proactive := range []bool{false, true} {
		t.Run(map[bool]string{false: "sdk", true: "proactive"}[proactive], func(t *testing.T) {
			t.Parallel()
			az := newAZ(t, anonymous)
			now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
			var mu sync.Mutex
			cfg := az.config()
			cfg.ProactiveRefresh = proactive
			cfg.Clock = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
			d := newDevice(t, cfg)
			ctx := ctxT(t)
			if err := d.Login(ctx); err != nil {
				t.Fatal(err)
			}
			if want := now.Add(time.Hour); !d.Tokens().Expiry.Equal(want) {
				t.Errorf("expiry %v, want %v (injected clock + expires_in)", d.Tokens().Expiry, want)
			}
			first := d.Tokens().Access
			for i, advance := range []time.Duration{30 * time.Minute, 31 * time.Minute} {
				mu.Lock()
				now = now.Add(advance)
				mu.Unlock()
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, az.resourceURL(), nil)
				resp, err := d.Call(ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				az.mu.Lock()
				gets := az.authGETs
				az.mu.Unlock()
				want := 1
				if proactive {
					want += i
				}
				if gets != want {
					t.Errorf("after +%v: %d authorization steps, want %d", advance, gets, want)
				}
			}
			if !proactive && d.Tokens().Access != first {
				t.Error("the device replaced its tokens without being challenged")
			}
		})
	}
}

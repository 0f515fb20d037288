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

func TestCallRetriesOnceOnIMFAuthentication(t *testing.T) {
	t.Parallel()
	const imf = `Bearer realm="imfAuthentication", error="invalid_token"`
	for _, tc := range []struct {
		name       string
		reject     int32
		status     int
		www        string
		body       string
		wantStatus int
		wantHits   int32
		wantAuth   int // authorization GETs (login + reauthorizations)
	}{
		{"no rejection", 0, 401, imf, "", 200, 1, 1},
		{"401 once then ok", 1, 401, imf, "", 200, 2, 2},
		{"403 once then ok", 1, 403, imf, "", 200, 2, 2},
		{"always 401: retried exactly once", 1000, 401, imf, "", 401, 2, 2},
		{"401 not naming imfAuthentication: no retry", 1, 401, `Basic realm="x"`, "", 401, 1, 1},
		{"500 naming imfAuthentication: no retry", 1, 500, imf, "", 500, 1, 1},
		{"POST body replayed on retry", 1, 401, imf, "hello body", 200, 2, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			az := newAZ(t, anonymous)
			az.rejectRes.Store(tc.reject)
			az.resStatus, az.resWWW = tc.status, tc.www
			d := newDevice(t, az.config())
			ctx := ctxT(t)
			method, body := http.MethodGet, io.Reader(nil)
			if tc.body != "" {
				method, body = http.MethodPost, strings.NewReader(tc.body)
			}
			req, err := http.NewRequestWithContext(ctx, method, az.resourceURL(), body)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := d.Call(ctx, req) // logs in first: no tokens yet
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

func TestNamesIMFAuthentication(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status int
		www    []string
		want   bool
	}{
		{401, []string{`Bearer realm="imfAuthentication"`}, true},
		{403, []string{`Basic realm="x"`, `Bearer realm="imfAuthentication", scope="x"`}, true},
		{401, nil, false},
		{400, []string{`Bearer realm="imfAuthentication", error="invalid_request"`}, false},
	} {
		resp := &http.Response{StatusCode: tc.status, Header: http.Header{"Www-Authenticate": tc.www}}
		if got := fakedevice.NamesIMFAuthentication(resp); got != tc.want {
			t.Errorf("%d %v: %v, want %v", tc.status, tc.www, got, tc.want)
		}
	}
}

func TestCallReauthorizesExpiredTokens(t *testing.T) {
	t.Parallel()
	az := newAZ(t, anonymous)
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	cfg := az.config()
	cfg.Clock = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	d := newDevice(t, cfg)
	ctx := ctxT(t)
	if err := d.Login(ctx); err != nil {
		t.Fatal(err)
	}
	if want := now.Add(time.Hour); !d.Tokens().Expiry.Equal(want) {
		t.Errorf("expiry %v, want %v (injected clock + expires_in)", d.Tokens().Expiry, want)
	}
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
		if want := 1 + i; gets != want {
			t.Errorf("after +%v: %d authorization steps, want %d", advance, gets, want)
		}
	}
	if want := now.Add(time.Hour); !d.Tokens().Expiry.Equal(want) {
		t.Errorf("expiry %v after re-login, want %v", d.Tokens().Expiry, want)
	}
}

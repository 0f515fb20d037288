package fakeaz_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/mcaspec/mcaspec/fakeaz"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

func TestNewRefusesInvalidApps(t *testing.T) {
	t.Parallel()
	_, err := fakeaz.New(fakeaz.WithKeyGen(keyGen(t)), fakeaz.WithApps(fakeaz.App{ID: "not-a-guid"}))
	if !errors.Is(err, fakeaz.ErrInvalidApp) {
		t.Errorf("New(WithApps(bad app)) = %v, want ErrInvalidApp", err)
	}
	s, err := fakeaz.New(fakeaz.WithKeyGen(keyGen(t)), fakeaz.WithApps(fakeaz.App{ID: "0b5b5a8c-6a7d-4c36-9a3e-2f0e4b8a1c11"}))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.App("0b5b5a8c-6a7d-4c36-9a3e-2f0e4b8a1c11"); err != nil {
		t.Errorf("WithApps app not registered: %v", err)
	}
}

// TestRouting: what the mux and its middleware answer around the handlers:
// 405 with Allow and a JSON body, HEAD on GET endpoints, what is counted and
// faulted, and the JSON 404s.
func TestRouting(t *testing.T) {
	t.Parallel()
	var logBuf syncBuffer
	e := newEnv(t, fakeaz.WithLogger(slog.New(slog.NewTextHandler(&logBuf, nil))))
	appid, err := e.s.AddApp(fakeaz.App{Shape: tokenfactory.ShapeAppIDV4})
	if err != nil {
		t.Fatal(err)
	}
	const unknown = "0b5b5a8c-6a7d-4c36-9a3e-2f0e4b8a1c11"
	origin := strings.TrimSuffix(e.s.URL(), fakeaz.BasePath)
	tests := []struct {
		name, method, url string
		status            int
		errCode, allow    string
		counted           string // endpoint counted for countApp
		countApp          string
	}{
		{name: "GET endpoint", method: "GET", url: e.appURL(e.app.ID, "publickey"), status: 200, counted: "publickey", countApp: e.app.ID},
		{name: "HEAD on a GET endpoint", method: "HEAD", url: e.appURL(e.app.ID, "jwks"), status: 200, counted: "jwks", countApp: e.app.ID},
		{name: "wrong method is counted", method: "DELETE", url: e.appURL(e.app.ID, "token"), status: 405, errCode: "method_not_allowed", allow: "POST", counted: "token", countApp: e.app.ID},
		{name: "unknown app is counted", method: "GET", url: e.appURL(unknown, "logout"), status: 404, errCode: "unknown_app", counted: "logout", countApp: unknown},
		{name: "unknown endpoint", method: "GET", url: e.appURL(e.app.ID, "userinfo"), status: 404, errCode: "not_found"},
		{name: "app URL without endpoint", method: "GET", url: e.s.AppURL(e.app.ID), status: 404, errCode: "not_found"},
		{name: "App ID wrong method", method: "PUT", url: e.s.OAuthServerURL(appid.ID) + "/publickeys", status: 405, errCode: "method_not_allowed", allow: "GET", counted: "publickey", countApp: appid.ID},
		{name: "App ID URL without endpoint", method: "GET", url: e.s.OAuthServerURL(appid.ID), status: 404, errCode: "not_found"},
		{name: "outside the AZ", method: "POST", url: origin + "/elsewhere", status: 404, errCode: "not_found"},
		{name: "admin index without slash", method: "GET", url: origin + "/admin", status: 200},
		{name: "admin unknown route", method: "PATCH", url: origin + "/admin/apps", status: 404, errCode: "not_found"},
	}
	t.Run("requests", func(t *testing.T) { // the parallel requests end before the checks below
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				before := e.s.Stats().Count(tc.counted, tc.countApp)
				req, _ := http.NewRequest(tc.method, tc.url, nil)
				resp, body := do(t, e.hc, req)
				if resp.StatusCode != tc.status {
					t.Fatalf("%d %s, want %d", resp.StatusCode, body, tc.status)
				}
				if tc.errCode != "" {
					if got := errCode(t, body); got != tc.errCode {
						t.Errorf("error %q, want %q", got, tc.errCode)
					}
				}
				if got := resp.Header.Get("Allow"); got != tc.allow {
					t.Errorf("Allow %q, want %q", got, tc.allow)
				}
				if tc.counted != "" {
					if after := e.s.Stats().Count(tc.counted, tc.countApp); after != before+1 {
						t.Errorf("%s of %s counted %d → %d, want one more", tc.counted, tc.countApp, before, after)
					}
				}
			})
		}
	})
	if st := e.s.Stats(); st.Total["userinfo"] != 0 || len(st.Total) > len(fakeaz.Endpoints()) {
		t.Errorf("unknown endpoints counted: %v", st.Total)
	}
	if !strings.Contains(logBuf.String(), "endpoint=token") || !strings.Contains(logBuf.String(), "outcome=method_not_allowed") {
		t.Errorf("request log lacks the 405 line:\n%s", logBuf.String())
	}
}

// TestFaultOnWrongMethod: a fault on an endpoint applies whatever the method,
// before the 405 (the middleware runs before the method check).
func TestFaultOnWrongMethod(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if err := e.s.SetFault(fakeaz.FaultSpec{Endpoint: fakeaz.EndpointToken, Status: 418, Body: "teapot"}); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, e.appURL(e.app.ID, "token"), nil)
	resp, body := do(t, e.hc, req)
	if resp.StatusCode != 418 || !bytes.Equal(body, []byte("teapot")) {
		t.Errorf("GET token under a fault: %d %s, want 418 teapot", resp.StatusCode, body)
	}
}

package reference_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcaspec/mcaspec/reference"
)

func TestServiceTokenSource(t *testing.T) {
	t.Parallel()
	az := newTestAZ(t)
	az.tokenLife = 600
	clk := newClock(t0)
	src, err := reference.NewServiceTokenSource(reference.ServiceConfig{ServerURL: az.serverURL, AppID: appA, ClientID: az.clientID, Secret: az.secret, Clock: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	got := make([]string, 8)
	for i := range got {
		wg.Go(func() {
			h, err := src.AuthorizationHeader(context.Background())
			if err != nil {
				t.Error(err)
			}
			got[i] = h
		})
	}
	wg.Wait()
	for _, h := range got {
		if h != got[0] || !strings.HasPrefix(h, "Bearer service-token-") {
			t.Fatalf("headers %q", got)
		}
	}
	if n := az.tokenRequests.Load(); n != 1 {
		t.Fatalf("%d token requests for concurrent callers, want 1", n)
	}
	clk.Advance(600*time.Second - reference.DefaultServiceTokenRefreshBefore - time.Second)
	if _, err := src.AuthorizationHeader(context.Background()); err != nil || az.tokenRequests.Load() != 1 {
		t.Fatalf("token not reused before its refresh time: %v, %d requests", err, az.tokenRequests.Load())
	}
	clk.Advance(2 * time.Second)
	if _, err := src.AuthorizationHeader(context.Background()); err != nil || az.tokenRequests.Load() != 2 {
		t.Fatalf("token not renewed near expiry: %v, %d requests", err, az.tokenRequests.Load())
	}
}

func TestServiceTokenBadSecret(t *testing.T) {
	t.Parallel()
	az := newTestAZ(t)
	src, err := reference.NewServiceTokenSource(reference.ServiceConfig{ServerURL: az.serverURL, AppID: appA, ClientID: az.clientID, Secret: "wrong"})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = src.AuthorizationHeader(context.Background())
	if !errors.Is(err, reference.ErrBadClientCredentials) || !errors.Is(err, reference.ErrServiceToken) {
		t.Fatalf("bad secret: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("bad secret took %v", d)
	}
}

func TestServiceTokenHangingAZ(t *testing.T) {
	t.Parallel()
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(block); srv.Close() })
	src, err := reference.NewServiceTokenSource(reference.ServiceConfig{ServerURL: srv.URL, AppID: appA, ClientID: "c", Secret: "s", Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := src.AuthorizationHeader(context.Background()); !errors.Is(err, reference.ErrServiceToken) {
		t.Fatalf("hanging AZ: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("hanging AZ took %v", d)
	}
}

func TestNewServiceTokenSourceMissing(t *testing.T) {
	t.Parallel()
	_, err := reference.NewServiceTokenSource(reference.ServiceConfig{ServerURL: "http://x"})
	if !errors.Is(err, reference.ErrConfig) || !strings.Contains(err.Error(), "Secret") {
		t.Fatalf("missing fields: %v", err)
	}
}

func TestAuthorizationHeaderFromIncomingRequest(t *testing.T) {
	t.Parallel()
	for _, h := range []string{"Bearer a.b.c d.e.f", "bearer \t a.b.c", ""} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		if h != "" {
			r.Header["Authorization"] = []string{h}
		}
		if got := reference.AuthorizationHeaderFromIncomingRequest(r); got != h {
			t.Errorf("got %q, want %q", got, h)
		}
	}
}

func TestConfigFromVCAP(t *testing.T) {
	t.Parallel()
	services := `{"AdvancedMobileAccess":[{"name":"mca","credentials":{"serverUrl":"http://127.0.0.1:1/imf-authserver","tenantId":"` + appA + `","clientId":"cid","secret":"sec"}}]}`
	tests := []struct {
		name, services, app string
		wantApp             string
		wantErr             bool
	}{
		{"mca", services, "", appA, false},
		{"appid name", strings.Replace(services, "AdvancedMobileAccess", "AppID-abc", 1), "", appA, false},
		{"application id fallback", strings.Replace(services, appA, "", 1), `{"application_id":"` + appB + `"}`, appB, false},
		{"tenant wins", services, `{"application_id":"` + appB + `"}`, appA, false},
		{"other service", `{"cloudantNoSQLDB":[{"credentials":{}}]}`, "", "", true},
		{"garbage", `{`, "", "", true},
		{"empty", "", "", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := reference.ConfigFromVCAP(tc.services, tc.app)
			if tc.wantErr {
				if !errors.Is(err, reference.ErrConfig) {
					t.Fatalf("err %v, want ErrConfig", err)
				}
				return
			}
			if err != nil || c.AppID != tc.wantApp || c.ServerURL != "http://127.0.0.1:1/imf-authserver" {
				t.Fatalf("got %+v, %v", c, err)
			}
		})
	}
	v, err := reference.ParseVCAP(services, "")
	if err != nil || v.ClientID != "cid" || v.Secret != "sec" {
		t.Fatalf("ParseVCAP: %+v, %v", v, err)
	}
}

package reference_test

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcaspec/mcaspec/reference"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

const (
	appA = "a1b2c3d4-0000-4000-8000-00000000000a"
	appB = "a1b2c3d4-0000-4000-8000-00000000000b"
)

var (
	keyOnce sync.Once
	keys    [3]*rsa.PrivateKey
	keyErr  error
)

// testKeys returns three shared 2048-bit keys: app A, app B, attacker/rotation.
func testKeys(t testing.TB) [3]*rsa.PrivateKey {
	t.Helper()
	keyOnce.Do(func() {
		for i := range keys {
			if keys[i], keyErr = tokenfactory.GenerateKey(2048, nil); keyErr != nil {
				return
			}
		}
	})
	if keyErr != nil {
		t.Fatal(keyErr)
	}
	return keys
}

// fault modes of the test AZ's publickey endpoint.
const (
	faultNone    = ""
	fault500     = "500"
	faultGarbage = "garbage"
	faultEmpty   = "empty"
	faultHang    = "hang"
)

// testAZ serves publickey and token endpoints for tests.
type testAZ struct {
	srv       *httptest.Server
	serverURL string

	mu     sync.Mutex
	keys   map[string]*rsa.PublicKey
	fault  string
	hangCh chan struct{}

	keyFetches    atomic.Int64
	tokenRequests atomic.Int64
	clientID      string
	secret        string
	tokenLife     int
	issue         func(appID string) (string, error) // mints a service token
}

func newTestAZ(t testing.TB) *testAZ {
	t.Helper()
	az := &testAZ{keys: map[string]*rsa.PublicKey{}, hangCh: make(chan struct{}), clientID: "svc-client", secret: "s3cret", tokenLife: 3600}
	az.srv = httptest.NewServer(http.HandlerFunc(az.serve))
	az.serverURL = az.srv.URL + "/imf-authserver"
	t.Cleanup(func() {
		az.release()
		az.srv.Close()
	})
	return az
}

func (az *testAZ) setKey(app string, pub *rsa.PublicKey) {
	az.mu.Lock()
	defer az.mu.Unlock()
	az.keys[app] = pub
}

func (az *testAZ) setFault(f string) {
	az.mu.Lock()
	defer az.mu.Unlock()
	az.fault = f
}

// release ends every hanging request (once).
func (az *testAZ) release() {
	az.mu.Lock()
	defer az.mu.Unlock()
	select {
	case <-az.hangCh:
	default:
		close(az.hangCh)
	}
}

func (az *testAZ) serve(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/imf-authserver/authorization/v1/apps/")
	app, endpoint, _ := strings.Cut(rest, "/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	switch endpoint {
	case "publickey":
		az.keyFetches.Add(1)
		az.mu.Lock()
		fault, pub, hang := az.fault, az.keys[app], az.hangCh
		az.mu.Unlock()
		switch fault {
		case fault500:
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		case faultGarbage:
			_, _ = w.Write([]byte(`{"kty":"RSA","n":`))
			return
		case faultEmpty:
			return
		case faultHang:
			select {
			case <-hang:
			case <-r.Context().Done():
			}
			return
		}
		if pub == nil {
			http.NotFound(w, r)
			return
		}
		_ = json.NewEncoder(w).Encode(tokenfactory.NewPublicKeyJSON(pub))
	case "token":
		az.tokenRequests.Add(1)
		want := "Basic " + base64.StdEncoding.EncodeToString([]byte(az.clientID+":"+az.secret))
		if r.Header.Get("Authorization") != want {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"invalid_client","error_description":"bad client credentials"}`))
			return
		}
		if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" {
			http.Error(w, `{"error":"unsupported_grant_type"}`, http.StatusBadRequest)
			return
		}
		tok := "service-token-" + fmt.Sprint(az.tokenRequests.Load())
		if az.issue != nil {
			var err error
			if tok, err = az.issue(app); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": az.tokenLife})
	default:
		http.NotFound(w, r)
	}
}

// clock is a settable test clock.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock {
	c := &clock{}
	c.ns.Store(t.UnixNano())
	return c
}
func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// fixture is a validator with a test AZ serving keys for apps A and B and
// factories minting their tokens.
type fixture struct {
	az       *testAZ
	clock    *clock
	v        *reference.Validator
	fa, fb   *tokenfactory.Factory // app A's and app B's keys
	attacker *rsa.PrivateKey
	other    *tokenfactory.Factory // attacker key, AZ issuer
}

var t0 = time.Unix(1_750_000_000, 0)

func newFixture(t testing.TB, edit func(*reference.Config)) *fixture {
	t.Helper()
	ks := testKeys(t)
	f := &fixture{az: newTestAZ(t), clock: newClock(t0), attacker: ks[2]}
	f.az.setKey(appA, &ks[0].PublicKey)
	f.az.setKey(appB, &ks[1].PublicKey)
	opts := []tokenfactory.Option{tokenfactory.WithIssuer(tokenfactory.MCAIssuer(f.az.serverURL)), tokenfactory.WithClock(f.clock.Now)}
	var err error
	if f.fa, err = tokenfactory.New(ks[0], opts...); err != nil {
		t.Fatal(err)
	}
	if f.fb, err = tokenfactory.New(ks[1], opts...); err != nil {
		t.Fatal(err)
	}
	if f.other, err = tokenfactory.New(ks[2], opts...); err != nil {
		t.Fatal(err)
	}
	cfg := reference.Config{ServerURL: f.az.serverURL, Clock: f.clock.Now, FetchTimeout: 500 * time.Millisecond}
	if edit != nil {
		edit(&cfg)
	}
	if f.v, err = reference.New(cfg); err != nil {
		t.Fatal(err)
	}
	return f
}

var testUser = &tokenfactory.User{ID: "alice", AuthBy: "customRealm", DisplayName: "Alice", Attributes: map[string]any{"team": "blue"}}

func (f *fixture) access(t testing.TB, fac *tokenfactory.Factory, app, client string, muts ...tokenfactory.Mutation) string {
	t.Helper()
	tok, err := fac.AccessToken(tokenfactory.Access{AppID: app, ClientID: client}, muts...)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (f *fixture) id(t testing.TB, fac *tokenfactory.Factory, app, client string, muts ...tokenfactory.Mutation) string {
	t.Helper()
	tok, err := fac.IDToken(tokenfactory.ID{
		AppID: app, ClientID: client, User: testUser,
		Device:      tokenfactory.Device{ID: "dev-1", Platform: "android", Model: "Pixel", OSVersion: "14"},
		Application: tokenfactory.Application{ID: "com.example.app", Version: "1.0"},
	}, muts...)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// pair returns a valid "Bearer access id" header for app A.
func (f *fixture) pair(t testing.TB) string {
	return "Bearer " + f.access(t, f.fa, appA, "client-1") + " " + f.id(t, f.fa, appA, "client-1")
}

// do sends a request through the middleware and returns the recorder and
// whether the protected handler ran.
func (f *fixture) do(t testing.TB, target string, headers ...string) (*httptest.ResponseRecorder, *reference.SecurityContext) {
	t.Helper()
	var got *reference.SecurityContext
	h := f.v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sc, ok := reference.FromContext(r.Context())
		if !ok {
			t.Error("protected handler ran without a security context")
		}
		got = sc
		w.WriteHeader(http.StatusOK)
	}))
	req := httptest.NewRequestWithContext(context.Background(), http.MethodGet, target, nil)
	for _, hv := range headers {
		req.Header.Add("Authorization", hv)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec, got
}

func pathFor(app string) string { return "/v1/apps/" + app + "/protected" }

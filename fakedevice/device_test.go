package fakedevice_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mcaspec/mcaspec/fakedevice"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func newDevice(t *testing.T, cfg fakedevice.Config) *fakedevice.Device {
	t.Helper()
	d, err := fakedevice.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestAnonymousFlow(t *testing.T) {
	t.Parallel()
	for _, platform := range []fakedevice.Platform{fakedevice.PlatformIOS, fakedevice.PlatformAndroid} {
		t.Run(string(platform), func(t *testing.T) {
			t.Parallel()
			az := newAZ(t, anonymous)
			cfg := az.config()
			cfg.Platform = platform
			d := newDevice(t, cfg)
			ctx := ctxT(t)
			if err := d.Login(ctx); err != nil {
				t.Fatal(err)
			}
			if d.ClientID() == "" || d.Certificate() == nil {
				t.Fatalf("clientId %q, certificate %v", d.ClientID(), d.Certificate())
			}
			if got := certUID(d.Certificate()); got != d.ClientID() {
				t.Errorf("certificate UID %v, clientId %q", got, d.ClientID())
			}
			tok := d.Tokens()
			if want := "Bearer " + tok.Access + " " + tok.ID; d.AuthorizationHeader() != want || tok.Access == "" || tok.ID == "" {
				t.Errorf("AuthorizationHeader %q", d.AuthorizationHeader())
			}
			if tok.TokenType != "Bearer" || tok.ExpiresIn != time.Hour {
				t.Errorf("tokens %+v", tok)
			}
			c, err := d.IDTokenClaims()
			if err != nil {
				t.Fatal(err)
			}
			if c.Sub != "::"+d.ClientID() || c.User != nil || c.Aud != testAppID || c.Iss != az.url {
				t.Errorf("claims %+v", c)
			}
			if c.Device.ID != d.DeviceID() || c.Device.Platform != string(platform) || c.Application.ID != testBundle {
				t.Errorf("device/app claims %+v %+v", c.Device, c.Application)
			}
			az.mu.Lock()
			csr := az.clients[d.ClientID()].csr
			az.mu.Unlock()
			// What the SDKs send: deviceOs "android" (BaseDeviceIdentity.java line 48) or
			// "iOS" (UIDevice.systemName), model "iPhone" (UIDevice.model).
			want := map[fakedevice.Platform]map[string]string{
				fakedevice.PlatformAndroid: {"deviceOs": "android", "deviceModel": "Android SDK built for x86_64"},
				fakedevice.PlatformIOS:     {"deviceOs": "iOS", "deviceModel": "iPhone"},
			}[platform]
			if csr["environment"] != string(platform) || csr["deviceId"] != d.DeviceID() || csr["deviceOs"] != want["deviceOs"] || csr["deviceModel"] != want["deviceModel"] {
				t.Errorf("CSR payload %v", csr)
			}
			// Android: UUID.nameUUIDFromBytes (v3, lower case), as the genuine token's
			// d7bf265d-55ae-3787-...; iOS: identifierForVendor (v4, upper case).
			shape := map[fakedevice.Platform]*regexp.Regexp{
				fakedevice.PlatformAndroid: regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-3[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`),
				fakedevice.PlatformIOS:     regexp.MustCompile(`^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$`),
			}[platform]
			if !shape.MatchString(d.DeviceID()) {
				t.Errorf("device id %q not shaped like a %s id", d.DeviceID(), platform)
			}

			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, az.resourceURL(), nil)
			resp, err := d.Call(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(body) != `{"ok":true}` {
				t.Errorf("resource: %d %s", resp.StatusCode, body)
			}
			if err := d.Logout(ctx); err != nil {
				t.Fatal(err)
			}
			if d.AuthorizationHeader() != "" {
				t.Error("tokens kept after Logout")
			}
		})
	}
}

func certUID(c *x509.Certificate) any {
	for _, n := range c.Subject.Names {
		if n.Type.Equal(oidUID) {
			return n.Value
		}
	}
	return nil
}

func TestStepByStepAndSession(t *testing.T) {
	t.Parallel()
	az := newAZ(t, anonymous)
	ctx := ctxT(t)
	d := newDevice(t, az.config())
	if err := d.Authorize(ctx); !errors.Is(err, fakedevice.ErrNotRegistered) {
		t.Errorf("Authorize before Register: %v", err)
	}
	if err := d.Register(ctx); err != nil {
		t.Fatal(err)
	}
	if err := d.ObtainTokens(ctx); !errors.Is(err, fakedevice.ErrNoCode) {
		t.Errorf("ObtainTokens before Authorize: %v", err)
	}
	if err := d.Authorize(ctx); err != nil {
		t.Fatal(err)
	}
	if d.WLResult() != "{}" {
		t.Errorf("wl_result %q", d.WLResult())
	}
	if err := d.ObtainTokens(ctx); err != nil {
		t.Fatal(err)
	}
	// The code is single-use: a second redemption needs a new Authorize.
	if err := d.ObtainTokens(ctx); !errors.Is(err, fakedevice.ErrNoCode) {
		t.Errorf("second ObtainTokens: %v", err)
	}
	d2 := newDevice(t, az.config())
	if d2.Session() == d.Session() || d2.DeviceID() == d.DeviceID() {
		t.Error("two devices share a session or device id")
	}
	if tm := d.Timings(); tm.Requests != 3 || tm.Wait <= 0 || tm.Sign <= 0 || tm.KeyGen != 0 {
		t.Errorf("timings %+v (Key was given, so no key generation)", tm)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	good := fakedevice.Config{ServerURL: "http://127.0.0.1:1/imf-authserver", AppID: "a", BundleID: "b"}
	for _, tc := range []struct {
		name string
		edit func(*fakedevice.Config)
		want error
	}{
		{"missing app id", func(c *fakedevice.Config) { c.AppID = "" }, fakedevice.ErrConfig},
		{"not a URL", func(c *fakedevice.Config) { c.ServerURL = "127.0.0.1:80" }, fakedevice.ErrConfig},
		{"no scheme", func(c *fakedevice.Config) { c.ServerURL = "//127.0.0.1:80/imf-authserver" }, fakedevice.ErrConfig},
		{"ftp", func(c *fakedevice.Config) { c.ServerURL = "ftp://127.0.0.1/imf-authserver" }, fakedevice.ErrConfig},
		{"no host", func(c *fakedevice.Config) { c.ServerURL = "http:///imf-authserver" }, fakedevice.ErrConfig},
		{"opaque", func(c *fakedevice.Config) { c.ServerURL = "http:127.0.0.1" }, fakedevice.ErrConfig},
		// New does no I/O: these only check that other hosts are accepted, nothing is dialled.
		{"remote host ok", func(c *fakedevice.Config) { c.ServerURL = "http://fakeaz.bench.svc:9080/imf-authserver" }, nil},
		{"private address ok", func(c *fakedevice.Config) { c.ServerURL = "https://10.0.0.1/imf-authserver" }, nil},
		{"bad platform", func(c *fakedevice.Config) { c.Platform = "windows" }, fakedevice.ErrConfig},
		{"key too small", func(c *fakedevice.Config) { c.KeyBits = 256 }, fakedevice.ErrConfig},
		{"key too big", func(c *fakedevice.Config) { c.KeyBits = 8192 }, fakedevice.ErrConfig},
		{"ipv6 loopback ok", func(c *fakedevice.Config) { c.ServerURL = "http://[::1]:9/imf-authserver" }, nil},
		{"localhost ok", func(c *fakedevice.Config) { c.ServerURL = "http://localhost:9/x" }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := good
			tc.edit(&cfg)
			_, err := fakedevice.New(cfg)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Errorf("New: %v, want %v", err, tc.want)
			}
		})
	}
}

// answers returns the JSON of the recorded challenge answers (without "Bearer ").
func (az *testAZ) answerJSON() []string {
	az.mu.Lock()
	defer az.mu.Unlock()
	out := make([]string, len(az.answers))
	for i, a := range az.answers {
		out[i] = strings.TrimPrefix(a, "Bearer ")
	}
	return out
}

func TestChallenges(t *testing.T) {
	t.Parallel()
	const realm = "customAuthRealm_1"
	user := &tokenfactory.User{ID: "jdoe", AuthBy: realm, DisplayName: "John Doe"}
	fbToken := func(_ context.Context, app string) (string, error) { return "fb-token-for-" + app, nil }
	gToken := func(_ context.Context, app string) (string, error) { return "g-token-for-" + app, nil }

	// script returns a flow that sends challenges[i] in round i, expects
	// wantAnswers[i-1] as the answer of round i, and succeeds with user
	// after the last challenge.
	script := func(challenges []map[string]any, wantAnswers []string) flowFunc {
		return func(round int, answer map[string]json.RawMessage) (step, error) {
			if round > 0 {
				got, _ := json.Marshal(answer)
				if round-1 >= len(wantAnswers) || string(got) != wantAnswers[round-1] {
					return step{}, fmt.Errorf("answer %s, want %v", got, wantAnswers)
				}
			}
			if round < len(challenges) {
				return step{challenges: challenges[round]}, nil
			}
			return step{user: user}, nil
		}
	}
	for _, tc := range []struct {
		name       string
		platform   fakedevice.Platform
		handlers   map[string]fakedevice.Handler
		challenges []map[string]any
		answers    []string
	}{
		{
			name:       "custom one step",
			handlers:   map[string]fakedevice.Handler{realm: fakedevice.CustomCredentials("jdoe", "s3cr<t>&")},
			challenges: []map[string]any{{realm: map[string]any{"message": "log in"}}},
			answers:    []string{`{"customAuthRealm_1":{"password":"s3cr\u003ct\u003e\u0026","username":"jdoe"}}`},
		},
		{
			name: "custom multi step",
			handlers: map[string]fakedevice.Handler{realm: fakedevice.CustomCredentials("jdoe", "pw").
				WithAnswers(map[string]any{"pin": map[string]string{"pin": "1234"}}).
				WithStep(func(_ context.Context, ch json.RawMessage) (any, bool, error) {
					var c struct{ Step string }
					_ = json.Unmarshal(ch, &c)
					if c.Step == "otp" {
						return map[string]string{"otp": "987654"}, true, nil
					}
					return nil, false, nil
				})},
			challenges: []map[string]any{
				{realm: map[string]any{"message": "credentials"}},
				{realm: map[string]any{"question": "pin"}},
				{realm: map[string]any{"step": "otp"}},
			},
			answers: []string{
				`{"customAuthRealm_1":{"password":"pw","username":"jdoe"}}`,
				`{"customAuthRealm_1":{"pin":"1234"}}`,
				`{"customAuthRealm_1":{"otp":"987654"}}`,
			},
		},
		{
			name:     "custom password then PIN (custom IdP simulator shape)",
			handlers: map[string]fakedevice.Handler{realm: fakedevice.CustomCredentials("bob", "bob123").WithPIN("4321")},
			challenges: []map[string]any{
				{realm: map[string]any{"message": "Enter username and password"}},
				{realm: map[string]any{"message": "Enter your PIN"}},
			},
			answers: []string{
				`{"customAuthRealm_1":{"password":"bob123","username":"bob"}}`,
				`{"customAuthRealm_1":{"pin":"4321"}}`,
			},
		},
		{
			name:     "two realms in one round",
			handlers: map[string]fakedevice.Handler{realm: fakedevice.CustomCredentials("jdoe", "pw"), fakedevice.RealmFacebook: fakedevice.Facebook(fbToken)},
			challenges: []map[string]any{{
				realm:                    map[string]any{},
				fakedevice.RealmFacebook: map[string]any{"facebookAppId": "fb1"},
			}},
			answers: []string{`{"customAuthRealm_1":{"password":"pw","username":"jdoe"},"wl_facebookRealm":{"accessToken":"fb-token-for-fb1"}}`},
		},
		{
			name:       "facebook ios",
			handlers:   map[string]fakedevice.Handler{fakedevice.RealmFacebook: fakedevice.Facebook(fbToken)},
			challenges: []map[string]any{{fakedevice.RealmFacebook: map[string]any{"facebookAppId": "123456"}}},
			answers:    []string{`{"wl_facebookRealm":{"accessToken":"fb-token-for-123456"}}`},
		},
		{
			name:       "facebook android",
			platform:   fakedevice.PlatformAndroid,
			handlers:   map[string]fakedevice.Handler{fakedevice.RealmFacebook: fakedevice.Facebook(fbToken)},
			challenges: []map[string]any{{fakedevice.RealmFacebook: map[string]any{"facebookAppId": "123456"}}},
			answers:    []string{`{"wl_facebookRealm":{"accessToken":"fb-token-for-123456"}}`},
		},
		{
			name:       "google ios sends idToken",
			handlers:   map[string]fakedevice.Handler{fakedevice.RealmGoogle: fakedevice.Google(gToken, fakedevice.PlatformIOS)},
			challenges: []map[string]any{{fakedevice.RealmGoogle: map[string]any{"gClientId": "g.apps"}}},
			answers:    []string{`{"wl_googleRealm":{"idToken":"g-token-for-g.apps"}}`},
		},
		{
			name:       "google android sends accessToken",
			platform:   fakedevice.PlatformAndroid,
			handlers:   map[string]fakedevice.Handler{fakedevice.RealmGoogle: fakedevice.Google(gToken, fakedevice.PlatformAndroid)},
			challenges: []map[string]any{{fakedevice.RealmGoogle: map[string]any{"gClientId": "g.apps"}}},
			answers:    []string{`{"wl_googleRealm":{"accessToken":"g-token-for-g.apps"}}`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			az := newAZ(t, script(tc.challenges, tc.answers))
			cfg := az.config()
			cfg.Platform, cfg.Handlers = tc.platform, tc.handlers
			d := newDevice(t, cfg)
			if err := d.Login(ctxT(t)); err != nil {
				t.Fatal(err)
			}
			// The header carries raw JSON, not base64, and HTML characters unescaped.
			got := az.answerJSON()
			for i := range got {
				var a, b any
				_ = json.Unmarshal([]byte(got[i]), &a)
				if i < len(tc.answers) {
					_ = json.Unmarshal([]byte(tc.answers[i]), &b)
				}
				if !reflect.DeepEqual(a, b) {
					t.Errorf("answer %d = %s, want %s", i, got[i], tc.answers[i])
				}
			}
			if len(got) != len(tc.answers) {
				t.Errorf("%d answers sent, want %d", len(got), len(tc.answers))
			}
			if tc.name == "custom one step" && !strings.Contains(got[0], `"s3cr<t>&"`) {
				t.Errorf("answer %s: HTML characters were escaped", got[0])
			}
			c, err := d.IDTokenClaims()
			if err != nil {
				t.Fatal(err)
			}
			if c.User == nil || c.User.DisplayName != "John Doe" || c.Sub != tokenfactory.SubjectFor(d.ClientID(), user) {
				t.Errorf("claims %+v", c)
			}
		})
	}
}

func TestAuthorizeErrors(t *testing.T) {
	t.Parallel()
	always := func(int, map[string]json.RawMessage) (step, error) {
		return step{challenges: map[string]any{"r": map[string]any{}}}, nil
	}
	for _, tc := range []struct {
		name     string
		flow     flowFunc
		setup    func(*testAZ)
		handlers map[string]fakedevice.Handler
		wantErr  error
		wantKind string
		wantIn   string // substring of the error message
	}{
		{
			name: "register 500",
			flow: anonymous,
			setup: func(az *testAZ) {
				az.failPath, az.failStatus, az.failBody = "clients/instance", 500, "database on fire"
			},
			wantKind: "register/http-500",
			wantIn:   "database on fire",
		},
		{
			name:     "token 400",
			flow:     anonymous,
			setup:    func(az *testAZ) { az.failPath, az.failStatus, az.failBody = "token", 400, `{"error":"invalid_grant"}` },
			wantKind: "token/http-400",
			wantIn:   "invalid_grant",
		},
		{
			name:     "garbage challenge body",
			flow:     anonymous,
			setup:    func(az *testAZ) { az.failPath, az.failStatus, az.failBody = "authorization", 401, "<html>nope</html>" },
			wantKind: "authorize/http-401", // no WL-Composite-Challenge header: a plain HTTP error
			wantIn:   "nope",
		},
		{
			name:     "missing handler",
			flow:     always,
			wantErr:  fakedevice.ErrNoHandler,
			wantKind: "authorize/no-handler",
			wantIn:   `"r"`,
		},
		{
			name: "handler fails",
			flow: always,
			handlers: map[string]fakedevice.Handler{"r": fakedevice.HandlerFunc(func(context.Context, string, json.RawMessage) (json.RawMessage, error) {
				return nil, errors.New("user cancelled")
			})},
			wantErr:  fakedevice.ErrHandler,
			wantKind: "authorize/handler",
			wantIn:   "user cancelled",
		},
		{
			name:     "too many rounds",
			flow:     always,
			handlers: map[string]fakedevice.Handler{"r": fakedevice.CustomCredentials("u", "p")},
			wantErr:  fakedevice.ErrTooManyRounds,
			wantKind: "authorize/too-many-rounds",
			wantIn:   "after 3 answers",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			az := newAZ(t, tc.flow)
			if tc.setup != nil {
				tc.setup(az)
			}
			cfg := az.config()
			cfg.Handlers, cfg.MaxChallengeRounds = tc.handlers, 3
			d := newDevice(t, cfg)
			err := d.Login(ctxT(t))
			if err == nil {
				t.Fatal("Login succeeded")
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("error %v, want %v", err, tc.wantErr)
			}
			if k := fakedevice.ErrorKind(err); k != tc.wantKind {
				t.Errorf("kind %q, want %q (%v)", k, tc.wantKind, err)
			}
			if !strings.Contains(err.Error(), tc.wantIn) {
				t.Errorf("error %q does not mention %q", err, tc.wantIn)
			}
			if tc.name == "too many rounds" && az.authGETs != 4 {
				t.Errorf("%d authorization GETs, want 4 (1 + 3 answers)", az.authGETs)
			}
			var he *fakedevice.HTTPError
			if strings.Contains(tc.wantKind, "http-") && !errors.As(err, &he) {
				t.Errorf("%v is not an *HTTPError", err)
			}
		})
	}
}

func TestParseChallenge(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		body string
		ok   bool
	}{
		{"/*-secure-\n{\"challenges\": {\"r\": {\"a\": 1}}}*/", true},
		// Utils.extractSecureJson (both SDKs): prefix and suffix exact, no trimming.
		{"/*-secure-\n{\"challenges\":{\"r\":{}}}*/\n", false},
		{" /*-secure-\n{\"challenges\":{\"r\":{}}}*/", false},
		{"/*-secure-\r\n{\"challenges\":{\"r\":{}}}*/", false},
		{`{"challenges": {"r": {}}}`, false},
		{"/*-secure-\n{\"challenges\": {}}*/", false},
		{"/*-secure-\n{\"challenges\": [1]}*/", false},
		{"/*-secure-\nnot json*/", false},
		{"/*-secure-\n*/", false},
		{"", false},
	} {
		got, err := fakedevice.ParseChallenge([]byte(tc.body))
		if tc.ok != (err == nil) || (!tc.ok && !errors.Is(err, fakedevice.ErrBadChallenge)) {
			t.Errorf("ParseChallenge(%q) = %v, %v", tc.body, got, err)
		}
		if tc.ok && got["r"] == nil {
			t.Errorf("ParseChallenge(%q) lost realm r: %v", tc.body, got)
		}
	}
}

func TestGarbageChallengeWithHeader(t *testing.T) {
	t.Parallel()
	az := newAZ(t, anonymous)
	az.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/authorization") {
			w.Header().Set("WWW-Authenticate", "WL-Composite-Challenge")
			w.WriteHeader(401)
			_, _ = w.Write([]byte(`{"challenges": {"r": {}}}`)) // no /*-secure- wrapper
			return
		}
		az.ServeHTTP(w, r)
	})
	d := newDevice(t, az.config())
	err := d.Login(ctxT(t))
	if !errors.Is(err, fakedevice.ErrBadChallenge) || fakedevice.ErrorKind(err) != "authorize/bad-challenge" {
		t.Errorf("Login: %v (%s)", err, fakedevice.ErrorKind(err))
	}
}

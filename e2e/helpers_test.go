package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcaspec/mcaspec/fakeaz"
	"github.com/mcaspec/mcaspec/fakeaz/idp/custom"
	"github.com/mcaspec/mcaspec/fakeaz/idp/facebook"
	"github.com/mcaspec/mcaspec/fakeaz/idp/google"
	"github.com/mcaspec/mcaspec/fakedevice"
	"github.com/mcaspec/mcaspec/reference"
	"github.com/mcaspec/mcaspec/reference/target"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

// Fixed test data.
const (
	bundleID      = "com.example.e2e"
	svcClientID   = "e2e-backend"
	svcSecret     = "e2e-s3cret"
	fbAppID       = "1234567890"
	fbAppSecret   = "fb-app-secret"
	googleClient  = "123-e2e.apps.googleusercontent.com"
	testTimeout   = 20 * time.Second
	imfChallenge  = `Bearer realm="imfAuthentication"`
	invalidTokenC = `Bearer realm="imfAuthentication", error="invalid_token"`
)

// Keys shared by every test (RSA key generation is the slow part).
var (
	keysOnce sync.Once
	keysErr  error
	azKey    *rsa.PrivateKey // every app key and CA key of every fakeaz, and the Google stand-in's key
	devKey   *rsa.PrivateKey // the device key of most devices
	devKey2  *rsa.PrivateKey // "a second device's key"
)

func keys(t testing.TB) {
	t.Helper()
	keysOnce.Do(func() {
		ptrs := []**rsa.PrivateKey{&azKey, &devKey, &devKey2}
		errs := make([]error, len(ptrs))
		var wg sync.WaitGroup
		for i, p := range ptrs {
			wg.Go(func() { *p, errs[i] = rsa.GenerateKey(rand.Reader, 2048) })
		}
		wg.Wait()
		keysErr = errors.Join(errs...)
	})
	if keysErr != nil {
		t.Fatal(keysErr)
	}
}

// ctxT returns a context bounded by testTimeout, cancelled at cleanup.
func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// fakeClock is a settable clock shared by the servers of one test.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Now().UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// newAZ starts a fakeaz with the shared key on a free loopback port.
func newAZ(t testing.TB, opts ...fakeaz.Option) *fakeaz.Server {
	t.Helper()
	keys(t)
	opts = append([]fakeaz.Option{fakeaz.WithKeyGen(func() (*rsa.PrivateKey, error) { return azKey, nil })}, opts...)
	az, err := fakeaz.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := az.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = az.Close() })
	return az
}

// addApp registers app (bundle id and service client filled in when empty).
func addApp(t testing.TB, az *fakeaz.Server, app fakeaz.App) fakeaz.App {
	t.Helper()
	if app.BundleID == "" {
		app.BundleID = bundleID
	}
	if app.ServiceClients == nil {
		app.ServiceClients = []fakeaz.ServiceClient{{ClientID: svcClientID, Secret: svcSecret}}
	}
	got, err := az.AddApp(app)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// targets are the two reference targets of one app: front is called by the
// device and forwards to back.
type targets struct {
	appID       string
	front, back *target.Server
}

// newTargets starts two reference targets for the app, both with the app's
// service credentials. clock, when set, is the validators' clock.
func newTargets(t testing.TB, az *fakeaz.Server, appID string, clock func() time.Time) *targets {
	t.Helper()
	start := func() *target.Server {
		s, err := target.New(target.Config{ServerURL: az.URL(), AppID: appID, ClientID: svcClientID, Secret: svcSecret,
			Validator: reference.Config{Clock: clock}})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start("127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	return &targets{appID: appID, front: start(), back: start()}
}

func (ts *targets) route(s *target.Server, route string) string {
	return s.URL() + "/v1/apps/" + ts.appID + "/" + route
}

// protected is the front target's /protected.
func (ts *targets) protected() string { return ts.route(ts.front, "protected") }

// propagate is the front target's /propagate to the back target's /protected.
func (ts *targets) propagate() string {
	return ts.route(ts.front, "propagate") + "?to=" + url.QueryEscape(ts.route(ts.back, "protected"))
}

// serviceCall is the front target's /service-call to the back target's /protected.
func (ts *targets) serviceCall() string {
	return ts.route(ts.front, "service-call") + "?to=" + url.QueryEscape(ts.route(ts.back, "protected"))
}

// newDevice makes a device of app with the shared device key unless cfg says otherwise.
func newDevice(t testing.TB, az *fakeaz.Server, appID string, cfg fakedevice.Config) *fakedevice.Device {
	t.Helper()
	cfg.ServerURL, cfg.AppID = az.URL(), appID
	if cfg.BundleID == "" {
		cfg.BundleID = bundleID
	}
	if cfg.Key == nil && cfg.KeyBits == 0 {
		cfg.Key = devKey
	}
	d, err := fakedevice.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// reply is an HTTP answer, read whole.
type reply struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r reply) String() string {
	return http.StatusText(r.Status) + " " + string(r.Body)
}

func readReply(t testing.TB, resp *http.Response, err error) reply {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	return reply{resp.StatusCode, resp.Header, body}
}

// call GETs u through the device (Device.Call, as the platform's SDK: the
// tokens it holds, re-authorizing and retrying on a challenge the SDK
// recognises, once on iOS, at most twice on Android).
func call(t testing.TB, ctx context.Context, d *fakedevice.Device, u string) reply {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := d.Call(ctx, req)
	return readReply(t, resp, err)
}

// get GETs u with the given Authorization header ("" for none), no retries.
func get(t testing.TB, ctx context.Context, u, authorization string) reply {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := http.DefaultClient.Do(req)
	return readReply(t, resp, err)
}

// jsonOf decodes b into a generic value, failing the test if it is not JSON.
func jsonOf(t testing.TB, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("not JSON: %v: %q", err, b)
	}
	return v
}

// wantContext is the security context the target must report for a device:
// imf.sub is the id token's sub, the three objects are the id token's claims
// ({} when absent).
func wantContext(t testing.TB, d *fakedevice.Device) map[string]any {
	t.Helper()
	c, err := d.IDTokenClaims()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"imf.sub": c.Sub}
	for _, k := range []string{"imf.user", "imf.device", "imf.application"} {
		v, ok := c.Raw[k]
		if !ok {
			v = map[string]any{}
		}
		want[k] = v
	}
	return want
}

// checkContext asserts that body is exactly the security context want.
func checkContext(t testing.TB, what string, body []byte, want map[string]any) {
	t.Helper()
	if got := jsonOf(t, body); !reflect.DeepEqual(got, any(want)) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		t.Errorf("%s: security context\n got %s\nwant %s", what, g, w)
	}
}

// downstream is the reply of /propagate and /service-call.
type downstream struct {
	Status int    `json:"downstream_status"`
	Body   string `json:"body"`
}

func parseDownstream(t testing.TB, r reply) downstream {
	t.Helper()
	var d downstream
	if err := json.Unmarshal(r.Body, &d); err != nil {
		t.Fatalf("reply %s is not {downstream_status, body}: %v", r, err)
	}
	return d
}

// oauthError is the {"error", "error_description"} body of every error.
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// wantAZError asserts that err is a failure of step op at the AZ with the
// given status, OAuth error code and description (exact, or a prefix when
// desc ends with "…").
func wantAZError(t testing.TB, err error, op string, status int, code, desc string) {
	t.Helper()
	var oe *fakedevice.OpError
	var he *fakedevice.HTTPError
	if !errors.As(err, &oe) || !errors.As(err, &he) {
		t.Fatalf("error %v: want a fakedevice.OpError wrapping an HTTPError", err)
	}
	if oe.Op != op || he.Status != status {
		t.Errorf("error %v: step %q status %d, want step %q status %d", err, oe.Op, he.Status, op, status)
	}
	var body oauthError
	if err := json.Unmarshal([]byte(he.Body), &body); err != nil {
		if !strings.HasSuffix(he.Body, "...") { // HTTPError keeps an excerpt of long bodies
			t.Fatalf("error body %q is not JSON: %v", he.Body, err)
		}
		body.Error = jsonField(he.Body, "error")
		body.Description = jsonField(he.Body, "error_description")
	}
	checkOAuthError(t, body, code, desc)
}

// observed wraps each handler so that the failures the AZ reports through
// wl_result are recorded (realm → reason), as an app's handleFailure sees them.
func observed(hs map[string]fakedevice.Handler) (map[string]fakedevice.Handler, *sync.Map) {
	failures := &sync.Map{}
	out := map[string]fakedevice.Handler{}
	for realm, h := range hs {
		out[realm] = fakedevice.Observed{Handler: h, OnFailure: func(_ context.Context, realm string, data json.RawMessage) {
			var f struct{ Reason string }
			_ = json.Unmarshal(data, &f)
			failures.Store(realm, f.Reason)
		}}
	}
	return out, failures
}

// wantAuthFailure asserts a refused login as the SDKs see it: the
// authorization step fails with ErrAuthFailure, the realm's failure handler
// got reason, and the device holds no tokens.
func wantAuthFailure(t testing.TB, err error, d *fakedevice.Device, failures *sync.Map, realm, reason string) {
	t.Helper()
	var oe *fakedevice.OpError
	if !errors.As(err, &oe) || oe.Op != fakedevice.OpAuthorize || !errors.Is(err, fakedevice.ErrAuthFailure) {
		t.Fatalf("error %v: want the authorize step failing with ErrAuthFailure", err)
	}
	if got, _ := failures.Load(realm); got != reason {
		t.Errorf("failure handler of %s got reason %q, want %q", realm, got, reason)
	}
	if d.Tokens().Access != "" {
		t.Error("the device holds tokens after a refused login")
	}
}

// jsonField digs a string field out of a truncated JSON object.
func jsonField(s, name string) string {
	_, rest, ok := strings.Cut(s, `"`+name+`":"`)
	if !ok {
		return ""
	}
	dec := json.NewDecoder(strings.NewReader(`"` + rest))
	var v string
	if dec.Decode(&v) != nil {
		// cut inside the value: keep what is there
		v, _, _ = strings.Cut(rest, `"`)
	}
	return v
}

func checkOAuthError(t testing.TB, got oauthError, code, desc string) {
	t.Helper()
	if got.Error != code {
		t.Errorf("error %q, want %q (description %q)", got.Error, code, got.Description)
	}
	if p, ok := strings.CutSuffix(desc, "…"); ok {
		if !strings.HasPrefix(got.Description, p) {
			t.Errorf("error_description %q, want it to start with %q", got.Description, p)
		}
	} else if got.Description != desc {
		t.Errorf("error_description %q, want %q", got.Description, desc)
	}
}

// wantTargetError asserts a target's refusal: status, WWW-Authenticate and body.
func wantTargetError(t testing.TB, r reply, status int, challenge, code, desc string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("target answered %d %s, want %d", r.Status, r.Body, status)
	}
	if got := r.Header.Get("WWW-Authenticate"); got != challenge {
		t.Errorf("WWW-Authenticate %q, want %q", got, challenge)
	}
	var body oauthError
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatalf("target error body %q is not JSON: %v", r.Body, err)
	}
	checkOAuthError(t, body, code, desc)
}

// recorder is a RoundTripper that remembers the last authorization
// redirect and the last token request a device sent, so a test can replay
// or tamper with them.
type recorder struct {
	mu        sync.Mutex
	location  string
	tokenForm url.Values
	proof     string
}

func (rec *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Path, "/token") && req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(b))
		form, _ := url.ParseQuery(string(b))
		rec.mu.Lock()
		rec.tokenForm, rec.proof = form, req.Header.Get("X-WL-Authenticate")
		rec.mu.Unlock()
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err == nil && resp.StatusCode/100 == 3 {
		rec.mu.Lock()
		rec.location = resp.Header.Get("Location")
		rec.mu.Unlock()
	}
	return resp, err
}

func (rec *recorder) client() *http.Client { return &http.Client{Transport: rec, Timeout: testTimeout} }

// code returns the code of the last authorization redirect.
func (rec *recorder) code(t testing.TB) string {
	t.Helper()
	rec.mu.Lock()
	loc := rec.location
	rec.mu.Unlock()
	u, err := url.Parse(loc)
	if err != nil || u.Query().Get("code") == "" {
		t.Fatalf("no code in the recorded redirect %q", loc)
	}
	return u.Query().Get("code")
}

// postToken sends a token request by hand: the form, with X-WL-Authenticate
// set to proof when not "".
func postToken(t testing.TB, ctx context.Context, az *fakeaz.Server, appID string, form url.Values, proof string) reply {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, az.AppURL(appID)+"/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if proof != "" {
		req.Header.Set("X-WL-Authenticate", proof)
	}
	resp, err := http.DefaultClient.Do(req)
	return readReply(t, resp, err)
}

// codeForm is the form of an authorization_code token request, as the SDKs sent it.
func codeForm(clientID, code string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "client_id": {clientID},
		"redirect_uri": {fakedevice.RedirectURI}}
}

// proofOf signs {"code": code} with key, as a device proves possession of its key.
func proofOf(t testing.TB, key *rsa.PrivateKey, code string) string {
	t.Helper()
	f, err := tokenfactory.New(key)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := f.Sign(map[string]any{"code": code}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// wantAZReply asserts an AZ error answered to a request sent by hand.
func wantAZReply(t testing.TB, r reply, status int, code, desc string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("AZ answered %d %s, want %d", r.Status, r.Body, status)
	}
	var body oauthError
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatalf("AZ error body %q is not JSON: %v", r.Body, err)
	}
	checkOAuthError(t, body, code, desc)
}

func startCustomIdP(t testing.TB) *custom.Server {
	t.Helper()
	s, err := custom.New(custom.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func startFacebook(t testing.TB, opts ...facebook.Option) *facebook.Server {
	t.Helper()
	s := facebook.New(append([]facebook.Option{facebook.WithApp(fbAppID, fbAppSecret)}, opts...)...)
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func startGoogle(t testing.TB) *google.Server {
	t.Helper()
	keys(t)
	s, err := google.New(google.WithKey(azKey))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func customRealm(idp *custom.Server) fakeaz.Realm {
	return fakeaz.Realm{Kind: fakeaz.RealmCustom, Name: custom.DefaultRealm, IdPURL: idp.URL()}
}

func facebookRealm(fb *facebook.Server) fakeaz.Realm {
	return fakeaz.Realm{Kind: fakeaz.RealmFacebook, FacebookAppID: fbAppID, FacebookAppSecret: fbAppSecret, GraphURL: fb.URL()}
}

func googleRealm(g *google.Server) fakeaz.Realm {
	return fakeaz.Realm{Kind: fakeaz.RealmGoogle, GoogleClientID: googleClient, TokenInfoURL: g.TokenInfoURL()}
}

// providerToken is a fakedevice.TokenFunc returning tok after checking the
// challenge named the expected provider app.
func providerToken(t testing.TB, wantApp string, tok func() (string, error)) fakedevice.TokenFunc {
	return func(_ context.Context, app string) (string, error) {
		if app != wantApp {
			t.Errorf("challenge names provider app %q, want %q", app, wantApp)
		}
		return tok()
	}
}

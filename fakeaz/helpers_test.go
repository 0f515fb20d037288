package fakeaz_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jws/jwsbb"
	"github.com/mcaspec/mcaspec/fakeaz"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

var (
	keyOnce sync.Once
	azKeys  [4]*rsa.PrivateKey // 2048-bit, for app signing keys and the CA
	devKeys [3]*rsa.PrivateKey // 512, 1024, 2048 bits, device keys
	keyErr  error
)

func sharedKeys(t testing.TB) {
	t.Helper()
	keyOnce.Do(func() {
		for i := range azKeys {
			if azKeys[i], keyErr = tokenfactory.GenerateKey(2048, nil); keyErr != nil {
				return
			}
		}
		for i, bits := range []int{512, 1024, 2048} {
			if devKeys[i], keyErr = tokenfactory.GenerateKey(bits, nil); keyErr != nil {
				return
			}
		}
	})
	if keyErr != nil {
		t.Fatal(keyErr)
	}
}

// keyGen hands out the shared AZ keys round-robin.
func keyGen(t testing.TB) func() (*rsa.PrivateKey, error) {
	sharedKeys(t)
	var n atomic.Int64
	return func() (*rsa.PrivateKey, error) {
		return azKeys[int(n.Add(1)-1)%len(azKeys)], nil
	}
}

// fakeClock is an injectable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *fakeClock { return &fakeClock{now: time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// env is a started server with an anonymous app.
type env struct {
	s     *fakeaz.Server
	clock *fakeClock
	app   fakeaz.App
	hc    *http.Client // does not follow redirects
}

const bundle = "com.example.app"

func newEnv(t *testing.T, opts ...fakeaz.Option) *env { return newEnvB(t, opts...) }

func newEnvB(t testing.TB, opts ...fakeaz.Option) *env {
	t.Helper()
	clk := newClock()
	s, err := fakeaz.New(append([]fakeaz.Option{fakeaz.WithKeyGen(keyGen(t)), fakeaz.WithClock(clk.Now)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	app, err := s.AddApp(fakeaz.App{BundleID: bundle, Versions: []string{"1.0", "1.1"},
		ServiceClients: []fakeaz.ServiceClient{{ClientID: "svc", Secret: "s3cret"}}})
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &env{s: s, clock: clk, app: app, hc: hc}
}

func (e *env) appURL(appID, endpoint string) string { return e.s.AppURL(appID) + "/" + endpoint }

// device is the hand-written device side of the protocol.
type device struct {
	key *rsa.PrivateKey
	// modEnc encodes the jpk modulus and exponent (quirks); nil: unpadded base64url.
	modEnc func([]byte) string
	// leadingZero prepends a zero byte to the modulus.
	leadingZero bool
	// payload overrides CSR payload fields.
	payload map[string]any
	session string
}

func newDevice(t testing.TB, bits int) *device {
	sharedKeys(t)
	k := map[int]*rsa.PrivateKey{512: devKeys[0], 1024: devKeys[1], 2048: devKeys[2]}[bits]
	if k == nil {
		t.Fatalf("no shared device key of %d bits", bits)
	}
	return &device{key: k, session: "sess-" + fmt.Sprint(bits)}
}

// jws signs raw header and payload JSON with key (unpadded base64url segments).
func signJWS(t testing.TB, key *rsa.PrivateKey, header, payload string) string {
	t.Helper()
	in := tokenfactory.B64.EncodeToString([]byte(header)) + "." + tokenfactory.B64.EncodeToString([]byte(payload))
	sig, err := jwsbb.Sign(key, "RS256", []byte(in), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return in + "." + tokenfactory.B64.EncodeToString(sig)
}

func (d *device) csr(t testing.TB) string {
	t.Helper()
	enc := d.modEnc
	if enc == nil {
		enc = tokenfactory.B64.EncodeToString
	}
	n := d.key.N.Bytes()
	if d.leadingZero {
		n = append([]byte{0}, n...)
	}
	mod, exp := enc(n), enc([]byte{1, 0, 1})
	mj, _ := json.Marshal(mod)
	ej, _ := json.Marshal(exp)
	// Escape slashes as JSON encoders of real SDKs did ("\/").
	header := fmt.Sprintf(`{"alg":"RS256","jpk":{"alg":"RSA","mod":%s,"exp":%s}}`,
		strings.ReplaceAll(string(mj), "/", `\/`), strings.ReplaceAll(string(ej), "/", `\/`))
	p := map[string]any{
		"deviceId": "dev-1", "deviceOs": "iOS", "deviceModel": "iPhone",
		"applicationId": bundle, "applicationVersion": "1.0", "environment": "iOSnative",
	}
	for k, v := range d.payload {
		p[k] = v
	}
	pb, _ := json.Marshal(p)
	return signJWS(t, d.key, header, string(pb))
}

var stdEnc = base64.StdEncoding.EncodeToString
var paddedURL = base64.URLEncoding.EncodeToString

func postForm(t testing.TB, hc *http.Client, u string, form url.Values, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return do(t, hc, req)
}

func get(t testing.TB, hc *http.Client, u string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return do(t, hc, req)
}

func do(t testing.TB, hc *http.Client, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// register registers d for appID and returns the client id.
func (e *env) register(t testing.TB, appID string, d *device) string {
	t.Helper()
	resp, body := postForm(t, e.hc, e.appURL(appID, "clients/instance"), url.Values{"CSR": {d.csr(t)}}, map[string]string{"X-WL-Session": d.session})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("registration: %d %s", resp.StatusCode, body)
	}
	var r struct{ Certificate, ClientID string }
	if err := json.Unmarshal(body, &r); err != nil || r.ClientID == "" {
		t.Fatalf("registration body %s: %v", body, err)
	}
	return r.ClientID
}

func (e *env) authorize(t testing.TB, appID, clientID string, d *device, authz string) *http.Response {
	t.Helper()
	q := url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {"http://localhost"}}
	h := map[string]string{"X-WL-Session": d.session}
	if authz != "" {
		h["Authorization"] = authz
	}
	resp, body := get(t, e.hc, e.appURL(appID, "authorization")+"?"+q.Encode(), h)
	resp.Body = io.NopCloser(strings.NewReader(string(body)))
	return resp
}

// code runs the authorization step of an anonymous app and returns the code.
func (e *env) code(t testing.TB, appID, clientID string, d *device) string {
	t.Helper()
	resp := e.authorize(t, appID, clientID, d, "")
	return codeFrom(t, resp)
}

func codeFrom(t testing.TB, resp *http.Response) string {
	t.Helper()
	if resp.StatusCode != http.StatusFound {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("authorization: %d %s", resp.StatusCode, b)
	}
	loc := resp.Header.Get("Location")
	rest, ok := strings.CutPrefix(loc, "http://localhost?code=")
	code, _, _ := strings.Cut(rest, "&")
	if !ok || code == "" || strings.ContainsAny(code, "=+/%") {
		t.Fatalf("Location %q is not http://localhost?code=<unpadded base64url>[&wl_result=...]", loc)
	}
	return code
}

// wlResultFrom returns the decoded wl_result of an authorization redirect
// ({"WL-Authentication-Success"|"WL-Authentication-Failure": {realm: {...}}}),
// checking it is encoded so that both SDKs' query splitting reads it: no raw
// '=', '&' or '+' in the value.
func wlResultFrom(t testing.TB, resp *http.Response) map[string]map[string]map[string]any {
	t.Helper()
	if resp.StatusCode != http.StatusFound {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("authorization: %d %s, want 302 with wl_result", resp.StatusCode, b)
	}
	loc := resp.Header.Get("Location")
	_, raw, ok := strings.Cut(loc, "wl_result=")
	if !ok || strings.ContainsAny(raw, "=&+ ") {
		t.Fatalf("Location %q: no wl_result, or one the SDKs cannot split", loc)
	}
	v, err := url.PathUnescape(raw)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]map[string]map[string]any
	if err := json.Unmarshal([]byte(v), &out); err != nil {
		t.Fatalf("wl_result %q: %v", v, err)
	}
	return out
}

// redeem posts the authorization_code grant; signer signs X-WL-Authenticate.
func (e *env) redeem(t testing.TB, appID, clientID, code string, signer *rsa.PrivateKey) (*http.Response, []byte) {
	t.Helper()
	form := url.Values{"code": {code}, "client_id": {clientID}, "grant_type": {"authorization_code"}, "redirect_uri": {"http://localhost"}}
	h := map[string]string{}
	if signer != nil {
		h["X-WL-Authenticate"] = signJWS(t, signer, `{"alg":"RS256"}`, fmt.Sprintf(`{"code":%q}`, code))
	}
	return postForm(t, e.hc, e.appURL(appID, "token"), form, h)
}

// verifyToken checks tok's RS256 signature with pub and returns its claims.
func verifyToken(t testing.TB, tok string, pub *rsa.PublicKey) map[string]any {
	t.Helper()
	h, p, s, err := jwsbb.SplitCompactString(tok)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := tokenfactory.B64.DecodeString(string(s))
	if err != nil {
		t.Fatal(err)
	}
	if err := jwsbb.Verify(pub, "RS256", []byte(string(h)+"."+string(p)), sig); err != nil {
		t.Fatalf("token does not verify: %v", err)
	}
	pb, err := tokenfactory.B64.DecodeString(string(p))
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(pb, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func errCode(t testing.TB, body []byte) string {
	t.Helper()
	var e struct {
		Error string `json:"error"`
		Desc  string `json:"error_description"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body is not JSON: %q", body)
	}
	if e.Error != "" && e.Desc == "" {
		t.Errorf("error %q without error_description", e.Error)
	}
	return e.Error
}

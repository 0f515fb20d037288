// Package fakedevice simulates the MCA (Mobile Client Access) client SDK of
// an iOS or Android app: device registration with a self-signed CSR, the
// authorization step with its challenge dance, code redemption, and calls to
// protected resources with `Authorization: Bearer <access> <id>`, retrying
// once after re-authorizing when the resource answers 401/403 naming
// imfAuthentication. Quirks reproduce what the real SDKs sent and how they
// broke. RunFleet runs many simulated devices at once.
//
// The wire protocol is the one in the project's protocol.md. A Device talks
// to any http(s) server URL: a local fake, a container, a pod.
//
// 512-bit device keys (LegacyKeyBits, what the real SDKs used) need
// GODEBUG=rsa1024min=0; a module importing fakedevice needs
// `godebug rsa1024min=0` in its go.mod.
package fakedevice

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mcaspec/mcaspec/tokenfactory"
)

// Platforms, as sent in the CSR's "environment" field.
const (
	PlatformIOS     = "iOSnative"
	PlatformAndroid = "android"
)

// Defaults of a Config.
const (
	DefaultPlatform   = PlatformIOS
	DefaultAppVersion = "1.0"
	// DefaultKeyBits is the size of the device key made at registration.
	DefaultKeyBits = 2048
	// LegacyKeyBits is the key size the real SDKs used.
	LegacyKeyBits = 512
	// DefaultMaxChallengeRounds bounds the challenge answers sent in one
	// authorization step.
	DefaultMaxChallengeRounds = 10
	// DefaultTimeout is the timeout of the HTTP client made when Config.HTTPClient is nil.
	DefaultTimeout = 30 * time.Second
	// RedirectURI is the redirect_uri the SDKs sent.
	RedirectURI = "http://localhost"
)

// maxBody bounds how much of a response body the device reads.
const maxBody = 1 << 20

// Config describes one simulated device. ServerURL, AppID and BundleID are required.
type Config struct {
	// ServerURL is the AZ's serverUrl, e.g. http://127.0.0.1:PORT/imf-authserver.
	ServerURL string
	// AppID is the MCA app id (tenant id).
	AppID string
	// BundleID is the iOS bundle id or Android package name (CSR applicationId).
	BundleID string
	// AppVersion is the CSR applicationVersion (default DefaultAppVersion).
	AppVersion string
	// Platform is PlatformIOS (default) or PlatformAndroid.
	Platform string
	// DeviceID is generated from Rand when empty.
	DeviceID string
	// DeviceModel and OSVersion default to a plausible value for the
	// platform. The CSR's deviceOs is "<iOS|Android> <OSVersion>".
	DeviceModel, OSVersion string
	// KeyBits is the size of the RSA key made at Register (default
	// DefaultKeyBits; MinKeyBits..MaxKeyBits of tokenfactory).
	KeyBits int
	// Key, when set, is used instead of generating a key at Register (tests,
	// or load runs that should not spend time in key generation).
	Key *rsa.PrivateKey
	// Handlers answer challenges, by realm.
	Handlers map[string]Handler
	// Fallback, when set, answers realms that have no entry in Handlers.
	Fallback Handler
	// MaxChallengeRounds bounds the challenge answers of one authorization
	// step (default DefaultMaxChallengeRounds).
	MaxChallengeRounds int
	// HTTPClient sends the requests (default: a client with DefaultTimeout).
	// The device never changes it; for the authorization step it uses a copy
	// that does not follow redirects.
	HTTPClient *http.Client
	// Clock gives the time used for token expiry (default time.Now).
	Clock func() time.Time
	// Rand is the randomness for device id, session id and key generation
	// (default crypto/rand).
	Rand io.Reader
	// Quirks reproduce the real SDKs' encodings and bugs.
	Quirks Quirks
	// InsecureAllowRemote has no effect: any http(s) ServerURL is accepted.
	//
	// Deprecated: devices no longer refuse non-loopback server URLs.
	InsecureAllowRemote bool
}

// Tokens are the tokens obtained by ObtainTokens.
type Tokens struct {
	Access, ID string
	// TokenType as the server sent it ("Bearer").
	TokenType string
	// ExpiresIn as the server sent it; Expiry is Clock() at redemption plus
	// ExpiresIn (zero when the server sent none).
	ExpiresIn time.Duration
	Expiry    time.Time
}

// Timings accumulate where a device spent its time (wall clock).
type Timings struct {
	// KeyGen is time spent generating the RSA key.
	KeyGen time.Duration
	// Sign is time spent signing the CSR and the code proofs.
	Sign time.Duration
	// Wait is time spent waiting for HTTP responses (including reading bodies).
	Wait time.Duration
	// Requests is the number of HTTP requests sent.
	Requests int
}

// Device is one simulated app installation. Its methods are safe for
// concurrent use, but a device runs one flow at a time as a real app would.
type Device struct {
	cfg      Config
	base     string
	session  string
	noFollow *http.Client
	follow   *http.Client

	flow sync.Mutex // serializes Register/Authorize/ObtainTokens/Logout

	mu       sync.Mutex // guards the fields below
	key      *rsa.PrivateKey
	clientID string
	cert     *x509.Certificate
	code     string
	wlResult string
	tokens   Tokens
	timings  Timings
}

// New checks cfg and returns a device that is not yet registered. It does no I/O.
func New(cfg Config) (*Device, error) {
	if cfg.ServerURL == "" || cfg.AppID == "" || cfg.BundleID == "" {
		return nil, fmt.Errorf("%w: ServerURL, AppID and BundleID are required", ErrConfig)
	}
	if err := CheckServerURL(cfg.ServerURL); err != nil {
		return nil, err
	}
	switch cfg.Platform {
	case "":
		cfg.Platform = DefaultPlatform
	case PlatformIOS, PlatformAndroid:
	default:
		return nil, fmt.Errorf("%w: Platform %q (want %q or %q)", ErrConfig, cfg.Platform, PlatformIOS, PlatformAndroid)
	}
	if cfg.KeyBits == 0 {
		cfg.KeyBits = DefaultKeyBits
	}
	if cfg.Key != nil {
		cfg.KeyBits = cfg.Key.N.BitLen()
	}
	if err := tokenfactory.CheckKeySize(cfg.KeyBits); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if cfg.AppVersion == "" {
		cfg.AppVersion = DefaultAppVersion
	}
	if cfg.MaxChallengeRounds <= 0 {
		cfg.MaxChallengeRounds = DefaultMaxChallengeRounds
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.DeviceModel == "" {
		cfg.DeviceModel = map[string]string{PlatformIOS: "iPhone8,1", PlatformAndroid: "Nexus 5X"}[cfg.Platform]
	}
	if cfg.OSVersion == "" {
		cfg.OSVersion = map[string]string{PlatformIOS: "9.3.2", PlatformAndroid: "7.0"}[cfg.Platform]
	}
	if cfg.DeviceID == "" {
		var err error
		if cfg.DeviceID, err = newDeviceID(cfg.Rand, cfg.Platform); err != nil {
			return nil, fmt.Errorf("%w: device id: %w", ErrConfig, err)
		}
	}
	session, err := newUUID(cfg.Rand)
	if err != nil {
		return nil, fmt.Errorf("%w: session id: %w", ErrConfig, err)
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: DefaultTimeout}
	}
	noFollow := *client
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Device{
		cfg:      cfg,
		base:     strings.TrimRight(cfg.ServerURL, "/") + "/authorization/v1/apps/" + url.PathEscape(cfg.AppID),
		session:  session,
		noFollow: &noFollow,
		follow:   client,
	}, nil
}

// CheckServerURL returns an error wrapping ErrConfig unless rawURL is an
// absolute http or https URL with a host (any host: loopback, a Service name,
// a public address), such as http://127.0.0.1:9080/imf-authserver.
func CheckServerURL(rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("%w: server URL %q is not an absolute http(s) URL like http://127.0.0.1:9080/imf-authserver", ErrConfig, rawURL)
	}
	return nil
}

// DeviceID returns the device id sent in the CSR.
func (d *Device) DeviceID() string { return d.cfg.DeviceID }

// Platform returns the device's platform.
func (d *Device) Platform() string { return d.cfg.Platform }

// Session returns the X-WL-Session value the device sends on every AZ request.
func (d *Device) Session() string { return d.session }

// ClientID returns the clientId assigned at registration ("" before).
func (d *Device) ClientID() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.clientID
}

// Certificate returns the client certificate received at registration (nil before).
func (d *Device) Certificate() *x509.Certificate {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cert
}

// PublicKey returns the device key's public half (nil before registration).
func (d *Device) PublicKey() *rsa.PublicKey {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.key == nil {
		return nil
	}
	return &d.key.PublicKey
}

// WLResult returns the raw (still URL-encoded) wl_result parameter of the
// last authorization redirect, if any.
func (d *Device) WLResult() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.wlResult
}

// Tokens returns the current tokens (zero before ObtainTokens).
func (d *Device) Tokens() Tokens {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.tokens
}

// Timings returns where the device has spent its time so far.
func (d *Device) Timings() Timings {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.timings
}

// AuthorizationHeader returns "Bearer <access> <id>" (without the id token
// when the server sent none), or "" before ObtainTokens.
func (d *Device) AuthorizationHeader() string {
	t := d.Tokens()
	if t.Access == "" {
		return ""
	}
	if t.ID == "" {
		return "Bearer " + t.Access
	}
	return "Bearer " + t.Access + " " + t.ID
}

func (d *Device) addTime(kind *time.Duration, since time.Time) {
	el := time.Since(since)
	d.mu.Lock()
	*kind += el
	d.mu.Unlock()
}

// send sends req with X-WL-Session, reads at most maxBody of the body and
// accounts the wait.
func (d *Device) send(c *http.Client, req *http.Request) (*http.Response, []byte, error) {
	req.Header.Set("X-WL-Session", d.session)
	start := time.Now()
	d.mu.Lock()
	d.timings.Requests++
	d.mu.Unlock()
	defer d.addTime(&d.timings.Wait, start)
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: reading body: %w", req.Method, req.URL, err)
	}
	return resp, body, nil
}

func httpError(req *http.Request, resp *http.Response, body []byte) *HTTPError {
	return &HTTPError{Method: req.Method, URL: req.URL.String(), Status: resp.StatusCode,
		WWWAuthenticate: resp.Header.Get("WWW-Authenticate"), Body: excerpt(body)}
}

func postForm(ctx context.Context, u string, form url.Values) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req, nil
}

// osName is the OS name that prefixes deviceOs ("iOS 9.3.2").
func osName(platform string) string {
	if platform == PlatformAndroid {
		return "Android"
	}
	return "iOS"
}

// csrPayload is the payload of the registration CSR.
type csrPayload struct {
	DeviceID           string `json:"deviceId"`
	DeviceOS           string `json:"deviceOs"`
	DeviceModel        string `json:"deviceModel"`
	ApplicationID      string `json:"applicationId"`
	ApplicationVersion string `json:"applicationVersion"`
	Environment        string `json:"environment"`
}

// Register makes the device key (or uses Config.Key), sends the CSR to
// clients/instance and stores the clientId and certificate. Registering
// again makes a new key and replaces the previous registration.
func (d *Device) Register(ctx context.Context) error {
	d.flow.Lock()
	defer d.flow.Unlock()
	return opErr(OpRegister, d.register(ctx))
}

func (d *Device) register(ctx context.Context) error {
	key := d.cfg.Key
	if key == nil {
		start := time.Now()
		var err error
		key, err = tokenfactory.GenerateKey(d.cfg.KeyBits, d.cfg.Rand)
		d.addTime(&d.timings.KeyGen, start)
		if err != nil {
			return fmt.Errorf("generating a %d-bit device key: %w (512-bit keys need GODEBUG=rsa1024min=0)", d.cfg.KeyBits, err)
		}
	}
	payload, err := json.Marshal(csrPayload{
		DeviceID: d.cfg.DeviceID, DeviceOS: osName(d.cfg.Platform) + " " + d.cfg.OSVersion, DeviceModel: d.cfg.DeviceModel,
		ApplicationID: d.cfg.BundleID, ApplicationVersion: d.cfg.AppVersion, Environment: d.cfg.Platform,
	})
	if err != nil {
		return err
	}
	start := time.Now()
	csr, err := d.cfg.Quirks.sign(key, payload)
	d.addTime(&d.timings.Sign, start)
	if err != nil {
		return fmt.Errorf("signing the CSR: %w", err)
	}
	req, err := postForm(ctx, d.base+"/clients/instance", url.Values{"CSR": {csr}})
	if err != nil {
		return err
	}
	resp, body, err := d.send(d.noFollow, req)
	if err != nil {
		return err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return httpError(req, resp, body)
	}
	var out struct {
		Certificate string `json:"certificate"`
		ClientID    string `json:"clientId"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return fmt.Errorf("%w: registration answer is not JSON {certificate, clientId}: %v: %q", ErrBadResponse, err, excerpt(body))
	}
	if out.ClientID == "" {
		return fmt.Errorf("%w: registration answer has no clientId: %q", ErrBadResponse, excerpt(body))
	}
	der, err := tokenfactory.DecodeLenient(out.Certificate)
	if err != nil || len(der) == 0 {
		return fmt.Errorf("%w: certificate is not base64 DER: %q", ErrBadResponse, excerpt([]byte(out.Certificate)))
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return fmt.Errorf("%w: certificate is not an X.509 certificate: %v", ErrBadResponse, err)
	}
	d.mu.Lock()
	d.key, d.clientID, d.cert = key, out.ClientID, cert
	d.code, d.tokens = "", Tokens{}
	d.mu.Unlock()
	return nil
}

// Authorize runs the authorization step: GET authorization, answering
// WL-Composite-Challenge 401s with the configured handlers (at most
// MaxChallengeRounds answers), until a 3xx whose Location carries the code.
func (d *Device) Authorize(ctx context.Context) error {
	d.flow.Lock()
	defer d.flow.Unlock()
	return opErr(OpAuthorize, d.authorize(ctx))
}

func (d *Device) authorize(ctx context.Context) error {
	clientID := d.ClientID()
	if clientID == "" {
		return ErrNotRegistered
	}
	u := d.base + "/authorization?response_type=code&client_id=" + url.QueryEscape(clientID) +
		"&redirect_uri=" + url.QueryEscape(RedirectURI)
	answer := ""
	for round := 0; ; round++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return err
		}
		if answer != "" {
			req.Header.Set("Authorization", answer)
		}
		resp, body, err := d.send(d.noFollow, req)
		if err != nil {
			return err
		}
		switch {
		case resp.StatusCode >= 300 && resp.StatusCode <= 399:
			return d.takeCode(resp.Header.Get("Location"))
		case resp.StatusCode == http.StatusUnauthorized && strings.Contains(resp.Header.Get("WWW-Authenticate"), "WL-Composite-Challenge"):
			if round >= d.cfg.MaxChallengeRounds {
				return fmt.Errorf("%w: still challenged after %d answers (raise MaxChallengeRounds if the flow really is that long); last challenge: %q",
					ErrTooManyRounds, round, excerpt(body))
			}
			challenges, err := ParseChallenge(body)
			if err != nil {
				return err
			}
			if answer, err = d.answer(ctx, challenges); err != nil {
				return err
			}
		default:
			return httpError(req, resp, body)
		}
	}
}

// takeCode extracts code (and wl_result) from a redirect Location the way
// the SDKs did: the query is split on '&', then each part on '='.
func (d *Device) takeCode(loc string) error {
	i := strings.IndexByte(loc, '?')
	if i < 0 {
		return fmt.Errorf("%w: redirect Location %q has no query with a code", ErrBadResponse, loc)
	}
	query := loc[i+1:]
	if j := strings.IndexByte(query, '#'); j >= 0 {
		query = query[:j]
	}
	var code, wl string
	for _, part := range strings.Split(query, "&") {
		kv := strings.Split(part, "=")
		if len(kv) < 2 {
			continue
		}
		switch kv[0] {
		case "code":
			code = kv[1]
		case "wl_result":
			wl = kv[1]
		}
	}
	if code == "" {
		return fmt.Errorf("%w: redirect Location %q carries no code", ErrBadResponse, loc)
	}
	d.mu.Lock()
	d.code, d.wlResult = code, wl
	d.mu.Unlock()
	return nil
}

// ParseChallenge parses the body of a WL-Composite-Challenge 401, exactly
// "/*-secure-\n{"challenges": {"<realm>": {...}}}*/", into realm → challenge.
// Errors wrap ErrBadChallenge.
func ParseChallenge(body []byte) (map[string]json.RawMessage, error) {
	const prefix, suffix = "/*-secure-\n", "*/"
	s := bytes.TrimSpace(body)
	if !bytes.HasPrefix(s, []byte(prefix)) || !bytes.HasSuffix(s, []byte(suffix)) || len(s) < len(prefix)+len(suffix) {
		return nil, fmt.Errorf(`%w: body is not wrapped in "/*-secure-\n ... */": %q`, ErrBadChallenge, excerpt(body))
	}
	var c struct {
		Challenges map[string]json.RawMessage `json:"challenges"`
	}
	if err := json.Unmarshal(s[len(prefix):len(s)-len(suffix)], &c); err != nil {
		return nil, fmt.Errorf("%w: not JSON {\"challenges\": {...}}: %v: %q", ErrBadChallenge, err, excerpt(body))
	}
	if len(c.Challenges) == 0 {
		return nil, fmt.Errorf("%w: no challenges in %q", ErrBadChallenge, excerpt(body))
	}
	return c.Challenges, nil
}

// answer asks the handlers and builds `Bearer {"<realm>": <answer>, ...}`.
func (d *Device) answer(ctx context.Context, challenges map[string]json.RawMessage) (string, error) {
	answers := make(map[string]json.RawMessage, len(challenges))
	for realm, ch := range challenges {
		h := d.cfg.Handlers[realm]
		if h == nil {
			h = d.cfg.Fallback
		}
		if h == nil {
			return "", fmt.Errorf("%w %q (configure Config.Handlers[%q]); challenge: %s", ErrNoHandler, realm, realm, excerpt(ch))
		}
		a, err := h.Answer(ctx, realm, ch)
		if err != nil {
			return "", fmt.Errorf("%w: realm %q: %w", ErrHandler, realm, err)
		}
		if !json.Valid(a) {
			return "", fmt.Errorf("%w: realm %q: answer is not JSON: %q", ErrHandler, realm, excerpt(a))
		}
		answers[realm] = a
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(answers); err != nil {
		return "", fmt.Errorf("%w: %w", ErrHandler, err)
	}
	return "Bearer " + strings.TrimSpace(buf.String()), nil
}

// ObtainTokens redeems the code from Authorize at the token endpoint, with
// an X-WL-Authenticate proof signed by the device key, and stores the tokens.
func (d *Device) ObtainTokens(ctx context.Context) error {
	d.flow.Lock()
	defer d.flow.Unlock()
	return opErr(OpToken, d.obtainTokens(ctx))
}

func (d *Device) obtainTokens(ctx context.Context) error {
	d.mu.Lock()
	clientID, key, code := d.clientID, d.key, d.code
	d.code = "" // codes are single-use
	d.mu.Unlock()
	if clientID == "" {
		return ErrNotRegistered
	}
	if code == "" {
		return ErrNoCode
	}
	claims, err := json.Marshal(map[string]string{"code": code})
	if err != nil {
		return err
	}
	start := time.Now()
	proof, err := d.cfg.Quirks.sign(key, claims)
	d.addTime(&d.timings.Sign, start)
	if err != nil {
		return fmt.Errorf("signing the code proof: %w", err)
	}
	req, err := postForm(ctx, d.base+"/token", url.Values{
		"code": {code}, "client_id": {clientID}, "grant_type": {"authorization_code"}, "redirect_uri": {RedirectURI},
	})
	if err != nil {
		return err
	}
	req.Header.Set("X-WL-Authenticate", proof)
	resp, body, err := d.send(d.noFollow, req)
	if err != nil {
		return err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return httpError(req, resp, body)
	}
	var out struct {
		Access    string          `json:"access_token"`
		ID        string          `json:"id_token"`
		TokenType string          `json:"token_type"`
		ExpiresIn json.RawMessage `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return fmt.Errorf("%w: token answer is not JSON: %v: %q", ErrBadResponse, err, excerpt(body))
	}
	if out.Access == "" {
		return fmt.Errorf("%w: token answer has no access_token: %q", ErrBadResponse, excerpt(body))
	}
	t := Tokens{Access: out.Access, ID: out.ID, TokenType: out.TokenType}
	if len(out.ExpiresIn) > 0 && string(out.ExpiresIn) != "null" {
		secs, err := strconv.ParseFloat(strings.Trim(string(out.ExpiresIn), `"`), 64)
		if err != nil || secs < 0 {
			return fmt.Errorf("%w: expires_in %s is not a number of seconds", ErrBadResponse, out.ExpiresIn)
		}
		t.ExpiresIn = time.Duration(secs * float64(time.Second))
		t.Expiry = d.cfg.Clock().Add(t.ExpiresIn)
	}
	d.mu.Lock()
	d.tokens = t
	d.mu.Unlock()
	return nil
}

// Login registers the device if it is not yet registered, then runs
// Authorize and ObtainTokens.
func (d *Device) Login(ctx context.Context) error {
	d.flow.Lock()
	defer d.flow.Unlock()
	return d.login(ctx)
}

func (d *Device) login(ctx context.Context) error {
	if d.ClientID() == "" {
		if err := d.register(ctx); err != nil {
			return opErr(OpRegister, err)
		}
	}
	return d.reauthorize(ctx)
}

func (d *Device) reauthorize(ctx context.Context) error {
	if err := d.authorize(ctx); err != nil {
		return opErr(OpAuthorize, err)
	}
	return opErr(OpToken, d.obtainTokens(ctx))
}

// Logout calls logout?client_id= and forgets the tokens. The registration is kept.
func (d *Device) Logout(ctx context.Context) error {
	d.flow.Lock()
	defer d.flow.Unlock()
	clientID := d.ClientID()
	if clientID == "" {
		return opErr(OpLogout, ErrNotRegistered)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.base+"/logout?client_id="+url.QueryEscape(clientID), nil)
	if err != nil {
		return opErr(OpLogout, err)
	}
	resp, body, err := d.send(d.noFollow, req)
	if err != nil {
		return opErr(OpLogout, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return opErr(OpLogout, httpError(req, resp, body))
	}
	d.mu.Lock()
	d.tokens, d.code = Tokens{}, ""
	d.mu.Unlock()
	return nil
}

// Call sends req to a protected resource with the device's Authorization
// header. Without tokens (or with expired ones, by Clock) it logs in first.
// When the resource answers 401 or 403 with a WWW-Authenticate naming
// imfAuthentication, Call runs Authorize and ObtainTokens again and retries
// exactly once (a request with a body is retried only if req.GetBody is
// set). The caller closes the returned response's body.
func (d *Device) Call(ctx context.Context, req *http.Request) (*http.Response, error) {
	t := d.Tokens()
	if t.Access == "" || (!t.Expiry.IsZero() && !d.cfg.Clock().Before(t.Expiry)) {
		d.flow.Lock()
		err := d.login(ctx)
		d.flow.Unlock()
		if err != nil {
			return nil, err
		}
	}
	resp, err := d.callOnce(ctx, req, false)
	if err != nil || !NamesIMFAuthentication(resp) || (req.Body != nil && req.Body != http.NoBody && req.GetBody == nil) {
		return resp, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
	resp.Body.Close()
	d.flow.Lock()
	err = d.reauthorize(ctx)
	d.flow.Unlock()
	if err != nil {
		return nil, err
	}
	return d.callOnce(ctx, req, true)
}

// NamesIMFAuthentication reports whether resp is a 401 or 403 whose
// WWW-Authenticate names imfAuthentication: the signal to authorize again.
func NamesIMFAuthentication(resp *http.Response) bool {
	if resp == nil || (resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusForbidden) {
		return false
	}
	for _, v := range resp.Header.Values("WWW-Authenticate") {
		if strings.Contains(v, "imfAuthentication") {
			return true
		}
	}
	return false
}

func (d *Device) callOnce(ctx context.Context, req *http.Request, retry bool) (*http.Response, error) {
	r := req.Clone(ctx)
	if retry && req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return nil, opErr(OpCall, err)
		}
		r.Body = body
	}
	r.Header.Set("Authorization", d.AuthorizationHeader())
	d.mu.Lock()
	d.timings.Requests++
	d.mu.Unlock()
	start := time.Now()
	resp, err := d.follow.Do(r)
	d.addTime(&d.timings.Wait, start)
	if err != nil {
		return nil, opErr(OpCall, err)
	}
	return resp, nil
}

// IDClaims are the claims of an id token.
type IDClaims struct {
	Iss         string                   `json:"iss"`
	Aud         string                   `json:"aud"`
	Exp         int64                    `json:"exp"`
	Iat         int64                    `json:"iat"`
	Sub         string                   `json:"sub"`
	User        *tokenfactory.User       `json:"imf.user,omitempty"`
	Device      tokenfactory.Device      `json:"imf.device"`
	Application tokenfactory.Application `json:"imf.application"`
	// Raw holds every claim as decoded JSON.
	Raw map[string]any `json:"-"`
}

// IDTokenClaims decodes (without verifying) the id token's payload. With
// Quirks.StdBase64IDToken it decodes as the real SDKs did, with the
// standard base64 alphabet, and so fails on payloads containing '-' or '_'.
func (d *Device) IDTokenClaims() (IDClaims, error) {
	t := d.Tokens()
	if t.ID == "" {
		return IDClaims{}, fmt.Errorf("%w: %w", ErrIDToken, ErrNoTokens)
	}
	return DecodeIDToken(t.ID, d.cfg.Quirks.StdBase64IDToken)
}

// DecodeIDToken decodes the payload of a compact id token without verifying
// it. stdAlphabet reproduces the SDKs' bug (see Quirks.StdBase64IDToken).
func DecodeIDToken(token string, stdAlphabet bool) (IDClaims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return IDClaims{}, fmt.Errorf("%w: %d segments, want 3", ErrIDToken, len(parts))
	}
	seg := parts[1]
	var raw []byte
	var err error
	if stdAlphabet {
		seg = strings.TrimRight(seg, "=")
		if n := len(seg) % 4; n != 0 {
			seg += strings.Repeat("=", 4-n)
		}
		raw, err = base64.StdEncoding.DecodeString(seg)
	} else {
		raw, err = base64.RawURLEncoding.DecodeString(strings.TrimRight(seg, "="))
	}
	if err != nil {
		return IDClaims{}, fmt.Errorf("%w: payload is not base64 (standard alphabet: %v): %w", ErrIDToken, stdAlphabet, err)
	}
	var c IDClaims
	if err := json.Unmarshal(raw, &c); err != nil {
		return IDClaims{}, fmt.Errorf("%w: payload is not the JSON of id-token claims: %w", ErrIDToken, err)
	}
	if err := json.Unmarshal(raw, &c.Raw); err != nil {
		return IDClaims{}, fmt.Errorf("%w: %w", ErrIDToken, err)
	}
	return c, nil
}

func newUUID(r io.Reader) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}

// newDeviceID makes an id shaped like the platform's: an upper-case UUID
// (identifierForVendor) on iOS, 16 hex digits (ANDROID_ID) on Android.
func newDeviceID(r io.Reader, platform string) (string, error) {
	if platform == PlatformAndroid {
		var b [8]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return "", err
		}
		return hex.EncodeToString(b[:]), nil
	}
	u, err := newUUID(r)
	return strings.ToUpper(u), err
}

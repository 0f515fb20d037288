// Package fakedevice simulates the MCA (Mobile Client Access) client SDK of
// an iOS or Android app: device registration with a self-signed CSR, the
// authorization step with its challenge dance, code redemption, and calls to
// protected resources with `Authorization: Bearer <access> <id>`,
// re-authorizing when the resource answers with a challenge the real SDK
// recognises (IsAuthChallenge). A Device behaves as the real SDK of its
// platform did (Android bms-clientsdk-android-core, iOS
// bms-clientsdk-swift-security; see sdkrules.go for the files and commits):
// what it sends (SDKQuirks), what it accepts, and how it fails. RunFleet runs
// many simulated devices at once.
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
	"crypto/md5"
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
	// DeviceID is generated from Rand when empty, shaped as the SDK's: an
	// upper-case random UUID on iOS (identifierForVendor), a name-based
	// (version 3) UUID of a random 16-hex ANDROID_ID on Android
	// (UUID.nameUUIDFromBytes in security/identity/BaseDeviceIdentity.java
	// lines 96-99; the genuine token's device id is one).
	DeviceID string
	// DeviceModel defaults to the SDK's value: "iPhone" (UIDevice.model) on
	// iOS, "Android SDK built for x86_64" (Build.MODEL of the emulator in the
	// genuine token) on Android.
	DeviceModel string
	// OSVersion is the device's OS release (default "6.0" on Android, as in
	// the genuine token, "9.3.2" on iOS). The current SDKs do not send it:
	// the CSR's deviceOs is "iOS" (UIDevice.systemName) or "android"
	// (BaseDeviceIdentity.java line 48). See LegacyAndroidDeviceOS.
	OSVersion string
	// LegacyAndroidDeviceOS sends OSVersion as deviceOs, as the Android SDK
	// did before commit 550f4d4 (February 2016). Android only.
	LegacyAndroidDeviceOS bool
	// ProactiveRefresh logs in before a Call when the device has no tokens
	// or expires_in has run out (by Clock). The SDKs never read expires_in:
	// by default a Call sends what the device holds (nothing, or an expired
	// token) and relies on the resource's challenge, as real devices do.
	ProactiveRefresh bool
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
	// Quirks are the encodings and bugs on the wire. nil (the default) means
	// SDKQuirks(Platform), the platform's real SDK; &Quirks{} is a
	// well-behaved client.
	Quirks *Quirks
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
	quirks   Quirks
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
	result   *WLResult
	user     map[string]any
	tokens   Tokens
	timings  Timings
	// authFailures counts 400 answers of the authorization endpoint (iOS
	// re-registers on the first; reset by Logout).
	authFailures int
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
		cfg.DeviceModel = map[string]string{PlatformIOS: "iPhone", PlatformAndroid: "Android SDK built for x86_64"}[cfg.Platform]
	}
	if cfg.OSVersion == "" {
		cfg.OSVersion = map[string]string{PlatformIOS: "9.3.2", PlatformAndroid: "6.0"}[cfg.Platform]
	}
	quirks := SDKQuirks(cfg.Platform)
	if cfg.Quirks != nil {
		quirks = *cfg.Quirks
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
		quirks:   quirks,
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

// WLResult returns the decoded wl_result parameter (JSON text) of the
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

// deviceOS is the CSR's deviceOs as the platform's SDK sends it: "iOS"
// (UIDevice.systemName, Source/mca/api/identity/MCADeviceIdentity.swift
// line 35), "android" (security/identity/BaseDeviceIdentity.java line 48),
// or the OS release with LegacyAndroidDeviceOS.
func (d *Device) deviceOS() string {
	if d.cfg.Platform == PlatformAndroid {
		if d.cfg.LegacyAndroidDeviceOS {
			return d.cfg.OSVersion
		}
		return "android"
	}
	return "iOS"
}

// csrPayload is the payload of the registration CSR, in the order the
// Android SDK writes it (AuthorizationProcessManager.java lines 173-178;
// iOS writes a Swift Dictionary, in no fixed order).
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
//
// As both SDKs do, the certificate must carry the device's public key
// (Android CertificatesUtility.checkValidityWithPublicKey, iOS
// SecurityUtils.checkCertificatePublicKeyValidity), and on Android it must
// be valid at Clock()+5 minutes; otherwise Register fails with
// ErrCertificate.
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
	payload := csrPayload{
		DeviceID: d.cfg.DeviceID, DeviceOS: d.deviceOS(), DeviceModel: d.cfg.DeviceModel,
		ApplicationID: d.cfg.BundleID, ApplicationVersion: d.cfg.AppVersion, Environment: d.cfg.Platform,
	}
	start := time.Now()
	csr, err := d.quirks.sign(key, payload)
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
	if err := d.checkCertificate(cert, &key.PublicKey); err != nil {
		return err
	}
	d.mu.Lock()
	d.key, d.clientID, d.cert = key, out.ClientID, cert
	d.code, d.tokens, d.user, d.result = "", Tokens{}, nil, nil
	d.mu.Unlock()
	return nil
}

// certValiditySlack is how far ahead the Android SDK checks the issued
// certificate's validity (CertificatesUtility.java lines 51-63).
const certValiditySlack = 5 * time.Minute

func (d *Device) checkCertificate(cert *x509.Certificate, pub *rsa.PublicKey) error {
	certPub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok || !certPub.Equal(pub) {
		return fmt.Errorf("%w: the issued certificate does not carry the device's public key (subject %s)", ErrCertificate, cert.Subject)
	}
	if d.cfg.Platform == PlatformAndroid {
		at := d.cfg.Clock().Add(certValiditySlack)
		if at.Before(cert.NotBefore) || at.After(cert.NotAfter) {
			return fmt.Errorf("%w: the issued certificate is not valid at now+5m (%s): valid %s to %s",
				ErrCertificate, at.UTC().Format(time.RFC3339), cert.NotBefore.UTC().Format(time.RFC3339), cert.NotAfter.UTC().Format(time.RFC3339))
		}
	}
	return nil
}

// Authorize runs the authorization step: GET authorization, answering
// WL-Composite-Challenge answers with the configured handlers (at most
// MaxChallengeRounds answers), until the redirect whose Location carries
// the code, as the platform's SDK reads them (see isCompositeChallenge,
// isRedirect, queryParam). A wl_result in the redirect fires the handlers'
// HandleSuccess / HandleFailure (see WLResult).
//
// On iOS a 400 answer wipes the registration and registers again, once per
// device until Logout (Source/mca/internal/AuthorizationProcessManager.swift
// lines 149-158); a second 400 is ErrNoCallback, since the real SDK then
// never calls the app back.
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
		case d.cfg.Platform == PlatformIOS && resp.StatusCode == http.StatusBadRequest:
			d.mu.Lock()
			d.authFailures++
			n := d.authFailures
			d.mu.Unlock()
			if n >= 2 {
				return fmt.Errorf("%w: second 400 from the authorization endpoint (the iOS SDK re-registers on the first and then never calls back): %w",
					ErrNoCallback, httpError(req, resp, body))
			}
			d.forgetRegistration()
			if err := d.register(ctx); err != nil {
				return opErr(OpRegister, err)
			}
			return d.authorize(ctx)
		case isRedirect(d.cfg.Platform, resp.StatusCode):
			return d.takeCode(ctx, resp.Header.Values("Location"))
		case isCompositeChallenge(d.cfg.Platform, resp.StatusCode, resp.Header.Values("WWW-Authenticate")):
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
		case resp.StatusCode >= 200 && resp.StatusCode <= 399:
			// Both SDKs then look for a Location header and fail without one.
			return fmt.Errorf("%w: authorization answered %d, not a redirect the %s SDK follows (Location %q)",
				ErrBadResponse, resp.StatusCode, d.cfg.Platform, resp.Header.Get("Location"))
		default:
			return httpError(req, resp, body)
		}
	}
}

// forgetRegistration wipes what the iOS SDK wipes from its keychain on a 400
// (clientId, keys, certificate, tokens).
func (d *Device) forgetRegistration() {
	d.mu.Lock()
	d.key, d.clientID, d.cert = nil, "", nil
	d.code, d.tokens, d.user = "", Tokens{}, nil
	d.mu.Unlock()
}

// takeCode reads the redirect Location the way the platform's SDK does:
// wl_result first (AuthorizationRequestManager processRedirectResponse:
// Android .java lines 350-388, iOS .swift lines 346-389), then code
// (AuthorizationProcessManager extractGrantCode: Android .java lines
// 301-329, iOS .swift lines 275-293), with queryParam's splitting and
// decoding.
func (d *Device) takeCode(ctx context.Context, locations []string) error {
	if len(locations) == 0 {
		return fmt.Errorf("%w: redirect without a Location header", ErrBadResponse)
	}
	loc := locations[0] // Android: the first value; iOS reads a single value too
	u, err := url.Parse(loc)
	if err != nil || (d.cfg.Platform == PlatformAndroid && !u.IsAbs()) {
		// Android: new URL(location) throws MalformedURLException on a relative URL.
		return fmt.Errorf("%w: redirect Location %q is not a URL the %s SDK parses", ErrBadResponse, loc, d.cfg.Platform)
	}
	query := u.RawQuery
	res, err := d.readWLResult(ctx, query)
	if err != nil {
		return err
	}
	d.mu.Lock()
	d.wlResult, d.result = "", res
	if res != nil {
		d.wlResult = res.Raw
	}
	d.mu.Unlock()
	if res != nil && res.Failure != nil && d.cfg.Platform == PlatformAndroid {
		// Android calls the failure handlers and aborts (line 372-376).
		return fmt.Errorf("%w: %s", ErrAuthFailure, res.Raw)
	}
	name := "code"
	code, ok, err := queryParam(d.cfg.Platform, query, name)
	if err != nil {
		return fmt.Errorf("%w: redirect Location %q: %w", ErrBadResponse, loc, err)
	}
	if !ok || code == "" {
		if res != nil && res.Failure != nil {
			// iOS calls the failure handlers, then still looks for a code.
			return fmt.Errorf("%w (and no code in the redirect): %s", ErrAuthFailure, res.Raw)
		}
		return fmt.Errorf("%w: redirect Location %q carries no code the %s SDK extracts", ErrBadResponse, loc, d.cfg.Platform)
	}
	d.mu.Lock()
	d.code = code
	d.mu.Unlock()
	return nil
}

// ParseChallenge parses the body of a WL-Composite-Challenge 401, exactly
// "/*-secure-\n{"challenges": {"<realm>": {...}}}*/" with nothing before or
// after (both SDKs compare prefix and suffix without trimming:
// Utils.extractSecureJson, Android .java lines 77-95, iOS .swift lines
// 112-124), into realm → challenge. Errors wrap ErrBadChallenge.
func ParseChallenge(body []byte) (map[string]json.RawMessage, error) {
	const prefix, suffix = "/*-secure-\n", "*/"
	if !bytes.HasPrefix(body, []byte(prefix)) || !bytes.HasSuffix(body, []byte(suffix)) || len(body) < len(prefix)+len(suffix) {
		return nil, fmt.Errorf(`%w: body is not exactly "/*-secure-\n ... */": %q`, ErrBadChallenge, excerpt(body))
	}
	var c struct {
		Challenges map[string]json.RawMessage `json:"challenges"`
	}
	if err := json.Unmarshal(body[len(prefix):len(body)-len(suffix)], &c); err != nil {
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
		h := d.handler(realm)
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

func (d *Device) handler(realm string) Handler {
	if h := d.cfg.Handlers[realm]; h != nil {
		return h
	}
	return d.cfg.Fallback
}

// ObtainTokens redeems the code from Authorize at the token endpoint, with
// an X-WL-Authenticate proof signed by the device key, and stores the tokens.
//
// Both SDKs need access_token and id_token (Android getString throws; iOS
// saves nothing and reports success, so its retried request goes out with
// the old tokens): without either, ObtainTokens fails with ErrBadResponse
// and keeps the previous tokens. The SDKs never read expires_in; it is
// kept in Tokens for ProactiveRefresh.
//
// Then the id token's payload is decoded for imf.user (UserIdentity), as
// the SDKs do (Android AuthorizationProcessManager.java lines 384-409, iOS
// .swift lines 225-254). With Quirks.SDKIDTokenDecoding a payload holding
// '-' or '_' fails to decode: on Android ObtainTokens then returns an error
// wrapping ErrIDToken although the tokens were stored (the authorization
// fails, the next request uses them); on iOS only UserIdentity is lost.
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
	start := time.Now()
	proof, err := d.quirks.sign(key, struct {
		Code string `json:"code"`
	}{code})
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
	if out.Access == "" || out.ID == "" {
		return fmt.Errorf("%w: token answer lacks access_token or id_token (both SDKs need both): %q", ErrBadResponse, excerpt(body))
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
	user, uerr := d.userIdentity(out.ID)
	d.mu.Lock()
	d.tokens, d.user = t, user
	d.mu.Unlock()
	if uerr != nil && d.cfg.Platform == PlatformAndroid {
		return fmt.Errorf("%w (the tokens were saved, the authorization failed as on Android): %w", ErrIDToken, uerr)
	}
	return nil
}

// userIdentity decodes imf.user from the id token's payload with the
// configured decoding. An error means the payload did not decode as JSON.
func (d *Device) userIdentity(idToken string) (map[string]any, error) {
	claims, err := d.decodeID(idToken)
	if err != nil {
		return nil, err
	}
	u, _ := claims.Raw["imf.user"].(map[string]any)
	return u, nil
}

func (d *Device) decodeID(idToken string) (IDClaims, error) {
	if d.quirks.SDKIDTokenDecoding {
		return DecodeIDTokenAs(d.cfg.Platform, idToken)
	}
	return DecodeIDToken(idToken, false)
}

// UserIdentity returns the imf.user object of the id token as the SDK
// saved it, or nil (anonymous, before ObtainTokens, or lost to the SDK's
// id-token decoding).
func (d *Device) UserIdentity() map[string]any {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.user
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
	if err := d.authorize(ctx); err != nil {
		return opErr(OpAuthorize, err)
	}
	return opErr(OpToken, d.obtainTokens(ctx))
}

// Logout forgets the tokens first, then calls logout?client_id=, as both
// SDKs do (MCAAuthorizationManager.logout: Android .java lines 332-335, iOS
// .swift lines 283-286). The registration is kept. A failing logout request
// is reported, but the tokens are gone either way.
func (d *Device) Logout(ctx context.Context) error {
	d.flow.Lock()
	defer d.flow.Unlock()
	clientID := d.ClientID()
	d.mu.Lock()
	d.tokens, d.code, d.user, d.authFailures = Tokens{}, "", nil, 0
	d.mu.Unlock()
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
	return nil
}

// Call sends req to a protected resource as the platform's SDK does: with
// the Authorization header of the tokens the device holds (none before the
// first login, and expired ones as they are: the SDKs never read
// expires_in). When the answer is a challenge the SDK recognises
// (IsAuthChallenge), the device obtains authorization (registering first if
// it never did) and sends the request again, at most
// MaxReauthorizations(platform) times (Android 2, iOS 1); the last answer
// is returned as it is, challenge included. A request with a body is resent
// only if req.GetBody is set. With Config.ProactiveRefresh the device logs
// in before sending when it has no tokens or they have expired by Clock.
// The caller closes the returned response's body.
func (d *Device) Call(ctx context.Context, req *http.Request) (*http.Response, error) {
	if d.cfg.ProactiveRefresh {
		t := d.Tokens()
		if t.Access == "" || (!t.Expiry.IsZero() && !d.cfg.Clock().Before(t.Expiry)) {
			d.flow.Lock()
			err := d.login(ctx)
			d.flow.Unlock()
			if err != nil {
				return nil, err
			}
		}
	}
	canResend := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	for attempt := 0; ; attempt++ {
		resp, err := d.callOnce(ctx, req, attempt > 0)
		if err != nil || !canResend || attempt >= MaxReauthorizations(d.cfg.Platform) ||
			!IsAuthChallenge(d.cfg.Platform, resp.StatusCode, resp.Header.Values("WWW-Authenticate")) {
			return resp, err
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
		resp.Body.Close()
		d.flow.Lock()
		err = d.login(ctx)
		d.flow.Unlock()
		if err != nil {
			return nil, err
		}
	}
}

// NamesIMFAuthentication reports whether resp is a challenge both real
// SDKs recognise (IsAuthChallengeForAll).
//
// Deprecated: use IsAuthChallenge with a platform, or IsAuthChallengeForAll.
func NamesIMFAuthentication(resp *http.Response) bool {
	return resp != nil && IsAuthChallengeForAll(resp.StatusCode, resp.Header.Values("WWW-Authenticate"))
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
	if h := d.AuthorizationHeader(); h != "" {
		r.Header.Set("Authorization", h)
	}
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

// IDTokenClaims decodes (without verifying) the id token's payload, with
// the platform SDK's decoder when Quirks.SDKIDTokenDecoding is on (see
// DecodeIDTokenAs).
func (d *Device) IDTokenClaims() (IDClaims, error) {
	t := d.Tokens()
	if t.ID == "" {
		return IDClaims{}, fmt.Errorf("%w: %w", ErrIDToken, ErrNoTokens)
	}
	return d.decodeID(t.ID)
}

// DecodeIDToken decodes the payload of a compact id token without verifying
// it: as base64url (RFC 7515), or with stdAlphabet as standard base64
// (which fails on '-' and '_').
func DecodeIDToken(token string, stdAlphabet bool) (IDClaims, error) {
	seg, err := payloadSegment(token)
	if err != nil {
		return IDClaims{}, err
	}
	var raw []byte
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
	return parseIDClaims(raw)
}

// DecodeIDTokenAs decodes the id token's payload as the platform's SDK
// does: Android with android.util.Base64 DEFAULT (characters outside the
// standard alphabet skipped, so '-' and '_' shift the rest into garbage
// that is not JSON), iOS with Utils.decodeBase64WithString (nil on '-' or
// '_'). Errors wrap ErrIDToken.
func DecodeIDTokenAs(platform, token string) (IDClaims, error) {
	seg, err := payloadSegment(token)
	if err != nil {
		return IDClaims{}, err
	}
	var raw []byte
	if platform == PlatformAndroid {
		raw, err = decodeAndroidDefault(seg)
	} else {
		raw, err = decodeIOS(seg)
	}
	if err != nil {
		return IDClaims{}, fmt.Errorf("%w: %s SDK decoding: %w", ErrIDToken, platform, err)
	}
	// Java's new String(bytes) replaces invalid UTF-8; the JSON parse then fails as here.
	return parseIDClaims([]byte(strings.ToValidUTF8(string(raw), "\uFFFD")))
}

func payloadSegment(token string) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", fmt.Errorf("%w: %d segments, want 3", ErrIDToken, len(parts))
	}
	return parts[1], nil
}

func parseIDClaims(raw []byte) (IDClaims, error) {
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
	return formatUUID(b), nil
}

func formatUUID(b [16]byte) string {
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// NameUUIDFromBytes is Java's UUID.nameUUIDFromBytes: the MD5 of b with
// the version set to 3 and the IETF variant, lower-case. The Android SDK's
// deviceId is NameUUIDFromBytes([]byte(ANDROID_ID)).
func NameUUIDFromBytes(b []byte) string {
	sum := md5.Sum(b)
	sum[6] = sum[6]&0x0f | 0x30
	sum[8] = sum[8]&0x3f | 0x80
	return formatUUID(sum)
}

// newDeviceID makes an id shaped like the platform SDK's: an upper-case
// UUID (identifierForVendor) on iOS, the v3 UUID of a random 16-hex
// ANDROID_ID on Android.
func newDeviceID(r io.Reader, platform string) (string, error) {
	if platform == PlatformAndroid {
		var b [8]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return "", err
		}
		return NameUUIDFromBytes([]byte(hex.EncodeToString(b[:]))), nil
	}
	u, err := newUUID(r)
	return strings.ToUpper(u), err
}

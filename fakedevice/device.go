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
	"cmp"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/mcaspec/mcaspec/tokenfactory"
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
	Platform Platform
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
	sdk      *sdk
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
	platform, err := ParsePlatform(string(cfg.Platform))
	if err != nil {
		return nil, err
	}
	cfg.Platform = platform
	sdk := sdkOf(platform)
	cfg.KeyBits = cmp.Or(cfg.KeyBits, DefaultKeyBits)
	if cfg.Key != nil {
		cfg.KeyBits = cfg.Key.N.BitLen()
	}
	if err := tokenfactory.CheckKeySize(cfg.KeyBits); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	cfg.AppVersion = cmp.Or(cfg.AppVersion, DefaultAppVersion)
	if cfg.MaxChallengeRounds <= 0 {
		cfg.MaxChallengeRounds = DefaultMaxChallengeRounds
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	cfg.Rand = cmp.Or(cfg.Rand, rand.Reader)
	cfg.DeviceModel = cmp.Or(cfg.DeviceModel, sdk.deviceModel)
	cfg.OSVersion = cmp.Or(cfg.OSVersion, sdk.osVersion)
	quirks := sdk.quirks
	if cfg.Quirks != nil {
		quirks = *cfg.Quirks
	}
	if cfg.DeviceID == "" {
		if cfg.DeviceID, err = sdk.newDeviceID(cfg.Rand); err != nil {
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
		sdk:      sdk,
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
func (d *Device) Platform() Platform { return d.cfg.Platform }

// Session returns the X-WL-Session value the device sends on every AZ request.
func (d *Device) Session() string { return d.session }

// ClientID returns the clientId assigned at registration ("" before).
func (d *Device) ClientID() string { return guarded(d, func() string { return d.clientID }) }

// Certificate returns the client certificate received at registration (nil before).
func (d *Device) Certificate() *x509.Certificate {
	return guarded(d, func() *x509.Certificate { return d.cert })
}

// PublicKey returns the device key's public half (nil before registration).
func (d *Device) PublicKey() *rsa.PublicKey {
	return guarded(d, func() *rsa.PublicKey {
		if d.key == nil {
			return nil
		}
		return &d.key.PublicKey
	})
}

// WLResult returns the decoded wl_result parameter (JSON text) of the
// last authorization redirect, if any.
func (d *Device) WLResult() string { return guarded(d, func() string { return d.wlResult }) }

// Tokens returns the current tokens (zero before ObtainTokens).
func (d *Device) Tokens() Tokens { return guarded(d, func() Tokens { return d.tokens }) }

// Timings returns where the device has spent its time so far.
func (d *Device) Timings() Timings { return guarded(d, func() Timings { return d.timings }) }

// guarded returns read's result, read under d.mu.
func guarded[T any](d *Device, read func() T) T {
	d.mu.Lock()
	defer d.mu.Unlock()
	return read()
}

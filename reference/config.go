package reference

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/mcaspec/mcaspec/internal/defaults"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

// Defaults of a Config's zero fields.
const (
	// DefaultCacheSize bounds each cache (security contexts, rejected tokens,
	// public keys), as the npm strategy's cacheSize option did.
	DefaultCacheSize = 10000
	// DefaultKeyTTL is how long a fetched public key is used before it is fetched again.
	DefaultKeyTTL = time.Hour
	// DefaultFetchTimeout bounds every public key fetch.
	DefaultFetchTimeout = 3 * time.Second
	// DefaultRefetchInterval is the minimum interval between two refetches of
	// an app's key triggered by signature failures (key rotation).
	DefaultRefetchInterval = time.Second
	// DefaultNegativeTTL is how long a failed key fetch is remembered; requests
	// in that window fail at once with 503 instead of waiting on the AZ again.
	DefaultNegativeTTL = time.Second
	// DefaultNewAppFetchRate and DefaultNewAppFetchBurst bound the key
	// fetches for app ids without a key (a token bucket): a flood of tokens
	// for random app ids costs the AZ at most this many fetches a second,
	// whatever its size. A fifth of the budget is held back for the app id
	// asked for most among those the rest refused (at least twice, and no
	// other more), so that a legitimate new app, whose clients retry, is
	// served by about its second request while a flood of distinct ids
	// spends the rest. An app id the AZ does not know is remembered for
	// NegativeTTL in a bounded negative cache apart from the keys, and
	// fetched again only through the budget. The trade-off: a higher rate
	// serves new apps sooner during a flood and costs the AZ that many
	// fetches a second; the reserve cannot tell a legitimate app from an
	// attacker who repeats one junk id more often than the app's clients
	// retry, but such an id is fetched once, then answered from the
	// negative cache. docs/ROBUSTNESS.md has the figures.
	DefaultNewAppFetchRate  = 50.0 // per second
	DefaultNewAppFetchBurst = 50
	// MaxRejectedCacheBytes bounds the memory of the rejected-token cache,
	// which keeps each rejected token whole beside its hash (to rule out a
	// hash collision): at most CacheSize entries and at most this many bytes
	// (the tokens, app ids and messages, plus rejEntryOverhead an entry),
	// the oldest evicted first. Without it the bound would be CacheSize
	// entries of up to MaxHeaderBytes (16 KiB) each: 160 MiB at the default.
	MaxRejectedCacheBytes = 32 << 20
	// rejEntryOverhead is what a rejected entry costs beside its strings
	// (the entry, the LRU's element and map slot), counted per entry.
	rejEntryOverhead = 256
)

// Config configures a Validator. The zero value is safe: every check on,
// defaults as above; only ServerURL is required.
type Config struct {
	// ServerURL is the AZ's serverUrl, e.g. "https://host/imf-authserver".
	// Keys are fetched from {ServerURL}/authorization/v1/apps/{appId}/publickey.
	ServerURL string
	// AppID, when set, is the app id of every request (backend style). When
	// empty the app id is the first GUID in the request URL path (resource style).
	AppID string
	// Issuer is the iss claim tokens must carry, compared exactly; default
	// "{ServerURL}/authorization/" (tokenfactory.MCAIssuer), the form the real
	// AZ wrote. Configure it explicitly where the AZ's own URL differs from
	// the serverUrl the validator uses (the genuine token has an explicit
	// ":80"): the contract's MCA_ISSUER.
	Issuer string
	// Leeway is the clock skew tolerated on exp and nbf (default 0).
	Leeway time.Duration
	// CacheSize bounds each cache; 0 means DefaultCacheSize, negative disables
	// the security-context and rejected-token caches (keys are always cached).
	CacheSize       int
	KeyTTL          time.Duration // default DefaultKeyTTL
	FetchTimeout    time.Duration // default DefaultFetchTimeout
	RefetchInterval time.Duration // default DefaultRefetchInterval
	NegativeTTL     time.Duration // default DefaultNegativeTTL
	// NewAppFetchRate (per second) and NewAppFetchBurst bound key fetches for
	// app ids not seen before; 0 means the defaults.
	NewAppFetchRate  float64
	NewAppFetchBurst int
	// HTTPClient fetches keys; default a client with no redirects followed.
	HTTPClient *http.Client
	// Clock returns the current time; default time.Now.
	Clock func() time.Time
	// Logger receives key fetch failures and rejections (debug); default discards.
	Logger *slog.Logger

	// Dangerous switches, for building deliberately broken validators
	// ("mutants") in tests of the conformance suite. Never set them in production.

	// InsecureSkipExpiry skips the exp check (exp may be absent or past).
	InsecureSkipExpiry bool
	// InsecureAllowMissingExp accepts a token without exp (a present exp is still checked).
	InsecureAllowMissingExp bool
	// InsecureSkipNotBefore skips the nbf check.
	InsecureSkipNotBefore bool
	// InsecureSkipAudience skips the aud check.
	InsecureSkipAudience bool
	// InsecureAllowMissingAudience accepts a token without aud (a present aud is still checked).
	InsecureAllowMissingAudience bool
	// InsecureSkipIssuer skips the iss check.
	InsecureSkipIssuer bool
	// InsecureSkipIDTokenBinding accepts an id token whose sub is not bound to the access token's prn.
	InsecureSkipIDTokenBinding bool
	// InsecureSkipIDToken ignores the id token entirely (it is neither parsed nor verified).
	InsecureSkipIDToken bool
	// InsecureSkipSignature skips signature verification.
	InsecureSkipSignature bool
	// InsecureAcceptAlgs lists header algs accepted besides RS256. "none" (any
	// case) skips verification; HS256/384/512 are verified as HMAC keyed with
	// the SPKI PEM of the app's public key (the classic confusion); any other
	// alg is verified with the app's RSA key under that alg.
	InsecureAcceptAlgs []string
	// InsecureTrustEmbeddedKey verifies with the key in the token's "jpk"
	// header when there is one, instead of the AZ key.
	InsecureTrustEmbeddedKey bool
	// InsecureAllowDuplicateKeys accepts JSON with duplicate keys (the last wins).
	InsecureAllowDuplicateKeys bool
	// InsecureCacheIgnoreAppID leaves the app id out of the security-context cache key.
	InsecureCacheIgnoreAppID bool
	// InsecureCacheIgnoreSignature leaves the signatures out of the security-context cache key.
	InsecureCacheIgnoreSignature bool
	// InsecureCacheIgnoreExpiry serves cached security contexts past their tokens' exp.
	InsecureCacheIgnoreExpiry bool
	// InsecureIgnoreHeaderParams lists header parameters the validator
	// ignores instead of refusing the token: "crit" (extensions it does not
	// understand), "b64" (RFC 7797), "zip" (a JWE parameter).
	InsecureIgnoreHeaderParams []string
	// InsecureIntegerExp reads exp as a plain integer only: an exp in
	// exponent notation or with a fraction is treated as absent, and a
	// token without a readable exp is accepted (a lenient integer parser).
	InsecureIntegerExp bool
	// InsecureAllowHugeExp accepts exp beyond the int64 range of seconds.
	InsecureAllowHugeExp bool
	// InsecureLenientJSON skips a UTF-8 byte order mark before, and ignores
	// bytes after, the payload's JSON object.
	InsecureLenientJSON bool
	// InsecureAcceptWeakKeys accepts AZ keys under MinKeyBits and with a
	// public exponent of 1 (verified by textbook arithmetic).
	InsecureAcceptWeakKeys bool
	// InsecureLooseAppIDPattern finds the app id in the path with the
	// pattern [0-9,a-f]{8}-[0-9,a-f]{4}-… (commas allowed, as one npm
	// strategy's regular expression did), so ",,,,,,,,-,,,,-…" is an app id.
	InsecureLooseAppIDPattern bool
}

// MinKeyBits is the smallest AZ key modulus the validator accepts (the real
// AZ's keys were 2048-bit; NIST SP 800-131A disallows RSA under 2048 bits
// for signatures).
const MinKeyBits = 2048

// ErrConfig is wrapped by the errors of New and ConfigFromVCAP.
var ErrConfig = errors.New("reference: bad configuration")

// withDefaults returns c with defaults filled in, or an error naming what is wrong.
func (c Config) withDefaults() (Config, error) {
	c.ServerURL = strings.TrimRight(c.ServerURL, "/")
	if c.ServerURL == "" {
		return c, fmt.Errorf("%w: ServerURL is empty (set it to the AZ serverUrl, e.g. http://127.0.0.1:8080/imf-authserver)", ErrConfig)
	}
	if !strings.HasPrefix(c.ServerURL, "http://") && !strings.HasPrefix(c.ServerURL, "https://") {
		return c, fmt.Errorf("%w: ServerURL %q is not an http(s) URL", ErrConfig, c.ServerURL)
	}
	if c.Issuer == "" {
		c.Issuer = tokenfactory.MCAIssuer(c.ServerURL)
	}
	if c.Leeway < 0 {
		return c, fmt.Errorf("%w: negative Leeway %v", ErrConfig, c.Leeway)
	}
	if c.CacheSize == 0 {
		c.CacheSize = DefaultCacheSize
	}
	defaults.Set(&c.KeyTTL, DefaultKeyTTL)
	defaults.Set(&c.FetchTimeout, DefaultFetchTimeout)
	defaults.Set(&c.RefetchInterval, DefaultRefetchInterval)
	defaults.Set(&c.NegativeTTL, DefaultNegativeTTL)
	defaults.Set(&c.NewAppFetchRate, DefaultNewAppFetchRate)
	defaults.Set(&c.NewAppFetchBurst, DefaultNewAppFetchBurst)
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// VCAP holds what the Cloud Foundry environment tells a backend about its
// MCA service instance.
type VCAP struct {
	ServerURL string // credentials.serverUrl
	TenantID  string // credentials.tenantId (the app id)
	ClientID  string // credentials.clientId
	Secret    string // credentials.secret
	// AuthorizationEndpoint and TokenEndpoint are the web client's AZ
	// endpoints (credentials.authorizationEndpoint, tokenEndpoint), as
	// MCAWebSiteStrategy reads them.
	AuthorizationEndpoint, TokenEndpoint string
	// ApplicationID is VCAP_APPLICATION's application_id.
	ApplicationID string
}

// AppID returns the app id: tenantId, else VCAP_APPLICATION's application_id.
func (v VCAP) AppID() string {
	if v.TenantID != "" {
		return v.TenantID
	}
	return v.ApplicationID
}

// ParseVCAP reads VCAP_SERVICES as the npm backend strategy did: the first
// service entry (in name order) whose name starts with "AdvancedMobileAccess"
// or "AppID", and its first instance's credentials. vcapApplication may be
// empty; otherwise its application_id is read. Either may be "" (then only
// the other is used); both empty is an error.
func ParseVCAP(vcapServices, vcapApplication string) (VCAP, error) {
	var v VCAP
	if strings.TrimSpace(vcapServices) == "" && strings.TrimSpace(vcapApplication) == "" {
		return v, fmt.Errorf("%w: VCAP_SERVICES and VCAP_APPLICATION are both empty", ErrConfig)
	}
	if strings.TrimSpace(vcapServices) != "" {
		var services map[string][]struct {
			Name        string `json:"name"`
			Credentials struct {
				ServerURL string `json:"serverUrl"`
				TenantID  string `json:"tenantId"`
				ClientID  string `json:"clientId"`
				Secret    string `json:"secret"`
				AuthzEP   string `json:"authorizationEndpoint"`
				TokenEP   string `json:"tokenEndpoint"`
			} `json:"credentials"`
		}
		if err := json.Unmarshal([]byte(vcapServices), &services); err != nil {
			return v, fmt.Errorf("%w: VCAP_SERVICES is not a JSON object of service lists: %w", ErrConfig, err)
		}
		names := make([]string, 0, len(services))
		for name := range services {
			names = append(names, name)
		}
		slices.Sort(names)
		found := false
		for _, name := range names {
			if !strings.HasPrefix(name, "AdvancedMobileAccess") && !strings.HasPrefix(name, "AppID") {
				continue
			}
			if len(services[name]) == 0 {
				continue
			}
			c := services[name][0].Credentials
			v.ServerURL, v.TenantID, v.ClientID, v.Secret = c.ServerURL, c.TenantID, c.ClientID, c.Secret
			v.AuthorizationEndpoint, v.TokenEndpoint = c.AuthzEP, c.TokenEP
			found = true
			break
		}
		if !found {
			return v, fmt.Errorf("%w: VCAP_SERVICES has no service named AdvancedMobileAccess* or AppID* with an instance", ErrConfig)
		}
	}
	if strings.TrimSpace(vcapApplication) != "" {
		var app struct {
			ApplicationID string `json:"application_id"`
		}
		if err := json.Unmarshal([]byte(vcapApplication), &app); err != nil {
			return v, fmt.Errorf("%w: VCAP_APPLICATION is not a JSON object: %w", ErrConfig, err)
		}
		v.ApplicationID = app.ApplicationID
	}
	return v, nil
}

// ConfigFromVCAP returns a backend-style Config (ServerURL and AppID set)
// from the VCAP_SERVICES and VCAP_APPLICATION values; see ParseVCAP.
func ConfigFromVCAP(vcapServices, vcapApplication string) (Config, error) {
	v, err := ParseVCAP(vcapServices, vcapApplication)
	if err != nil {
		return Config{}, err
	}
	if v.ServerURL == "" {
		return Config{}, fmt.Errorf("%w: VCAP_SERVICES credentials have no serverUrl", ErrConfig)
	}
	if v.AppID() == "" {
		return Config{}, fmt.Errorf("%w: neither VCAP_SERVICES credentials.tenantId nor VCAP_APPLICATION application_id is set", ErrConfig)
	}
	return Config{ServerURL: v.ServerURL, AppID: v.AppID()}, nil
}

package fakeaz

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/mcaspec/mcaspec/internal/fileio"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

// RealmKind says how users of an app authenticate.
type RealmKind string

// Realm kinds.
const (
	RealmNone     RealmKind = "none"     // anonymous: codes are issued at once
	RealmCustom   RealmKind = "custom"   // a custom identity provider called over HTTP
	RealmFacebook RealmKind = "facebook" // Facebook, checked against a Graph API stand-in
	RealmGoogle   RealmKind = "google"   // Google, checked against a tokeninfo stand-in
)

// Fixed realm names of the social providers.
const (
	FacebookRealm = "wl_facebookRealm"
	GoogleRealm   = "wl_googleRealm"
)

// Realm configures an app's user authentication. The zero value is anonymous.
type Realm struct {
	Kind RealmKind `json:"kind,omitempty"`
	// Name is the custom realm's name (custom only; Facebook and Google use
	// FacebookRealm and GoogleRealm).
	Name string `json:"name,omitempty"`
	// IdPURL is the custom identity provider's base URL (any http(s) URL).
	IdPURL string `json:"idpUrl,omitempty"`
	// FacebookAppID, FacebookAppSecret and GraphURL (the Graph API stand-in's
	// base URL) configure the Facebook realm.
	FacebookAppID     string `json:"facebookAppId,omitempty"`
	FacebookAppSecret string `json:"facebookAppSecret,omitempty"`
	GraphURL          string `json:"graphUrl,omitempty"`
	// GoogleClientID and TokenInfoURL (the full tokeninfo endpoint URL, e.g.
	// google.Server.TokenInfoURL()) configure the Google realm.
	GoogleClientID string `json:"googleClientId,omitempty"`
	TokenInfoURL   string `json:"tokenInfoUrl,omitempty"`
}

// RealmName returns the name under which the realm's challenge is sent
// ("" when anonymous).
func (r Realm) RealmName() string {
	switch r.kind() {
	case RealmCustom:
		return r.Name
	case RealmFacebook:
		return FacebookRealm
	case RealmGoogle:
		return GoogleRealm
	}
	return ""
}

func (r Realm) kind() RealmKind {
	if r.Kind == "" {
		return RealmNone
	}
	return r.Kind
}

// ServiceClient is a confidential client of an app that gets service tokens
// by client credentials.
type ServiceClient struct {
	ClientID string `json:"clientId"`
	Secret   string `json:"secret"`
}

// Platforms an app can be restricted to.
const (
	PlatformAny     = ""
	PlatformIOS     = "ios"     // CSR environment "iOSnative"
	PlatformAndroid = "android" // CSR environment "android"
)

// App is an application registered at the AZ.
type App struct {
	// ID is the app id (tenantId), a GUID. AddApp generates one when empty.
	ID string `json:"appId"`
	// BundleID is the bundle id / package the CSR's applicationId must equal
	// (empty: any).
	BundleID string `json:"bundleId,omitempty"`
	// Versions lists the accepted applicationVersion values (empty or "*": any).
	Versions []string `json:"versions,omitempty"`
	// Platform restricts the CSR's environment: PlatformIOS, PlatformAndroid or any.
	Platform string `json:"platform,omitempty"`
	// Realm is the user authentication; zero value: anonymous.
	Realm Realm `json:"realm"`
	// ServiceClients may use the client_credentials grant.
	ServiceClients []ServiceClient `json:"serviceClients,omitempty"`
	// Shape is the shape of the app's tokens: tokenfactory.ShapeMCA (the
	// default, also "") or an App ID shape, which makes the app an IBM Cloud
	// App ID tenant (tokens and endpoints, see appid.go). Its JSON form is
	// "profile" (ProfileMCA or ProfileAppID) and, for App ID, "generation"
	// (AppIDGenerationV4, the default, V3 or V3Host); see MarshalJSON.
	Shape tokenfactory.Shape `json:"-"`
}

// Client is a registered device instance.
type Client struct {
	ClientID           string         `json:"clientId"`
	AppID              string         `json:"appId"`
	DeviceID           string         `json:"deviceId"`
	DeviceOS           string         `json:"deviceOs"`
	DeviceOSVersion    string         `json:"deviceOsVersion,omitempty"`
	DeviceModel        string         `json:"deviceModel"`
	Environment        string         `json:"environment"`
	ApplicationID      string         `json:"applicationId"`
	ApplicationVersion string         `json:"applicationVersion"`
	KeyBits            int            `json:"keyBits"`
	RegisteredAt       time.Time      `json:"registeredAt"`
	Revoked            bool           `json:"revoked"`
	PublicKey          *rsa.PublicKey `json:"-"`
}

type signingKey struct {
	priv     *rsa.PrivateKey
	kid      string
	created  time.Time
	retireAt time.Time // set when superseded
}

type appState struct {
	app     App
	cur     *signingKey
	old     []*signingKey
	clients map[string]*Client
}

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// Validate checks an app definition (ID may be empty).
func (a App) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: app %q: %s", ErrInvalidApp, a.ID, fmt.Sprintf(format, args...))
	}
	if a.ID != "" && !guidRE.MatchString(a.ID) {
		return bad("app id must be a GUID like 0b5b5a8c-6a7d-4c36-9a3e-2f0e4b8a1c11 (or empty to generate one)")
	}
	if a.Shape != "" {
		if _, err := tokenfactory.ParseShape(string(a.Shape)); err != nil {
			return bad("%v", err)
		}
	}
	switch a.Platform {
	case PlatformAny, PlatformIOS, PlatformAndroid:
	default:
		return bad("platform %q: use %q, %q or empty for any", a.Platform, PlatformIOS, PlatformAndroid)
	}
	for _, sc := range a.ServiceClients {
		if sc.ClientID == "" || sc.Secret == "" || strings.Contains(sc.ClientID, ":") {
			return bad("service client %q needs a clientId without ':' and a non-empty secret", sc.ClientID)
		}
	}
	r := a.Realm
	switch r.kind() {
	case RealmNone:
	case RealmCustom:
		if r.Name == "" || strings.ContainsAny(r.Name, "/?# ") {
			return bad("custom realm needs a name without '/', '?', '#' or spaces")
		}
		if err := checkHTTPURL(r.IdPURL); err != nil {
			return bad("custom realm idpUrl: %v", err)
		}
	case RealmFacebook:
		if r.FacebookAppID == "" {
			return bad("facebook realm needs facebookAppId")
		}
		if err := checkHTTPURL(r.GraphURL); err != nil {
			return bad("facebook realm graphUrl: %v", err)
		}
	case RealmGoogle:
		if r.GoogleClientID == "" {
			return bad("google realm needs googleClientId")
		}
		if err := checkHTTPURL(r.TokenInfoURL); err != nil {
			return bad("google realm tokenInfoUrl: %v", err)
		}
	default:
		return bad("realm kind %q: use none, custom, facebook or google", r.Kind)
	}
	return nil
}

// checkHTTPURL accepts an absolute http or https URL with a host (identity provider stand-ins
// may run anywhere the AZ can reach).
func checkHTTPURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", s)
	}
	return nil
}

func cloneApp(a App) App {
	a.Versions = slices.Clone(a.Versions)
	a.ServiceClients = slices.Clone(a.ServiceClients)
	return a
}

func (s *Server) newSigningKey() (*signingKey, error) {
	k, err := s.pool.get()
	if err != nil {
		return nil, fmt.Errorf("fakeaz: generating a signing key: %w", err)
	}
	if err := tokenfactory.CheckKeySize(k.N.BitLen()); err != nil {
		return nil, fmt.Errorf("fakeaz: key generator: %w", err)
	}
	sum := sha256.Sum256(k.N.Bytes())
	return &signingKey{priv: k, kid: hex.EncodeToString(sum[:8]), created: s.now()}, nil
}

// AddApp registers an app with a fresh signing key and returns it as stored
// (with its generated ID when a.ID was empty).
func (s *Server) AddApp(a App) (App, error) {
	a = cloneApp(a)
	if err := a.Validate(); err != nil {
		return App{}, err
	}
	a.ID = strings.ToLower(a.ID)
	if a.ID == "" {
		a.ID = s.newGUID()
	}
	s.mu.Lock()
	_, dup := s.apps[a.ID]
	s.mu.Unlock()
	if dup {
		return App{}, fmt.Errorf("%w: %s (remove it first)", ErrAppExists, a.ID)
	}
	k, err := s.firstSigningKey()
	if err != nil {
		return App{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.apps[a.ID]; dup {
		return App{}, fmt.Errorf("%w: %s (remove it first)", ErrAppExists, a.ID)
	}
	s.apps[a.ID] = &appState{app: a, cur: k, clients: map[string]*Client{}}
	return cloneApp(a), nil
}

// App returns a registered app.
func (s *Server) App(appID string) (a App, err error) {
	err = s.withApp(appID, func(st *appState) error { a = cloneApp(st.app); return nil })
	return a, err
}

// Apps returns every registered app, sorted by id.
func (s *Server) Apps() []App {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]App, 0, len(s.apps))
	for _, st := range s.apps {
		out = append(out, cloneApp(st.app))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// RemoveApp forgets an app, its keys, clients (web clients too) and pending codes.
func (s *Server) RemoveApp(appID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.appLocked(appID); err != nil {
		return err
	}
	delete(s.apps, appID)
	for c, e := range s.codes {
		if e.appID == appID {
			delete(s.codes, c)
		}
	}
	for k, st := range s.states {
		if st.appID == appID {
			delete(s.states, k)
		}
	}
	for id, wc := range s.web.clients {
		if wc.c.AppID == appID {
			delete(s.web.clients, id)
		}
	}
	for k, c := range s.web.codes {
		if c.appID == appID {
			delete(s.web.codes, k)
		}
	}
	return nil
}

// withApp runs f on the app's state with s.mu held: ErrUnknownApp when
// no app has that id.
func (s *Server) withApp(appID string, f func(*appState) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.appLocked(appID)
	if err != nil {
		return err
	}
	return f(st)
}

func (s *Server) appLocked(appID string) (*appState, error) {
	st := s.apps[appID]
	if st == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownApp, appID)
	}
	return st, nil
}

// PublicKey returns the public half of the app's current signing key.
func (s *Server) PublicKey(appID string) (pub *rsa.PublicKey, err error) {
	err = s.withApp(appID, func(st *appState) error { pub = &st.cur.priv.PublicKey; return nil })
	return pub, err
}

// Factory returns a token factory that signs with the app's current key, with
// the app's token shape (App.TokenShape), the server's token clock (clock +
// offset) and token lifetime: the tokens it mints (AccessToken, IDToken,
// ServiceToken) are the ones the AZ would issue. Its iss is
// tokenfactory.MCAIssuer(URL()) for an MCA app (the real AZ's
// "{serverUrl}/authorization/"); for a ProfileAppID app it is OAuthServerURL(appID) (the shape may
// derive the iss from it) and the header has the key's "kid" and no "jpk".
func (s *Server) Factory(appID string) (*tokenfactory.Factory, error) {
	return s.factoryAt(context.Background(), appID)
}

// factoryAt is Factory with the serverUrl of the request ctx belongs to.
func (s *Server) factoryAt(ctx context.Context, appID string) (*tokenfactory.Factory, error) {
	s.mu.Lock()
	st, err := s.appLocked(appID)
	var key *rsa.PrivateKey
	var shape tokenfactory.Shape
	var kid string
	if err == nil {
		key, shape, kid = st.cur.priv, st.app.TokenShape(), st.cur.kid
	}
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if !shape.AppID() {
		return s.factoryFor(ctx, key)
	}
	_, tokenTTL := s.lifetimes()
	return tokenfactory.New(key,
		tokenfactory.WithShape(shape),
		tokenfactory.WithIssuer(oauthServerURL(s.serverURL(ctx), appID)),
		tokenfactory.WithKeyID(kid),
		tokenfactory.WithClock(s.tokenNow),
		tokenfactory.WithLifetime(tokenTTL))
}

// factoryFor is the MCA factory of key (the device-facing token endpoint
// mints with it): iss is "{serverUrl}/authorization/", as the real AZ wrote it.
func (s *Server) factoryFor(ctx context.Context, key *rsa.PrivateKey) (*tokenfactory.Factory, error) {
	_, tokenTTL := s.lifetimes()
	return tokenfactory.New(key,
		tokenfactory.WithIssuer(tokenfactory.MCAIssuer(s.serverURL(ctx))),
		tokenfactory.WithClock(s.tokenNow),
		tokenfactory.WithLifetime(tokenTTL))
}

// RotateKey gives the app a new signing key, used from now on. The previous
// key stays listed in the app's JWKS for overlap (0: retired at once); the
// publickey endpoint serves only the new key.
func (s *Server) RotateKey(appID string, overlap time.Duration) error {
	if _, err := s.App(appID); err != nil {
		return err
	}
	k, err := s.newSigningKey()
	if err != nil {
		return err
	}
	return s.withApp(appID, func(st *appState) error {
		prev := st.cur
		st.cur = k
		if overlap > 0 {
			prev.retireAt = s.now().Add(overlap)
			st.old = append([]*signingKey{prev}, st.old...)
		}
		return nil
	})
}

// RetireOldKeys drops every superseded key of the app from its JWKS now.
func (s *Server) RetireOldKeys(appID string) error {
	return s.withApp(appID, func(st *appState) error { st.old = nil; return nil })
}

// liveKeysLocked returns the current key followed by superseded keys still in
// their overlap window.
func (s *Server) liveKeysLocked(st *appState) []*signingKey {
	now := s.now()
	keys := []*signingKey{st.cur}
	kept := st.old[:0]
	for _, k := range st.old {
		if now.Before(k.retireAt) {
			keys = append(keys, k)
			kept = append(kept, k)
		}
	}
	st.old = kept
	return keys
}

// Clients returns the app's registered clients, sorted by registration time.
func (s *Server) Clients(appID string) (out []Client, err error) {
	err = s.withApp(appID, func(st *appState) error {
		out = make([]Client, 0, len(st.clients))
		for _, c := range st.clients {
			out = append(out, *c)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].RegisteredAt.Equal(out[j].RegisteredAt) {
			return out[i].RegisteredAt.Before(out[j].RegisteredAt)
		}
		return out[i].ClientID < out[j].ClientID
	})
	return out, nil
}

// RevokeClient revokes one device's credentials: from now on that client
// gets no authorization codes and no tokens (pending codes are refused too).
// Tokens already issued to it stay valid until their exp: they are
// self-contained JWTs that validators check offline.
func (s *Server) RevokeClient(appID, clientID string) error {
	return s.withApp(appID, func(st *appState) error {
		c := st.clients[clientID]
		if c == nil {
			return fmt.Errorf("%w: %q in app %s", ErrUnknownClient, clientID, appID)
		}
		c.Revoked = true
		return nil
	})
}

// Config is the JSON configuration file of a Server:
//
//	{"apps": [{"appId": "...", "bundleId": "com.example.app", "versions": ["1.0"],
//	           "platform": "ios", "realm": {"kind": "custom", "name": "myRealm", "idpUrl": "http://127.0.0.1:9000"},
//	           "serviceClients": [{"clientId": "svc", "secret": "s3cret"}]}],
//	 "codeLifetime": "2m", "tokenLifetime": "1h"}
type Config struct {
	Apps []App `json:"apps"`
	// WebClients are web sign-in clients of the apps (see WebClient).
	WebClients    []WebClient `json:"webClients,omitempty"`
	CodeLifetime  Duration    `json:"codeLifetime,omitempty"`
	TokenLifetime Duration    `json:"tokenLifetime,omitempty"`
}

// MaxConfigBytes caps a configuration file read by LoadConfig.
const MaxConfigBytes = 16 << 20

// LoadConfig reads and validates a JSON configuration file. Unknown fields
// are refused so that typos do not pass silently.
func LoadConfig(path string) (*Config, error) {
	b, err := fileio.ReadFile(path, MaxConfigBytes)
	if err != nil {
		return nil, fmt.Errorf("fakeaz: reading config: %w", err)
	}
	c, err := ParseConfig(b)
	if err != nil {
		return nil, fmt.Errorf("fakeaz: config %s: %w", path, err)
	}
	return c, nil
}

// ParseConfig parses and validates a JSON configuration.
func ParseConfig(b []byte) (*Config, error) {
	var c Config
	if err := decodeOneObject(bytes.NewReader(b), &c); err != nil {
		return nil, fmt.Errorf("%w: not a valid config JSON object: %w", ErrInvalidConfig, err)
	}
	seen := map[string]bool{}
	var errs []error
	for _, a := range c.Apps {
		if err := a.Validate(); err != nil {
			errs = append(errs, err)
		}
		id := strings.ToLower(a.ID)
		if id != "" && seen[id] {
			errs = append(errs, fmt.Errorf("%w: app id %s listed twice", ErrInvalidApp, a.ID))
		}
		seen[id] = true
	}
	for _, wc := range c.WebClients {
		if err := wc.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	if c.CodeLifetime < 0 || c.TokenLifetime < 0 {
		errs = append(errs, fmt.Errorf("%w: lifetimes must not be negative", ErrInvalidConfig))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &c, nil
}

// lifetimes returns the code and token lifetimes.
func (s *Server) lifetimes() (code, token time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.codeTTL, s.tokenTTL
}

// ApplyConfig sets the lifetimes given in c and adds its apps.
func (s *Server) ApplyConfig(c *Config) error {
	if c == nil {
		return nil
	}
	s.mu.Lock()
	if c.CodeLifetime > 0 {
		s.codeTTL = time.Duration(c.CodeLifetime)
	}
	if c.TokenLifetime > 0 {
		s.tokenTTL = time.Duration(c.TokenLifetime)
	}
	s.mu.Unlock()
	var errs []error
	for _, a := range c.Apps {
		if _, err := s.AddApp(a); err != nil {
			errs = append(errs, err)
		}
	}
	for _, wc := range c.WebClients {
		if _, err := s.AddWebClient(wc); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Duration is a time.Duration that reads and writes JSON as a Go duration
// string ("1m30s"); a JSON number is read as seconds.
type Duration time.Duration

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "1m30s" or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	switch x := v.(type) {
	case string:
		p, err := time.ParseDuration(x)
		if err != nil {
			return fmt.Errorf("duration %q: use a Go duration like \"30s\" or a number of seconds", x)
		}
		*d = Duration(p)
	case float64:
		*d = Duration(x * float64(time.Second))
	default:
		return fmt.Errorf("duration %s: use a Go duration like \"30s\" or a number of seconds", b)
	}
	return nil
}

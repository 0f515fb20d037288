// Package tokenfactory mints MCA access and id tokens exactly as the
// authorization server of the Mobile Client Access protocol did (compact JWS,
// RS256, an optional "jpk" header carrying the signer's public key, unpadded
// base64url), and deliberately broken variants of them through named
// Mutations.
//
// A Factory holds one signing key, an issuer, a clock and a source of
// randomness; all of them are injectable so that tests are deterministic.
// Valid tokens come from AccessToken and IDToken; broken ones from the same
// calls with Mutations appended, e.g.
//
//	f.AccessToken(tokenfactory.Access{AppID: app, ClientID: c}, tokenfactory.ExpiredBy(time.Hour))
//
// Mutations act on a Draft before signing (header and claims as maps, the raw
// segment bytes, the segment encoding, the signer) or on the finished token
// string after signing.
//
// The claims and header fields of a valid token follow the factory's Shape
// (WithShape): MCA tokens by default, or IBM Cloud App ID tokens of one
// generation (ShapeAppIDV4, ShapeAppIDV3, ShapeAppIDV3Host).
package tokenfactory

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jws/jwsbb"
)

// Defaults of a Factory.
const (
	// DefaultLifetime is the lifetime of a minted token (the real AZ used one hour).
	DefaultLifetime = time.Hour
	// DefaultKeyBits is the size of the keys GenerateKey makes when asked for 0 bits.
	DefaultKeyBits = 2048
	// MinKeyBits and MaxKeyBits bound the RSA key sizes the factory accepts.
	// Real device SDKs used 512-bit keys, so 512 is accepted.
	MinKeyBits = 512
	MaxKeyBits = 4096
	// DefaultIssuer is the iss claim of minted tokens when no issuer is configured.
	DefaultIssuer = "mcaspec-fakeaz"
)

// RS256 is the only algorithm the protocol issues.
const RS256 = "RS256"

// Scope is one entry of the access token's optional "imf.scope" claim.
type Scope struct {
	Exp       int64 `json:"exp"`
	Mandatory bool  `json:"mandatory"`
}

// User is the "imf.user" claim of an id token.
type User struct {
	ID          string         `json:"id"`
	AuthBy      string         `json:"authBy"`
	DisplayName string         `json:"displayName"`
	Attributes  map[string]any `json:"attributes"`
}

// Device is the "imf.device" claim of an id token.
type Device struct {
	ID        string `json:"id"`
	Platform  string `json:"platform"`
	Model     string `json:"model"`
	OSVersion string `json:"osVersion"`
}

// Application is the "imf.application" claim of an id token.
type Application struct {
	ID      string `json:"id"`
	Version string `json:"version"`
}

// Access describes an access token: aud is AppID, prn is ClientID.
type Access struct {
	AppID    string
	ClientID string
	// Scope, when non-empty, becomes the "imf.scope" claim.
	Scope map[string]Scope
}

// ID describes an id token.
type ID struct {
	AppID    string
	ClientID string
	// Subject is the sub claim. When empty it is derived: "::<clientId>" for an
	// anonymous token (User nil), "<authBy>:<userId>:<clientId>" otherwise.
	Subject     string
	User        *User
	Device      Device
	Application Application
}

// SubjectFor returns the sub claim the factory derives for an id token.
func SubjectFor(clientID string, u *User) string {
	if u == nil {
		return "::" + clientID
	}
	return u.AuthBy + ":" + u.ID + ":" + clientID
}

// Env is what a Mutation sees of the factory: the time of minting, the
// signing key, the randomness source and the issuer.
type Env struct {
	Now    time.Time
	Key    *rsa.PrivateKey
	Rand   io.Reader
	Issuer string
}

// Draft is a token before signing. Mutations edit it.
type Draft struct {
	// Header and Claims are marshalled to JSON (keys sorted) unless
	// RawHeader / RawClaims are set, which are then used byte for byte.
	Header    map[string]any
	Claims    map[string]any
	RawHeader []byte
	RawClaims []byte
	// Encode turns a segment's bytes into text; the default is unpadded base64url.
	Encode func([]byte) string
	// Sign computes the signature over the signing input
	// (encoded header "." encoded payload). The default is RS256 with Env.Key.
	Sign func(signingInput []byte, e Env) ([]byte, error)
}

// Mutation is a named, documented change to a token. Before acts on the
// Draft, After on the finished compact token; either may be nil.
type Mutation struct {
	// Name is stable and unique among the factory's mutations (e.g. "alg-none/None/empty-sig").
	Name string
	// Doc says in one sentence what the mutation does.
	Doc    string
	Before func(d *Draft, e Env) error
	After  func(token string, e Env) (string, error)
	// WithKey, set on a mutation signed by an attacker's key (SignedBy,
	// EmbeddedKey), returns the same mutation signed by key: a catalogue
	// writes the mutation with a nil key and the run binds its attacker's.
	WithKey func(key *rsa.PrivateKey) Mutation
}

// editDraft is a mutation whose Before edits the draft and cannot fail.
func editDraft(name, doc string, edit func(dr *Draft, e Env)) Mutation {
	return Mutation{Name: name, Doc: doc, Before: func(dr *Draft, e Env) error {
		edit(dr, e)
		return nil
	}}
}

// signedAs is a mutation that sets the header's alg and signs with sign.
func signedAs(name, doc, alg string, sign func(signingInput []byte, e Env) ([]byte, error)) Mutation {
	return editDraft(name, doc, func(dr *Draft, _ Env) {
		dr.Header["alg"] = alg
		dr.Sign = sign
	})
}

// signRS256By signs RS256 with key instead of Env.Key.
func signRS256By(key *rsa.PrivateKey) func(signingInput []byte, e Env) ([]byte, error) {
	return func(in []byte, e Env) ([]byte, error) { return jwsbb.Sign(key, RS256, in, e.Rand) }
}

// editSegments is a mutation whose After edits the segments of the finished
// token, which must have three.
func editSegments(name, doc string, edit func(parts []string) error) Mutation {
	return Mutation{Name: name, Doc: doc, After: func(tok string, _ Env) (string, error) {
		parts, err := threeSegments(tok)
		if err != nil {
			return "", err
		}
		if err := edit(parts); err != nil {
			return "", err
		}
		return strings.Join(parts, "."), nil
	}}
}

// threeSegments splits a compact token that must have three segments.
func threeSegments(tok string) ([]string, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, errors.New("needs a 3-segment token")
	}
	return parts, nil
}

// Option configures a Factory.
type Option func(*Factory)

// WithIssuer sets the iss claim.
func WithIssuer(iss string) Option { return func(f *Factory) { f.issuer = iss } }

// WithClock sets the clock used for iat and exp.
func WithClock(now func() time.Time) Option { return func(f *Factory) { f.now = now } }

// WithRand sets the randomness source (used by signers that need one and by mutations).
func WithRand(r io.Reader) Option { return func(f *Factory) { f.rand = r } }

// WithLifetime sets exp - iat of minted tokens.
func WithLifetime(d time.Duration) Option { return func(f *Factory) { f.lifetime = d } }

// WithJPK controls whether the header carries the signer's public key as
// "jpk" (as real MCA tokens did). Default true for ShapeMCA, false for the
// App ID shapes.
func WithJPK(on bool) Option { return func(f *Factory) { f.jpk, f.jpkSet = on, true } }

// WithKeyID sets a "kid" header (real MCA tokens had none; App ID tokens do).
func WithKeyID(kid string) Option { return func(f *Factory) { f.kid = kid } }

// Factory mints tokens signed by one RSA key. It is safe for concurrent use.
type Factory struct {
	key      *rsa.PrivateKey
	issuer   string
	now      func() time.Time
	rand     io.Reader
	lifetime time.Duration
	jpk      bool
	jpkSet   bool
	kid      string
	shape    Shape
	jpkValue map[string]any
}

// ErrKeySize is returned for RSA keys outside MinKeyBits..MaxKeyBits.
var ErrKeySize = errors.New("tokenfactory: RSA key size out of range")

// New returns a Factory that signs with key.
func New(key *rsa.PrivateKey, opts ...Option) (*Factory, error) {
	if key == nil {
		return nil, errors.New("tokenfactory: nil signing key")
	}
	if err := CheckKeySize(key.N.BitLen()); err != nil {
		return nil, err
	}
	f := &Factory{
		key:      key,
		issuer:   DefaultIssuer,
		now:      time.Now,
		rand:     rand.Reader,
		lifetime: DefaultLifetime,
		jpk:      true,
		shape:    ShapeMCA,
	}
	for _, o := range opts {
		o(f)
	}
	sh, err := ParseShape(string(f.shape))
	if err != nil {
		return nil, err
	}
	f.shape = sh
	if sh.AppID() && !f.jpkSet {
		f.jpk = false
	}
	f.issuer = shapeIssuer(sh, f.issuer)
	f.jpkValue = JPK(&key.PublicKey)
	return f, nil
}

// CheckKeySize reports whether bits is a key size the factory accepts.
func CheckKeySize(bits int) error {
	if bits < MinKeyBits || bits > MaxKeyBits {
		return fmt.Errorf("%w: %d bits (accepted: %d to %d)", ErrKeySize, bits, MinKeyBits, MaxKeyBits)
	}
	return nil
}

// Key returns the signing key.
func (f *Factory) Key() *rsa.PrivateKey { return f.key }

// PublicKey returns the public half of the signing key.
func (f *Factory) PublicKey() *rsa.PublicKey { return &f.key.PublicKey }

// Issuer returns the iss claim the factory writes (for ShapeAppIDV3Host the
// host of the configured issuer).
func (f *Factory) Issuer() string { return f.issuer }

// Now returns the factory clock's current time.
func (f *Factory) Now() time.Time { return f.now() }

// AccessClaims returns the claims of an access token as the factory would
// sign them. ShapeMCA: iss, aud = AppID, iat, exp, prn = ClientID and, when
// Scope is set, imf.scope. App ID shapes: iss, aud (AppID), iat, exp, sub =
// ClientID, tenant = AppID, scope = AppIDUserScope, amr =
// [AppIDAnonymousAMR]; Scope is ignored.
func (f *Factory) AccessClaims(a Access, now time.Time) map[string]any {
	if f.shape.AppID() {
		return f.appIDAccessClaims(a, now)
	}
	c := f.baseClaims(a.AppID, now)
	c["prn"] = a.ClientID
	if len(a.Scope) > 0 {
		c["imf.scope"] = a.Scope
	}
	return c
}

// ServiceClaims returns the claims of the access token of a client_credentials
// grant, a.ClientID being the service client. ShapeMCA: those of AccessClaims
// (the real AZ's service tokens had the same form). App ID shapes: aud =
// ClientID and AppID, azp = ClientID, scope = AppIDDefaultScope, amr =
// [AppIDClientCredentialsAMR], and the other claims of AccessClaims.
func (f *Factory) ServiceClaims(a Access, now time.Time) map[string]any {
	if f.shape.AppID() {
		return f.appIDServiceClaims(a, now)
	}
	return f.AccessClaims(a, now)
}

// IDClaims returns the claims of an id token as the factory would sign them.
// ShapeMCA: iss, aud = AppID, iat, exp, sub, imf.user (with a User),
// imf.device and imf.application. App ID shapes: iss, aud (AppID), iat, exp,
// tenant, sub, amr, name and identities (with a User), and oauth_client (the
// device and application).
func (f *Factory) IDClaims(t ID, now time.Time) map[string]any {
	if f.shape.AppID() {
		return f.appIDIDClaims(t, now)
	}
	c := f.baseClaims(t.AppID, now)
	sub := t.Subject
	if sub == "" {
		sub = SubjectFor(t.ClientID, t.User)
	}
	c["sub"] = sub
	if t.User != nil {
		u := *t.User
		if u.Attributes == nil {
			u.Attributes = map[string]any{}
		}
		c["imf.user"] = u
	}
	c["imf.device"] = t.Device
	c["imf.application"] = t.Application
	return c
}

func (f *Factory) baseClaims(aud string, now time.Time) map[string]any {
	return map[string]any{
		"iss": f.issuer,
		"aud": aud,
		"iat": now.Unix(),
		"exp": now.Add(f.lifetime).Unix(),
	}
}

// AccessToken mints an access token, applying the mutations in order.
func (f *Factory) AccessToken(a Access, muts ...Mutation) (string, error) {
	now := f.now()
	return f.Sign(f.AccessClaims(a, now), now, muts...)
}

// IDToken mints an id token, applying the mutations in order.
func (f *Factory) IDToken(t ID, muts ...Mutation) (string, error) {
	now := f.now()
	return f.Sign(f.IDClaims(t, now), now, muts...)
}

// ServiceToken mints the access token of a client_credentials grant
// (ServiceClaims), applying the mutations in order.
func (f *Factory) ServiceToken(a Access, muts ...Mutation) (string, error) {
	now := f.now()
	return f.Sign(f.ServiceClaims(a, now), now, muts...)
}

// Header returns the protected header of a valid token: alg, jpk (WithJPK),
// kid (WithKeyID) and the fields of the shape (App ID: typ, and ver for
// ShapeAppIDV4).
func (f *Factory) Header() map[string]any {
	h := map[string]any{"alg": RS256}
	shapeHeader(f.shape, h)
	if f.jpk {
		h["jpk"] = f.jpkValue
	}
	if f.kid != "" {
		h["kid"] = f.kid
	}
	return h
}

// Sign signs arbitrary claims (minted at now) and applies the mutations.
func (f *Factory) Sign(claims map[string]any, now time.Time, muts ...Mutation) (string, error) {
	env := Env{Now: now, Key: f.key, Rand: f.rand, Issuer: f.issuer}
	d := &Draft{
		Header: f.Header(),
		Claims: claims,
		Encode: B64.EncodeToString,
		Sign:   SignRS256,
	}
	for _, m := range muts {
		if m.Before == nil {
			continue
		}
		if err := m.Before(d, env); err != nil {
			return "", fmt.Errorf("tokenfactory: mutation %s: %w", m.Name, err)
		}
	}
	tok, err := d.compact(env)
	if err != nil {
		return "", err
	}
	for _, m := range muts {
		if m.After == nil {
			continue
		}
		if tok, err = m.After(tok, env); err != nil {
			return "", fmt.Errorf("tokenfactory: mutation %s: %w", m.Name, err)
		}
	}
	return tok, nil
}

func (d *Draft) compact(env Env) (string, error) {
	hdr, err := rawOr(d.RawHeader, d.Header)
	if err != nil {
		return "", fmt.Errorf("tokenfactory: header: %w", err)
	}
	payload, err := rawOr(d.RawClaims, d.Claims)
	if err != nil {
		return "", fmt.Errorf("tokenfactory: claims: %w", err)
	}
	var b strings.Builder
	b.WriteString(d.Encode(hdr))
	b.WriteByte('.')
	b.WriteString(d.Encode(payload))
	input := []byte(b.String())
	sig, err := d.Sign(input, env)
	if err != nil {
		return "", fmt.Errorf("tokenfactory: sign: %w", err)
	}
	b.WriteByte('.')
	b.WriteString(d.Encode(sig))
	return b.String(), nil
}

func rawOr(raw []byte, v map[string]any) ([]byte, error) {
	if raw != nil {
		return raw, nil
	}
	return json.Marshal(v)
}

// SignRS256 is the default signer: RSASSA-PKCS1-v1_5 with SHA-256 under Env.Key.
func SignRS256(input []byte, e Env) ([]byte, error) {
	return jwsbb.Sign(e.Key, RS256, input, e.Rand)
}

// B64 is the encoding the protocol emits: unpadded base64url.
var B64 = base64.RawURLEncoding

// JPK returns the "jpk" header value for a public key, as the real AZ wrote
// it on its tokens: {"alg": "RSA", "mod": <base64url n>, "exp": <base64url e>},
// the modulus as Java's BigInteger.toByteArray gives it (two's complement:
// a leading zero byte when the top bit is set, so "AI3O…" for a 2048-bit
// key; see the genuine token in testdata/genuine-idtoken.md) and the
// exponent without one ("AQAB").
func JPK(pub *rsa.PublicKey) map[string]any {
	return map[string]any{"alg": "RSA", "mod": B64.EncodeToString(twosComplement(pub.N.Bytes())), "exp": B64.EncodeToString(bigEndian(pub.E))}
}

// twosComplement prefixes a zero byte to a positive big-endian integer
// whose top bit is set, as java.math.BigInteger.toByteArray does.
func twosComplement(b []byte) []byte {
	if len(b) == 0 || b[0]&0x80 == 0 {
		return b
	}
	return append([]byte{0}, b...)
}

// MCAIssuer returns the iss the real MCA AZ wrote for a serverUrl: the
// serverUrl followed by "/authorization/", trailing slash included
// ("http://host/imf-authserver" → "http://host/imf-authserver/authorization/").
// The genuine token of testdata/genuine-idtoken.md has
// "http://abms.mybluemix.net:80/imf-authserver/authorization/".
func MCAIssuer(serverURL string) string {
	return strings.TrimRight(serverURL, "/") + "/authorization/"
}

func bigEndian(e int) []byte {
	var out []byte
	for v := e; v > 0; v >>= 8 {
		out = append([]byte{byte(v)}, out...)
	}
	return out
}

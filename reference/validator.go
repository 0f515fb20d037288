// Package reference is the reference MCA bearer-token validator: the
// behaviour the npm strategy bms-mca-token-validation-strategy promises,
// taking the safe side of every question the protocol leaves open, as
// net/http middleware, plus the server SDK (propagation and service tokens).
//
// A request passes when its "Authorization: Bearer <access> [<id>]" header
// is well formed and both tokens are RS256 JWS signed by the AZ key of the
// app, unexpired, for the app's audience and the AZ's issuer, and the id
// token belongs to the access token's client. Claims are checked before any
// key is fetched, so a forged token cannot force key fetches.
package reference

import (
	"context"
	"encoding/json"
	"errors"
	"hash/maphash"
	"math"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mcaspec/mcaspec/internal/httpjson"

	lru "github.com/hashicorp/golang-lru/v2"
)

// SecurityContext is what a validated request carries (the npm strategy's
// req.securityContext). With an id token the three objects are its claims'
// JSON exactly and Sub is its sub; without, Sub is the access token's prn
// and the objects are {}.
type SecurityContext struct {
	Sub         string          `json:"imf.sub"`
	User        json.RawMessage `json:"imf.user"`
	Device      json.RawMessage `json:"imf.device"`
	Application json.RawMessage `json:"imf.application"`
}

type ctxKey struct{}

// NewContext returns ctx carrying sc.
func NewContext(ctx context.Context, sc *SecurityContext) context.Context {
	return context.WithValue(ctx, ctxKey{}, sc)
}

// FromContext returns the security context the middleware stored.
func FromContext(ctx context.Context) (*SecurityContext, bool) {
	sc, ok := ctx.Value(ctxKey{}).(*SecurityContext)
	return sc, ok && sc != nil
}

// Validator validates MCA tokens. It is safe for concurrent use.
type Validator struct {
	cfg      Config
	keys     *keyStore
	contexts *lru.Cache[uint64, *ctxEntry] // nil when caching is off
	rejected *lru.Cache[uint64, *rejEntry] // nil when caching is off
	// rejectedBytes is the memory the rejected entries hold (their size),
	// kept under MaxRejectedCacheBytes by evicting the oldest.
	rejectedBytes atomic.Int64
	seed          maphash.Seed
	acceptAlgs    map[string]bool
	// ignoreHeader: header parameters InsecureIgnoreHeaderParams lets through.
	ignoreHeader map[string]bool
}

// ctxEntry is a cached validation result. It is immutable once stored;
// every hit builds a fresh SecurityContext from it.
type ctxEntry struct {
	app, access, id string
	expires         time.Time // earliest exp of the tokens
	k               *appKey
	gen             uint64
	sub             string
	blob            string // user + device + application JSON
	u, d            int    // ends of user and device in blob
}

// context returns a fresh SecurityContext that shares no mutable memory
// with the entry. For typical sizes the struct and its bytes come from one
// allocation (the cache-hit path is dominated by allocation cost).
func (e *ctxEntry) context() *SecurityContext {
	var sc *SecurityContext
	var b []byte
	switch n := len(e.blob); {
	case n <= 256:
		p := new(struct {
			sc  SecurityContext
			buf [256]byte
		})
		sc, b = &p.sc, p.buf[:n]
	case n <= 1024:
		p := new(struct {
			sc  SecurityContext
			buf [1024]byte
		})
		sc, b = &p.sc, p.buf[:n]
	default:
		sc, b = new(SecurityContext), make([]byte, n)
	}
	copy(b, e.blob)
	sc.Sub, sc.User, sc.Device, sc.Application = e.sub, b[:e.u:e.u], b[e.u:e.d:e.d], b[e.d:len(b):len(b)]
	return sc
}

// rejEntry is a cached rejection of one token for one app.
type rejEntry struct {
	app, token string
	err        Error
	k          *appKey // set for signature failures: valid while k's gen is gen
	gen        uint64
}

// size is the memory a rejected entry holds, counted against
// MaxRejectedCacheBytes: its strings plus rejEntryOverhead.
func (e *rejEntry) size() int64 {
	return int64(len(e.app)+len(e.token)+len(e.err.Description)+len(e.err.Code)) + rejEntryOverhead
}

// New returns a Validator for cfg (see Config for defaults).
func New(cfg Config) (*Validator, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	v := &Validator{cfg: c, seed: maphash.MakeSeed(), acceptAlgs: map[string]bool{}, ignoreHeader: map[string]bool{}}
	for _, a := range c.InsecureAcceptAlgs {
		v.acceptAlgs[a] = true
	}
	for _, p := range c.InsecureIgnoreHeaderParams {
		v.ignoreHeader[p] = true
	}
	if v.keys, err = newKeyStore(&v.cfg); err != nil {
		return nil, err
	}
	if c.CacheSize > 0 {
		if v.contexts, err = lru.New[uint64, *ctxEntry](c.CacheSize); err != nil {
			return nil, err
		}
		if v.rejected, err = lru.NewWithEvict(c.CacheSize, func(_ uint64, e *rejEntry) { v.rejectedBytes.Add(-e.size()) }); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// Config returns the validator's configuration with defaults filled in.
func (v *Validator) Config() Config { return v.cfg }

// KeyFetches returns how many public key fetches the validator has started.
func (v *Validator) KeyFetches() int64 { return v.keys.fetches.Load() }

// Validate validates an Authorization header value for appID. Errors are
// *Error (use errors.As) wrapping ErrNoCredentials, ErrInvalidRequest,
// ErrInvalidToken or ErrUnavailable.
func (v *Validator) Validate(ctx context.Context, appID, authorization string) (*SecurityContext, error) {
	sc, err := v.validate(ctx, appID, authorization)
	if err != nil {
		return nil, err
	}
	return sc, nil
}

func (v *Validator) validate(ctx context.Context, appID, h string) (*SecurityContext, *Error) {
	now := v.cfg.Clock()
	if v.contexts != nil && appID != "" {
		if access, id, ok := splitFast(h); ok {
			if sc := v.lookup(appID, access, id, now); sc != nil {
				return sc, nil
			}
		}
	}
	access, id, err := parseHeader(h)
	if err != nil {
		return nil, err
	}
	if appID == "" {
		return nil, errRequest("no app id: configure one or put it in the request URL")
	}
	if v.cfg.InsecureSkipIDToken {
		id = ""
	}
	return v.validateTokens(ctx, appID, access, id, now)
}

// cacheKey hashes what identifies a validation: the app id and, for each
// token, its length and last hashTail bytes (the end of the signature: RSA
// signatures of different inputs differ). Hashing only the tails keeps a
// cache hit cheap; a hit then compares the full stored strings, so a
// collision costs a miss, never a wrong answer. The seed is random per
// validator, so collisions cannot be aimed at.
func (v *Validator) cacheKey(app, access, id string) uint64 {
	if v.cfg.InsecureCacheIgnoreAppID {
		app = ""
	}
	if v.cfg.InsecureCacheIgnoreSignature {
		access, id = unsigned(access), unsigned(id)
	}
	h := maphash.String(v.seed, app)
	h = (h^uint64(len(access)))*0x9E3779B97F4A7C15 ^ maphash.String(v.seed, tail(access))
	return (h^uint64(len(id)))*0x9E3779B97F4A7C15 ^ maphash.String(v.seed, tail(id))
}

const hashTail = 48

func tail(s string) string {
	if len(s) > hashTail {
		return s[len(s)-hashTail:]
	}
	return s
}

func unsigned(tok string) string {
	if i := strings.LastIndexByte(tok, '.'); i >= 0 {
		return tok[:i]
	}
	return tok
}

func (v *Validator) lookup(app, access, id string, now time.Time) *SecurityContext {
	e, ok := v.contexts.Get(v.cacheKey(app, access, id))
	if !ok {
		return nil
	}
	same := e.app == app && e.access == access && e.id == id
	if v.cfg.InsecureCacheIgnoreAppID || v.cfg.InsecureCacheIgnoreSignature {
		same = (v.cfg.InsecureCacheIgnoreAppID || e.app == app) &&
			(!v.cfg.InsecureCacheIgnoreSignature && e.access == access && e.id == id ||
				v.cfg.InsecureCacheIgnoreSignature && unsigned(e.access) == unsigned(access) && unsigned(e.id) == unsigned(id))
	}
	if !same {
		return nil
	}
	if !v.cfg.InsecureCacheIgnoreExpiry && !now.Before(e.expires) {
		return nil
	}
	if g := e.k.gen.Load(); g != e.gen || g == retiredGen {
		return nil
	}
	return e.context()
}

func (v *Validator) rejectedBefore(app, tok string) *Error {
	if v.rejected == nil || tok == "" {
		return nil
	}
	e, ok := v.rejected.Get(v.cacheKey(app, tok, ""))
	if !ok || e.app != app || e.token != tok {
		return nil
	}
	if e.k != nil {
		if g := e.k.gen.Load(); g != e.gen || g == retiredGen {
			return nil
		}
	}
	err := e.err // a copy: callers may not share it
	return &err
}

func (v *Validator) remember(app, tok string, r *rejection, k *keyed) {
	if v.rejected == nil || r.transient {
		return
	}
	e := &rejEntry{app: app, token: tok, err: *r.err}
	if k != nil {
		e.k, e.gen = k.k, k.gen
	}
	key := v.cacheKey(app, tok, "")
	v.rejected.Remove(key) // a replaced entry's bytes leave through the eviction hook
	v.rejectedBytes.Add(e.size())
	v.rejected.Add(key, e)
	for v.rejectedBytes.Load() > MaxRejectedCacheBytes {
		if _, _, ok := v.rejected.RemoveOldest(); !ok {
			break
		}
	}
}

func (v *Validator) validateTokens(ctx context.Context, app, access, id string, now time.Time) (*SecurityContext, *Error) {
	if e := v.rejectedBefore(app, access); e != nil {
		return nil, e
	}
	if e := v.rejectedBefore(app, id); e != nil {
		return nil, e
	}
	at, r := v.parseToken(access, kindAccess, app, now)
	if r != nil {
		v.remember(app, access, r, nil)
		return nil, r.err
	}
	var it *token
	if id != "" {
		if it, r = v.parseToken(id, kindID, app, now); r != nil {
			v.remember(app, id, r, nil)
			return nil, r.err
		}
		if !v.cfg.InsecureSkipIDTokenBinding && !bound(at, it) {
			return nil, errToken("id token: sub is not bound to the access token's prn")
		}
	}

	key, err := v.keys.get(ctx, app)
	if err != nil {
		return nil, err
	}
	bad := v.firstBadSignature(at, it, key)
	if bad != nil {
		if newer, ok := v.keys.refresh(ctx, app, key); ok {
			key = newer
			bad = v.firstBadSignature(at, it, key)
		}
	}
	if bad != nil {
		tok, kind := access, kindAccess
		if bad == it {
			tok, kind = id, kindID
		}
		r := reject(kind, "signature does not verify with the app's public key")
		v.remember(app, tok, r, &key)
		return nil, r.err
	}

	e := v.entry(app, access, id, at, it, now)
	e.k, e.gen = key.k, key.gen
	if v.contexts != nil {
		v.contexts.Add(v.cacheKey(app, access, id), e)
	}
	return e.context(), nil
}

func (v *Validator) firstBadSignature(at, it *token, key keyed) *token {
	if !v.verify(at, key.pub) {
		return at
	}
	if it != nil && !v.verify(it, key.pub) {
		return it
	}
	return nil
}

// entry builds the cache entry (and source of the security context).
func (v *Validator) entry(app, access, id string, at, it *token, now time.Time) *ctxEntry {
	// Claims strings are slices of their token's whole decoded payload:
	// the entry keeps a copy, not the payload.
	e := &ctxEntry{app: app, access: access, id: id}
	sub := at.prn
	exp := at.exp
	var user, device, application []byte
	if it != nil {
		sub = it.sub
		if it.exp != 0 && (exp == 0 || it.exp < exp) {
			exp = it.exp
		}
		user, device, application = rawOr(it, claimUser), rawOr(it, claimDevice), rawOr(it, claimApplication)
	} else {
		user, device, application = []byte(emptyObject), []byte(emptyObject), []byte(emptyObject)
	}
	if exp == 0 {
		e.expires = now.Add(time.Minute) // no exp (insecure configs only)
	} else {
		sec, frac := math.Modf(exp)
		e.expires = time.Unix(int64(sec), int64(frac*1e9))
	}
	e.sub = strings.Clone(sub)
	e.u = len(user)
	e.d = e.u + len(device)
	e.blob = string(user) + string(device) + string(application)
	return e
}

const emptyObject = "{}"

func rawOr(t *token, name string) []byte {
	if f, ok := field(t.claims, name); ok {
		return f.raw
	}
	return []byte(emptyObject)
}

// AppIDFromPath returns the first GUID (8-4-4-4-12 hex digits, any case)
// in path, or "".
func AppIDFromPath(path string) string {
	const n = 36
	for i := 0; i+n <= len(path); i++ {
		if isGUID(path[i : i+n]) {
			return path[i : i+n]
		}
	}
	return ""
}

// looseAppIDFromPath is AppIDFromPath with the character class [0-9,a-f]
// (InsecureLooseAppIDPattern).
func looseAppIDFromPath(path string) string {
	const n = 36
	for i := 0; i+n <= len(path); i++ {
		if isGUIDLike(path[i:i+n], ",0123456789abcdefABCDEF") {
			return path[i : i+n]
		}
	}
	return ""
}

func isGUIDLike(s, class string) bool {
	for i := 0; i < len(s); i++ {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if s[i] != '-' {
				return false
			}
		} else if !strings.ContainsRune(class, rune(s[i])) {
			return false
		}
	}
	return true
}

func isGUID(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// ValidateRequest validates r as the middleware does: exactly one
// Authorization header, no access_token query parameter (RFC 6750 §2: one
// method only), the app id from Config.AppID or the URL path.
func (v *Validator) ValidateRequest(r *http.Request) (*SecurityContext, error) {
	sc, err := v.validateRequest(r)
	if err != nil {
		return nil, err
	}
	return sc, nil
}

func (v *Validator) validateRequest(r *http.Request) (*SecurityContext, *Error) {
	vals := r.Header.Values("Authorization")
	if len(vals) > 1 {
		return nil, errRequest("more than one Authorization header")
	}
	if strings.Contains(r.URL.RawQuery, "access_token") && r.URL.Query().Has("access_token") {
		return nil, errRequest("token in the access_token query parameter (use the Authorization header only)")
	}
	if len(vals) == 0 {
		return nil, errNoCredentials("no Authorization header")
	}
	app := v.cfg.AppID
	if app == "" {
		app = AppIDFromPath(r.URL.Path)
		if v.cfg.InsecureLooseAppIDPattern {
			app = looseAppIDFromPath(r.URL.Path)
		}
		if app == "" {
			return nil, errRequest("the request path holds no app id (a GUID: 8-4-4-4-12 hexadecimal digits)")
		}
	}
	return v.validate(r.Context(), app, vals[0])
}

// Middleware protects next: requests that fail validation get the error
// response (401 with a Bearer challenge, 400, or 503) and never reach next;
// the others reach it with the SecurityContext in their context (FromContext).
func (v *Validator) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sc, err := v.validateRequest(r)
		if err != nil {
			v.cfg.Logger.Debug("reference: request rejected", "path", r.URL.Path, "status", err.Status, "reason", err.Description)
			WriteError(w, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), sc)))
	})
}

// WriteError writes the response for a validation error: status,
// WWW-Authenticate challenge (401 and 400), and a JSON body
// {"error", "error_description"}. Errors that are not *Error get 503.
func WriteError(w http.ResponseWriter, err error) {
	var e *Error
	if !errors.As(err, &e) || e == nil {
		e = errUnavailable("validation failed", err)
	}
	h := w.Header()
	if c := e.challenge(); c != "" {
		h.Set("WWW-Authenticate", c)
	}
	if e.Status == http.StatusServiceUnavailable {
		h.Set("Retry-After", "1")
	}
	h.Set("Cache-Control", "no-store")
	code := e.Code
	if code == "" {
		code = "unauthorized"
	}
	httpjson.Write(w, e.Status, map[string]string{"error": code, "error_description": e.Description})
}

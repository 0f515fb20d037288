package google

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcaspec/mcaspec/fakeaz/idp"
	"github.com/mcaspec/mcaspec/fakeaz/idp/internal/sim"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

// Defaults of the Google stand-in.
const (
	// Issuer is the iss claim of issued id tokens.
	Issuer = "https://accounts.google.com"
	// DefaultTokenTTL is the lifetime of an issued token when given 0.
	DefaultTokenTTL = time.Hour
	// DefaultKeyID is the kid of the signing key when WithKeyID is not used.
	DefaultKeyID = "mcaspec-google-1"
	// AccessTokenPrefix starts every issued access token, as Google's do.
	AccessTokenPrefix = "ya29."
)

// User is a Google account.
type User struct {
	Sub   string `json:"sub"`
	Email string `json:"email,omitempty"`
	Name  string `json:"name,omitempty"`
}

// Option configures a Server.
type Option func(*Server)

// WithAdminToken requires "Authorization: Bearer <secret>" on the admin routes (/admin/...);
// without it they are open, which Start allows on a loopback address only. An empty secret
// makes Start fail.
func WithAdminToken(secret string) Option { return func(s *Server) { s.base.Admin.SetToken(secret) } }

// WithClock sets the clock used for issuing and expiring tokens.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithRand sets the randomness source (access tokens, and the key when
// New generates one).
func WithRand(r io.Reader) Option { return func(s *Server) { s.rand = r } }

// WithKey sets the RSA key that signs id tokens (default: a fresh 2048-bit
// key; pass a shared one in tests, key generation is slow).
func WithKey(k *rsa.PrivateKey) Option { return func(s *Server) { s.key = k } }

// WithKeyID sets the kid of the signing key (default DefaultKeyID).
func WithKeyID(kid string) Option { return func(s *Server) { s.kid = kid } }

// Stats counts what a Server has done.
type Stats struct {
	IDTokensIssued     int64 `json:"idTokensIssued"`
	AccessTokensIssued int64 `json:"accessTokensIssued"`
	TokenInfo          int64 `json:"tokenInfo"`
	// Rejected counts tokeninfo answers of 400.
	Rejected int64 `json:"rejected"`
	Certs    int64 `json:"certs"`
	Faults   int64 `json:"faults"`
}

type accessToken struct {
	clientID string
	user     User
	expires  time.Time
}

// Server is the Google stand-in: tokeninfo, JWKS and revoke. It is an
// http.Handler; Start serves it on any address (off loopback its admin
// routes need WithAdminToken). Safe for concurrent use.
type Server struct {
	now     func() time.Time
	rand    io.Reader
	key     *rsa.PrivateKey
	kid     string
	factory *tokenfactory.Factory

	mu      sync.Mutex // guards access, revoked, rand reads
	access  map[string]accessToken
	revoked map[string]bool

	idN, accN, infoN, rejectedN, certsN atomic.Int64

	base sim.Base
}

// New returns a Google stand-in.
func New(opts ...Option) (*Server, error) {
	s := &Server{now: time.Now, rand: rand.Reader, kid: DefaultKeyID, access: map[string]accessToken{}, revoked: map[string]bool{}}
	for _, o := range opts {
		o(s)
	}
	if s.key == nil {
		k, err := tokenfactory.GenerateKey(2048, s.rand)
		if err != nil {
			return nil, fmt.Errorf("google stand-in: generating the signing key: %w", err)
		}
		s.key = k
	}
	f, err := tokenfactory.New(s.key, tokenfactory.WithJPK(false), tokenfactory.WithKeyID(s.kid),
		tokenfactory.WithIssuer(Issuer), tokenfactory.WithClock(s.now), tokenfactory.WithRand(s.rand))
	if err != nil {
		return nil, fmt.Errorf("google stand-in: %w", err)
	}
	s.factory = f
	s.base.Init("google simulator", sim.Skeleton{
		Routes: []sim.Route{
			{Method: http.MethodGet, Path: "/tokeninfo", Handler: s.handleTokenInfo},
			{Method: http.MethodPost, Path: "/tokeninfo", Handler: s.handleTokenInfo},
			{Method: http.MethodGet, Path: "/oauth2/v3/tokeninfo", Handler: s.handleTokenInfo},
			{Method: http.MethodPost, Path: "/oauth2/v3/tokeninfo", Handler: s.handleTokenInfo},
			{Method: http.MethodGet, Path: "/oauth2/v3/certs", Handler: s.handleCerts},
			{Method: http.MethodPost, Path: "/revoke", Handler: s.handleRevoke},
			{Method: http.MethodPost, Path: "/admin/tokens", Handler: s.handleAdminTokens},
			{Method: http.MethodPost, Path: "/admin/revoke", Handler: sim.AdminRevoke(s.Revoke)},
		},
		Stats:    func() any { return s.Stats() },
		NotFound: sim.NoRoute("fakeaz/idp/google"),
	})
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.base.ServeHTTP(w, r)
}

// Start serves on addr (host:port; "" picks 127.0.0.1 and a free port). Off loopback the admin
// routes need WithAdminToken: without it Start returns an error wrapping idp.ErrAdminExposed.
func (s *Server) Start(addr string) error {
	return s.base.Start(addr, s)
}

// URL is the base URL after Start.
func (s *Server) URL() string { return s.base.URL() }

// TokenInfoURL is URL()+"/tokeninfo", the tokenInfoURL to give Verify.
func (s *Server) TokenInfoURL() string { return s.base.URL() + "/tokeninfo" }

// Close stops the server and releases hanging requests.
func (s *Server) Close() error { return s.base.Close() }

// SetFault makes tokeninfo, certs and revoke misbehave (admin routes are unaffected).
func (s *Server) SetFault(f idp.Fault) { s.base.SetFault(f) }

// PublicKey is the key that verifies issued id tokens.
func (s *Server) PublicKey() *rsa.PublicKey { return &s.key.PublicKey }

// KeyID is the kid of the signing key.
func (s *Server) KeyID() string { return s.kid }

// Stats returns the counters.
func (s *Server) Stats() Stats {
	return Stats{IDTokensIssued: s.idN.Load(), AccessTokensIssued: s.accN.Load(), TokenInfo: s.infoN.Load(),
		Rejected: s.rejectedN.Load(), Certs: s.certsN.Load(), Faults: s.base.FaultsHit()}
}

// IssueIDToken mints an RS256 id token for clientID (aud and azp) and user,
// as Google Sign-In hands one to an iOS app. ttl 0 means DefaultTokenTTL; a
// negative ttl makes an expired token.
func (s *Server) IssueIDToken(clientID string, u User, ttl time.Duration) (string, error) {
	if clientID == "" || u.Sub == "" {
		return "", errors.New("google stand-in: IssueIDToken needs a client id and a user sub")
	}
	if ttl == 0 {
		ttl = DefaultTokenTTL
	}
	now := s.now()
	claims := map[string]any{
		"iss": Issuer, "aud": clientID, "azp": clientID, "sub": u.Sub,
		"iat": now.Unix(), "exp": now.Add(ttl).Unix(),
	}
	if u.Email != "" {
		claims["email"] = u.Email
		claims["email_verified"] = true
	}
	if u.Name != "" {
		claims["name"] = u.Name
	}
	s.mu.Lock() // the factory reads s.rand
	tok, err := s.factory.Sign(claims, now)
	s.mu.Unlock()
	if err != nil {
		return "", fmt.Errorf("google stand-in: signing the id token: %w", err)
	}
	s.idN.Add(1)
	return tok, nil
}

// IssueAccessToken makes an opaque access token for clientID and user, as
// Google Sign-In hands one to an Android app. ttl as for IssueIDToken.
func (s *Server) IssueAccessToken(clientID string, u User, ttl time.Duration) (string, error) {
	if clientID == "" || u.Sub == "" {
		return "", errors.New("google stand-in: IssueAccessToken needs a client id and a user sub")
	}
	if ttl == 0 {
		ttl = DefaultTokenTTL
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := sim.NewToken(s.rand)
	if err != nil {
		return "", fmt.Errorf("google stand-in: %w", err)
	}
	tok := AccessTokenPrefix + r
	s.access[tok] = accessToken{clientID: clientID, user: u, expires: s.now().Add(ttl)}
	s.accN.Add(1)
	return tok, nil
}

// Revoke invalidates an id token or an access token. For an id token (which
// real Google cannot revoke) it makes tokeninfo refuse it from now on.
// It reports whether the token was an issued access token or a
// well-formed id token signed by this server.
func (s *Server) Revoke(tok string) bool {
	s.mu.Lock()
	_, known := s.access[tok]
	s.mu.Unlock()
	if !known {
		_, err := s.checkIDSignature(tok)
		known = err == nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if known {
		s.revoked[tok] = true
	}
	return known
}

func (s *Server) isRevoked(tok string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.revoked[tok]
}

// tokenInfoErr is a tokeninfo refusal; its text is the error_description,
// worded as Google words it.
type tokenInfoErr string

func (e tokenInfoErr) Error() string { return string(e) }

const (
	errInvalid tokenInfoErr = "Invalid Value"
	errExpired tokenInfoErr = "Token expired"
	errRevoked tokenInfoErr = "Token has been revoked"
)

// checkIDSignature verifies an id token's RS256 signature and kid and
// returns its claims.
func (s *Server) checkIDSignature(tok string) (map[string]any, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, errInvalid
	}
	hb, err1 := tokenfactory.B64.DecodeString(parts[0])
	cb, err2 := tokenfactory.B64.DecodeString(parts[1])
	sig, err3 := tokenfactory.B64.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, errInvalid
	}
	var hdr struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if json.Unmarshal(hb, &hdr) != nil || hdr.Alg != tokenfactory.RS256 || hdr.Kid != s.kid {
		return nil, errInvalid
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(&s.key.PublicKey, crypto.SHA256, sum[:], sig) != nil {
		return nil, errInvalid
	}
	var claims map[string]any
	dec := json.NewDecoder(strings.NewReader(string(cb)))
	dec.UseNumber()
	if dec.Decode(&claims) != nil {
		return nil, errInvalid
	}
	return claims, nil
}

func tokenInfoError(w http.ResponseWriter, desc string) {
	sim.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_token", "error_description": desc})
}

func (s *Server) handleTokenInfo(w http.ResponseWriter, r *http.Request) {
	if !s.base.Enter(w, r, &s.infoN) {
		return
	}
	if err := r.ParseForm(); err != nil {
		sim.BadRequest(w, "cannot parse the query or form: "+err.Error())
		return
	}
	idTok, accTok := r.Form.Get("id_token"), r.Form.Get("access_token")
	var (
		info map[string]string
		err  error
	)
	switch {
	case idTok != "" && accTok == "":
		info, err = s.idTokenInfo(idTok)
	case accTok != "" && idTok == "":
		info, err = s.accessTokenInfo(accTok)
	default:
		s.rejectedN.Add(1)
		sim.BadRequest(w, "Either access_token or id_token required (exactly one)")
		return
	}
	if err != nil {
		s.rejectedN.Add(1)
		tokenInfoError(w, err.Error())
		return
	}
	sim.WriteJSON(w, http.StatusOK, info)
}

func (s *Server) idTokenInfo(tok string) (map[string]string, error) {
	claims, err := s.checkIDSignature(tok)
	if err != nil {
		return nil, err
	}
	expNum, ok := claims["exp"].(json.Number)
	if !ok {
		return nil, errInvalid
	}
	exp, err := expNum.Int64()
	if err != nil {
		return nil, errInvalid
	}
	if iss, _ := claims["iss"].(string); iss != Issuer && iss != "accounts.google.com" {
		return nil, errInvalid
	}
	if !s.now().Before(time.Unix(exp, 0)) {
		return nil, errExpired
	}
	if s.isRevoked(tok) {
		return nil, errRevoked
	}
	out := map[string]string{"alg": tokenfactory.RS256, "kid": s.kid, "typ": "JWT"}
	for k, v := range claims {
		switch v := v.(type) {
		case string:
			out[k] = v
		case json.Number:
			out[k] = v.String()
		case bool:
			out[k] = strconv.FormatBool(v)
		}
	}
	return out, nil
}

func (s *Server) accessTokenInfo(tok string) (map[string]string, error) {
	s.mu.Lock()
	t, ok := s.access[tok]
	revoked := s.revoked[tok]
	s.mu.Unlock()
	if !ok {
		return nil, errInvalid
	}
	now := s.now()
	if !now.Before(t.expires) {
		return nil, errExpired
	}
	if revoked {
		return nil, errRevoked
	}
	out := map[string]string{
		"azp": t.clientID, "aud": t.clientID, "sub": t.user.Sub,
		"scope":       "openid https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/userinfo.profile",
		"exp":         strconv.FormatInt(t.expires.Unix(), 10),
		"expires_in":  strconv.FormatInt(int64(t.expires.Sub(now)/time.Second), 10),
		"access_type": "online",
	}
	if t.user.Email != "" {
		out["email"] = t.user.Email
		out["email_verified"] = "true"
	}
	return out, nil
}

func (s *Server) handleCerts(w http.ResponseWriter, r *http.Request) {
	if !s.base.Enter(w, r, &s.certsN) {
		return
	}
	k := tokenfactory.NewPublicKeyJSON(&s.key.PublicKey)
	sim.WriteJSON(w, http.StatusOK, map[string]any{"keys": []map[string]string{
		{"kty": k.Kty, "alg": tokenfactory.RS256, "use": "sig", "kid": s.kid, "n": k.N, "e": k.E},
	}})
}

// handleRevoke is Google's revoke endpoint: POST /revoke with token=T (form
// or query) answers 200 {} or 400 {"error": "invalid_token"}.
func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	if !s.base.Enter(w, r, nil) {
		return
	}
	if err := r.ParseForm(); err != nil {
		sim.BadRequest(w, "cannot parse the form: "+err.Error())
		return
	}
	if !s.Revoke(r.Form.Get("token")) {
		tokenInfoError(w, "Token is not valid")
		return
	}
	sim.WriteJSON(w, http.StatusOK, map[string]string{})
}

type adminTokenRequest struct {
	// Kind is "id_token" (default) or "access_token".
	Kind       string `json:"kind,omitempty"`
	ClientID   string `json:"clientId"`
	User       User   `json:"user"`
	TTLSeconds int64  `json:"ttlSeconds,omitempty"`
}

func (s *Server) handleAdminTokens(w http.ResponseWriter, r *http.Request) {
	var req adminTokenRequest
	if !sim.DecodeJSON(w, r, &req) {
		return
	}
	if req.ClientID == "" || req.User.Sub == "" {
		sim.BadRequest(w, `send {"kind": "id_token"|"access_token", "clientId": "...", "user": {"sub": "...", "email": "...", "name": "..."}, "ttlSeconds": N}; clientId and user.sub are required`)
		return
	}
	ttl := time.Duration(req.TTLSeconds) * time.Second
	if ttl == 0 {
		ttl = DefaultTokenTTL
	}
	exp := s.now().Add(ttl).Unix()
	var (
		tok string
		err error
		key string
	)
	switch req.Kind {
	case "", "id_token":
		key = "idToken"
		tok, err = s.IssueIDToken(req.ClientID, req.User, ttl)
	case "access_token":
		key = "accessToken"
		tok, err = s.IssueAccessToken(req.ClientID, req.User, ttl)
	default:
		sim.BadRequest(w, fmt.Sprintf(`kind %q: want "id_token" or "access_token"`, req.Kind))
		return
	}
	if err != nil {
		sim.ServerError(w, err)
		return
	}
	sim.WriteJSON(w, http.StatusOK, map[string]any{key: tok, "expiresAt": exp})
}

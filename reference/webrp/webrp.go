// Package webrp is the reference web relying party: a website that signs
// users in with the OAuth 2.0 authorization-code flow at an MCA AZ and
// keeps them signed in with a session cookie, behind the web target
// contract (docs/TARGET-CONTRACT.md, "Web sign-in targets"). It is what the
// web conformance family (conformance area "web") is checked against: it
// passes every case, and its Insecure* switches make the mutants.
//
// What it does, and why:
//   - state: 256 random bits per sign-in, bound to the browser's session,
//     single-use (RFC 6749 §10.12, RFC 9700 §2.1);
//   - nonce in the request and the id token (OpenID Connect Core 1.0 §3.1.2.1, §3.1.3.7);
//   - PKCE S256 (RFC 7636, RFC 9700 §2.1.1);
//   - the id token verified: RS256 only, the AZ's key (refetched, rate
//     limited, when a token does not verify: key rotation), iss, aud, exp,
//     iat, sub, nonce (OpenID Connect Core 1.0 §3.1.3.7);
//   - a new session id at sign-in (fixation, RFC 6819 §4.4.1.x, OWASP);
//     the session ends with the tokens; logout deletes it server side;
//   - the page to return to is a path of /web/protected, never another site;
//   - the token request has a deadline and a body limit; any failure is a
//     4xx with a JSON reason, never a 5xx, a hang or a crash.
package webrp

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/mcaspec/mcaspec/internal/defaults"
	"github.com/mcaspec/mcaspec/internal/httpjson"
	"github.com/mcaspec/mcaspec/internal/listen"
)

// Defaults of a Config.
const (
	// DefaultTokenTimeout bounds one token request (the harness's bound is 5 s).
	DefaultTokenTimeout = 3 * time.Second
	// DefaultLeeway is the clock skew allowed on exp and iat.
	DefaultLeeway = 30 * time.Second
	// DefaultFlowLifetime is how long a started sign-in can be completed.
	DefaultFlowLifetime = 10 * time.Minute
	// DefaultMaxSessions bounds the sessions kept (signed in or signing in).
	DefaultMaxSessions = 10000
	// MaxFlowsPerSession bounds the sign-ins one browser can have open at once.
	MaxFlowsPerSession = 8
	// MaxTokenBody bounds a token response body.
	MaxTokenBody = 64 << 10
	// CookieName is the session cookie.
	CookieName = "mcaspec_webrp"
	// ProtectedPath is the protected page (and every path below it).
	ProtectedPath = "/web/protected"
	// CallbackPath and LogoutPath are the other routes of the contract.
	CallbackPath = "/web/callback"
	LogoutPath   = "/web/logout"
	// DefaultReadHeaderTimeout bounds the time a client may take to send headers.
	DefaultReadHeaderTimeout = 10 * time.Second
)

// ErrConfig is wrapped by configuration errors.
var ErrConfig = errors.New("webrp: bad configuration")

// Config configures the web RP. Every field but the Insecure* switches,
// Clock, Logger and HTTPClient is required or has a safe default.
type Config struct {
	// ServerURL is the AZ serverUrl: the id tokens' iss and where the key is
	// ({ServerURL}/authorization/v1/apps/{AppID}/publickey).
	ServerURL string
	// AppID is the app id, the id tokens' aud.
	AppID string
	// ClientID and Secret are the web client's credentials.
	ClientID, Secret string
	// AuthorizationEndpoint, TokenEndpoint: absolute URLs at the AZ.
	AuthorizationEndpoint, TokenEndpoint string
	// CallbackURL is this site's callback (the redirect_uri).
	CallbackURL string
	// TokenTimeout: see DefaultTokenTimeout.
	TokenTimeout time.Duration
	// Leeway: see DefaultLeeway.
	Leeway time.Duration
	// MaxSessions: see DefaultMaxSessions.
	MaxSessions int
	// Clock (default time.Now), Logger (default: discard).
	Clock  func() time.Time
	Logger *slog.Logger
	// HTTPClient calls the AZ (default: a client with TokenTimeout that
	// does not follow redirects).
	HTTPClient *http.Client

	// The Insecure switches each open one hole; they exist for the
	// harness's own tests (conformance/mutants). Never set them.
	InsecureSkipState            bool // any state, or none, is accepted at the callback
	InsecureSkipSignature        bool // the id token's signature is not verified (any alg)
	InsecureSkipAudience         bool // aud is not compared with the app id
	InsecureSkipIssuer           bool // iss is not compared with the serverUrl
	InsecureSkipNonce            bool // nonce is not compared
	InsecureSkipExpiry           bool // exp is not checked and the session lasts a day
	InsecureOpenRedirect         bool // the page to return to is the path below /web/protected, as a mounted sub-app sees it
	InsecureKeepSessionID        bool // the session id is kept at sign-in
	InsecureLogoutKeepsSession   bool // logout clears the cookie but keeps the session server side
	InsecureNoTokenTimeout       bool // the token request waits for ever
	InsecurePanicOnTokenResponse bool // a token response without an id token panics (the process would crash)
	InsecureNoKeyRefresh         bool // the AZ key is fetched once and never again
	InsecureNoPKCE               bool // no code_challenge
	InsecureNoNonce              bool // no nonce in the request (nor checked)
	InsecureWeakState            bool // the state has 32 bits of randomness
	InsecureNoState              bool // no state is sent (use with InsecureSkipState)
	InsecureOptionalClaims       bool // an id token without sub or iat is accepted
	InsecureMountedReturnPath    bool // the page to return to is the decoded path seen by a router mounted at /web/protected/ (the mount point cut with its slash)
	InsecureForgetReturnPath     bool // after the sign-in the browser is always sent to /web/protected, whatever page it asked for
	InsecureMalformedAs500       bool // the callback's values are decoded once more, strictly (as decodeURIComponent), and a value that does not decode, is not UTF-8 or is over 2 KiB is a 500
	InsecureFirstParamWins       bool // a repeated state or code parameter is not refused: the first value is used
	InsecureRedeemWithoutCode    bool // a callback without a code is still sent to the token endpoint (a client-authenticated request on anyone's say-so)
	InsecureRawRedirectURI       bool // the callback URL is pasted into the authorization request as is, not encoded
}

// RP is the reference web relying party, an http.Handler.
type RP struct {
	cfg   Config
	mux   *http.ServeMux
	hc    *http.Client
	keys  *keySource
	authz *url.URL

	mu       sync.Mutex
	sessions map[string]*session

	srv listen.Server
}

type session struct {
	expires time.Time      // signed in: when the tokens end; signing in: the last flow's end
	user    map[string]any // the id token's claims once signed in
	flows   map[string]*flow
}

type flow struct {
	nonce, verifier, returnTo string
	expires                   time.Time
}

// New checks cfg and returns the RP.
func New(cfg Config) (*RP, error) {
	var errs []string
	for _, f := range []struct{ name, v string }{{"ServerURL (MCA_SERVER_URL)", cfg.ServerURL}, {"AppID (MCA_APP_ID)", cfg.AppID},
		{"ClientID (MCA_WEB_CLIENT_ID)", cfg.ClientID}, {"Secret (MCA_WEB_SECRET)", cfg.Secret}} {
		if f.v == "" {
			errs = append(errs, f.name+" is not set")
		}
	}
	var authz *url.URL
	for _, f := range []struct{ name, v string }{{"AuthorizationEndpoint (MCA_AUTHORIZATION_ENDPOINT)", cfg.AuthorizationEndpoint},
		{"TokenEndpoint (MCA_TOKEN_ENDPOINT)", cfg.TokenEndpoint}, {"CallbackURL (MCA_CALLBACK_URL)", cfg.CallbackURL}} {
		u, err := url.Parse(f.v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Sprintf("%s is %q: want an absolute http(s) URL", f.name, f.v))
			continue
		}
		if f.v == cfg.AuthorizationEndpoint {
			authz = u
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrConfig, strings.Join(errs, "; "))
	}
	cfg.ServerURL = strings.TrimRight(cfg.ServerURL, "/")
	defaults.Set(&cfg.TokenTimeout, DefaultTokenTimeout)
	defaults.Set(&cfg.Leeway, DefaultLeeway)
	defaults.Set(&cfg.MaxSessions, DefaultMaxSessions)
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: cfg.TokenTimeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		if cfg.InsecureNoTokenTimeout {
			hc.Timeout = 0
		}
	}
	rp := &RP{cfg: cfg, hc: hc, authz: authz, sessions: map[string]*session{}}
	rp.keys = newKeySource(cfg.ServerURL+"/authorization/v1/apps/"+url.PathEscape(cfg.AppID)+"/publickey", hc, cfg.Clock, !cfg.InsecureNoKeyRefresh)
	rp.mux = http.NewServeMux()
	rp.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		httpjson.Write(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	rp.mux.HandleFunc("GET "+CallbackPath, rp.callback)
	rp.mux.HandleFunc("GET "+LogoutPath, rp.logout)
	return rp, nil
}

// ServeHTTP serves the contract's routes. /web/protected and the paths below
// it are matched before the mux, on the raw path, as an Express app mounted
// there sees them (the mux would clean "//" away): the return path is
// checked here, not made safe by accident.
func (rp *RP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p := r.URL.Path; p == ProtectedPath || strings.HasPrefix(p, ProtectedPath+"/") {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeErr(w, http.StatusMethodNotAllowed, "method_not_allowed", ProtectedPath+" takes GET")
			return
		}
		rp.protected(w, r)
		return
	}
	rp.mux.ServeHTTP(w, r)
}

func (rp *RP) now() time.Time { return rp.cfg.Clock() }

func randText(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// sessionOf returns the browser's live session and its id (nil, "" for none).
// The caller holds rp.mu.
func (rp *RP) sessionOfLocked(r *http.Request) (*session, string) {
	c, err := r.Cookie(CookieName)
	if err != nil {
		return nil, ""
	}
	s := rp.sessions[c.Value]
	if s == nil {
		return nil, ""
	}
	if !rp.now().Before(s.expires) {
		delete(rp.sessions, c.Value)
		return nil, ""
	}
	return s, c.Value
}

// newSessionLocked stores s under a fresh id, making room when full.
func (rp *RP) newSessionLocked(s *session) string {
	if len(rp.sessions) >= rp.cfg.MaxSessions {
		now := rp.now()
		for id, x := range rp.sessions {
			if !now.Before(x.expires) {
				delete(rp.sessions, id)
			}
		}
		for id, x := range rp.sessions { // still full: drop sessions that are only signing in
			if len(rp.sessions) < rp.cfg.MaxSessions {
				break
			}
			if x.user == nil {
				delete(rp.sessions, id)
			}
		}
		for id := range rp.sessions {
			if len(rp.sessions) < rp.cfg.MaxSessions {
				break
			}
			delete(rp.sessions, id)
		}
	}
	id := randText(32)
	rp.sessions[id] = s
	return id
}

func (rp *RP) setCookie(w http.ResponseWriter, id string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: strings.HasPrefix(rp.cfg.CallbackURL, "https:"), MaxAge: maxAge})
}

// protected answers the signed-in user, or starts a sign-in.
func (rp *RP) protected(w http.ResponseWriter, r *http.Request) {
	rp.mu.Lock()
	s, id := rp.sessionOfLocked(r)
	if s != nil && s.user != nil {
		user := s.user
		rp.mu.Unlock()
		w.Header().Set("Cache-Control", "no-store")
		httpjson.Write(w, http.StatusOK, map[string]any{"user": user})
		return
	}
	now := rp.now()
	f := &flow{nonce: randText(32), verifier: randText(32), returnTo: rp.returnTo(r), expires: now.Add(DefaultFlowLifetime)}
	state := randText(32)
	if rp.cfg.InsecureWeakState {
		state = randText(4)
	}
	if s == nil {
		s = &session{flows: map[string]*flow{}}
		id = rp.newSessionLocked(s)
	}
	for k := range s.flows { // drop expired flows, then the oldest beyond the bound
		if !now.Before(s.flows[k].expires) {
			delete(s.flows, k)
		}
	}
	for len(s.flows) >= MaxFlowsPerSession {
		var oldest string
		for k, x := range s.flows {
			if oldest == "" || x.expires.Before(s.flows[oldest].expires) {
				oldest = k
			}
		}
		delete(s.flows, oldest)
	}
	s.flows[state] = f
	s.expires = f.expires
	rp.mu.Unlock()
	rp.setCookie(w, id, 0)

	u := *rp.authz
	q := u.Query()
	q.Set("response_type", "code")
	q.Set("client_id", rp.cfg.ClientID)
	q.Set("redirect_uri", rp.cfg.CallbackURL)
	q.Set("scope", "openid")
	if !rp.cfg.InsecureNoState {
		q.Set("state", state)
	}
	if !rp.cfg.InsecureNoNonce {
		q.Set("nonce", f.nonce)
	}
	if !rp.cfg.InsecureNoPKCE {
		sum := sha256.Sum256([]byte(f.verifier))
		q.Set("code_challenge", base64.RawURLEncoding.EncodeToString(sum[:]))
		q.Set("code_challenge_method", "S256")
	}
	u.RawQuery = q.Encode()
	if rp.cfg.InsecureRawRedirectURI {
		q.Del("redirect_uri")
		u.RawQuery = q.Encode() + "&redirect_uri=" + rp.cfg.CallbackURL
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// returnTo is the page to come back to after the sign-in: the path asked
// for, when it is a plain path of /web/protected; else /web/protected.
func (rp *RP) returnTo(r *http.Request) string {
	if rp.cfg.InsecureOpenRedirect {
		// The bug of a sub-app mounted at /web/protected remembering its req.url.
		rest := strings.TrimPrefix(r.URL.Path, ProtectedPath)
		if rest == "" {
			rest = "/"
		}
		return rest
	}
	if rp.cfg.InsecureMountedReturnPath {
		// A router mounted at /web/protected/ cuts the mount point with its
		// slash and puts one back if none is left: /web/protected///x is //x.
		rest := strings.TrimPrefix(r.URL.Path, ProtectedPath+"/")
		if !strings.HasPrefix(rest, "/") {
			rest = "/" + rest
		}
		if r.URL.RawQuery != "" {
			rest += "?" + r.URL.RawQuery
		}
		return rest
	}
	if rp.cfg.InsecureForgetReturnPath {
		return ProtectedPath
	}
	p := r.URL.EscapedPath()
	if strings.Contains(p, "//") || strings.ContainsAny(p, `\`) || strings.Contains(p, "/../") || strings.HasSuffix(p, "/..") ||
		strings.Contains(strings.ToLower(p), "%2f") || strings.Contains(strings.ToLower(p), "%5c") ||
		(p != ProtectedPath && !strings.HasPrefix(p, ProtectedPath+"/")) {
		return ProtectedPath
	}
	if r.URL.RawQuery != "" {
		p += "?" + r.URL.RawQuery
	}
	if u, err := url.Parse(p); err != nil || u.Scheme != "" || u.Host != "" {
		return ProtectedPath
	}
	return p
}

// callback completes a sign-in.
func (rp *RP) callback(w http.ResponseWriter, r *http.Request) {
	q, status, err := rp.callbackParams(r)
	if err != nil {
		writeErr(w, status, "invalid_request", err.Error())
		return
	}
	state := q.Get("state")
	rp.mu.Lock()
	s, oldID := rp.sessionOfLocked(r)
	var f *flow
	if s != nil && state != "" {
		if f = s.flows[state]; f != nil {
			delete(s.flows, state) // single-use, whatever the outcome
			if !rp.now().Before(f.expires) {
				f = nil
			}
		}
	}
	rp.mu.Unlock()
	if f == nil && rp.cfg.InsecureSkipState {
		f = &flow{returnTo: ProtectedPath}
		if s != nil {
			for _, x := range s.flows {
				f.nonce, f.verifier = x.nonce, x.verifier
			}
		}
	}
	switch {
	case state == "" && f == nil:
		writeErr(w, http.StatusBadRequest, "invalid_request", "the callback has no state: this sign-in was not started here")
		return
	case f == nil:
		writeErr(w, http.StatusBadRequest, "invalid_request", "the state is not one of a sign-in this browser started (forged, replayed or expired)")
		return
	case q.Get("error") != "":
		writeErr(w, http.StatusForbidden, "access_denied", fmt.Sprintf("the AZ refused the sign-in: %.200s", q.Get("error")))
		return
	case q.Get("code") == "" && !rp.cfg.InsecureRedeemWithoutCode:
		writeErr(w, http.StatusBadRequest, "invalid_request", "the callback has no code")
		return
	}
	claims, ttl, err := rp.redeem(r.Context(), q.Get("code"), f)
	if err != nil {
		rp.cfg.Logger.Info("sign-in failed", slog.String("error", err.Error()))
		writeErr(w, http.StatusUnauthorized, "sign_in_failed", err.Error())
		return
	}
	now := rp.now()
	expires := now.Add(ttl)
	if exp, ok := claims["exp"].(float64); ok && time.Unix(int64(exp), 0).Before(expires) {
		expires = time.Unix(int64(exp), 0)
	}
	if rp.cfg.InsecureSkipExpiry {
		expires = now.Add(24 * time.Hour)
	}
	signedIn := &session{expires: expires, user: claims, flows: map[string]*flow{}}
	rp.mu.Lock()
	id := oldID
	if rp.cfg.InsecureKeepSessionID && oldID != "" {
		rp.sessions[oldID] = signedIn
	} else {
		delete(rp.sessions, oldID)
		id = rp.newSessionLocked(signedIn)
	}
	rp.mu.Unlock()
	rp.setCookie(w, id, 0)
	w.Header().Set("Cache-Control", "no-store")
	if rp.cfg.InsecureOpenRedirect || rp.cfg.InsecureMountedReturnPath {
		// As Express's res.redirect does: the Location is sent as is.
		w.Header().Set("Location", f.returnTo)
		w.WriteHeader(http.StatusFound)
		return
	}
	http.Redirect(w, r, f.returnTo, http.StatusFound)
}

// maxCallbackValue bounds state and code (InsecureMalformedAs500 only).
const maxCallbackValue = 2048

// callbackParams reads the callback's query. A parameter given more than once
// is refused (RFC 6749 §3.1: parameters MUST NOT be repeated; a second code or
// state is parameter pollution). A pair that is not valid percent-encoding
// is dropped, so the callback is refused as one without it.
func (rp *RP) callbackParams(r *http.Request) (url.Values, int, error) {
	if rp.cfg.InsecureMalformedAs500 {
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			return nil, http.StatusInternalServerError, fmt.Errorf("URI malformed: %w", err)
		}
		for _, k := range []string{"state", "code"} {
			v, err := url.PathUnescape(q.Get(k))
			switch {
			case err != nil:
				return nil, http.StatusInternalServerError, fmt.Errorf("URI malformed: %w", err)
			case !utf8.ValidString(v):
				return nil, http.StatusInternalServerError, fmt.Errorf("%s is not UTF-8", k)
			case len(v) > maxCallbackValue:
				return nil, http.StatusInternalServerError, fmt.Errorf("%s does not fit in %d bytes", k, maxCallbackValue)
			}
		}
		return q, 0, nil
	}
	q := r.URL.Query()
	if !rp.cfg.InsecureFirstParamWins {
		for _, k := range []string{"state", "code", "error"} {
			if len(q[k]) > 1 {
				return nil, http.StatusBadRequest, fmt.Errorf("the callback has %d %s parameters: each must come once (RFC 6749 §3.1)", len(q[k]), k)
			}
		}
	}
	return q, 0, nil
}

// tokenResponse is the token endpoint's answer.
type tokenResponse struct {
	IDToken   string `json:"id_token"`
	ExpiresIn int64  `json:"expires_in"`
}

// redeem trades the code for tokens and verifies the id token. It returns
// the claims and how long the tokens last (expires_in).
func (rp *RP) redeem(ctx context.Context, code string, f *flow) (map[string]any, time.Duration, error) {
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {rp.cfg.CallbackURL}}
	if !rp.cfg.InsecureNoPKCE {
		form.Set("code_verifier", f.verifier)
	}
	if !rp.cfg.InsecureNoTokenTimeout {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, rp.cfg.TokenTimeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rp.cfg.TokenEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	// client_secret_basic: each part form-encoded first (RFC 6749 §2.3.1).
	req.SetBasicAuth(url.QueryEscape(rp.cfg.ClientID), url.QueryEscape(rp.cfg.Secret))
	resp, err := rp.hc.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("the token endpoint could not be used: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxTokenBody+1))
	if err != nil {
		return nil, 0, fmt.Errorf("reading the token response: %w", err)
	}
	if len(body) > MaxTokenBody {
		return nil, 0, fmt.Errorf("the token response is larger than %d bytes", MaxTokenBody)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("the token endpoint answered %d: %.200s", resp.StatusCode, body)
	}
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		return nil, 0, fmt.Errorf("the token response is not JSON: %w", err)
	}
	if tr.IDToken == "" {
		if rp.cfg.InsecurePanicOnTokenResponse {
			panic("webrp: no id_token")
		}
		return nil, 0, errors.New("the token response has no id_token")
	}
	claims, err := rp.verify(ctx, tr.IDToken, f.nonce)
	if err != nil {
		return nil, 0, fmt.Errorf("the id token was refused: %w", err)
	}
	ttl := time.Duration(tr.ExpiresIn) * time.Second
	if tr.ExpiresIn <= 0 {
		ttl = time.Hour
	}
	return claims, ttl, nil
}

// logout ends the session.
func (rp *RP) logout(w http.ResponseWriter, r *http.Request) {
	if !rp.cfg.InsecureLogoutKeepsSession {
		if c, err := r.Cookie(CookieName); err == nil {
			rp.mu.Lock()
			delete(rp.sessions, c.Value)
			rp.mu.Unlock()
		}
	}
	rp.setCookie(w, "", -1)
	httpjson.Write(w, http.StatusOK, map[string]string{"status": "signed out"})
}

// Sessions returns how many sessions are kept.
func (rp *RP) Sessions() int {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	return len(rp.sessions)
}

// KeyFetches returns how many times the AZ key was fetched.
func (rp *RP) KeyFetches() int64 { return rp.keys.fetches.Load() }

// Start listens on addr and serves until Close.
func (rp *RP) Start(addr string) error {
	return rp.srv.Start(addr, &http.Server{Handler: rp, ReadHeaderTimeout: DefaultReadHeaderTimeout, MaxHeaderBytes: 64 << 10})
}

// URL is the base URL once started.
func (rp *RP) URL() string { return rp.srv.URL() }

// Addr is the address it listens on once started.
func (rp *RP) Addr() string { return rp.srv.Addr() }

// Close stops the listener.
func (rp *RP) Close() error { return rp.srv.Close() }

func writeErr(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Cache-Control", "no-store")
	httpjson.Write(w, status, map[string]string{"error": code, "error_description": desc})
}

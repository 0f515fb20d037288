package facebook

import (
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcaspec/mcaspec/fakeaz/idp"
	"github.com/mcaspec/mcaspec/fakeaz/idp/internal/sim"
)

// DefaultTokenTTL is the lifetime of an issued token when IssueToken is given 0.
const DefaultTokenTTL = 2 * time.Hour

// User is a Facebook user as /me reports it.
type User struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email,omitempty"`
}

// Option configures a Server.
type Option func(*Server)

// WithAdminToken requires "Authorization: Bearer <secret>" on the admin routes (/admin/...);
// without it they are open, which Start allows on a loopback address only. An empty secret
// makes Start fail.
func WithAdminToken(secret string) Option { return func(s *Server) { s.base.Admin.SetToken(secret) } }

// WithClock sets the clock used for issuing and expiring tokens.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithRand sets the randomness source of tokens.
func WithRand(r io.Reader) Option { return func(s *Server) { s.rand = r } }

// WithApp registers a Facebook app (id and secret) at start-up.
func WithApp(id, secret string) Option { return func(s *Server) { s.apps[id] = secret } }

// Stats counts what a Server has done.
type Stats struct {
	TokensIssued int64 `json:"tokensIssued"`
	DebugToken   int64 `json:"debugToken"`
	Me           int64 `json:"me"`
	// Rejected counts debug_token answers with is_valid false and /me errors.
	Rejected int64 `json:"rejected"`
	// BadAppCredentials counts debug_token calls refused for the app token.
	BadAppCredentials int64 `json:"badAppCredentials"`
	Faults            int64 `json:"faults"`
}

type token struct {
	appID           string
	user            User
	issued, expires time.Time
	revoked         bool
}

// Server is the Facebook Graph API stand-in. It is an http.Handler; Start
// serves it on any address (off loopback its admin routes need
// WithAdminToken). Safe for concurrent use.
type Server struct {
	now  func() time.Time
	rand io.Reader

	mu     sync.Mutex // guards apps, tokens, rand reads
	apps   map[string]string
	tokens map[string]*token

	issuedN, debugN, meN, rejectedN, badAppN atomic.Int64

	base sim.Base
}

// New returns a Graph API stand-in with the given apps.
func New(opts ...Option) *Server {
	s := &Server{now: time.Now, rand: rand.Reader, apps: map[string]string{}, tokens: map[string]*token{}}
	for _, o := range opts {
		o(s)
	}
	s.base.Init("facebook simulator", sim.Skeleton{
		Routes: []sim.Route{
			{Method: http.MethodGet, Path: "/debug_token", Handler: s.handleDebugToken},
			{Method: http.MethodGet, Path: "/me", Handler: s.handleMe},
			{Method: http.MethodPost, Path: "/admin/tokens", Handler: s.handleAdminTokens},
			{Method: http.MethodPost, Path: "/admin/revoke", Handler: sim.AdminRevoke(s.Revoke)},
			{Method: http.MethodPost, Path: "/admin/apps", Handler: s.handleAdminApps},
		},
		Stats: func() any { return s.Stats() },
		// The Graph API answers a wrong method with its own error shape.
		WrongMethod: func(w http.ResponseWriter, r *http.Request, allow string) {
			if strings.HasPrefix(r.URL.Path, "/admin/") {
				sim.MethodNotAllowed(w, allow)
				return
			}
			graphError(w, http.StatusBadRequest, 100, "Unsupported "+r.Method+" request; use "+allow+" "+r.URL.Path)
		},
		NotFound: func(w http.ResponseWriter, r *http.Request) {
			graphError(w, http.StatusBadRequest, 100, fmt.Sprintf("Unsupported request: no route %s %s in this Graph API stand-in", r.Method, r.URL.Path))
		},
	})
	return s
}

var versionPrefix = regexp.MustCompile(`^/v[0-9]+(\.[0-9]+)?/`)

// ServeHTTP implements http.Handler. A Graph API version prefix such as
// /v2.5/ is accepted and ignored.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if loc := versionPrefix.FindStringIndex(r.URL.Path); loc != nil {
		r2 := r.Clone(r.Context())
		r2.URL.Path = r.URL.Path[loc[1]-1:]
		r2.URL.RawPath = ""
		r = r2
	}
	s.base.ServeHTTP(w, r)
}

// Start serves on addr (host:port; "" picks 127.0.0.1 and a free port). Off loopback the admin
// routes need WithAdminToken: without it Start returns an error wrapping idp.ErrAdminExposed.
func (s *Server) Start(addr string) error {
	return s.base.Start(addr, s)
}

// URL is the base URL after Start: the graphURL to give Verify.
func (s *Server) URL() string { return s.base.URL() }

// Close stops the server and releases hanging requests.
func (s *Server) Close() error { return s.base.Close() }

// SetFault makes the Graph routes misbehave (admin routes are unaffected).
func (s *Server) SetFault(f idp.Fault) { s.base.SetFault(f) }

// Stats returns the counters.
func (s *Server) Stats() Stats {
	return Stats{TokensIssued: s.issuedN.Load(), DebugToken: s.debugN.Load(), Me: s.meN.Load(),
		Rejected: s.rejectedN.Load(), BadAppCredentials: s.badAppN.Load(), Faults: s.base.FaultsHit()}
}

// AddApp registers (or re-keys) an app.
func (s *Server) AddApp(id, secret string) {
	s.mu.Lock()
	s.apps[id] = secret
	s.mu.Unlock()
}

// IssueToken gives a simulated device a user access token for appID (which
// need not be registered: a token for another app is how wrong-app tokens
// are made). ttl 0 means DefaultTokenTTL; a negative ttl makes a token that
// is already expired. It panics only if the randomness source fails.
func (s *Server) IssueToken(appID string, user User, ttl time.Duration) string {
	tok, _, err := s.issue(appID, user, ttl)
	if err != nil {
		panic("facebook: IssueToken: " + err.Error())
	}
	return tok
}

func (s *Server) issue(appID string, user User, ttl time.Duration) (string, time.Time, error) {
	if ttl == 0 {
		ttl = DefaultTokenTTL
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tok, err := sim.NewToken(s.rand)
	if err != nil {
		return "", time.Time{}, err
	}
	now := s.now()
	t := &token{appID: appID, user: user, issued: now, expires: now.Add(ttl)}
	s.tokens[tok] = t
	s.issuedN.Add(1)
	return tok, t.expires, nil
}

// Revoke invalidates a token (the user logged out or changed password). It
// reports whether the token was known.
func (s *Server) Revoke(tok string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[tok]
	if ok {
		t.revoked = true
	}
	return ok
}

// tokenError is the Graph error of a token that is not valid, or nil.
type tokenError struct {
	Code    int    `json:"code"`
	Subcode int    `json:"subcode,omitempty"`
	Message string `json:"message"`
}

// lookup returns a copy of the token and why it is not valid (nil: valid).
func (s *Server) lookup(tok string) (token, *tokenError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[tok]
	if !ok {
		return token{}, &tokenError{Code: 190, Message: "Invalid OAuth access token."}
	}
	now := s.now()
	switch {
	case t.revoked:
		return *t, &tokenError{Code: 190, Subcode: 460, Message: "Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons."}
	case !now.Before(t.expires):
		return *t, &tokenError{Code: 190, Subcode: 463, Message: fmt.Sprintf("Error validating access token: Session has expired on %s. The current time is %s.",
			t.expires.UTC().Format(time.RFC1123), now.UTC().Format(time.RFC1123))}
	}
	return *t, nil
}

// graphError writes the Graph API error envelope.
func graphError(w http.ResponseWriter, status, code int, msg string) {
	tokenError{Code: code, Message: msg}.write(w, status)
}

// write sends e in the Graph API error envelope (error_subcode when set).
func (e tokenError) write(w http.ResponseWriter, status int) {
	env := map[string]any{"message": e.Message, "type": "OAuthException", "code": e.Code, "fbtrace_id": "mcaspec"}
	if e.Subcode != 0 {
		env["error_subcode"] = e.Subcode
	}
	sim.WriteJSON(w, status, map[string]any{"error": env})
}

type debugData struct {
	AppID       string      `json:"app_id,omitempty"`
	Type        string      `json:"type,omitempty"`
	Application string      `json:"application,omitempty"`
	ExpiresAt   int64       `json:"expires_at,omitempty"`
	IssuedAt    int64       `json:"issued_at,omitempty"`
	IsValid     bool        `json:"is_valid"`
	Scopes      []string    `json:"scopes"`
	UserID      string      `json:"user_id,omitempty"`
	Error       *tokenError `json:"error,omitempty"`
}

// graphCall opens a Graph API call authenticated by its access_token query
// parameter: it counts the call in n, applies the fault and, when the token
// is missing, counts a refusal in refused and answers the Graph error code
// with msg. ok false means it has answered.
func (s *Server) graphCall(w http.ResponseWriter, r *http.Request, n, refused *atomic.Int64, code int, msg string) (q url.Values, tok string, ok bool) {
	if !s.base.Enter(w, r, n) {
		return nil, "", false
	}
	q = r.URL.Query()
	if tok = q.Get("access_token"); tok == "" {
		refused.Add(1)
		graphError(w, http.StatusBadRequest, code, msg)
		return nil, "", false
	}
	return q, tok, true
}

func (s *Server) handleDebugToken(w http.ResponseWriter, r *http.Request) {
	q, appTok, ok := s.graphCall(w, r, &s.debugN, &s.badAppN, 104, "An access token is required to request this resource.")
	if !ok {
		return
	}
	appID, secret, ok := strings.Cut(appTok, "|")
	s.mu.Lock()
	want, known := s.apps[appID]
	s.mu.Unlock()
	if !ok || !known || secret != want {
		s.badAppN.Add(1)
		graphError(w, http.StatusBadRequest, 190, "Invalid OAuth access token signature: access_token must be <registered app id>|<its secret>.")
		return
	}
	in := q.Get("input_token")
	if in == "" {
		graphError(w, http.StatusBadRequest, 100, "(#100) The parameter input_token is required")
		return
	}
	t, terr := s.lookup(in)
	d := debugData{Scopes: []string{}, Error: terr, IsValid: terr == nil}
	if t.appID != "" {
		d.AppID, d.Type, d.Application, d.UserID = t.appID, "USER", "app "+t.appID, t.user.ID
		d.ExpiresAt, d.IssuedAt = t.expires.Unix(), t.issued.Unix()
		if terr == nil {
			d.Scopes = []string{"public_profile", "email"}
		}
	}
	if terr != nil {
		s.rejectedN.Add(1)
	}
	sim.WriteJSON(w, http.StatusOK, map[string]any{"data": d})
}

func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) {
	q, tok, ok := s.graphCall(w, r, &s.meN, &s.rejectedN, 2500, "An active access token must be used to query information about the current user.")
	if !ok {
		return
	}
	t, terr := s.lookup(tok)
	if terr != nil {
		s.rejectedN.Add(1)
		terr.write(w, http.StatusBadRequest)
		return
	}
	fields := q.Get("fields")
	if fields == "" {
		fields = "id,name"
	}
	out := map[string]string{}
	for f := range strings.SplitSeq(fields, ",") {
		switch strings.TrimSpace(f) {
		case "id":
			out["id"] = t.user.ID
		case "name":
			out["name"] = t.user.Name
		case "email":
			if t.user.Email != "" {
				out["email"] = t.user.Email
			}
		}
	}
	out["id"] = t.user.ID // the Graph API always returns id
	sim.WriteJSON(w, http.StatusOK, out)
}

type adminTokenRequest struct {
	AppID      string `json:"appId"`
	User       User   `json:"user"`
	TTLSeconds int64  `json:"ttlSeconds,omitempty"`
}

type adminTokenReply struct {
	AccessToken string `json:"accessToken"`
	ExpiresAt   int64  `json:"expiresAt"`
}

func (s *Server) handleAdminTokens(w http.ResponseWriter, r *http.Request) {
	var req adminTokenRequest
	if !sim.DecodeJSON(w, r, &req) {
		return
	}
	if req.AppID == "" || req.User.ID == "" {
		sim.BadRequest(w, `send {"appId": "...", "user": {"id": "...", "name": "...", "email": "..."}, "ttlSeconds": N}; appId and user.id are required`)
		return
	}
	tok, exp, err := s.issue(req.AppID, req.User, time.Duration(req.TTLSeconds)*time.Second)
	if err != nil {
		sim.ServerError(w, err)
		return
	}
	sim.WriteJSON(w, http.StatusOK, adminTokenReply{AccessToken: tok, ExpiresAt: exp.Unix()})
}

func (s *Server) handleAdminApps(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ID     string `json:"id"`
		Secret string `json:"secret"`
	}
	if !sim.DecodeJSON(w, r, &req) {
		return
	}
	if req.ID == "" || req.Secret == "" {
		sim.BadRequest(w, `send {"id": "<facebook app id>", "secret": "<app secret>"}; both are required`)
		return
	}
	s.AddApp(req.ID, req.Secret)
	sim.WriteJSON(w, http.StatusOK, map[string]string{"id": req.ID})
}

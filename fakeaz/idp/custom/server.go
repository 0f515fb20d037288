package custom

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcaspec/mcaspec/fakeaz/idp"
	"github.com/mcaspec/mcaspec/fakeaz/idp/internal/sim"
)

// Option configures a Server.
type Option func(*Server)

// WithAdminToken requires "Authorization: Bearer <secret>" on the admin routes (/admin/...);
// without it they are open, which Start allows on a loopback address only. An empty secret
// makes Start fail.
func WithAdminToken(secret string) Option { return func(s *Server) { s.base.Admin.SetToken(secret) } }

// WithClock sets the clock that ages stateIds.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithRand sets the randomness source of stateIds.
func WithRand(r io.Reader) Option { return func(s *Server) { s.rand = r } }

// Stats counts the calls a Server has answered.
type Stats struct {
	StartAuthorization    int64 `json:"startAuthorization"`
	HandleChallengeAnswer int64 `json:"handleChallengeAnswer"`
	Challenges            int64 `json:"challenges"`
	Successes             int64 `json:"successes"`
	Failures              int64 `json:"failures"`
	BadRequests           int64 `json:"badRequests"`
	Faults                int64 `json:"faults"`
}

// Server is the custom identity provider simulator. It is an http.Handler;
// Start serves it on any address (off loopback its admin routes need
// WithAdminToken). Safe for concurrent use.
type Server struct {
	now  func() time.Time
	rand io.Reader

	mu     sync.Mutex // guards cfg, states, rand reads
	cfg    Config
	states map[string]state

	startN, answerN, challengeN, successN, failureN, badN atomic.Int64

	base sim.Base
}

// state is a pending second step.
type state struct {
	appID, realm, user string
	expires            time.Time
}

// New returns a simulator serving cfg (copied; validated).
func New(cfg Config, opts ...Option) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{now: time.Now, rand: rand.Reader, cfg: cfg.clone(), states: map[string]state{}}
	for _, o := range opts {
		o(s)
	}
	s.base.Init("custom simulator", sim.Skeleton{
		Routes: []sim.Route{
			{Method: http.MethodPost, Path: "/apps/{appId}/{realm}/startAuthorization", Handler: s.handleStart},
			{Method: http.MethodPost, Path: "/apps/{appId}/{realm}/handleChallengeAnswer", Handler: s.handleAnswer},
			{Method: http.MethodGet, Path: "/admin/users", Handler: s.handleGetUsers},
			{Method: http.MethodPost, Path: "/admin/users", Handler: s.handleAddUser},
		},
		Stats: func() any { return s.Stats() },
		WrongMethod: func(w http.ResponseWriter, r *http.Request, allow string) {
			if !strings.HasPrefix(r.URL.Path, "/admin/") {
				s.badN.Add(1)
			}
			sim.MethodNotAllowed(w, allow)
		},
		NotFound: sim.NoRoute("fakeaz/idp/custom"),
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

// URL is the base URL after Start: the AZ's idpUrl.
func (s *Server) URL() string { return s.base.URL() }

// Close stops the server and releases hanging requests.
func (s *Server) Close() error { return s.base.Close() }

// SetFault makes the provider routes misbehave (admin routes are unaffected).
func (s *Server) SetFault(f idp.Fault) { s.base.SetFault(f) }

// Stats returns the call counters.
func (s *Server) Stats() Stats {
	return Stats{
		StartAuthorization: s.startN.Load(), HandleChallengeAnswer: s.answerN.Load(),
		Challenges: s.challengeN.Load(), Successes: s.successN.Load(), Failures: s.failureN.Load(),
		BadRequests: s.badN.Load(), Faults: s.base.FaultsHit(),
	}
}

// AddUser adds or replaces a user of a realm, creating the realm if needed.
func (s *Server) AddUser(realm string, u User) error {
	if realm == "" {
		return fmt.Errorf("%w: empty realm name", ErrConfig)
	}
	if err := u.validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.cfg.Realms[realm]
	r.Users = slices.DeleteFunc(slices.Clone(r.Users), func(x User) bool { return x.UserName == u.UserName })
	r.Users = append(r.Users, u)
	s.cfg.Realms[realm] = r
	return nil
}

// PendingStates is the number of live stateIds (for tests of expiry).
func (s *Server) PendingStates() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked(s.now())
	return len(s.states)
}

type wireStart struct {
	Headers *map[string]any `json:"headers"`
}

func (b *wireStart) noHeaders() bool { return b.Headers == nil }

type wireAnswer struct {
	wireStart
	StateID         *string         `json:"stateId"`
	ChallengeAnswer json.RawMessage `json:"challengeAnswer"`
}

// begin opens a provider call: it counts it in n, applies the fault, checks
// the realm and decodes the body into req, whose "headers" must be there
// (usage is the body's shape, for the error). false means it has answered.
func (s *Server) begin(w http.ResponseWriter, r *http.Request, n *atomic.Int64, req interface{ noHeaders() bool }, usage string) (Realm, bool) {
	if !s.base.Enter(w, r, n) {
		return Realm{}, false
	}
	realm, ok := s.realmFor(w, r)
	if !ok {
		return Realm{}, false
	}
	if !sim.DecodeJSON(w, r, req) {
		s.badN.Add(1)
		return Realm{}, false
	}
	if req.noHeaders() {
		s.badN.Add(1)
		sim.BadRequest(w, usage+`: "headers" is missing or null`)
		return Realm{}, false
	}
	return realm, true
}

// realmFor checks the realm/app; on failure it has answered.
func (s *Server) realmFor(w http.ResponseWriter, r *http.Request) (Realm, bool) {
	appID, name := r.PathValue("appId"), r.PathValue("realm")
	s.mu.Lock()
	realm, ok := s.cfg.Realms[name]
	s.mu.Unlock()
	if !ok {
		s.badN.Add(1)
		sim.NotFound(w, fmt.Sprintf("realm %q is not configured at this identity provider", name))
		return Realm{}, false
	}
	if len(realm.Apps) > 0 && !slices.Contains(realm.Apps, appID) {
		s.badN.Add(1)
		sim.NotFound(w, fmt.Sprintf("realm %q is not configured for app %q", name, appID))
		return Realm{}, false
	}
	return realm, true
}

func (s *Server) handleStart(w http.ResponseWriter, r *http.Request) {
	var req wireStart
	realm, ok := s.begin(w, r, &s.startN, &req, `startAuthorization body must be {"headers": {...}}`)
	if !ok {
		return
	}
	s.challenge(w, "", realm.message())
}

func (s *Server) handleAnswer(w http.ResponseWriter, r *http.Request) {
	var req wireAnswer
	realm, ok := s.begin(w, r, &s.answerN, &req, `handleChallengeAnswer body must be {"headers": {...}, "stateId": "...", "challengeAnswer": {...}}`)
	if !ok {
		return
	}
	if len(req.ChallengeAnswer) == 0 {
		s.badN.Add(1)
		sim.BadRequest(w, `handleChallengeAnswer body must carry "challengeAnswer" (the device's answer)`)
		return
	}
	appID, realmName := r.PathValue("appId"), r.PathValue("realm")
	// A non-object answer is the device's mistake, not the AZ's: failure.
	// (A stateId is consumed even then.)
	var ans map[string]any
	bad := json.Unmarshal(req.ChallengeAnswer, &ans) != nil || ans == nil
	if req.StateID != nil && *req.StateID != "" {
		s.answerPIN(w, appID, realmName, *req.StateID, ans)
		return
	}
	if bad {
		s.failure(w)
		return
	}
	name, _ := ans["username"].(string)
	pass, _ := ans["password"].(string)
	u, found := realm.user(name)
	if !found || u.AlwaysFail || name == "" || pass != u.Password {
		s.failure(w)
		return
	}
	if u.PIN == "" {
		s.success(w, u)
		return
	}
	id, err := s.newState(state{appID: appID, realm: realmName, user: u.UserName})
	if err != nil {
		sim.ServerError(w, err)
		return
	}
	s.challenge(w, id, realm.pinMessage())
}

// answerPIN handles the second step; the state is consumed whatever the outcome.
func (s *Server) answerPIN(w http.ResponseWriter, appID, realmName, id string, ans map[string]any) {
	now := s.now()
	s.mu.Lock()
	st, ok := s.states[id]
	delete(s.states, id)
	// Read the realm now so a user changed in between is seen.
	realm := s.cfg.Realms[realmName]
	s.mu.Unlock()
	if !ok || !now.Before(st.expires) || st.appID != appID || st.realm != realmName {
		s.failure(w)
		return
	}
	u, found := realm.user(st.user)
	pin, _ := ans["pin"].(string)
	if !found || u.AlwaysFail || u.PIN == "" || pin != u.PIN {
		s.failure(w)
		return
	}
	s.success(w, u)
}

func (s *Server) newState(st state) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	id, err := sim.NewToken(s.rand)
	if err != nil {
		return "", err
	}
	st.expires = now.Add(s.cfg.stateTTL())
	if len(s.states) >= 1024 {
		s.pruneLocked(now)
	}
	s.states[id] = st
	return id, nil
}

func (s *Server) pruneLocked(now time.Time) {
	for k, v := range s.states {
		if !now.Before(v.expires) {
			delete(s.states, k)
		}
	}
}

func (s *Server) challenge(w http.ResponseWriter, stateID, message string) {
	s.challengeN.Add(1)
	ch, _ := json.Marshal(map[string]string{"message": message})
	sim.WriteJSON(w, http.StatusOK, Reply{Status: StatusChallenge, StateID: stateID, Challenge: ch})
}

func (s *Server) success(w http.ResponseWriter, u User) {
	s.successN.Add(1)
	display := u.DisplayName
	if display == "" {
		display = u.UserName
	}
	sim.WriteJSON(w, http.StatusOK, Reply{Status: StatusSuccess, UserIdentity: &idp.Identity{UserName: u.UserName, DisplayName: display, Attributes: u.Attributes}})
}

func (s *Server) failure(w http.ResponseWriter) {
	s.failureN.Add(1)
	sim.WriteJSON(w, http.StatusOK, Reply{Status: StatusFailure})
}

func (r Realm) user(name string) (User, bool) {
	for _, u := range r.Users {
		if u.UserName == name {
			return u, true
		}
	}
	return User{}, false
}

func (r Realm) message() string {
	if r.Message != "" {
		return r.Message
	}
	return DefaultMessage
}

func (r Realm) pinMessage() string {
	if r.PINMessage != "" {
		return r.PINMessage
	}
	return DefaultPINMessage
}

type adminUser struct {
	Realm string `json:"realm"`
	User  User   `json:"user"`
}

func (s *Server) handleGetUsers(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	cfg := s.cfg.clone()
	s.mu.Unlock()
	sim.WriteJSON(w, http.StatusOK, cfg)
}

func (s *Server) handleAddUser(w http.ResponseWriter, r *http.Request) {
	var req adminUser
	if !sim.DecodeJSON(w, r, &req) {
		return
	}
	if err := s.AddUser(req.Realm, req.User); err != nil {
		sim.BadRequest(w, err.Error()+`; send {"realm": "...", "user": {"userName": "...", "password": "..."}}`)
		return
	}
	sim.WriteJSON(w, http.StatusOK, req)
}

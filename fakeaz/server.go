package fakeaz

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcaspec/mcaspec/internal/adminauth"
	"github.com/mcaspec/mcaspec/internal/listen"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

// Defaults of a Server.
const (
	// DefaultListen is the address the standalone fake AZ listens on.
	DefaultListen = "127.0.0.1:9080"
	// DefaultCodeLifetime is how long an authorization code can be redeemed.
	DefaultCodeLifetime = 2 * time.Minute
	// DefaultTokenLifetime is exp - iat of the tokens the server mints (the real AZ used one hour).
	DefaultTokenLifetime = tokenfactory.DefaultLifetime
	// DefaultKeyPoolSize is how many RSA-2048 keys are kept generated in advance.
	DefaultKeyPoolSize = 4
	// DefaultIdPTimeout bounds one call to an identity provider when no HTTP client is given.
	DefaultIdPTimeout = 10 * time.Second
	// MaxBodyBytes bounds every request body the server reads.
	MaxBodyBytes = 64 << 10
	// BasePath is the path of the serverUrl: serverUrl = "http://host:port" + BasePath.
	BasePath = "/imf-authserver"
	// AppsPath is the prefix of the per-app endpoints under the serverUrl.
	AppsPath = BasePath + "/authorization/v1/apps/"
	// AdminPath is the prefix of the admin API.
	AdminPath = "/admin/"
)

// Endpoint names, as used by faults and stats.
const (
	EndpointRegister      = "clients/instance"
	EndpointAuthorization = "authorization"
	EndpointToken         = "token"
	EndpointPublicKey     = "publickey"
	EndpointJWKS          = "jwks"
	EndpointDiscovery     = ".well-known/openid-configuration"
	EndpointLogout        = "logout"
)

// Endpoints lists every AZ endpoint name.
var endpoints = []string{EndpointRegister, EndpointAuthorization, EndpointToken, EndpointPublicKey, EndpointJWKS, EndpointDiscovery, EndpointLogout, EndpointWebAuthorization, EndpointWebToken}

// Endpoints returns the names of the AZ endpoints (the suffixes after
// {serverUrl}/authorization/v1/apps/{appId}/).
func Endpoints() []string { return append([]string(nil), endpoints...) }

// Errors returned by the Go API (and mapped to statuses by the admin API).
var (
	ErrUnknownApp    = errors.New("fakeaz: unknown app id")
	ErrUnknownClient = errors.New("fakeaz: unknown client id")
	ErrAppExists     = errors.New("fakeaz: app id already registered")
	ErrInvalidApp    = errors.New("fakeaz: invalid app definition")
	ErrInvalidFault  = errors.New("fakeaz: invalid fault spec")
	ErrInvalidConfig = errors.New("fakeaz: invalid config")
	ErrListen        = listen.ErrAddr
	ErrStarted       = errors.New("fakeaz: server already started")
	ErrClosed        = errors.New("fakeaz: server closed")
)

// Option configures a Server.
type Option func(*Server)

// WithClock sets the clock (code expiry, key retirement, fault windows, token iat/exp).
func WithClock(now func() time.Time) Option { return func(s *Server) { s.clock = now } }

// WithRand sets the randomness used for ids and codes (default crypto/rand).
// It is read under a lock, so it need not be safe for concurrent use.
func WithRand(r io.Reader) Option { return func(s *Server) { s.rnd = r } }

// WithLogger sets the logger; the server writes one line per request. Default: discard.
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// WithKeyGen sets how the server makes RSA signing keys (app keys, rotations,
// the client-certificate CA). It disables the background key pool.
func WithKeyGen(gen func() (*rsa.PrivateKey, error)) Option {
	return func(s *Server) { s.keygen = gen }
}

// WithKeyPoolSize sets how many RSA-2048 keys are generated in advance in the
// background (ignored with WithKeyGen). 0 disables the pool.
func WithKeyPoolSize(n int) Option { return func(s *Server) { s.poolSize = n } }

// WithHTTPClient sets the client used to call identity providers.
func WithHTTPClient(hc *http.Client) Option { return func(s *Server) { s.hc = hc } }

// WithCodeLifetime sets how long an authorization code can be redeemed.
func WithCodeLifetime(d time.Duration) Option { return func(s *Server) { s.codeTTL = d } }

// WithTokenLifetime sets exp - iat of minted tokens.
func WithTokenLifetime(d time.Duration) Option { return func(s *Server) { s.tokenTTL = d } }

// WithApps registers apps at construction (an invalid app makes New fail).
func WithApps(apps ...App) Option {
	return func(s *Server) { s.initApps = append(s.initApps, apps...) }
}

// WithConfig applies a parsed configuration at construction.
func WithConfig(c *Config) Option {
	return func(s *Server) { s.initConfigs = append(s.initConfigs, c) }
}

// WithConfigFile loads a JSON configuration file (see Config) at
// construction. A file that cannot be read or is invalid makes New fail.
func WithConfigFile(path string) Option {
	return func(s *Server) {
		c, err := LoadConfig(path)
		if err != nil {
			s.initErr = errors.Join(s.initErr, err)
			return
		}
		s.initConfigs = append(s.initConfigs, c)
	}
}

// Server is a fake MCA authorization server. It is an http.Handler serving
// the AZ endpoints under BasePath and the admin API under AdminPath.
// All methods are safe for concurrent use.
type Server struct {
	clock    func() time.Time
	rnd      io.Reader
	log      *slog.Logger
	keygen   func() (*rsa.PrivateKey, error)
	poolSize int
	hc       *http.Client
	codeTTL  time.Duration
	tokenTTL time.Duration

	initApps    []App
	initConfigs []*Config
	initErr     error

	pool *keyPool
	mux  *http.ServeMux // every route: AZ endpoints, App ID endpoints, admin API

	randMu sync.Mutex

	mu           sync.Mutex
	url          string
	apps         map[string]*appState
	codes        map[string]*codeEntry
	states       map[string]*authState // custom-realm IdP state per session+client
	codePruneAt  int
	statePruneAt int
	ca           *certAuthority
	faults       []*fault
	release      chan struct{} // closed (and replaced) by ClearFaults: releases hangs
	stats        statsState
	web          webState // the web sign-in flow (web.go)

	clockOffset atomic.Int64 // a time.Duration: SetClockOffset

	publicURL   string          // WithPublicURL: the serverUrl
	fromRequest bool            // WithPublicURLFromRequest
	adminGuard  adminauth.Guard // WithAdminToken
	adminAddr   string          // WithAdminListen: the admin API's own address
	fixedKey    *rsa.PrivateKey // WithSigningKey: every app's first key

	closeOnce sync.Once
	closed    chan struct{}
	ln        listen.Server
	adminLn   listen.Server
}

// New returns a Server, or an error when an option is invalid (a bad public
// URL, an empty admin token, a configuration file that cannot be read, an
// invalid app...). It does not listen: call Start, or mount it as an
// http.Handler (then set WithPublicURL or WithPublicURLFromRequest). Close
// it to stop its background key generation.
func New(opts ...Option) (*Server, error) {
	s := &Server{
		clock:        time.Now,
		rnd:          rand.Reader,
		poolSize:     DefaultKeyPoolSize,
		codeTTL:      DefaultCodeLifetime,
		tokenTTL:     DefaultTokenLifetime,
		apps:         map[string]*appState{},
		codes:        map[string]*codeEntry{},
		states:       map[string]*authState{},
		codePruneAt:  1024,
		statePruneAt: 1024,
		release:      make(chan struct{}),
		closed:       make(chan struct{}),
	}
	s.stats.reset()
	for _, o := range opts {
		o(s)
	}
	if s.initErr != nil {
		return nil, s.initErr
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.hc == nil {
		s.hc = &http.Client{Timeout: DefaultIdPTimeout}
	}
	gen := s.keygen
	if gen == nil {
		gen = func() (*rsa.PrivateKey, error) { return tokenfactory.GenerateKey(tokenfactory.DefaultKeyBits, nil) }
		s.pool = newKeyPool(gen, s.poolSize, s.log)
	} else {
		s.pool = newKeyPool(gen, 0, s.log)
	}
	s.mux = s.routes()
	var errs []error
	for _, c := range s.initConfigs {
		errs = append(errs, s.ApplyConfig(c))
	}
	for _, a := range s.initApps {
		_, err := s.AddApp(a)
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		s.pool.stop()
		return nil, err
	}
	return s, nil
}

// CheckListen returns an error wrapping ErrListen unless addr is host:port.
func CheckListen(addr string) error {
	_, err := listen.Addr(addr)
	return err
}

// Start listens on addr (host:port; "127.0.0.1:0" picks a free port,
// "0.0.0.0:9080" every interface) and serves in the background until Close.
// The admin API is served there too, unless WithAdminListen gives it its own
// listener. An admin API without WithAdminToken must listen on loopback: else
// Start returns an error wrapping ErrAdminExposed.
func (s *Server) Start(addr string) error {
	select {
	case <-s.closed:
		return ErrClosed
	default:
	}
	if err := s.checkExposure(addr); err != nil {
		return err
	}
	err := s.ln.Start(addr, &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second})
	switch {
	case errors.Is(err, listen.ErrStarted):
		return ErrStarted
	case err != nil:
		return fmt.Errorf("fakeaz: %w", err)
	}
	if s.adminAddr != "" {
		if err := s.adminLn.Start(s.adminAddr, &http.Server{Handler: s.AdminHandler(), ReadHeaderTimeout: 10 * time.Second}); err != nil {
			_ = s.ln.Close()
			return fmt.Errorf("fakeaz: admin API: %w", err)
		}
	}
	s.mu.Lock()
	if s.publicURL != "" {
		s.url = s.publicURL
	} else {
		s.url = s.ln.URL() + BasePath
	}
	s.mu.Unlock()
	return nil
}

// URL returns the serverUrl: the WithPublicURL one, else the URL of the
// listen address, e.g. "http://127.0.0.1:PORT/imf-authserver" (empty before
// Start). With WithPublicURLFromRequest, requests see their own serverUrl;
// URL stays the listen-derived one.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// Addr returns the address the server listens on once started ("0.0.0.0:9080"), else "".
func (s *Server) Addr() string { return s.ln.Addr() }

// AdminAddr returns the address the admin API listens on once started: the
// WithAdminListen one, else Addr.
func (s *Server) AdminAddr() string {
	if s.adminAddr != "" {
		return s.adminLn.Addr()
	}
	return s.ln.Addr()
}

// AdminURL returns the base of the admin API as a client on this machine
// dials it, e.g. "http://127.0.0.1:PORT/admin": on its own listener with
// WithAdminListen, else on the main one (before Start: derived from URL).
func (s *Server) AdminURL() string {
	admin := strings.TrimSuffix(AdminPath, "/")
	if s.adminAddr != "" {
		if u := s.adminLn.URL(); u != "" {
			return u + admin
		}
		return ""
	}
	if u := s.ln.URL(); u != "" {
		return u + admin
	}
	if u := s.URL(); u != "" {
		return origin(u) + admin
	}
	return ""
}

// AppURL returns {serverUrl}/authorization/v1/apps/{appID}.
func (s *Server) AppURL(appID string) string { return s.appURL(s.URL(), appID) }

func (s *Server) appURL(serverURL, appID string) string {
	return origin(serverURL) + AppsPath + appID
}

// Close releases hanging faults, stops the key pool and the listener. It
// returns promptly even while faults hang requests.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.closed) // releases hanging faults
		s.pool.stop()
		err = errors.Join(s.ln.Close(), s.adminLn.Close())
	})
	return err
}

// now is the server clock.
func (s *Server) now() time.Time { return s.clock() }

// tokenNow is the clock of minted tokens: the server clock plus the clock offset.
func (s *Server) tokenNow() time.Time {
	return s.clock().Add(s.ClockOffset())
}

// SetClockOffset shifts the iat and exp of tokens minted from now on
// (including by Factory) by d relative to the server clock.
func (s *Server) SetClockOffset(d time.Duration) { s.clockOffset.Store(int64(d)) }

// ClockOffset returns the current clock offset.
func (s *Server) ClockOffset() time.Duration { return time.Duration(s.clockOffset.Load()) }

func (s *Server) randBytes(n int) []byte {
	b := make([]byte, n)
	s.randMu.Lock()
	defer s.randMu.Unlock()
	if _, err := io.ReadFull(s.rnd, b); err != nil {
		// An injected reader ran dry: fall back to crypto/rand rather than
		// hand out predictable ids.
		_, _ = rand.Read(b)
	}
	return b
}

func (s *Server) newGUID() string {
	b := s.randBytes(16)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// ServeHTTP serves the AZ endpoints and the admin API (unless WithAdminListen
// moved it to its own listener).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.serve(w, r, false) }

// adminListenerKey marks the requests of the admin API's own listener.
type adminListenerKey struct{}

// serve serves one request; adminOnly is the admin API's own listener.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, adminOnly bool) {
	if adminOnly {
		r = r.WithContext(context.WithValue(r.Context(), adminListenerKey{}, true))
	}
	s.mux.ServeHTTP(w, r)
}

// route says how the middleware treats a route.
type route struct {
	// endpoint is the AZ endpoint name (Endpoints) that stats and faults
	// use; "" for routes that are not counted.
	endpoint string
	// log is the endpoint name in the request log.
	log string
	// admin marks the admin API: the admin token guards it, and with
	// WithAdminListen it is served on the admin listener only.
	admin bool
}

var (
	adminRoute    = route{log: "admin", admin: true}
	notFoundRoute = route{log: "-"}
)

// azRoute is the route of an AZ endpoint: counted, faulted, body-limited.
func azRoute(endpoint string) route { return route{endpoint: endpoint, log: endpoint} }

// routes builds the server's one mux: the MCA endpoints under AppsPath, the
// App ID endpoints under AppIDPath, the admin API under AdminPath, and JSON
// 404s for everything else. Every route goes through middleware; an AZ
// endpoint asked with another method is answered 405 by a method-less
// pattern of the same path (counted and faulted like the endpoint).
func (s *Server) routes() *http.ServeMux {
	m := http.NewServeMux()
	endpoint := func(method, path, name, suffix string, h http.HandlerFunc) {
		m.Handle(method+" "+path, s.middleware(azRoute(name), h))
		m.Handle(path, s.middleware(azRoute(name), methodNotAllowed(method, suffix)))
	}
	mca := func(method, name string, h func(http.ResponseWriter, *http.Request, *appState)) {
		endpoint(method, AppsPath+"{appId}/"+name, name, name, s.withMCAApp(h))
	}
	mca(http.MethodPost, EndpointRegister, s.handleRegister)
	mca(http.MethodGet, EndpointAuthorization, s.handleAuthorization)
	mca(http.MethodPost, EndpointToken, s.handleToken)
	mca(http.MethodGet, EndpointPublicKey, s.handlePublicKey)
	mca(http.MethodGet, EndpointJWKS, s.handleJWKS)
	mca(http.MethodGet, EndpointDiscovery, s.handleDiscovery)
	mca(http.MethodGet, EndpointLogout, s.handleLogout)
	s.webRoutes(endpoint)
	notFound := func(w http.ResponseWriter, r *http.Request) {
		writeErr(w, http.StatusNotFound, "not_found", fmt.Sprintf("no endpoint %q; endpoints are %s", r.PathValue("endpoint"), strings.Join(endpoints, ", ")))
	}
	m.Handle(AppsPath+"{appId}", s.middleware(notFoundRoute, notFound))
	m.Handle(AppsPath+"{appId}/{endpoint...}", s.middleware(notFoundRoute, notFound))

	// App ID endpoints count as the MCA endpoints that play the same part.
	appID := func(method, suffix, name string, h func(http.ResponseWriter, *http.Request, App)) {
		endpoint(method, AppIDPath+"{appId}/"+suffix, name, suffix, s.withAppIDApp(h))
	}
	appID(http.MethodGet, AppIDPublicKeys, EndpointPublicKey, s.handleAppIDPublicKeys)
	appID(http.MethodGet, AppIDDiscovery, EndpointDiscovery, s.handleAppIDDiscovery)
	appID(http.MethodPost, AppIDToken, EndpointToken, s.handleAppIDToken)
	appIDNotFound := func(w http.ResponseWriter, r *http.Request) {
		writeErr(w, http.StatusNotFound, "not_found", fmt.Sprintf("no App ID endpoint %q; endpoints are %s{tenantId}/ + %s, %s, %s", r.PathValue("endpoint"), AppIDPath, AppIDPublicKeys, AppIDToken, AppIDDiscovery))
	}
	m.Handle(AppIDPath+"{appId}", s.middleware(notFoundRoute, appIDNotFound))
	m.Handle(AppIDPath+"{appId}/{endpoint...}", s.middleware(notFoundRoute, appIDNotFound))

	s.adminRoutes(m)

	m.Handle("/", s.middleware(notFoundRoute, func(w http.ResponseWriter, r *http.Request) {
		writeErr(w, http.StatusNotFound, "not_found", "no such endpoint: AZ endpoints are "+AppsPath+"{appId}/{endpoint}, the admin API is under "+AdminPath)
	}))
	return m
}

// middleware is the one wrapper of every route: the request log; the
// listener split (WithAdminListen); the admin token on admin routes; the
// serverUrl from the request (WithPublicURLFromRequest); and on AZ endpoints
// the request counters, faults and the body limit (MaxBodyBytes).
func (s *Server) middleware(rt route, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		appID := r.PathValue("appId")
		logName := rt.log
		adminOnly := r.Context().Value(adminListenerKey{}) != nil
		defer func() {
			outcome := rec.outcome
			if outcome == "" {
				outcome = "ok"
			}
			s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
				slog.String("method", r.Method),
				slog.String("endpoint", logName),
				slog.String("app", appID),
				slog.Int("status", rec.status),
				slog.String("outcome", outcome),
				slog.Duration("dur", time.Since(start)))
		}()
		switch {
		case adminOnly && !rt.admin:
			logName = "-"
			writeErr(rec, http.StatusNotFound, "not_found", "this listener serves only the admin API, under "+AdminPath)
			return
		case !adminOnly && rt.admin && s.adminAddr != "":
			writeErr(rec, http.StatusNotFound, "not_found", "the admin API is served on its own listener, not here")
			return
		case rt.admin && !s.adminAuthorized(rec, r):
			return
		case !adminOnly && !s.withRequestURL(rec, &r):
			logName = "-"
			return
		}
		if rt.endpoint != "" {
			s.stats.count(&s.mu, rt.endpoint, appID)
			if !s.applyFaults(rec, r, rt.endpoint, appID) {
				return
			}
			r.Body = http.MaxBytesReader(rec, r.Body, MaxBodyBytes)
		}
		h(rec, r)
	})
}

// methodNotAllowed answers 405 for an endpoint (suffix, its path after the
// app id) that takes method only.
func methodNotAllowed(method, suffix string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Allow", method)
		writeErr(w, http.StatusMethodNotAllowed, "method_not_allowed", suffix+" takes "+method)
	}
}

// withMCAApp looks up the app of an MCA endpoint, answering 404 for an unknown one.
func (s *Server) withMCAApp(h func(http.ResponseWriter, *http.Request, *appState)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		appID := r.PathValue("appId")
		s.mu.Lock()
		a := s.apps[appID]
		s.mu.Unlock()
		if a == nil {
			writeErr(w, http.StatusNotFound, "unknown_app", fmt.Sprintf("app id %q is not registered at this AZ", appID))
			return
		}
		h(w, r, a)
	}
}

// withAppIDApp looks up the app of an App ID endpoint, answering 404 for an
// unknown app or one without ProfileAppID.
func (s *Server) withAppIDApp(h func(http.ResponseWriter, *http.Request, App)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if a, ok := s.appIDApp(w, r.PathValue("appId")); ok {
			h(w, r, a)
		}
	}
}

// withRequestURL puts the request's serverUrl in its context
// (WithPublicURLFromRequest), answering 400 when the headers make none.
func (s *Server) withRequestURL(w http.ResponseWriter, r **http.Request) bool {
	if !s.fromRequest {
		return true
	}
	u, err := requestServerURL(*r)
	if err != nil {
		writeErr(w, http.StatusBadRequest, "invalid_request", err.Error()+" (this fakeaz derives its serverUrl from each request)")
		return false
	}
	if u != "" {
		*r = (*r).WithContext(context.WithValue((*r).Context(), serverURLKey{}, u))
	}
	return true
}

// recorder captures the status and an outcome word for the request log.
type recorder struct {
	http.ResponseWriter
	status  int
	outcome string
	wrote   bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status = code
		r.wrote = true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func setOutcome(w http.ResponseWriter, o string) {
	if r, ok := w.(*recorder); ok {
		r.outcome = o
	}
}

package contract

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/mcaspec/mcaspec/internal/downstream"
	"github.com/mcaspec/mcaspec/internal/httpjson"
	"github.com/mcaspec/mcaspec/internal/listen"
)

// Server defaults.
const (
	// DefaultDownstreamTimeout bounds propagate and service-call downstream requests.
	DefaultDownstreamTimeout = 10 * time.Second
	// DefaultMaxHeaderBytes bounds request headers (larger ones get 431 from net/http).
	DefaultMaxHeaderBytes = 128 << 10
	// DefaultReadHeaderTimeout bounds how long a client may take to send its headers.
	DefaultReadHeaderTimeout = 5 * time.Second
	// MaxExcerpt is how much of a downstream body the server echoes.
	MaxExcerpt = 4 << 10
)

// SecurityContext is the JSON /protected answers: the subject (the id
// token's sub, or the access token's prn without one) and the id token's
// imf.user, imf.device and imf.application objects ({} when absent).
type SecurityContext struct {
	Sub         string          `json:"imf.sub"`
	User        json.RawMessage `json:"imf.user"`
	Device      json.RawMessage `json:"imf.device"`
	Application json.RawMessage `json:"imf.application"`
}

// Authenticator checks the credentials of a request to /protected,
// /propagate or /service-call.
type Authenticator interface {
	// Authenticate returns the security context of r, or writes the
	// refusal (401 with a challenge, 400, 503...) and returns false.
	Authenticate(w http.ResponseWriter, r *http.Request) (*SecurityContext, bool)
}

// AuthenticatorFunc is a function as an Authenticator.
type AuthenticatorFunc func(w http.ResponseWriter, r *http.Request) (*SecurityContext, bool)

// Authenticate calls f.
func (f AuthenticatorFunc) Authenticate(w http.ResponseWriter, r *http.Request) (*SecurityContext, bool) {
	return f(w, r)
}

// ServiceTokens gives the Authorization header of the target's own service
// token for /service-call (reference.ServiceTokenSource).
type ServiceTokens interface {
	AuthorizationHeader(ctx context.Context) (string, error)
}

// ServerConfig configures a Server.
type ServerConfig struct {
	// Auth authenticates the requests to /protected, /propagate and
	// /service-call. Required unless Bare is set.
	Auth Authenticator
	// Bare, when set, is the whole body /protected answers (200, JSON)
	// without looking at the request, and the server has no other route
	// than /healthz: the no-auth ceiling of the benchmarks.
	Bare []byte
	// Service gives /service-call its token; nil: /service-call answers
	// 502 no_service_credentials.
	Service ServiceTokens
	// Downstream is where /propagate and /service-call may send requests
	// (MCA_DOWNSTREAM_HOSTS); the zero value allows loopback only.
	Downstream downstream.AllowList
	// DownstreamTimeout: see DefaultDownstreamTimeout.
	DownstreamTimeout time.Duration
	// Listen is the address Start uses when given "" (default 127.0.0.1:0).
	Listen string
	// Logger (default: discard) gets net/http's server errors.
	Logger *slog.Logger
}

// Server serves the contract's routes: GET /healthz, and /protected
// (the security context), /propagate (the caller's Authorization header
// forwarded to to=) and /service-call (the target's service token sent to
// to=) behind its Authenticator. It is an http.Handler.
type Server struct {
	cfg    ServerConfig
	client *http.Client
	mux    *http.ServeMux
	srv    listen.Server
}

// NewServer returns a server of cfg. A ServerConfig without Auth nor Bare
// is an error wrapping ErrConfig.
func NewServer(cfg ServerConfig) (*Server, error) {
	if cfg.Auth == nil && cfg.Bare == nil {
		return nil, fmt.Errorf("%w: a contract server needs an Authenticator (or a Bare body)", ErrConfig)
	}
	if cfg.DownstreamTimeout <= 0 {
		cfg.DownstreamTimeout = DefaultDownstreamTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, client: cfg.Downstream.Client(cfg.DownstreamTimeout), mux: http.NewServeMux()}
	s.mux.HandleFunc(RouteHealthz, func(w http.ResponseWriter, _ *http.Request) {
		WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	if cfg.Bare != nil {
		s.mux.HandleFunc(RouteProtected, s.bare)
		return s, nil
	}
	s.mux.HandleFunc(RouteProtected, s.protected)
	s.mux.HandleFunc(RoutePropagate, s.propagate)
	s.mux.HandleFunc(RouteServiceCall, s.serviceCall)
	return s, nil
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// bare answers the Bare body: no token work at all.
func (s *Server) bare(w http.ResponseWriter, _ *http.Request) {
	w.Header()["Content-Type"] = []string{"application/json"}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(s.cfg.Bare)
}

func (s *Server) protected(w http.ResponseWriter, r *http.Request) {
	if sc, ok := s.cfg.Auth.Authenticate(w, r); ok {
		WriteJSON(w, http.StatusOK, sc)
	}
}

func (s *Server) propagate(w http.ResponseWriter, r *http.Request) {
	to, ok := s.authorizedTo(w, r)
	if !ok {
		return
	}
	var authorization string
	if v := r.Header.Values("Authorization"); len(v) > 0 {
		authorization = v[0]
	}
	s.forward(w, r, to, authorization)
}

func (s *Server) serviceCall(w http.ResponseWriter, r *http.Request) {
	to, ok := s.authorizedTo(w, r)
	if !ok {
		return
	}
	if s.cfg.Service == nil {
		writeErr(w, http.StatusBadGateway, "no_service_credentials", "the target has no MCA_CLIENT_ID / MCA_SECRET / MCA_APP_ID")
		return
	}
	h, err := s.cfg.Service.AuthorizationHeader(r.Context())
	if err != nil {
		writeErr(w, http.StatusBadGateway, "service_token", err.Error())
		return
	}
	s.forward(w, r, to, h)
}

// authorizedTo authenticates r and returns its to= URL when the allow-list
// allows it; else it has answered (as Auth does, or 400 for to=).
func (s *Server) authorizedTo(w http.ResponseWriter, r *http.Request) (string, bool) {
	if _, ok := s.cfg.Auth.Authenticate(w, r); !ok {
		return "", false
	}
	to, err := s.cfg.Downstream.Check(r.URL.Query().Get("to"))
	if err != nil {
		writeErr(w, http.StatusBadRequest, "invalid_request", err.Error())
		return "", false
	}
	return to, true
}

// forward GETs to with only the given Authorization header and answers
// with the downstream status and a JSON excerpt of its body.
func (s *Server) forward(w http.ResponseWriter, r *http.Request, to, authorization string) {
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.DownstreamTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, to, nil)
	if err != nil {
		writeErr(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	if authorization != "" {
		req.Header["Authorization"] = []string{authorization}
	}
	resp, err := s.client.Do(req)
	if err != nil {
		writeErr(w, http.StatusBadGateway, "downstream", err.Error())
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, MaxExcerpt))
	WriteJSON(w, resp.StatusCode, map[string]any{"downstream_status": resp.StatusCode, "body": string(body)})
}

// WriteJSON answers status with v as JSON (httpjson.Write, the module's one
// JSON writer).
func WriteJSON(w http.ResponseWriter, status int, v any) { httpjson.Write(w, status, v) }

func writeErr(w http.ResponseWriter, status int, code, desc string) {
	WriteJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

// Start listens on addr (ServerConfig.Listen, else 127.0.0.1:0, when "")
// and serves in the background until Close.
func (s *Server) Start(addr string) error {
	if addr == "" {
		addr = s.cfg.Listen
	}
	err := s.srv.Start(addr, &http.Server{
		Handler:           s,
		ReadHeaderTimeout: DefaultReadHeaderTimeout,
		ReadTimeout:       2 * DefaultReadHeaderTimeout,
		WriteTimeout:      s.cfg.DownstreamTimeout + 10*time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    DefaultMaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelDebug),
	})
	if err != nil {
		return fmt.Errorf("target: %w", err)
	}
	return nil
}

// URL returns "http://host:port" once started, else "": the address a
// client on this machine dials (127.0.0.1 when listening on 0.0.0.0).
func (s *Server) URL() string { return s.srv.URL() }

// Addr returns the address listened on once started (e.g. 0.0.0.0:9000), else "".
func (s *Server) Addr() string { return s.srv.Addr() }

// Close stops the server (waiting up to 5 s for requests in flight).
func (s *Server) Close() error { return s.srv.Close() }

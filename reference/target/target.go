// Package target is the reference target: an HTTP server protected by the
// reference validator that follows the mcaspec target contract
// (docs/TARGET-CONTRACT.md), so the conformance suite and the load tests can
// run against it exactly as against a third-party strategy wrapped the same way.
package target

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/mcaspec/mcaspec/internal/downstream"
	"github.com/mcaspec/mcaspec/internal/httpjson"
	"github.com/mcaspec/mcaspec/internal/listen"
	"github.com/mcaspec/mcaspec/reference"
)

// Defaults of a Config.
const (
	// DefaultDownstreamTimeout bounds propagate and service-call downstream requests.
	DefaultDownstreamTimeout = 10 * time.Second
	// DefaultMaxHeaderBytes bounds request headers (larger ones get 431 from net/http).
	DefaultMaxHeaderBytes = 128 << 10
	// DefaultReadHeaderTimeout bounds how long a client may take to send its headers.
	DefaultReadHeaderTimeout = 5 * time.Second
	// MaxExcerpt is how much of a downstream body the target echoes.
	MaxExcerpt = 4 << 10
)

// Modes: how the app id is found.
const (
	ModeResource = "resource" // the first GUID in the request URL (default)
	ModeBackend  = "backend"  // MCA_APP_ID / VCAP only
)

// Config configures the target.
type Config struct {
	ServerURL string
	// Issuer is the iss tokens must carry (MCA_ISSUER); default
	// "{ServerURL}/authorization/", as the real AZ wrote it.
	Issuer   string
	AppID    string // used in backend mode, and for the service token
	ClientID string // service token client credentials
	Secret   string
	Mode     string // ModeResource (default) or ModeBackend
	// Listen is the address Start uses when given "" (default 127.0.0.1:0).
	Listen            string
	DownstreamTimeout time.Duration
	// Downstream is where /propagate and /service-call may send requests
	// (MCA_DOWNSTREAM_HOSTS); the zero value allows loopback only.
	Downstream downstream.AllowList
	// Validator overrides the validator config (ServerURL and AppID are set from above).
	Validator reference.Config
	// Logger defaults to discarding.
	Logger *slog.Logger
}

var (
	// ErrConfig is wrapped by configuration errors.
	ErrConfig = errors.New("target: bad configuration")
	// ErrNoServerURL is wrapped, beside ErrConfig, when ConfigFromEnv finds
	// no AZ serverUrl; the Config it returns then holds all else it read.
	ErrNoServerURL = errors.New("no AZ serverUrl")
)

// DefaultHost is the contract's HOST when it is not set.
const DefaultHost = "127.0.0.1"

// ConfigFromEnv reads the target contract's environment: HOST (default
// 127.0.0.1) and PORT, MCA_SERVER_URL, MCA_ISSUER, MCA_APP_ID, MCA_CLIENT_ID, MCA_SECRET,
// MCA_MODE, MCA_DOWNSTREAM_HOSTS, VCAP_SERVICES and VCAP_APPLICATION.
// Explicit MCA_* values win over VCAP_*. Listen is HOST:PORT when either is
// set (PORT 0 when only HOST is), else "" (127.0.0.1:0).
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	var c Config
	if s, a := getenv("VCAP_SERVICES"), getenv("VCAP_APPLICATION"); s != "" || a != "" {
		v, err := reference.ParseVCAP(s, a)
		if err != nil {
			return c, fmt.Errorf("%w: %w", ErrConfig, err)
		}
		c.ServerURL, c.AppID, c.ClientID, c.Secret = v.ServerURL, v.AppID(), v.ClientID, v.Secret
	}
	for _, kv := range []struct {
		name string
		dst  *string
	}{{"MCA_SERVER_URL", &c.ServerURL}, {"MCA_ISSUER", &c.Issuer}, {"MCA_APP_ID", &c.AppID}, {"MCA_CLIENT_ID", &c.ClientID}, {"MCA_SECRET", &c.Secret}, {"MCA_MODE", &c.Mode}} {
		if v := getenv(kv.name); v != "" {
			*kv.dst = v
		}
	}
	var err error
	if c.Listen, err = ListenFromEnv(getenv); err != nil {
		return c, err
	}
	if c.Downstream, err = downstream.ParseAllowList(getenv(downstream.Env)); err != nil {
		return c, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if c.ServerURL == "" {
		return c, fmt.Errorf("%w: %w: MCA_SERVER_URL is not set (nor a serverUrl in VCAP_SERVICES): set it to the AZ serverUrl, e.g. http://127.0.0.1:8080/imf-authserver", ErrConfig, ErrNoServerURL)
	}
	return c, nil
}

// ListenFromEnv is the listen address of the contract's HOST and PORT:
// HOST:PORT when either is set (HOST defaults to 127.0.0.1, PORT to 0), else
// "". HOST may be an IPv6 address with or without brackets. A bad value is
// an error wrapping ErrConfig.
func ListenFromEnv(getenv func(string) string) (string, error) {
	host, port := strings.TrimSpace(getenv("HOST")), strings.TrimSpace(getenv("PORT"))
	if host == "" && port == "" {
		return "", nil
	}
	if host == "" {
		host = DefaultHost
	}
	if port == "" {
		port = "0"
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if _, err := netip.ParseAddr(host); err != nil && strings.ContainsAny(host, ":/?#@ \t[]") {
		return "", fmt.Errorf("%w: HOST=%q: want an IP address or a host name, e.g. 0.0.0.0 (every interface) or 127.0.0.1", ErrConfig, getenv("HOST"))
	}
	addr, err := listen.Addr(net.JoinHostPort(host, port))
	if err != nil {
		return "", fmt.Errorf("%w: HOST=%q PORT=%q: %w", ErrConfig, getenv("HOST"), getenv("PORT"), err)
	}
	return addr, nil
}

// Server is the reference target, an http.Handler.
type Server struct {
	cfg    Config
	v      *reference.Validator
	tokens *reference.ServiceTokenSource // nil without client credentials
	client *http.Client
	mux    *http.ServeMux
	srv    listen.Server
}

// New builds the target from cfg.
func New(cfg Config) (*Server, error) {
	switch cfg.Mode {
	case "":
		cfg.Mode = ModeResource
	case ModeResource, ModeBackend:
	default:
		return nil, fmt.Errorf("%w: mode %q (want %q or %q)", ErrConfig, cfg.Mode, ModeResource, ModeBackend)
	}
	if cfg.Mode == ModeBackend && cfg.AppID == "" {
		return nil, fmt.Errorf("%w: backend mode needs MCA_APP_ID (or VCAP_SERVICES tenantId)", ErrConfig)
	}
	if cfg.DownstreamTimeout <= 0 {
		cfg.DownstreamTimeout = DefaultDownstreamTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	vc := cfg.Validator
	vc.ServerURL = cfg.ServerURL
	if cfg.Issuer != "" {
		vc.Issuer = cfg.Issuer
	}
	vc.AppID = ""
	if cfg.Mode == ModeBackend {
		vc.AppID = cfg.AppID
	}
	if vc.Logger == nil {
		vc.Logger = cfg.Logger
	}
	v, err := reference.New(vc)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, v: v, client: cfg.Downstream.Client(cfg.DownstreamTimeout)}
	if cfg.ClientID != "" && cfg.Secret != "" && cfg.AppID != "" {
		// The token comes from the configured AZ, which the downstream
		// allow-list does not restrict (nor does it restrict the key fetches).
		if s.tokens, err = reference.NewServiceTokenSource(reference.ServiceConfig{
			ServerURL: cfg.ServerURL, AppID: cfg.AppID, ClientID: cfg.ClientID, Secret: cfg.Secret,
			HTTPClient: &http.Client{Timeout: cfg.DownstreamTimeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
			Clock:      vc.Clock,
		}); err != nil {
			return nil, err
		}
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		httpjson.Write(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.mux.Handle("GET /v1/apps/{appId}/protected", v.Middleware(http.HandlerFunc(s.protected)))
	s.mux.Handle("GET /v1/apps/{appId}/propagate", v.Middleware(http.HandlerFunc(s.propagate)))
	s.mux.Handle("GET /v1/apps/{appId}/service-call", v.Middleware(http.HandlerFunc(s.serviceCall)))
	return s, nil
}

// Validator returns the target's validator.
func (s *Server) Validator() *reference.Validator { return s.v }

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

func (s *Server) protected(w http.ResponseWriter, r *http.Request) {
	sc, _ := reference.FromContext(r.Context())
	httpjson.Write(w, http.StatusOK, sc)
}

func (s *Server) propagate(w http.ResponseWriter, r *http.Request) {
	to, err := s.cfg.Downstream.Check(r.URL.Query().Get("to"))
	if err != nil {
		httpjson.Write(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": err.Error()})
		return
	}
	s.forward(w, r, to, reference.AuthorizationHeaderFromIncomingRequest(r))
}

func (s *Server) serviceCall(w http.ResponseWriter, r *http.Request) {
	to, err := s.cfg.Downstream.Check(r.URL.Query().Get("to"))
	if err != nil {
		httpjson.Write(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": err.Error()})
		return
	}
	if s.tokens == nil {
		httpjson.Write(w, http.StatusBadGateway, map[string]string{"error": "no_service_credentials", "error_description": "the target has no MCA_CLIENT_ID / MCA_SECRET / MCA_APP_ID"})
		return
	}
	h, err := s.tokens.AuthorizationHeader(r.Context())
	if err != nil {
		httpjson.Write(w, http.StatusBadGateway, map[string]string{"error": "service_token", "error_description": err.Error()})
		return
	}
	s.forward(w, r, to, h)
}

// forward GETs to with only the given Authorization header and answers
// with the downstream status and a JSON excerpt of its body.
func (s *Server) forward(w http.ResponseWriter, r *http.Request, to, authorization string) {
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.DownstreamTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, to, nil)
	if err != nil {
		httpjson.Write(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": err.Error()})
		return
	}
	if authorization != "" {
		req.Header["Authorization"] = []string{authorization}
	}
	resp, err := s.client.Do(req)
	if err != nil {
		httpjson.Write(w, http.StatusBadGateway, map[string]string{"error": "downstream", "error_description": err.Error()})
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, MaxExcerpt))
	httpjson.Write(w, resp.StatusCode, map[string]any{"downstream_status": resp.StatusCode, "body": string(body)})
}

// Start listens on addr (Config.Listen, else 127.0.0.1:0, when "") and
// serves in the background.
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

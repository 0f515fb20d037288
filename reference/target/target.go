// Package target is the reference target: an HTTP server protected by the
// reference validator that follows the mcaspec target contract
// (docs/TARGET-CONTRACT.md), so the conformance suite and the load tests can
// run against it exactly as against a third-party strategy wrapped the same way.
package target

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/mcaspec/mcaspec/contract"
	"github.com/mcaspec/mcaspec/internal/downstream"
	"github.com/mcaspec/mcaspec/reference"
)

// Defaults of a Config (the contract server's).
const (
	// DefaultDownstreamTimeout bounds propagate and service-call downstream requests.
	DefaultDownstreamTimeout = contract.DefaultDownstreamTimeout
	// DefaultMaxHeaderBytes bounds request headers (larger ones get 431 from net/http).
	DefaultMaxHeaderBytes = contract.DefaultMaxHeaderBytes
	// DefaultReadHeaderTimeout bounds how long a client may take to send its headers.
	DefaultReadHeaderTimeout = contract.DefaultReadHeaderTimeout
	// MaxExcerpt is how much of a downstream body the target echoes.
	MaxExcerpt = contract.MaxExcerpt
)

// Modes: how the app id is found.
const (
	ModeResource = contract.ModeResource // the first GUID in the request URL (default)
	ModeBackend  = contract.ModeBackend  // MCA_APP_ID / VCAP only
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
	// ErrConfig is wrapped by configuration errors (contract.ErrConfig).
	ErrConfig = contract.ErrConfig
	// ErrNoServerURL is wrapped, beside ErrConfig, when ConfigFromEnv finds
	// no AZ serverUrl; the Config it returns then holds all else it read.
	ErrNoServerURL = contract.ErrNoServerURL
)

// DefaultHost is the contract's HOST when it is not set.
const DefaultHost = contract.DefaultHost

// ConfigFromEnv reads the target contract's environment (contract.FromEnv
// and contract.ListenFromEnv) into a Config: Listen is HOST:PORT when either
// is set (PORT 0 when only HOST is), else "" (127.0.0.1:0).
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c, noServerURL := contract.FromEnv(getenv)
	if noServerURL != nil && !errors.Is(noServerURL, contract.ErrNoServerURL) {
		return Config{}, noServerURL
	}
	cfg := Config{ServerURL: c.ServerURL, Issuer: c.Issuer, AppID: c.AppID, ClientID: c.ClientID, Secret: c.Secret}
	if c.Backend {
		cfg.Mode = ModeBackend
	}
	var err error
	if cfg.Downstream, err = c.AllowList(); err != nil {
		return cfg, err
	}
	if cfg.Listen, err = contract.ListenFromEnv(getenv); err != nil {
		return cfg, err
	}
	return cfg, noServerURL
}

// ListenFromEnv is contract.ListenFromEnv.
func ListenFromEnv(getenv func(string) string) (string, error) { return contract.ListenFromEnv(getenv) }

// Server is the reference target: the contract server with the reference
// validator as its authenticator.
type Server struct {
	*contract.Server
	v *reference.Validator
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
	sc := contract.ServerConfig{Auth: Authenticator(v), Downstream: cfg.Downstream, DownstreamTimeout: cfg.DownstreamTimeout,
		Listen: cfg.Listen, Logger: cfg.Logger}
	if cfg.ClientID != "" && cfg.Secret != "" && cfg.AppID != "" {
		// The token comes from the configured AZ, which the downstream
		// allow-list does not restrict (nor does it restrict the key fetches).
		if sc.Service, err = reference.NewServiceTokenSource(reference.ServiceConfig{
			ServerURL: cfg.ServerURL, AppID: cfg.AppID, ClientID: cfg.ClientID, Secret: cfg.Secret,
			HTTPClient: &http.Client{Timeout: cfg.DownstreamTimeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
			Clock:      vc.Clock,
		}); err != nil {
			return nil, err
		}
	}
	srv, err := contract.NewServer(sc)
	if err != nil {
		return nil, err
	}
	return &Server{Server: srv, v: v}, nil
}

// Authenticator is the reference validator as the contract server's
// authenticator: a refused request gets reference.WriteError's answer.
func Authenticator(v *reference.Validator) contract.Authenticator {
	logger := v.Config().Logger
	return contract.AuthenticatorFunc(func(w http.ResponseWriter, r *http.Request) (*contract.SecurityContext, bool) {
		sc, err := v.ValidateRequest(r)
		if err != nil {
			var e *reference.Error
			if errors.As(err, &e) && logger != nil {
				logger.Debug("reference: request rejected", "path", r.URL.Path, "status", e.Status, "reason", e.Description)
			}
			reference.WriteError(w, err)
			return nil, false
		}
		return (*contract.SecurityContext)(sc), true
	})
}

// Validator returns the target's validator.
func (s *Server) Validator() *reference.Validator { return s.v }

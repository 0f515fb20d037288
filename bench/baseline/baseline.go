// Package baseline is the no-validation baseline target of the load
// benchmarks: the routes of the target contract (docs/TARGET-CONTRACT.md)
// doing the same work as a real target except validating the tokens.
//
// /protected decodes the id token's payload (or, without one, the access
// token's prn) without verifying anything and answers the security context
// JSON; /propagate and /service-call forward to a loopback URL as the
// contract says. Measured in the same run as a validating target, it turns
// throughput figures into ratios that stay comparable across noisy
// machines. It accepts forged tokens by design: never use it as a
// conformance target (the benchmark's checker catches it, which is how its
// own tests prove the checker works).
//
// The bare mode (Config.Bare) is the no-auth ceiling: the same server
// answering BareBody on /protected without looking at the token at all, and
// /healthz; nothing else.
package baseline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/mcaspec/mcaspec/contract"
	"github.com/mcaspec/mcaspec/internal/downstream"
	"github.com/mcaspec/mcaspec/internal/listen"
	"github.com/mcaspec/mcaspec/reference"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

// Defaults of a Config (the contract server's).
const (
	DefaultDownstreamTimeout = contract.DefaultDownstreamTimeout
	// MaxExcerpt is how much of a downstream body is echoed (as the reference target).
	MaxExcerpt = contract.MaxExcerpt
	// MaxHeaderBytes bounds the request headers.
	MaxHeaderBytes = contract.DefaultMaxHeaderBytes
)

// BareBody is what a bare server answers on /protected, whatever the request.
const BareBody = `{"imf.sub":"bare","imf.user":{},"imf.device":{},"imf.application":{}}` + "\n"

// ErrConfig is wrapped by configuration errors (contract.ErrConfig).
var ErrConfig = contract.ErrConfig

// Config configures the baseline target. ServerURL, AppID, ClientID and
// Secret matter only for /service-call.
type Config struct {
	ServerURL, AppID, ClientID, Secret string
	DownstreamTimeout                  time.Duration
	// Downstream is where /propagate and /service-call may send requests
	// (MCA_DOWNSTREAM_HOSTS); the zero value allows loopback only.
	Downstream downstream.AllowList
	// Clock defaults to time.Now (service token reuse).
	Clock func() time.Time
	// Bare makes the no-auth ceiling server: /healthz, and /protected
	// answering BareBody without reading the token; no other route.
	Bare bool
	// Listen is the address Start uses when given "" (default 127.0.0.1:0).
	Listen string
}

// ConfigFromEnv reads the target contract's environment (contract.FromEnv
// and contract.ListenFromEnv): HOST and PORT into Listen, MCA_SERVER_URL,
// MCA_APP_ID, MCA_CLIENT_ID, MCA_SECRET (or VCAP_*) and
// MCA_DOWNSTREAM_HOSTS. Unlike the reference, no MCA_SERVER_URL is fine
// (then /service-call answers 502). A bad value is an error wrapping
// ErrConfig.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c, err := contract.FromEnv(getenv)
	if err != nil && !errors.Is(err, contract.ErrNoServerURL) {
		return Config{}, err
	}
	cfg := Config{ServerURL: c.ServerURL, AppID: c.AppID, ClientID: c.ClientID, Secret: c.Secret}
	if cfg.Downstream, err = c.AllowList(); err != nil {
		return Config{}, err
	}
	if cfg.Listen, err = contract.ListenFromEnv(getenv); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// Server is the baseline target: the contract server with an
// authenticator that decodes the tokens without verifying them (decode).
type Server struct{ *contract.Server }

// New returns a baseline target (a bare one with Config.Bare).
func New(cfg Config) *Server {
	sc := contract.ServerConfig{Auth: contract.AuthenticatorFunc(authenticate), Downstream: cfg.Downstream,
		DownstreamTimeout: cfg.DownstreamTimeout, Listen: cfg.Listen}
	if cfg.Bare {
		sc = contract.ServerConfig{Bare: []byte(BareBody), Listen: cfg.Listen}
	}
	if cfg.DownstreamTimeout <= 0 {
		cfg.DownstreamTimeout = DefaultDownstreamTimeout
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if !cfg.Bare && cfg.ServerURL != "" && cfg.AppID != "" && cfg.ClientID != "" && cfg.Secret != "" {
		// The reference's service token source: the same client-credentials
		// request and reuse (until a minute before expiry) as the target's,
		// from the configured AZ (which the downstream allow-list does not restrict).
		if ts, err := reference.NewServiceTokenSource(reference.ServiceConfig{
			ServerURL: cfg.ServerURL, AppID: cfg.AppID, ClientID: cfg.ClientID, Secret: cfg.Secret,
			HTTPClient: &http.Client{Timeout: cfg.DownstreamTimeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
			Clock:      cfg.Clock,
		}); err == nil {
			sc.Service = ts
		}
	}
	s, _ := contract.NewServer(sc) // sc has an Authenticator or a Bare body: no error
	return &Server{s}
}

var emptyObject = json.RawMessage("{}")

// authenticate refuses a header it cannot decode (401), else answers its
// security context, unverified (decode).
func authenticate(w http.ResponseWriter, r *http.Request) (*contract.SecurityContext, bool) {
	sc, ok := decode(r.Header.Get("Authorization"))
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="imfAuthentication", error="invalid_token"`)
		contract.WriteJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": "undecodable token"})
	}
	return sc, ok
}

// decode reads the security context out of an Authorization header
// without verifying anything: the id token's sub and imf.* objects, or the
// access token's prn without an id token.
func decode(h string) (*contract.SecurityContext, bool) {
	f := strings.Fields(h)
	if len(f) < 2 || len(f) > 3 || !strings.EqualFold(f[0], "Bearer") {
		return nil, false
	}
	payload := func(tok string) map[string]json.RawMessage {
		// Only what the protocol emits: three segments, unpadded base64url.
		in := tokenfactory.Inspect(tok)
		if in.Segments != 3 || !in.Payload.Canonical {
			return nil
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(in.Payload.Bytes, &m) != nil {
			return nil
		}
		return m
	}
	str := func(m map[string]json.RawMessage, k string) string {
		var s string
		_ = json.Unmarshal(m[k], &s)
		return s
	}
	obj := func(m map[string]json.RawMessage, k string) json.RawMessage {
		if v, ok := m[k]; ok && len(v) > 0 && v[0] == '{' {
			return v
		}
		return emptyObject
	}
	if len(f) == 3 {
		m := payload(f[2])
		if m == nil {
			return nil, false
		}
		return &contract.SecurityContext{Sub: str(m, "sub"), User: obj(m, "imf.user"), Device: obj(m, "imf.device"), Application: obj(m, "imf.application")}, true
	}
	m := payload(f[1])
	if m == nil {
		return nil, false
	}
	return &contract.SecurityContext{Sub: str(m, "prn"), User: emptyObject, Device: emptyObject, Application: emptyObject}, true
}

// ServeFromEnv runs the baseline (bare: the bare server) from the target
// contract's environment (ConfigFromEnv) as `mcaspec reference` runs the
// reference target: it prints listen.Exposure's line to stderr when the
// address is not loopback, prints its URL to stdout, and serves until ctx
// is done. A bad environment value is an error wrapping ErrConfig; a bad
// HOST:PORT one wrapping listen.ErrAddr.
func ServeFromEnv(ctx context.Context, getenv func(string) string, bare bool, stdout, stderr io.Writer) error {
	cfg, err := ConfigFromEnv(getenv)
	if err != nil {
		return err
	}
	cfg.Bare = bare
	s := New(cfg)
	if err := s.Start(""); err != nil {
		return err
	}
	name := "baseline target"
	if bare {
		name = "bare target"
	}
	if line := listen.Exposure(name, s.Addr()); line != "" {
		fmt.Fprintln(stderr, line)
	}
	fmt.Fprintln(stdout, s.URL())
	<-ctx.Done()
	return s.Close()
}

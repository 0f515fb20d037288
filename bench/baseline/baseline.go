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

	"github.com/mcaspec/mcaspec/internal/downstream"
	"github.com/mcaspec/mcaspec/internal/httpjson"
	"github.com/mcaspec/mcaspec/internal/listen"
	"github.com/mcaspec/mcaspec/reference"
	"github.com/mcaspec/mcaspec/reference/target"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

// Defaults of a Config.
const (
	DefaultDownstreamTimeout = 10 * time.Second
	// MaxExcerpt is how much of a downstream body is echoed (as the reference target).
	MaxExcerpt = 4 << 10
	// MaxHeaderBytes bounds the request headers.
	MaxHeaderBytes = 128 << 10
)

// BareBody is what a bare server answers on /protected, whatever the request.
const BareBody = `{"imf.sub":"bare","imf.user":{},"imf.device":{},"imf.application":{}}` + "\n"

// ErrConfig is wrapped by configuration errors (the same value as target.ErrConfig).
var ErrConfig = target.ErrConfig

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

// ConfigFromEnv reads the target contract's environment as the reference
// target does (target.ConfigFromEnv): HOST and PORT into Listen,
// MCA_SERVER_URL, MCA_APP_ID, MCA_CLIENT_ID, MCA_SECRET (or VCAP_*) and
// MCA_DOWNSTREAM_HOSTS. Unlike the reference, no MCA_SERVER_URL is fine (then
// /service-call answers 502). A bad value is an error wrapping ErrConfig.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	tc, err := target.ConfigFromEnv(getenv)
	if err != nil && !errors.Is(err, target.ErrNoServerURL) {
		return Config{}, err
	}
	return Config{ServerURL: tc.ServerURL, AppID: tc.AppID, ClientID: tc.ClientID, Secret: tc.Secret,
		Downstream: tc.Downstream, Listen: tc.Listen}, nil
}

// Server is the baseline target, an http.Handler.
type Server struct {
	cfg    Config
	client *http.Client
	mux    *http.ServeMux

	srv    listen.Server
	tokens *reference.ServiceTokenSource // nil without service credentials
}

// New returns a baseline target (a bare one with Config.Bare).
func New(cfg Config) *Server {
	s := &Server{cfg: cfg, mux: http.NewServeMux()}
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		httpjson.Write(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	if cfg.Bare {
		s.mux.HandleFunc("GET /v1/apps/{appId}/protected", bare)
		return s
	}
	if cfg.DownstreamTimeout <= 0 {
		cfg.DownstreamTimeout = DefaultDownstreamTimeout
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	s.cfg, s.client = cfg, cfg.Downstream.Client(cfg.DownstreamTimeout)
	if cfg.ServerURL != "" && cfg.AppID != "" && cfg.ClientID != "" && cfg.Secret != "" {
		// The reference's service token source: the same client-credentials
		// request and reuse (until a minute before expiry) as the target's,
		// from the configured AZ (which the downstream allow-list does not restrict).
		s.tokens, _ = reference.NewServiceTokenSource(reference.ServiceConfig{
			ServerURL: cfg.ServerURL, AppID: cfg.AppID, ClientID: cfg.ClientID, Secret: cfg.Secret,
			HTTPClient: &http.Client{Timeout: cfg.DownstreamTimeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
			Clock:      cfg.Clock,
		})
	}
	s.mux.HandleFunc("GET /v1/apps/{appId}/protected", s.protected)
	s.mux.HandleFunc("GET /v1/apps/{appId}/propagate", s.propagate)
	s.mux.HandleFunc("GET /v1/apps/{appId}/service-call", s.serviceCall)
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// bare answers BareBody: no token work at all.
func bare(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h["Content-Type"] = []string{"application/json"}
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, BareBody)
}

// context is the security context JSON of the contract.
type secContext struct {
	Sub         string          `json:"imf.sub"`
	User        json.RawMessage `json:"imf.user"`
	Device      json.RawMessage `json:"imf.device"`
	Application json.RawMessage `json:"imf.application"`
}

var emptyObject = json.RawMessage("{}")

// decode reads the security context out of the header without verifying.
func decode(h string) (*secContext, bool) {
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
		return &secContext{Sub: str(m, "sub"), User: obj(m, "imf.user"), Device: obj(m, "imf.device"), Application: obj(m, "imf.application")}, true
	}
	m := payload(f[1])
	if m == nil {
		return nil, false
	}
	return &secContext{Sub: str(m, "prn"), User: emptyObject, Device: emptyObject, Application: emptyObject}, true
}

func refuse(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="imfAuthentication", error="invalid_token"`)
	httpjson.Write(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": "undecodable token"})
}

func (s *Server) protected(w http.ResponseWriter, r *http.Request) {
	sc, ok := decode(r.Header.Get("Authorization"))
	if !ok {
		refuse(w)
		return
	}
	httpjson.Write(w, http.StatusOK, sc)
}

func (s *Server) propagate(w http.ResponseWriter, r *http.Request) {
	h := r.Header.Get("Authorization")
	if _, ok := decode(h); !ok {
		refuse(w)
		return
	}
	s.forward(w, r, h)
}

func (s *Server) serviceCall(w http.ResponseWriter, r *http.Request) {
	if _, ok := decode(r.Header.Get("Authorization")); !ok {
		refuse(w)
		return
	}
	if s.tokens == nil {
		httpjson.Write(w, http.StatusBadGateway, map[string]string{"error": "service_token", "error_description": "baseline: no service credentials (ServerURL, AppID, ClientID, Secret)"})
		return
	}
	h, err := s.tokens.AuthorizationHeader(r.Context())
	if err != nil {
		httpjson.Write(w, http.StatusBadGateway, map[string]string{"error": "service_token", "error_description": err.Error()})
		return
	}
	s.forward(w, r, h)
}

func (s *Server) forward(w http.ResponseWriter, r *http.Request, authorization string) {
	to, err := s.cfg.Downstream.Check(r.URL.Query().Get("to"))
	if err != nil {
		httpjson.Write(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": err.Error()})
		return
	}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, to, nil)
	if err != nil {
		httpjson.Write(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": err.Error()})
		return
	}
	req.Header["Authorization"] = []string{authorization}
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
// serves in the background until Close.
func (s *Server) Start(addr string) error {
	if addr == "" {
		addr = s.cfg.Listen
	}
	if err := s.srv.Start(addr, &http.Server{Handler: s, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 60 * time.Second, MaxHeaderBytes: MaxHeaderBytes}); err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	return nil
}

// URL returns http://host:port once started: the address a client on this
// machine dials (127.0.0.1 when listening on 0.0.0.0).
func (s *Server) URL() string { return s.srv.URL() }

// Addr returns the address listened on once started (e.g. 0.0.0.0:9000), else "".
func (s *Server) Addr() string { return s.srv.Addr() }

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

// Close stops the server, waiting up to 5 s for requests in flight.
func (s *Server) Close() error { return s.srv.Close() }

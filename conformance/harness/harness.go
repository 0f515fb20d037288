// Package harness prepares a conformance run: it starts fakeaz, a
// propagation sink and an attacker's key server on loopback, registers the
// target's home app (with service credentials) at fakeaz, starts or finds
// the target, and hands back a conformance.Runner wired to all of them.
//
// The Ginkgo specs (package conformance/specs) and the CLI drive it; it
// imports no Ginkgo.
package harness

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mcaspec/mcaspec/conformance"
	"github.com/mcaspec/mcaspec/fakeaz"
	"github.com/mcaspec/mcaspec/internal/listen"
	"github.com/mcaspec/mcaspec/reference"
	"github.com/mcaspec/mcaspec/reference/target"
	"github.com/mcaspec/mcaspec/reference/webrp"
	"github.com/mcaspec/mcaspec/targets/launch"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

// Defaults of a run.
const (
	// DefaultAZListen is where fakeaz listens. A fixed port lets a user
	// configure an already-running target (--target URL) before the run.
	DefaultAZListen = "127.0.0.1:9080"
	// DefaultAppID is the target's home app id (MCA_APP_ID).
	DefaultAppID = "8d3e0f5a-5c1b-4f7e-9a2d-6b4c3e2f1a00"
	// DefaultClientID and DefaultSecret are the home app's service credentials.
	DefaultClientID = "mcaspec-backend"
	DefaultSecret   = "mcaspec-secret"
	// DefaultTargetName labels the built-in reference target.
	DefaultTargetName = "reference"
)

// ImageStarter runs a target image under the contract (see targets/container);
// it returns the target's URL, a function that collects its logs, and a stop function.
type ImageStarter func(ctx context.Context, image string, c launch.Contract) (url string, logs func() string, stop func() error, err error)

// Config describes a run's set-up. The zero value (plus a Profile) runs the
// built-in reference target in-process.
type Config struct {
	// Exactly one of these picks the target; none: the built-in reference.
	TargetURL   string
	TargetCmd   string
	TargetImage string
	// TargetHandler, when set (and none of the above), is the target: an
	// http.Handler built from the contract (AZ URL, app id, credentials)
	// and served in this process on a loopback port (Go validators; see
	// package conformance/mcaspectest).
	TargetHandler func(launch.Contract) (http.Handler, error)
	// TargetDir is the working directory for TargetCmd.
	TargetDir string
	// TargetName labels the target in reports (default: derived).
	TargetName string
	// Family of the target's protocol and the shape of its tokens, App ID
	// generation included (conformance.ParseFamily; zero: MCA).
	Family conformance.Family
	// Versions of what is tested, for the report.
	Versions map[string]string
	// Backend starts the target in backend mode (MCA_MODE=backend) and runs in fixed-app-id mode.
	FixedAppID bool

	Profile conformance.Profile
	// AZListen is fakeaz's address (default DefaultAZListen; "127.0.0.1:0"
	// picks a free port, fine unless the target was configured beforehand).
	// Off loopback its admin API gets a random token: the harness drives the
	// AZ in-process, nobody else needs it.
	AZListen string
	// AZPublicURL is the serverUrl the target is told (MCA_SERVER_URL) and
	// the iss of the tokens: how a target on another host, or in a
	// container, reaches fakeaz (default: from AZListen). Needed when
	// AZListen is every interface (0.0.0.0:9080).
	AZPublicURL string
	// ServersListen is the host the harness's own servers (the propagation
	// sink, the attacker's key server) listen on (default 127.0.0.1), and
	// ServersHost the host the target reaches them at (default the same;
	// needed when ServersListen is every interface). Off loopback the target
	// is told MCA_DOWNSTREAM_HOSTS=ServersHost.
	ServersListen, ServersHost string
	// AppID, ClientID, Secret: the target's home app and service credentials.
	AppID, ClientID, Secret string
	// NoServiceCredentials runs without MCA_CLIENT_ID/MCA_SECRET.
	NoServiceCredentials bool
	// ResponseBound: see conformance.DefaultResponseBound.
	ResponseBound time.Duration
	// ReadyTimeout bounds the wait for the target's /healthz.
	ReadyTimeout time.Duration
	// StartImage is needed for TargetImage.
	StartImage ImageStarter
	// ReferenceConfig tweaks the in-process reference target (used by the
	// mutant self-tests; leave zero for the real reference).
	ReferenceConfig func(*reference.Config)
	// WrapTarget wraps the in-process reference target's handler (mutants
	// with target-level bugs; leave nil for the real reference).
	WrapTarget func(http.Handler) http.Handler
	// TargetServer tweaks the in-process reference target's HTTP server
	// (mutants with HTTP-layer bugs, e.g. unbounded headers; leave nil).
	TargetServer func(*http.Server)
	// AZOptions are extra options for the harness's own fakeaz (tests use
	// them to provoke harness faults, e.g. a key generator that fails so
	// app registration fails; leave nil).
	AZOptions []fakeaz.Option
	// WebReferenceConfig tweaks the built-in reference web RP of a web run
	// (used by the web mutants; leave nil for the real reference).
	WebReferenceConfig func(*webrp.Config)
	// TargetLog receives the target's output (optional).
	TargetLog io.Writer
	// Log receives fakeaz's request log (optional; default: discarded).
	Log *slog.Logger
}

// Session is a prepared run.
type Session struct {
	Runner *conformance.Runner
	Target conformance.TargetInfo
	AZ     *fakeaz.Server

	closers []func() error
	logs    func() string
	// restart brings a crashed --target-cmd target back (nil in other modes).
	proc    *launch.Process
	restart func() (*launch.Process, error)
	crashes int
	// events and unresponsive go into the report.
	events       []conformance.TargetEvent
	unresponsive string
	// keyWedged is the case after which the target was found wedged where
	// it needs a key ("" while it is not; see afterKeyProbe).
	keyWedged string
}

// ErrTargetDown is wrapped when the target cannot be started or reached.
var ErrTargetDown = errors.New("target unavailable")

// ErrBadTargetURL is wrapped by CheckTargetURL.
var ErrBadTargetURL = errors.New("bad target URL")

// CheckTargetURL checks that u is an absolute http or https URL with a
// host, such as http://127.0.0.1:3000 (any host: the product tests targets
// wherever they run).
func CheckTargetURL(u string) error {
	p, err := url.Parse(u)
	switch {
	case err != nil || p.Scheme != "http" && p.Scheme != "https":
		return fmt.Errorf("%w %q: want an http:// or https:// URL such as http://127.0.0.1:3000", ErrBadTargetURL, u)
	case p.Host == "":
		return fmt.Errorf("%w %q: no host; want a URL such as http://127.0.0.1:3000", ErrBadTargetURL, u)
	case p.RawQuery != "" || p.Fragment != "":
		return fmt.Errorf("%w %q: a base URL has no query or fragment", ErrBadTargetURL, u)
	}
	return nil
}

// Prepare starts everything a run needs. Close the session when done.
func Prepare(ctx context.Context, cfg Config) (s *Session, err error) {
	if _, err := conformance.ParseProfile(string(cfg.Profile)); err != nil {
		return nil, err
	}
	if cfg.TargetURL != "" {
		if err := CheckTargetURL(cfg.TargetURL); err != nil {
			return nil, err
		}
	}
	n := 0
	for _, v := range []string{cfg.TargetURL, cfg.TargetCmd, cfg.TargetImage} {
		if v != "" {
			n++
		}
	}
	if n > 1 {
		return nil, errors.New("give at most one of --target, --target-cmd and --target-image")
	}
	if cfg.TargetImage != "" && cfg.StartImage == nil {
		return nil, errors.New("--target-image needs a Docker engine and this build's container support")
	}
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	def(&cfg.AZListen, DefaultAZListen)
	def(&cfg.AppID, DefaultAppID)
	def(&cfg.ClientID, DefaultClientID)
	def(&cfg.Secret, DefaultSecret)
	if cfg.NoServiceCredentials {
		cfg.ClientID, cfg.Secret = "", ""
	}
	s = &Session{}
	defer func() {
		if err != nil {
			s.Close()
			s = nil
		}
	}()
	if err := CheckNetwork(cfg); err != nil {
		return s, err
	}
	logger := cfg.Log
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	azOpts := []fakeaz.Option{fakeaz.WithLogger(logger)}
	if cfg.AZPublicURL != "" {
		azOpts = append(azOpts, fakeaz.WithPublicURL(cfg.AZPublicURL))
	}
	if a, err := listen.Addr(cfg.AZListen); err == nil && !listen.IsLoopback(a) {
		azOpts = append(azOpts, fakeaz.WithAdminToken(rand.Text()))
	}
	az, err := fakeaz.New(append(azOpts, cfg.AZOptions...)...)
	if err != nil {
		return s, err
	}
	if err := az.Start(cfg.AZListen); err != nil {
		return s, fmt.Errorf("start fakeaz on %s: %w (another run, or pick a port with --az-listen)", cfg.AZListen, err)
	}
	s.AZ = az
	s.closers = append(s.closers, az.Close)
	home := fakeaz.App{ID: cfg.AppID, BundleID: "com.example.mcaspec", Shape: cfg.Family.Shape()}
	if cfg.ClientID != "" {
		home.ServiceClients = []fakeaz.ServiceClient{{ClientID: cfg.ClientID, Secret: cfg.Secret}}
	}
	if _, err := az.AddApp(home); err != nil {
		return s, fmt.Errorf("register the home app %s: %w", cfg.AppID, err)
	}
	srvListen := net.JoinHostPort(cmp.Or(cfg.ServersListen, "127.0.0.1"), "0")
	sink, err := conformance.StartSink(srvListen, cfg.ServersHost)
	if err != nil {
		return s, err
	}
	s.closers = append(s.closers, sink.Close)
	key, err := tokenfactory.GenerateKey(2048, nil)
	if err != nil {
		return s, err
	}
	att, err := conformance.StartAttacker(srvListen, cfg.ServersHost, key)
	if err != nil {
		return s, err
	}
	s.closers = append(s.closers, att.Close)

	contract := launch.Contract{ServerURL: az.URL(), AppID: cfg.AppID, ClientID: cfg.ClientID, Secret: cfg.Secret, Backend: cfg.FixedAppID,
		DownstreamHosts: DownstreamHosts(cfg)}
	if cfg.Family.IsWeb() || !cfg.Family.AppID() {
		contract.Issuer = tokenfactory.MCAIssuer(az.URL()) // the exact iss of fakeaz's MCA tokens
	}
	info := conformance.TargetInfo{Family: cfg.Family, Versions: cfg.Versions, Name: cfg.TargetName}
	if cfg.FixedAppID {
		info.FixedAppID = cfg.AppID
	}
	var url string
	if isWeb(cfg) && (cfg.TargetImage != "" || cfg.TargetHandler != nil) {
		return s, errWebMode
	}
	switch {
	case cfg.TargetURL != "":
		info.Mode, url = "url", strings.TrimRight(cfg.TargetURL, "/")
		if isWeb(cfg) {
			if err := webContract(az, &contract, url); err != nil {
				return s, err
			}
		}
		if err := launch.WaitHealthy(ctx, url, readyTimeout(cfg, 10*time.Second)); err != nil {
			return s, fmt.Errorf("%w: %v\n%s", ErrTargetDown, err, ContractHelp(contract))
		}
	case cfg.TargetCmd != "":
		info.Mode, info.Command = "cmd", cfg.TargetCmd
		port, err := launch.FreePort()
		if err != nil {
			return s, err
		}
		if isWeb(cfg) {
			if err := webContract(az, &contract, cmdBase(contract, port)); err != nil {
				return s, err
			}
		}
		opts := launch.Options{Dir: cfg.TargetDir, ReadyTimeout: readyTimeout(cfg, 0), Output: cfg.TargetLog, Port: port}
		s.restart = func() (*launch.Process, error) { return launch.Start(ctx, cfg.TargetCmd, contract, opts) }
		p, err := s.restart()
		if err != nil {
			return s, fmt.Errorf("%w: %v", ErrTargetDown, err)
		}
		s.proc = p
		url, s.logs = p.URL(), func() string { return s.proc.LogTail() }
		s.closers = append(s.closers, func() error { return s.proc.Stop() })
	case cfg.TargetHandler != nil && cfg.TargetImage == "":
		info.Mode = "handler"
		if info.Name == "" {
			info.Name = "handler"
		}
		if url, err = s.serveHandler(contract, cfg.TargetHandler); err != nil {
			return s, err
		}
	case cfg.TargetImage != "":
		info.Mode, info.Image = "image", cfg.TargetImage
		u, logs, stop, err := cfg.StartImage(ctx, cfg.TargetImage, contract)
		if err != nil {
			return s, fmt.Errorf("%w: image %s: %v", ErrTargetDown, cfg.TargetImage, err)
		}
		url, s.logs = u, logs
		s.closers = append(s.closers, stop)
	case isWeb(cfg):
		info.Mode = "in-process"
		if info.Name == "" {
			info.Name = DefaultWebTargetName
		}
		if url, err = s.startWebReference(az, &contract, cfg); err != nil {
			return s, err
		}
	default:
		info.Mode = "in-process"
		if info.Name == "" {
			info.Name = DefaultTargetName
		}
		if url, err = s.startReference(contract, cfg); err != nil {
			return s, err
		}
	}
	if info.Name == "" {
		info.Name = deriveName(cfg)
	}
	info.URL = url
	s.Target = info
	s.Runner = &conformance.Runner{
		Target: url, AZ: az, Profile: cfg.Profile, ResponseBound: cfg.ResponseBound,
		ServiceCredentials: cfg.ClientID != "", HomeAppID: cfg.AppID, ServiceClientID: cfg.ClientID, Family: cfg.Family,
		HTTP: &http.Client{
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			Transport:     &http.Transport{MaxIdleConnsPerHost: 32, DisableCompression: true},
		},
		Sink: sink, Attacker: att,
	}
	if cfg.FixedAppID {
		s.Runner.FixedAppID = cfg.AppID
	}
	return s, nil
}

// DownstreamHosts is the MCA_DOWNSTREAM_HOSTS a target gets: "" (its
// loopback default) while the harness's servers are on loopback, else the
// host the target reaches them at (any port: the sink's is picked at start).
func DownstreamHosts(cfg Config) string {
	h := cmp.Or(cfg.ServersHost, cfg.ServersListen)
	if h == "" || listen.IsLoopback(net.JoinHostPort(h, "0")) {
		return ""
	}
	if strings.Contains(h, ":") {
		h = "[" + h + "]"
	}
	return h
}

// CheckNetwork reports a configuration a target on another host could not
// work with: every interface without the address to be reached at.
func CheckNetwork(cfg Config) error {
	if a, err := listen.Addr(cmp.Or(cfg.AZListen, DefaultAZListen)); err != nil {
		return fmt.Errorf("%w: AZ listen address: %v", ErrNetwork, err)
	} else if h, _, _ := net.SplitHostPort(a); unspecified(h) && cfg.AZPublicURL == "" {
		return fmt.Errorf("%w: the AZ listens on every interface (%s): give the URL the target reaches it at (--az-public-url http://HOST:PORT/imf-authserver)", ErrNetwork, a)
	}
	if cfg.AZPublicURL != "" {
		if _, err := fakeaz.ParsePublicURL(cfg.AZPublicURL); err != nil {
			return fmt.Errorf("%w: %v", ErrNetwork, err)
		}
	}
	if cfg.ServersListen != "" {
		if _, err := listen.Addr(net.JoinHostPort(cfg.ServersListen, "0")); err != nil || strings.ContainsAny(cfg.ServersListen, " \t/") {
			return fmt.Errorf("%w: --servers-listen %q is not a host (want an IP address or name, e.g. 127.0.0.1 or 0.0.0.0)", ErrNetwork, cfg.ServersListen)
		}
	}
	if unspecified(cfg.ServersListen) && cfg.ServersListen != "" && cfg.ServersHost == "" {
		return fmt.Errorf("%w: the harness's servers listen on every interface (%s): give the host the target reaches this machine at (--servers-host)", ErrNetwork, cfg.ServersListen)
	}
	return nil
}

// ErrNetwork is wrapped by CheckNetwork.
var ErrNetwork = errors.New("network configuration")

func unspecified(host string) bool {
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return host == "" || ip != nil && ip.IsUnspecified()
}

func readyTimeout(cfg Config, def time.Duration) time.Duration {
	if cfg.ReadyTimeout > 0 {
		return cfg.ReadyTimeout
	}
	return def
}

func (s *Session) startReference(c launch.Contract, cfg Config) (string, error) {
	tc, err := target.ConfigFromEnv(Getenv(c))
	if err != nil {
		return "", err
	}
	if cfg.ReferenceConfig != nil {
		cfg.ReferenceConfig(&tc.Validator)
	}
	srv, err := target.New(tc)
	if err != nil {
		return "", err
	}
	if cfg.WrapTarget == nil && cfg.TargetServer == nil {
		if err := srv.Start("127.0.0.1:0"); err != nil {
			return "", err
		}
		s.closers = append(s.closers, srv.Close)
		return srv.URL(), nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	var h http.Handler = srv
	if cfg.WrapTarget != nil {
		h = cfg.WrapTarget(srv)
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: target.DefaultReadHeaderTimeout, MaxHeaderBytes: target.DefaultMaxHeaderBytes}
	if cfg.TargetServer != nil {
		cfg.TargetServer(hs)
	}
	go func() { _ = hs.Serve(ln) }()
	s.closers = append(s.closers, hs.Close)
	return "http://" + ln.Addr().String(), nil
}

// serveHandler builds the target's handler from the contract and serves it
// on a loopback port until the session closes.
func (s *Session) serveHandler(c launch.Contract, build func(launch.Contract) (http.Handler, error)) (string, error) {
	h, err := build(c)
	if err != nil {
		return "", fmt.Errorf("%w: the target handler could not be built: %v", ErrTargetDown, err)
	}
	if h == nil {
		return "", fmt.Errorf("%w: the target handler is nil", ErrTargetDown)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: target.DefaultReadHeaderTimeout, MaxHeaderBytes: target.DefaultMaxHeaderBytes}
	go func() { _ = hs.Serve(ln) }()
	s.closers = append(s.closers, hs.Close)
	return "http://" + ln.Addr().String(), nil
}

// Getenv returns the environment a target started under contract c would
// see (without PORT), as a getenv function: for handlers that read their
// configuration from the environment (e.g. reference/target.ConfigFromEnv).
func Getenv(c launch.Contract) func(string) string {
	env := map[string]string{}
	for _, kv := range c.Env(0) {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	delete(env, "PORT")
	return func(k string) string { return env[k] }
}

func deriveName(cfg Config) string {
	switch {
	case cfg.TargetImage != "":
		return cfg.TargetImage
	case cfg.TargetCmd != "":
		f := strings.Fields(cfg.TargetCmd)
		return f[len(f)-1]
	default:
		return cfg.TargetURL
	}
}

// MaxRestarts bounds how often a crashed or wedged target is restarted in one run.
const MaxRestarts = 10

// Run runs one case and checks the target afterwards (AfterCase). Once the
// target is unresponsive for good, every later case is SKIPPED at once.
func (s *Session) Run(ctx context.Context, c conformance.Case) conformance.Result {
	if s.unresponsive != "" {
		return s.Runner.Skip(c, conformance.UnresponsiveReason+s.unresponsive+" (a request and the probes after it timed out)")
	}
	r := s.Runner.Run(ctx, c)
	if s.keyWedged != "" && notSentForKeys(r) {
		return s.Runner.Skip(c, fmt.Sprintf("the target is wedged where it needs a key since %s: a request with a token would wait out its timeout (not sent)", s.keyWedged))
	}
	s.AfterCase(ctx, &r)
	return r
}

// notSentForKeys reports whether a case sent nothing to the target because
// the target's key path is wedged (conformance.KeyPathNotSent).
func notSentForKeys(r conformance.Result) bool {
	if r.Observed == nil {
		return false
	}
	for _, x := range r.Observed.Exchanges {
		if strings.HasPrefix(x.Error, conformance.KeyPathNotSent) {
			return true
		}
	}
	return false
}

// UnresponsiveSince is the case after which the target stopped answering
// for good ("" while it answers).
func (s *Session) UnresponsiveSince() string { return s.unresponsive }

// AfterCase checks that the target still runs and answers. If a target the
// harness started died during the case, the case is failed with the crash
// as the reason (a crash is never acceptable, whatever the rule's level) and
// the target is restarted on the same port. If the target stopped answering
// (conformance.Runner.CheckResponsive), a target the harness started is
// restarted and the case's reason says so; any other target is marked
// unresponsive, and the later cases are SKIPPED.
func (s *Session) AfterCase(ctx context.Context, r *conformance.Result) {
	if r.Observed == nil {
		r.Observed = &conformance.Observation{}
	}
	if x := r.Observed.Judged(); s.proc != nil && x != nil && x.Error != "" && !x.TimedOut {
		// The connection was lost: the target may be dying; give its exit a
		// moment to be seen, so the crash is this case's.
		select {
		case <-s.proc.Done():
		case <-time.After(2 * time.Second):
		}
	}
	if s.proc != nil && s.proc.Exited() {
		tail := lastLines(s.proc.LogTail(), 8)
		r.Verdict = conformance.Fail
		r.Reason = "the target process died during this case (crash); " + r.Reason
		r.Observed.Fact("crash", "%s", tail)
		s.restartTarget(r, "the target process died (crash)")
		return
	}
	wedged, n := s.Runner.CheckResponsive(ctx)
	if !wedged {
		s.afterKeyProbe(r)
		return
	}
	what := fmt.Sprintf("the target stopped answering (%d requests in a row timed out, probes included)", n)
	r.Observed.Fact("unresponsive", "%s", what)
	if s.proc != nil && s.restartTarget(r, what) {
		r.Reason = strings.TrimSuffix(what+"; it was restarted for the next cases; "+r.Reason, "; ")
		return
	}
	s.unresponsive = r.ID
	r.Reason = strings.TrimSuffix(what+"; the remaining cases are SKIPPED; "+r.Reason, "; ")
	s.events = append(s.events, conformance.TargetEvent{After: r.ID, What: what + "; the remaining cases were SKIPPED"})
}

// afterKeyProbe handles a target that answers, but not where it needs a key
// (conformance.Runner.KeyPathWedged): a target the harness started is
// restarted; for any other, the later cases that send a token are SKIPPED.
func (s *Session) afterKeyProbe(r *conformance.Result) {
	why := s.Runner.KeyPathWedged()
	if why == "" || s.keyWedged != "" {
		return
	}
	r.Observed.Fact("key path", "%s", why)
	if s.proc != nil && s.restartTarget(r, why) {
		r.Reason = strings.TrimSuffix(why+"; it was restarted for the next cases; "+r.Reason, "; ")
		return
	}
	s.keyWedged = r.ID
	r.Reason = strings.TrimSuffix(why+"; the remaining cases that send a token are SKIPPED; "+r.Reason, "; ")
	s.events = append(s.events, conformance.TargetEvent{After: r.ID, What: why + "; the remaining cases that send a token were SKIPPED"})
}

// restartTarget stops and restarts a target the harness started, within
// MaxRestarts, and records it. It reports whether the target runs again.
func (s *Session) restartTarget(r *conformance.Result, why string) bool {
	if s.restart == nil {
		return false
	}
	s.crashes++
	if s.crashes > MaxRestarts {
		r.Observed.Fact("restart", "not restarted: %d restarts already", MaxRestarts)
		s.events = append(s.events, conformance.TargetEvent{After: r.ID, What: why + fmt.Sprintf("; not restarted (%d restarts already)", MaxRestarts)})
		return false
	}
	_ = s.proc.Stop()
	p, err := s.restart()
	if err != nil {
		r.Observed.Fact("restart", "failed: %v", err)
		s.events = append(s.events, conformance.TargetEvent{After: r.ID, What: why + "; restarting it failed: " + err.Error()})
		return false
	}
	s.proc = p
	s.Runner.ResetTimeouts()
	r.Observed.Fact("restart", "the target was restarted for the next cases")
	s.events = append(s.events, conformance.TargetEvent{After: r.ID, What: why + "; restarted"})
	return true
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// LogTail returns the tail of the target's output, when the harness started it.
func (s *Session) LogTail() string {
	if s.logs == nil {
		return ""
	}
	return s.logs()
}

// Close stops everything Prepare started, in reverse order.
func (s *Session) Close() error {
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		if err := s.closers[i](); err != nil {
			errs = append(errs, err)
		}
	}
	s.closers = nil
	return errors.Join(errs...)
}

// ContractHelp says how to configure a target for this run.
func ContractHelp(c launch.Contract) string {
	var b strings.Builder
	b.WriteString("Configure the target with (see docs/TARGET-CONTRACT.md):\n")
	for _, kv := range c.Env(0) {
		if strings.HasPrefix(kv, "PORT=") {
			continue
		}
		b.WriteString("  " + kv + "\n")
	}
	return b.String()
}

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
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/mcaspec/mcaspec/conformance"
	"github.com/mcaspec/mcaspec/conformance/kit"
	"github.com/mcaspec/mcaspec/contract"
	"github.com/mcaspec/mcaspec/fakeaz"
	"github.com/mcaspec/mcaspec/internal/listen"
	"github.com/mcaspec/mcaspec/targets"
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

// ImageStarter runs a target image under the contract (targets.ImageStarter).
type ImageStarter = targets.ImageStarter

// Config describes a run's set-up. The zero value (plus a Profile) runs the
// built-in reference target in-process.
type Config struct {
	// Target is the target under test (targets.URL, Command, Image,
	// Handler...); nil: the built-in reference (the reference web RP for
	// the web family).
	Target targets.Target
	// TargetName labels the target in reports (default: derived).
	TargetName string
	// Family of the target's protocol and the shape of its tokens, App ID
	// generation included (conformance.ParseFamily; zero: MCA).
	Family kit.Family
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
	// AZOptions are extra options for the harness's own fakeaz (tests use
	// them to provoke harness faults, e.g. a key generator that fails so
	// app registration fails; leave nil).
	AZOptions []fakeaz.Option
	// Log receives fakeaz's request log (optional; default: discarded).
	Log *slog.Logger
}

// Session is a prepared run.
type Session struct {
	Runner *conformance.Runner
	Target conformance.TargetInfo
	AZ     *fakeaz.Server

	closers []func() error
	running targets.Running
	// proc is the running target when it is a process the harness started
	// (a command): restart brings it back after a crash (nil in other modes).
	proc    targets.Process
	restart func() (targets.Process, error)
	crashes int
	// events and unresponsive go into the report.
	events       []conformance.TargetEvent
	unresponsive string
	// relaunch restarts a web target with another MCA_CALLBACK_URL
	// (conformance.Kit.Relaunch; nil for a target that is not Addressed).
	relaunch func(ctx context.Context, callbackURL string) error
	// keyWedged is the case after which the target was found wedged where
	// it needs a key ("" while it is not; see afterKeyProbe).
	keyWedged string
}

// ErrTargetDown is wrapped when the target cannot be started or reached.
var ErrTargetDown = errors.New("target unavailable")

// Prepare starts everything a run needs: fakeaz with the target's home app,
// the sink and the attacker's key server, then the target. Close the
// session when done.
func Prepare(ctx context.Context, cfg Config) (s *Session, err error) {
	if cfg, err = withDefaults(cfg); err != nil {
		return nil, err
	}
	s = &Session{}
	defer func() {
		if err != nil {
			s.Close()
			s = nil
		}
	}()
	if err := s.startAZ(cfg); err != nil {
		return s, err
	}
	sink, att, err := s.startServers(cfg)
	if err != nil {
		return s, err
	}
	c := contractFor(cfg, s.AZ.URL())
	t := cfg.Target
	if t == nil {
		if t, err = builtinTarget(cfg); err != nil {
			return s, err
		}
	}
	if err := s.startTarget(ctx, t, c, cfg.Family.IsWeb()); err != nil {
		return s, err
	}
	s.Target = targetInfo(cfg, t, s.running.URL())
	s.Runner = &conformance.Runner{Profile: cfg.Profile, ServiceCredentials: cfg.ClientID != "", Kit: kit.Kit{
		Target: s.running.URL(), AZ: s.AZ, ResponseBound: cfg.ResponseBound,
		HomeAppID: cfg.AppID, ServiceClientID: cfg.ClientID, Family: cfg.Family,
		HTTP: &http.Client{
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			Transport:     &http.Transport{MaxIdleConnsPerHost: 32, DisableCompression: true},
		},
		Sink: sink, Attacker: att, Relaunch: s.relaunch,
	}}
	if cfg.FixedAppID {
		s.Runner.FixedAppID = cfg.AppID
	}
	return s, nil
}

// withDefaults checks cfg and fills in its defaults.
func withDefaults(cfg Config) (Config, error) {
	if _, err := conformance.ParseProfile(string(cfg.Profile)); err != nil {
		return cfg, err
	}
	cfg.AZListen = cmp.Or(cfg.AZListen, DefaultAZListen)
	cfg.AppID = cmp.Or(cfg.AppID, DefaultAppID)
	cfg.ClientID = cmp.Or(cfg.ClientID, DefaultClientID)
	cfg.Secret = cmp.Or(cfg.Secret, DefaultSecret)
	if cfg.NoServiceCredentials {
		cfg.ClientID, cfg.Secret = "", ""
	}
	return cfg, CheckNetwork(cfg)
}

// startAZ starts fakeaz and registers the target's home app, in the
// family's token shape, with its service client.
func (s *Session) startAZ(cfg Config) error {
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
		return err
	}
	if err := az.Start(cfg.AZListen); err != nil {
		return fmt.Errorf("start fakeaz on %s: %w (another run, or pick a port with --az-listen)", cfg.AZListen, err)
	}
	s.AZ = az
	s.closers = append(s.closers, az.Close)
	home := fakeaz.App{ID: cfg.AppID, BundleID: "com.example.mcaspec", Shape: cfg.Family.Shape()}
	if cfg.ClientID != "" {
		home.ServiceClients = []fakeaz.ServiceClient{{ClientID: cfg.ClientID, Secret: cfg.Secret}}
	}
	if _, err := az.AddApp(home); err != nil {
		return fmt.Errorf("register the home app %s: %w", cfg.AppID, err)
	}
	return nil
}

// startServers starts the propagation sink and the attacker's key server.
func (s *Session) startServers(cfg Config) (*kit.Sink, *kit.Attacker, error) {
	srvListen := net.JoinHostPort(cmp.Or(cfg.ServersListen, "127.0.0.1"), "0")
	sink, err := kit.StartSink(srvListen, cfg.ServersHost)
	if err != nil {
		return nil, nil, err
	}
	s.closers = append(s.closers, sink.Close)
	key, err := tokenfactory.GenerateKey(2048, nil)
	if err != nil {
		return nil, nil, err
	}
	att, err := kit.StartAttacker(srvListen, cfg.ServersHost, key)
	if err != nil {
		return nil, nil, err
	}
	s.closers = append(s.closers, att.Close)
	return sink, att, nil
}

// contractFor is the contract of a run configured by cfg, with the AZ at
// serverURL (the web part is added once the target's URL is known).
func contractFor(cfg Config, serverURL string) contract.Contract {
	c := contract.Contract{ServerURL: serverURL, AppID: cfg.AppID, ClientID: cfg.ClientID, Secret: cfg.Secret, Backend: cfg.FixedAppID,
		DownstreamHosts: DownstreamHosts(cfg)}
	if cfg.Family.IsWeb() || !cfg.Family.AppID() {
		c.Issuer = tokenfactory.MCAIssuer(serverURL) // the exact iss of fakeaz's MCA tokens
	}
	return c
}

// builtinTarget is the target of a run without one: the reference target,
// or the reference web RP for the web family (MCA only).
func builtinTarget(cfg Config) (targets.Target, error) {
	if !cfg.Family.IsWeb() {
		return targets.Reference(DefaultTargetName, targets.ReferenceOptions{}), nil
	}
	if cfg.Family != kit.FamilyWeb {
		return nil, fmt.Errorf("the built-in reference web RP speaks MCA (--family web); --family %s needs a target (--target-cmd or --target)", cfg.Family)
	}
	return targets.WebReference(DefaultWebTargetName, targets.ReferenceOptions{}), nil
}

// startTarget starts t under contract c (for the web family, with the web
// client registered for the URL t will have) and keeps how to stop it,
// read its output and, for a process, restart it.
func (s *Session) startTarget(ctx context.Context, t targets.Target, c contract.Contract, web bool) error {
	if web {
		a, ok := t.(targets.Addressed)
		if !ok {
			return errWebMode
		}
		base, err := a.BaseURL(c)
		if err != nil {
			return err
		}
		if err := webContract(s.AZ, &c, base); err != nil {
			return err
		}
	}
	r, err := t.Start(ctx, c)
	if err != nil {
		if t.Info().Mode == targets.ModeURL {
			return fmt.Errorf("%w: %w\n%s", ErrTargetDown, err, ContractHelp(c))
		}
		return fmt.Errorf("%w: %w", ErrTargetDown, err)
	}
	s.running = r
	s.closers = append(s.closers, func() error { return s.running.Stop() })
	if p, ok := r.(targets.Process); ok {
		s.proc = p
		s.restart = func() (targets.Process, error) {
			r, err := t.Start(ctx, c)
			if err != nil {
				return nil, err
			}
			s.running = r
			return r.(targets.Process), nil
		}
	}
	if web {
		// An Addressed target starts again where it was: a web target can
		// be relaunched with another callback URL (WEB-006), and a crash
		// restart afterwards keeps that contract.
		s.relaunch = func(rctx context.Context, cb string) error {
			_ = s.running.Stop()
			c = withCallback(c, cb)
			r, err := t.Start(rctx, c)
			if err != nil {
				return err
			}
			s.running = r
			if p, ok := r.(targets.Process); ok {
				s.proc = p
			}
			return nil
		}
	}
	return nil
}

// targetInfo describes the target for the report.
func targetInfo(cfg Config, t targets.Target, url string) conformance.TargetInfo {
	ti := t.Info()
	info := conformance.TargetInfo{Family: cfg.Family, Versions: cfg.Versions, Name: cmp.Or(cfg.TargetName, ti.Name),
		Mode: ti.Mode, Command: ti.Command, Image: ti.Image, URL: url}
	if cfg.FixedAppID {
		info.FixedAppID = cfg.AppID
	}
	return info
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
		return fmt.Errorf("%w: AZ listen address: %w", ErrNetwork, err)
	} else if h, _, _ := net.SplitHostPort(a); unspecified(h) && cfg.AZPublicURL == "" {
		return fmt.Errorf("%w: the AZ listens on every interface (%s): give the URL the target reaches it at (--az-public-url http://HOST:PORT/imf-authserver)", ErrNetwork, a)
	}
	if cfg.AZPublicURL != "" {
		if _, err := fakeaz.ParsePublicURL(cfg.AZPublicURL); err != nil {
			return fmt.Errorf("%w: %w", ErrNetwork, err)
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

// Getenv returns the environment a target started under contract c would
// see (without PORT), as a getenv function (targets.Getenv).
func Getenv(c contract.Contract) func(string) string { return targets.Getenv(c) }

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
		if strings.HasPrefix(x.Error, kit.KeyPathNotSent) {
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
		r.Observed = &kit.Observation{}
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
		tail := lastLines(s.proc.Log(), 8)
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
	if !s.restartOrSkip(r, "unresponsive", what, "cases") {
		s.unresponsive = r.ID
	}
}

// afterKeyProbe handles a target that answers, but not where it needs a key
// (conformance.Runner.KeyPathWedged): a target the harness started is
// restarted; for any other, the later cases that send a token are SKIPPED.
func (s *Session) afterKeyProbe(r *conformance.Result) {
	why := s.Runner.KeyPathWedged()
	if why == "" || s.keyWedged != "" {
		return
	}
	if !s.restartOrSkip(r, "key path", why, "cases that send a token") {
		s.keyWedged = r.ID
	}
}

// restartOrSkip records, under the fact named fact, why the target cannot
// serve the next cases, and restarts it if the harness started it. It
// reports whether the target was restarted; if not, the case's reason and
// an event say that the remaining cases (which: "cases", or a kind of them)
// are SKIPPED, and the caller marks the session so.
func (s *Session) restartOrSkip(r *conformance.Result, fact, why, which string) bool {
	r.Observed.Fact(fact, "%s", why)
	if s.proc != nil && s.restartTarget(r, why) {
		r.Reason = strings.TrimSuffix(why+"; it was restarted for the next cases; "+r.Reason, "; ")
		return true
	}
	r.Reason = strings.TrimSuffix(why+"; the remaining "+which+" are SKIPPED; "+r.Reason, "; ")
	s.events = append(s.events, conformance.TargetEvent{After: r.ID, What: why + "; the remaining " + which + " were SKIPPED"})
	return false
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
	if s.running == nil {
		return ""
	}
	return s.running.Log()
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
func ContractHelp(c contract.Contract) string {
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

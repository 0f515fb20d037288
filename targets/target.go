package targets

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mcaspec/mcaspec/contract"
	"github.com/mcaspec/mcaspec/reference"
	"github.com/mcaspec/mcaspec/reference/target"
	"github.com/mcaspec/mcaspec/reference/webrp"
	"github.com/mcaspec/mcaspec/targets/launch"
)

// Target is a target under test as the conformance harness and the load
// benchmark start it: Start configures it with the target contract (or, for
// a running one, checks it answers) and returns it running. Build one with
// URL, Command, Image, Handler, Served, Reference or WebReference.
type Target interface {
	Start(ctx context.Context, c contract.Contract) (Running, error)
	// Info describes the target for reports.
	Info() Info
}

// Info describes a target: how it runs (Mode), a name derived from it, and
// its command or image.
type Info struct {
	Mode    string // ModeURL, ModeCommand, ModeImage, ModeHandler or ModeInProcess
	Name    string // derived from the target ("" when there is nothing to derive it from)
	Command string // ModeCommand
	Image   string // ModeImage
}

// Modes of Info.
const (
	ModeURL       = "url"        // a running target, not started here
	ModeCommand   = "cmd"        // a process started with the contract's environment
	ModeImage     = "image"      // a container image
	ModeHandler   = "handler"    // an http.Handler served in this process
	ModeInProcess = "in-process" // a built-in target served in this process
)

// Running is a started target.
type Running interface {
	// URL is the base URL clients reach the target at.
	URL() string
	// Log is the tail of the target's output ("" when it has none here).
	Log() string
	// Stop stops what Start started (nothing for a running URL).
	Stop() error
}

// Process is a Running target that is a local process group (Command).
type Process interface {
	Running
	PID() int
	Done() <-chan struct{}
	Exited() bool
}

// Addressed is a Target whose base URL is known before it starts: the web
// family registers its callback URL from it. Start then serves there.
type Addressed interface {
	Target
	BaseURL(c contract.Contract) (string, error)
}

// ErrNoAddress is returned by a web run's target that cannot say its base
// URL before it starts (an image).
var ErrNoAddress = errors.New("the target's URL is not known before it starts")

// running is a Running of functions.
type running struct {
	url  string
	log  func() string
	stop func() error
}

func (r *running) URL() string { return r.url }
func (r *running) Log() string {
	if r.log == nil {
		return ""
	}
	return r.log()
}
func (r *running) Stop() error {
	if r.stop == nil {
		return nil
	}
	return r.stop()
}

// ErrBadURL is wrapped by CheckURL.
var ErrBadURL = errors.New("bad target URL")

// CheckURL checks that u is an absolute http or https URL with a host, such
// as http://127.0.0.1:3000 (any host: the product tests targets wherever
// they run).
func CheckURL(u string) error {
	p, err := url.Parse(u)
	switch {
	case err != nil || p.Scheme != "http" && p.Scheme != "https":
		return fmt.Errorf("%w %q: want an http:// or https:// URL such as http://127.0.0.1:3000", ErrBadURL, u)
	case p.Host == "":
		return fmt.Errorf("%w %q: no host; want a URL such as http://127.0.0.1:3000", ErrBadURL, u)
	case p.RawQuery != "" || p.Fragment != "":
		return fmt.Errorf("%w %q: a base URL has no query or fragment", ErrBadURL, u)
	}
	return nil
}

// URL is a target already running at base, not started here: Start waits
// up to ready (0: 10 s) for its /healthz; with a negative ready it does not
// (a deployed service measured by the benchmark may not serve /healthz).
func URL(base string, ready time.Duration) Target {
	return urlTarget{base: strings.TrimRight(base, "/"), ready: ready}
}

type urlTarget struct {
	base  string
	ready time.Duration
}

func (t urlTarget) Info() Info { return Info{Mode: ModeURL, Name: t.base} }

func (t urlTarget) BaseURL(contract.Contract) (string, error) { return t.base, nil }

func (t urlTarget) Start(ctx context.Context, _ contract.Contract) (Running, error) {
	if err := CheckURL(t.base); err != nil {
		return nil, err
	}
	ready := t.ready
	if ready < 0 {
		return &running{url: t.base}, nil
	}
	if ready == 0 {
		ready = 10 * time.Second
	}
	if err := launch.WaitHealthy(ctx, t.base, ready); err != nil {
		return nil, err
	}
	return &running{url: t.base}, nil
}

// Command is a target started by command (through sh -c, with the
// contract's environment; targets/launch). Every Start of one Command
// target uses the same port (a restart keeps the target's URL).
func Command(command string, o launch.Options) Target {
	return &commandTarget{command: command, opts: o}
}

type commandTarget struct {
	command string
	opts    launch.Options
}

func (t *commandTarget) Info() Info {
	f := strings.Fields(t.command)
	name := ""
	if len(f) > 0 {
		name = f[len(f)-1]
	}
	return Info{Mode: ModeCommand, Name: name, Command: t.command}
}

func (t *commandTarget) port() (int, error) {
	if t.opts.Port == 0 {
		p, err := launch.FreePort()
		if err != nil {
			return 0, err
		}
		t.opts.Port = p
	}
	return t.opts.Port, nil
}

func (t *commandTarget) BaseURL(c contract.Contract) (string, error) {
	port, err := t.port()
	if err != nil {
		return "", err
	}
	return "http://" + net.JoinHostPort(launch.DialHost(c.Host), strconv.Itoa(port)), nil
}

func (t *commandTarget) Start(ctx context.Context, c contract.Contract) (Running, error) {
	if _, err := t.port(); err != nil {
		return nil, err
	}
	p, err := launch.Start(ctx, t.command, c, t.opts)
	if err != nil {
		return nil, err
	}
	return process{p}, nil
}

type process struct{ *launch.Process }

func (p process) Log() string { return p.LogTail() }

// ImageStarter runs a target image under the contract (targets/container):
// it returns the target's URL, a function that collects its logs, and a
// stop function.
type ImageStarter func(ctx context.Context, image string, c contract.Contract) (url string, logs func() string, stop func() error, err error)

// Image is a target run from a container image by start.
func Image(image string, start ImageStarter) Target { return imageTarget{image: image, start: start} }

type imageTarget struct {
	image string
	start ImageStarter
}

func (t imageTarget) Info() Info { return Info{Mode: ModeImage, Name: t.image, Image: t.image} }

func (t imageTarget) Start(ctx context.Context, c contract.Contract) (Running, error) {
	if t.start == nil {
		return nil, errors.New("--target-image needs a Docker engine and this build's container support")
	}
	u, logs, stop, err := t.start(ctx, t.image, c)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", t.image, err)
	}
	return &running{url: u, log: logs, stop: stop}, nil
}

// Handler is an http.Handler built from the contract and served in this
// process on a loopback port (Go validators; see conformance/mcaspectest).
func Handler(build func(contract.Contract) (http.Handler, error)) Target {
	return &handlerTarget{build: build, info: Info{Mode: ModeHandler, Name: ModeHandler}}
}

type handlerTarget struct {
	build  func(contract.Contract) (http.Handler, error)
	server func(*http.Server) // tweaks the server (nil: none)
	info   Info
	ln     net.Listener
	addr   string // where the first Start listened: a later Start listens there again
}

func (t *handlerTarget) Info() Info { return t.info }

func (t *handlerTarget) listener() (net.Listener, error) {
	if t.ln == nil {
		ln, err := net.Listen("tcp", cmp.Or(t.addr, "127.0.0.1:0"))
		if err != nil {
			return nil, err
		}
		t.ln, t.addr = ln, ln.Addr().String()
	}
	return t.ln, nil
}

func (t *handlerTarget) BaseURL(contract.Contract) (string, error) {
	ln, err := t.listener()
	if err != nil {
		return "", err
	}
	return "http://" + ln.Addr().String(), nil
}

func (t *handlerTarget) Start(_ context.Context, c contract.Contract) (Running, error) {
	ln, err := t.listener()
	if err != nil {
		return nil, err
	}
	t.ln = nil // a later Start listens again
	h, err := t.build(c)
	if err == nil && h == nil {
		err = errors.New("the handler is nil")
	}
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("the target handler could not be built: %w", err)
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: contract.DefaultReadHeaderTimeout, MaxHeaderBytes: contract.DefaultMaxHeaderBytes}
	if t.server != nil {
		t.server(hs)
	}
	go func() { _ = hs.Serve(ln) }()
	return &running{url: "http://" + ln.Addr().String(), stop: hs.Close}, nil
}

// Listener is a server that listens itself (contract.Server, the
// reference target, the benchmark's baseline).
type Listener interface {
	Start(addr string) error
	URL() string
	Close() error
}

// Served is a built-in target of this process named name: build makes its
// server from the contract, and Start listens on a loopback port.
func Served(name string, build func(contract.Contract) (Listener, error)) Target {
	return servedTarget{name: name, build: build}
}

type servedTarget struct {
	name  string
	build func(contract.Contract) (Listener, error)
}

func (t servedTarget) Info() Info { return Info{Mode: ModeInProcess, Name: t.name} }

func (t servedTarget) Start(_ context.Context, c contract.Contract) (Running, error) {
	s, err := t.build(c)
	if err != nil {
		return nil, err
	}
	if err := s.Start("127.0.0.1:0"); err != nil {
		return nil, err
	}
	return &running{url: s.URL(), stop: s.Close}, nil
}

// ReferenceOptions change the built-in reference targets; the zero value is
// the real reference. They exist for the harness's own tests (mutants).
type ReferenceOptions struct {
	// Validator tweaks the reference validator's config.
	Validator func(*reference.Config)
	// Wrap wraps the target's handler (target-level bugs).
	Wrap func(http.Handler) http.Handler
	// Server tweaks the target's HTTP server (HTTP-layer bugs).
	Server func(*http.Server)
	// Web tweaks the reference web RP's config (WebReference).
	Web func(*webrp.Config)
}

// Getenv returns the environment a target started under contract c would
// see (without PORT), as a getenv function: for handlers that read their
// configuration from the environment (e.g. reference/target.ConfigFromEnv).
func Getenv(c contract.Contract) func(string) string {
	env := c.EnvMap(0)
	delete(env, contract.EnvPort)
	return func(k string) string { return env[k] }
}

// Reference is the reference target (reference/target) named name,
// configured from the contract's environment and served in this process.
func Reference(name string, o ReferenceOptions) Target {
	build := func(c contract.Contract) (*target.Server, error) {
		tc, err := target.ConfigFromEnv(Getenv(c))
		if err != nil {
			return nil, err
		}
		if o.Validator != nil {
			o.Validator(&tc.Validator)
		}
		return target.New(tc)
	}
	if o.Wrap == nil && o.Server == nil {
		return Served(name, func(c contract.Contract) (Listener, error) { return build(c) })
	}
	return &handlerTarget{info: Info{Mode: ModeInProcess, Name: name}, server: o.Server, build: func(c contract.Contract) (http.Handler, error) {
		srv, err := build(c)
		if err != nil || o.Wrap == nil {
			return srv, err
		}
		return o.Wrap(srv), nil
	}}
}

// WebReference is the reference web RP (reference/webrp) named name,
// configured from the contract's environment (its web part included) and
// served in this process.
func WebReference(name string, o ReferenceOptions) Target {
	return &handlerTarget{info: Info{Mode: ModeInProcess, Name: name},
		server: func(hs *http.Server) { hs.ReadHeaderTimeout, hs.MaxHeaderBytes = webrp.DefaultReadHeaderTimeout, 0 },
		build: func(c contract.Contract) (http.Handler, error) {
			rc, err := webrp.ConfigFromEnv(Getenv(c))
			if err != nil {
				return nil, err
			}
			if o.Web != nil {
				o.Web(&rc)
			}
			rp, err := webrp.New(rc)
			if err != nil {
				return nil, fmt.Errorf("the reference web RP: %w", err)
			}
			if o.Wrap != nil {
				return o.Wrap(rp), nil
			}
			return rp, nil
		}}
}

// Package container is a testcontainers-go module for fakeaz, the fake MCA authorization server:
// one call starts it in a container, and the admin API (apps, tokens, faults, key rotation,
// stats, clock) is driven from Go, the way mock OAuth servers are used in tests.
//
//	az, err := container.Run(ctx, container.DefaultImage, container.WithApps(fakeaz.App{ID: appID}))
//	defer testcontainers.TerminateContainer(az)
//	serverURL, _ := az.ServerURL(ctx) // MCA_SERVER_URL of the service under test
//	tok, _ := az.MintToken(ctx, appID, container.TokenRequest{})
//	_ = az.SetFault(ctx, fakeaz.FaultSpec{Endpoint: fakeaz.EndpointPublicKey, Status: 503})
//
// # Networks
//
// By default the container runs on Docker's default bridge network, so the module works wherever
// testcontainers does: Docker Desktop, rootless Docker, CI services. fakeaz listens on
// 0.0.0.0:ContainerPort inside the container; the port is published on a free host port (or the
// one given with WithPort), and the module talks to it at Container.Host and that mapped port.
// An MCA serverUrl is the iss of every token and validators compare the two, so the serverUrl
// must be the URL the service under test uses: fakeaz derives it per request from the Host and
// X-Forwarded-* headers (--public-url from-request), so http://HOST:MAPPED/imf-authserver,
// as ServerURL returns it, is the iss of the tokens minted through this module and of the keys
// fetched at that URL. When the service under test reaches fakeaz at another address (another
// container on a user network, through an alias), fix the serverUrl with WithPublicURL.
//
// On a bridge network the admin API is reachable from outside the container, and fakeaz then
// requires a bearer token: Run generates one per container, passes it in the environment
// (MCASPEC_ADMIN_TOKEN) and sends it with every admin call; AdminToken returns it for other
// clients (curl -H "Authorization: Bearer $TOKEN", the bench's --az-admin-token).
//
// WithHostNetwork runs the container on the host's network instead (Linux; Docker Desktop only
// with host networking enabled): fakeaz listens on a free loopback port (hostnet.Run: no bridge
// network is created), the serverUrl is http://127.0.0.1:PORT/imf-authserver and the admin API
// stays on loopback, open as for a local fakeaz. Use it where Docker's bridge is off
// (dockerd --bridge=none, as on the machines this project is tested on): there the default path
// fails at once with ErrNoBridge.
//
// The image is built locally by `make images` (build/docker/README.md).
package container

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	dockercontainer "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/mcaspec/mcaspec/fakeaz"
	"github.com/mcaspec/mcaspec/fakeaz/adminclient"
	"github.com/mcaspec/mcaspec/fakeaz/container/hostnet"
)

const (
	// DefaultImage is the image `make images` builds (build/docker/fakeaz.Dockerfile).
	DefaultImage = "mcaspec/fakeaz:dev"
	// ConfigPath is where WithConfigFile and WithConfig put the configuration in the container.
	ConfigPath = "/etc/fakeaz/config.json"
	// DefaultStartupTimeout bounds the wait for the admin API to answer.
	DefaultStartupTimeout = 30 * time.Second
	// DefaultAdminTimeout bounds one admin API call.
	DefaultAdminTimeout = 10 * time.Second
	// DefaultClientID is the clientId of tokens minted by MintToken when the request has none.
	DefaultClientID = "mcaspec-test-client"
	// ContainerPort is the port fakeaz listens on inside the container on a bridge network
	// (on 0.0.0.0); Port returns the host port it is mapped to.
	ContainerPort = 9080
	// PublicURLFromRequest is the --public-url value by which fakeaz derives its serverUrl per
	// request from the Host and X-Forwarded-* headers (the default on a bridge network).
	PublicURLFromRequest = "from-request"
	// AdminTokenEnv is the environment variable by which the module passes the admin token.
	AdminTokenEnv = "MCASPEC_ADMIN_TOKEN"
	// readyPath is polled until it answers 200.
	readyPath = fakeaz.AdminPath
)

// containerPortTCP is ContainerPort as Docker names it.
const containerPortTCP = "9080/tcp"

var (
	// ErrAdmin is wrapped by every error the admin API answered (see AdminError).
	ErrAdmin = adminclient.ErrAdmin
	// ErrNoBridge is returned by Run on the default bridge network when the Docker engine has no
	// bridge network (dockerd --bridge=none): use WithHostNetwork there.
	ErrNoBridge = errors.New("the Docker engine has no bridge network")
)

// Container is a running fakeaz container.
type Container struct {
	testcontainers.Container
	host       string // where this process reaches fakeaz: Container.Host, or 127.0.0.1 on the host network
	port       int
	publicURL  string
	adminToken string
	apps       []fakeaz.App
	hc         *http.Client
}

// options collect the module's own settings; they are not container request customizations.
type options struct {
	hostNetwork    bool
	port           int
	publicURL      string
	configFile     string
	config         *fakeaz.Config
	apps           []fakeaz.App
	quiet          bool
	codeLifetime   time.Duration
	tokenLifetime  time.Duration
	startupTimeout time.Duration
	httpClient     *http.Client
}

// Option is a fakeaz setting, passed to Run beside any testcontainers.ContainerCustomizer.
type Option func(*options) error

// Customize implements testcontainers.ContainerCustomizer: an Option changes no request field
// itself; Run reads it.
func (Option) Customize(*testcontainers.GenericContainerRequest) error { return nil }

// WithPort fixes the port fakeaz is reached at from the host (default: a free one): the host
// port ContainerPort is published on, or with WithHostNetwork the loopback port fakeaz listens
// on. Use it to get a fixed serverUrl, e.g. for a validator configured before the container
// starts.
func WithPort(port int) Option {
	return func(o *options) error {
		if port <= 0 || port > 65535 {
			return fmt.Errorf("WithPort(%d): the port must be in 1..65535", port)
		}
		o.port = port
		return nil
	}
}

// WithHostNetwork runs the container on the host's network: fakeaz listens on a loopback port
// of the host (WithPort, default a free one), the serverUrl is http://127.0.0.1:PORT/imf-authserver
// and the admin API needs no token (it is on loopback). Linux engines only (Docker Desktop with
// host networking enabled); needed where Docker's bridge is off (dockerd --bridge=none).
func WithHostNetwork() Option {
	return func(o *options) error { o.hostNetwork = true; return nil }
}

// WithPublicURL fixes the serverUrl (fakeaz --public-url): the iss of the tokens and the base of
// the URLs fakeaz hands out, e.g. "http://fakeaz:9080/imf-authserver" when the service under
// test runs in another container and reaches fakeaz through a network alias. Default: derived
// per request (PublicURLFromRequest) on a bridge network, http://127.0.0.1:PORT/imf-authserver
// with WithHostNetwork.
func WithPublicURL(serverURL string) Option {
	return func(o *options) error {
		u, err := url.Parse(serverURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("WithPublicURL(%q): want an absolute http(s) URL such as http://fakeaz:9080%s", serverURL, fakeaz.BasePath)
		}
		o.publicURL = strings.TrimRight(serverURL, "/")
		return nil
	}
}

// WithConfigFile copies a fakeaz configuration file (fakeaz.Config JSON: apps, lifetimes) into
// the container and starts fakeaz with it. The file is validated first, so a mistake is reported
// by Run before any container starts.
func WithConfigFile(path string) Option {
	return func(o *options) error {
		if _, err := fakeaz.LoadConfig(path); err != nil {
			return fmt.Errorf("WithConfigFile: %w", err)
		}
		o.configFile, o.config = path, nil
		return nil
	}
}

// WithConfig is WithConfigFile for a configuration built in Go.
func WithConfig(c fakeaz.Config) Option {
	return func(o *options) error {
		b, err := json.Marshal(c)
		if err != nil {
			return fmt.Errorf("WithConfig: %w", err)
		}
		if _, err := fakeaz.ParseConfig(b); err != nil {
			return fmt.Errorf("WithConfig: %w", err)
		}
		o.config, o.configFile = &c, ""
		return nil
	}
}

// WithApps registers apps through the admin API once fakeaz is ready (after the apps of a
// configuration file). An app without ID gets a generated one: Container.Apps returns them as
// stored.
func WithApps(apps ...fakeaz.App) Option {
	return func(o *options) error {
		for _, a := range apps {
			if err := a.Validate(); err != nil {
				return fmt.Errorf("WithApps: %w", err)
			}
		}
		o.apps = append(o.apps, apps...)
		return nil
	}
}

// WithQuiet turns off fakeaz's log line per request (useful under load).
func WithQuiet() Option {
	return func(o *options) error { o.quiet = true; return nil }
}

// WithTokenLifetime sets exp - iat of the tokens fakeaz mints (default fakeaz.DefaultTokenLifetime).
func WithTokenLifetime(d time.Duration) Option {
	return positive("WithTokenLifetime", "lifetime", d, func(o *options) *time.Duration { return &o.tokenLifetime })
}

// WithCodeLifetime sets how long authorization codes can be redeemed (default fakeaz.DefaultCodeLifetime).
func WithCodeLifetime(d time.Duration) Option {
	return positive("WithCodeLifetime", "lifetime", d, func(o *options) *time.Duration { return &o.codeLifetime })
}

// WithStartupTimeout bounds the wait for the admin API (default DefaultStartupTimeout).
func WithStartupTimeout(d time.Duration) Option {
	return positive("WithStartupTimeout", "timeout", d, func(o *options) *time.Duration { return &o.startupTimeout })
}

// positive is the option name(d) that sets the duration field picks, refusing
// d <= 0 (what the duration is: "lifetime", "timeout").
func positive(name, what string, d time.Duration, field func(*options) *time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("%s(%v): the %s must be positive", name, d, what)
		}
		*field(o) = d
		return nil
	}
}

// WithHTTPClient sets the client of the admin API calls (default: no proxy, DefaultAdminTimeout).
// The module sends the admin token through a copy of it; hc itself is not changed.
func WithHTTPClient(hc *http.Client) Option {
	return func(o *options) error {
		if hc == nil {
			return errors.New("WithHTTPClient: the client is nil")
		}
		o.httpClient = hc
		return nil
	}
}

// Run starts fakeaz from img (e.g. DefaultImage) on the default bridge network with a mapped
// port (or on the host's network with WithHostNetwork, see the package documentation), waits
// until its admin API answers and registers the WithApps apps. Options are this package's
// Option values and any testcontainers.ContainerCustomizer (applied after the module's defaults,
// so they can override them). On error the container, if one was created, is returned with the
// error: terminate it (testcontainers.CleanupContainer / TerminateContainer accept it).
func Run(ctx context.Context, img string, opts ...testcontainers.ContainerCustomizer) (*Container, error) {
	r, err := newRequest(img, opts...)
	if err != nil {
		return nil, fmt.Errorf("run fakeaz: %w", err)
	}
	if !r.opts.hostNetwork && len(r.req.Networks) == 0 && networkMode(r.req) == "" {
		if err := checkBridge(ctx); err != nil {
			return nil, fmt.Errorf("run fakeaz: %w", err)
		}
	}
	var ctr *testcontainers.DockerContainer
	if r.opts.hostNetwork {
		ctr, err = hostnet.RunRequest(ctx, r.req)
	} else {
		var gc testcontainers.Container
		gc, err = testcontainers.GenericContainer(ctx, r.req)
		if gc != nil {
			ctr, _ = gc.(*testcontainers.DockerContainer)
		}
	}
	var c *Container
	if ctr != nil {
		c = &Container{Container: ctr, host: "127.0.0.1", port: r.opts.port, publicURL: r.opts.publicURL, adminToken: r.adminToken}
		c.hc = adminHTTP(r.opts.httpClient)
	}
	if err != nil {
		return c, fmt.Errorf("run fakeaz (image %s, %s): %w", img, r.where(), err)
	}
	if c == nil {
		return nil, fmt.Errorf("run fakeaz (image %s): unexpected container type", img)
	}
	if !r.opts.hostNetwork {
		host, err := ctr.Host(ctx)
		if err != nil {
			return c, fmt.Errorf("run fakeaz: the Docker host: %w", err)
		}
		mapped, err := ctr.MappedPort(ctx, containerPortTCP)
		if err != nil {
			return c, fmt.Errorf("run fakeaz: the host port mapped to %s: %w", containerPortTCP, err)
		}
		c.host, c.port = host, int(mapped.Num())
	}
	for _, a := range r.opts.apps {
		got, err := c.AddApp(ctx, a)
		if err != nil {
			return c, fmt.Errorf("run fakeaz: registering app %q: %w", a.ID, err)
		}
		c.apps = append(c.apps, got)
	}
	return c, nil
}

// networkMode is the network mode the request's host config modifier sets ("": the default).
func networkMode(req testcontainers.GenericContainerRequest) dockercontainer.NetworkMode {
	var hc dockercontainer.HostConfig
	if req.HostConfigModifier != nil {
		req.HostConfigModifier(&hc)
	}
	return hc.NetworkMode
}

// checkBridge returns ErrNoBridge when the engine answers that it has no "bridge" network, so
// that Run fails at once with the remedy instead of waiting for a port that is never mapped.
// Other errors are left to testcontainers, which reports them when it creates the container.
func checkBridge(ctx context.Context) error {
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return nil
	}
	defer cli.Close()
	if _, err := cli.NetworkInspect(ctx, "bridge", client.NetworkInspectOptions{}); errdefs.IsNotFound(err) {
		return fmt.Errorf("%w (dockerd --bridge=none?): use container.WithHostNetwork(), or attach the container to a network of yours (testcontainers' network options)", ErrNoBridge)
	}
	return nil
}

// request is what Run sends to the engine, with the settings it keeps.
type request struct {
	req        testcontainers.GenericContainerRequest
	opts       options
	adminToken string
}

func (r request) where() string {
	switch {
	case r.opts.hostNetwork:
		return "host network, port " + strconv.Itoa(r.opts.port)
	case r.opts.port != 0:
		return "bridge network, host port " + strconv.Itoa(r.opts.port)
	default:
		return "bridge network"
	}
}

// newRequest applies the options and builds the container request, without any engine.
func newRequest(img string, opts ...testcontainers.ContainerCustomizer) (request, error) {
	o := options{startupTimeout: DefaultStartupTimeout}
	for _, opt := range opts {
		if opt, ok := opt.(Option); ok {
			if err := opt(&o); err != nil {
				return request{}, err
			}
		}
	}
	r := request{opts: o}
	listenAddr := "0.0.0.0:" + strconv.Itoa(ContainerPort)
	if o.hostNetwork {
		if o.port == 0 {
			p, err := hostnet.FreePort()
			if err != nil {
				return request{}, err
			}
			r.opts.port = p
		}
		listenAddr = "127.0.0.1:" + strconv.Itoa(r.opts.port)
	} else {
		r.adminToken = rand.Text()
	}

	cmd, files, err := o.command(listenAddr)
	if err != nil {
		return request{}, err
	}

	moduleOpts := []testcontainers.ContainerCustomizer{testcontainers.WithCmd(cmd...)}
	if o.hostNetwork {
		moduleOpts = append(moduleOpts, testcontainers.WithWaitStrategyAndDeadline(o.startupTimeout+5*time.Second,
			hostnet.ForHTTP(r.opts.port, readyPath).WithStartupTimeout(o.startupTimeout)))
	} else {
		exposed := containerPortTCP
		if o.port != 0 {
			exposed = strconv.Itoa(o.port) + ":" + containerPortTCP
		}
		moduleOpts = append(moduleOpts,
			testcontainers.WithExposedPorts(exposed),
			testcontainers.WithEnv(map[string]string{AdminTokenEnv: r.adminToken}),
			testcontainers.WithWaitStrategyAndDeadline(o.startupTimeout+5*time.Second,
				wait.ForHTTP(readyPath).WithPort(containerPortTCP).
					WithHeaders(map[string]string{"Authorization": "Bearer " + r.adminToken}).
					WithStartupTimeout(o.startupTimeout)))
	}
	if len(files) > 0 {
		moduleOpts = append(moduleOpts, testcontainers.WithFiles(files...))
	}
	moduleOpts = append(moduleOpts, opts...)

	if o.hostNetwork {
		req, err := hostnet.Request(img, moduleOpts...)
		if err != nil {
			return request{}, err
		}
		r.req = req
		return r, nil
	}
	r.req = testcontainers.GenericContainerRequest{
		ContainerRequest: testcontainers.ContainerRequest{Image: img},
		Started:          true,
	}
	for _, opt := range moduleOpts {
		if err := opt.Customize(&r.req); err != nil {
			return request{}, fmt.Errorf("customize: %w", err)
		}
	}
	return r, nil
}

// command is the container's command line (fakeaz listening on listenAddr)
// and the files it reads.
func (o options) command(listenAddr string) ([]string, []testcontainers.ContainerFile, error) {
	cmd := []string{"fakeaz", "--listen", listenAddr}
	switch {
	case o.publicURL != "":
		cmd = append(cmd, "--public-url", o.publicURL)
	case !o.hostNetwork:
		cmd = append(cmd, "--public-url", PublicURLFromRequest)
	}
	var files []testcontainers.ContainerFile
	switch {
	case o.configFile != "":
		files = append(files, testcontainers.ContainerFile{HostFilePath: o.configFile, ContainerFilePath: ConfigPath, FileMode: 0o644})
		cmd = append(cmd, "--config", ConfigPath)
	case o.config != nil:
		b, err := json.Marshal(o.config)
		if err != nil {
			return nil, nil, err
		}
		files = append(files, testcontainers.ContainerFile{Reader: bytes.NewReader(b), ContainerFilePath: ConfigPath, FileMode: 0o644})
		cmd = append(cmd, "--config", ConfigPath)
	}
	if o.quiet {
		cmd = append(cmd, "--quiet")
	}
	if o.codeLifetime > 0 {
		cmd = append(cmd, "--code-lifetime", o.codeLifetime.String())
	}
	if o.tokenLifetime > 0 {
		cmd = append(cmd, "--token-lifetime", o.tokenLifetime.String())
	}
	return cmd, files, nil
}

// adminHTTP is hc, or by default a client with no proxy and DefaultAdminTimeout.
func adminHTTP(hc *http.Client) *http.Client {
	if hc != nil {
		return hc
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil // the Docker host, usually loopback
	return &http.Client{Transport: tr, Timeout: DefaultAdminTimeout}
}

// Port returns the port fakeaz is reached at from this process: the host port mapped to
// ContainerPort on a bridge network, the loopback port it listens on with WithHostNetwork.
func (c *Container) Port() int { return c.port }

// AdminToken returns the bearer token of the admin API (Authorization: Bearer <token>), which
// every admin call of the module sends: generated per container on a bridge network, "" with
// WithHostNetwork (the admin API is then on loopback and open).
func (c *Container) AdminToken() string { return c.adminToken }

// baseURL is http://HOST:PORT, the server as reached from this process.
func (c *Container) baseURL() string {
	return "http://" + net.JoinHostPort(c.host, strconv.Itoa(c.port))
}

// ServerURL returns the AZ serverUrl, the iss of every token and the MCA_SERVER_URL of a
// service under test: http://HOST:PORT/imf-authserver as reached from this process (Host and
// Port), or the WithPublicURL value.
func (c *Container) ServerURL(ctx context.Context) (string, error) {
	if err := c.running(ctx); err != nil {
		return "", err
	}
	if c.publicURL != "" {
		return c.publicURL, nil
	}
	return c.baseURL() + fakeaz.BasePath, nil
}

// AdminURL returns the base of the admin API as reached from this process, http://HOST:PORT/admin.
func (c *Container) AdminURL(ctx context.Context) (string, error) {
	if err := c.running(ctx); err != nil {
		return "", err
	}
	return c.baseURL() + "/admin", nil
}

// AppURL returns the app's endpoints as reached from this process,
// http://HOST:PORT/imf-authserver/authorization/v1/apps/{appID} (ServerURL + the app path
// unless WithPublicURL names another address).
func (c *Container) AppURL(ctx context.Context, appID string) (string, error) {
	if err := c.running(ctx); err != nil {
		return "", err
	}
	return c.baseURL() + fakeaz.AppsPath + appID, nil
}

func (c *Container) running(ctx context.Context) error {
	st, err := c.State(ctx)
	if err != nil {
		return fmt.Errorf("fakeaz container state: %w", err)
	}
	if !st.Running {
		return fmt.Errorf("fakeaz container is not running (status %q, exit code %d)", st.Status, st.ExitCode)
	}
	return nil
}

// Apps returns the apps registered by WithApps, as stored (generated ids filled in).
func (c *Container) Apps() []fakeaz.App { return append([]fakeaz.App(nil), c.apps...) }

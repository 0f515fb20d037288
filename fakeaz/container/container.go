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
// The container runs with host networking and listens on a free loopback port, so serverUrl is
// http://127.0.0.1:PORT/imf-authserver on the test's machine, exactly as the iss of the tokens:
// validators compare iss with their configured serverUrl, which a mapped port would break. This
// needs a Docker engine on the same machine (Linux; Docker Desktop only with host networking
// enabled). The image is built locally by `make images` (build/docker/README.md).
package container

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/testcontainers/testcontainers-go"

	"github.com/mcaspec/mcaspec/fakeaz"
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
	// readyPath is polled until it answers 200.
	readyPath = fakeaz.AdminPath
)

// ErrAdmin is wrapped by every error the admin API answered (see AdminError).
var ErrAdmin = errors.New("fakeaz admin API error")

// Container is a running fakeaz container.
type Container struct {
	testcontainers.Container
	port int
	apps []fakeaz.App
	hc   *http.Client
}

// options collect the module's own settings; they are not container request customizations.
type options struct {
	port           int
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

// WithPort sets the loopback port fakeaz listens on (default: a free one). Use it to get a
// fixed serverUrl, e.g. for a validator configured before the container starts.
func WithPort(port int) Option {
	return func(o *options) error {
		if port <= 0 || port > 65535 {
			return fmt.Errorf("WithPort(%d): the port must be in 1..65535", port)
		}
		o.port = port
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
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("WithTokenLifetime(%v): the lifetime must be positive", d)
		}
		o.tokenLifetime = d
		return nil
	}
}

// WithCodeLifetime sets how long authorization codes can be redeemed (default fakeaz.DefaultCodeLifetime).
func WithCodeLifetime(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("WithCodeLifetime(%v): the lifetime must be positive", d)
		}
		o.codeLifetime = d
		return nil
	}
}

// WithStartupTimeout bounds the wait for the admin API (default DefaultStartupTimeout).
func WithStartupTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("WithStartupTimeout(%v): the timeout must be positive", d)
		}
		o.startupTimeout = d
		return nil
	}
}

// WithHTTPClient sets the client of the admin API calls (default: no proxy, DefaultAdminTimeout).
func WithHTTPClient(hc *http.Client) Option {
	return func(o *options) error {
		if hc == nil {
			return errors.New("WithHTTPClient: the client is nil")
		}
		o.httpClient = hc
		return nil
	}
}

// Run starts fakeaz from img (e.g. DefaultImage) with host networking on a loopback port
// (hostnet.Run: no bridge network is created), waits until its admin API answers on
// 127.0.0.1 and registers the WithApps apps. Options are this package's Option
// values and any testcontainers.ContainerCustomizer (applied after the module's defaults, so they
// can override them). On error the container, if one was created, is returned with the error:
// terminate it (testcontainers.CleanupContainer / TerminateContainer accept it).
func Run(ctx context.Context, img string, opts ...testcontainers.ContainerCustomizer) (*Container, error) {
	o := options{startupTimeout: DefaultStartupTimeout}
	for _, opt := range opts {
		if opt, ok := opt.(Option); ok {
			if err := opt(&o); err != nil {
				return nil, fmt.Errorf("run fakeaz: %w", err)
			}
		}
	}
	if o.port == 0 {
		p, err := hostnet.FreePort()
		if err != nil {
			return nil, fmt.Errorf("run fakeaz: %w", err)
		}
		o.port = p
	}

	cmd := []string{"fakeaz", "--listen", "127.0.0.1:" + strconv.Itoa(o.port)}
	var files []testcontainers.ContainerFile
	switch {
	case o.configFile != "":
		files = append(files, testcontainers.ContainerFile{HostFilePath: o.configFile, ContainerFilePath: ConfigPath, FileMode: 0o644})
		cmd = append(cmd, "--config", ConfigPath)
	case o.config != nil:
		b, err := json.Marshal(o.config)
		if err != nil {
			return nil, fmt.Errorf("run fakeaz: %w", err)
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

	moduleOpts := []testcontainers.ContainerCustomizer{
		testcontainers.WithCmd(cmd...),
		testcontainers.WithWaitStrategyAndDeadline(o.startupTimeout+5*time.Second,
			hostnet.ForHTTP(o.port, readyPath).WithStartupTimeout(o.startupTimeout)),
	}
	if len(files) > 0 {
		moduleOpts = append(moduleOpts, testcontainers.WithFiles(files...))
	}
	moduleOpts = append(moduleOpts, opts...)

	ctr, err := hostnet.Run(ctx, img, moduleOpts...)
	var c *Container
	if ctr != nil {
		c = &Container{Container: ctr, port: o.port, hc: o.httpClient}
		if c.hc == nil {
			c.hc = defaultHTTPClient()
		}
	}
	if err != nil {
		return c, fmt.Errorf("run fakeaz (image %s, port %d): %w", img, o.port, err)
	}
	for _, a := range o.apps {
		got, err := c.AddApp(ctx, a)
		if err != nil {
			return c, fmt.Errorf("run fakeaz: registering app %q: %w", a.ID, err)
		}
		c.apps = append(c.apps, got)
	}
	return c, nil
}

func defaultHTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil // loopback only
	return &http.Client{Transport: tr, Timeout: DefaultAdminTimeout}
}

// Port returns the loopback port fakeaz listens on.
func (c *Container) Port() int { return c.port }

// baseURL is http://127.0.0.1:PORT.
func (c *Container) baseURL() string { return "http://127.0.0.1:" + strconv.Itoa(c.port) }

// ServerURL returns the AZ serverUrl, http://127.0.0.1:PORT/imf-authserver: the iss of every
// token and the MCA_SERVER_URL of a service under test.
func (c *Container) ServerURL(ctx context.Context) (string, error) {
	if err := c.running(ctx); err != nil {
		return "", err
	}
	return c.baseURL() + fakeaz.BasePath, nil
}

// AdminURL returns the base of the admin API, http://127.0.0.1:PORT/admin.
func (c *Container) AdminURL(ctx context.Context) (string, error) {
	if err := c.running(ctx); err != nil {
		return "", err
	}
	return c.baseURL() + "/admin", nil
}

// AppURL returns {serverUrl}/authorization/v1/apps/{appID}.
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

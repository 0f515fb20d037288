// Package hostnet runs testcontainers-go containers on the host's network, for Docker engines
// started without a bridge (dockerd --bridge=none) and for servers that must be reached at a
// fixed loopback URL (an MCA serverUrl is the iss of every token; on a bridge network fakeaz
// derives it from the mapped address per request instead, see fakeaz/container).
//
// Plain testcontainers.Run is not enough there:
//   - it attaches every container to a default network, and creates a bridge network
//     ("reaper_default") when the engine has no "bridge" one;
//   - inside a container (/.dockerenv), Container.Host answers a gateway address, not loopback,
//     so its wait strategies would poll a non-loopback address.
//
// Run uses the engine's "host" network as the default network (nothing is created) and ForHTTP
// polls http://127.0.0.1:PORT only, never Container.Host. Request builds Run's request without
// an engine, so that a module's unit tests can inspect it.
package hostnet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/containerd/errdefs"
	dockercontainer "github.com/moby/moby/api/types/container"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"
)

const (
	// Network is the Docker network (and network mode) of the containers Run starts.
	Network = "host"
	// DefaultStartupTimeout bounds ForHTTP's wait when no timeout is set.
	DefaultStartupTimeout = 60 * time.Second
	// DefaultPollInterval is the pause between two readiness probes.
	DefaultPollInterval = 100 * time.Millisecond
	// probeTimeout bounds one readiness request.
	probeTimeout = time.Second
)

var (
	// ErrNotReady is wrapped by ForHTTP's error when the server did not answer in time.
	ErrNotReady = errors.New("container not ready")
	// ErrImageNotFound is returned by Run for an image the engine does not have: Run never pulls
	// (no registry may be reachable, and a pull contacts one) unless the request asks for it
	// (testcontainers.WithAlwaysPull).
	ErrImageNotFound = errors.New("image not found in the local Docker engine")
)

// Run is testcontainers.Run for a container on the host's network: Request, then RunRequest.
// The container's servers must listen on 127.0.0.1 (the host's loopback). The image must be in
// the local engine (ErrImageNotFound otherwise): Run does not pull. As with testcontainers.Run,
// on error the container, if one was created, is returned too: terminate it.
func Run(ctx context.Context, img string, opts ...testcontainers.ContainerCustomizer) (*testcontainers.DockerContainer, error) {
	req, err := Request(img, opts...)
	if err != nil {
		return nil, err
	}
	return RunRequest(ctx, req)
}

// Request builds the request Run sends: the network mode "host" (set before opts, which may
// change more of the host config), then opts applied in order. It talks to no engine, so a test
// can inspect what a module would start.
func Request(img string, opts ...testcontainers.ContainerCustomizer) (testcontainers.GenericContainerRequest, error) {
	req := testcontainers.GenericContainerRequest{
		ContainerRequest: testcontainers.ContainerRequest{Image: img},
		Started:          true,
	}
	all := append([]testcontainers.ContainerCustomizer{
		testcontainers.WithHostConfigModifier(func(hc *dockercontainer.HostConfig) {
			hc.NetworkMode = Network
		}),
	}, opts...)
	for _, opt := range all {
		if err := opt.Customize(&req); err != nil {
			return req, fmt.Errorf("customize: %w", err)
		}
	}
	if req.Reuse {
		return req, errors.New("hostnet: container reuse is not supported")
	}
	return req, nil
}

// RunRequest creates and starts the container of req (from Request) with a provider whose
// default network is the host network, so that no bridge network is created or attached.
func RunRequest(ctx context.Context, req testcontainers.GenericContainerRequest) (*testcontainers.DockerContainer, error) {
	if req.Reuse {
		return nil, errors.New("hostnet: container reuse is not supported")
	}
	if !req.ShouldBuildImage() && !req.AlwaysPullImage {
		if err := checkLocalImage(ctx, req.Image); err != nil {
			return nil, err
		}
	}
	popts := []testcontainers.DockerProviderOption{testcontainers.WithDefaultBridgeNetwork(Network)}
	if req.Logger != nil {
		popts = append(popts, testcontainers.WithLogger(req.Logger))
	}
	p, err := testcontainers.NewDockerProvider(popts...)
	if err != nil {
		return nil, fmt.Errorf("docker provider: %w", err)
	}
	defer p.Close()
	ctr, err := p.CreateContainer(ctx, req.ContainerRequest)
	var c *testcontainers.DockerContainer
	if ctr != nil {
		c, _ = ctr.(*testcontainers.DockerContainer)
	}
	if err != nil {
		return c, fmt.Errorf("create container: %w", err)
	}
	if c == nil {
		return nil, fmt.Errorf("create container: unexpected container type %T", ctr)
	}
	if err := c.Start(ctx); err != nil {
		return c, fmt.Errorf("start container: %w", err)
	}
	return c, nil
}

func checkLocalImage(ctx context.Context, img string) error {
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return fmt.Errorf("docker client: %w", err)
	}
	defer cli.Close()
	if _, err := cli.ImageInspect(ctx, img); err != nil {
		if errdefs.IsNotFound(err) {
			return fmt.Errorf("%w: %s (build it locally, e.g. `make images`, or pull it first)", ErrImageNotFound, img)
		}
		return fmt.Errorf("inspect image %s: %w", img, err)
	}
	return nil
}

// FreePort returns a TCP port free on 127.0.0.1 now. A host-network container shares the host's
// ports, so it is free for the container too (unless something takes it in between).
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("picking a free loopback port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// HTTPStrategy waits until GET http://127.0.0.1:PORT/PATH answers 200, failing as soon as the
// container stops running. It never resolves Container.Host.
type HTTPStrategy struct {
	port         int
	path         string
	timeout      time.Duration
	pollInterval time.Duration
	client       *http.Client
}

var (
	_ wait.Strategy        = (*HTTPStrategy)(nil)
	_ wait.StrategyTimeout = (*HTTPStrategy)(nil)
)

// ForHTTP returns a strategy polling http://127.0.0.1:port + path (path starts with "/").
func ForHTTP(port int, path string) *HTTPStrategy {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil // loopback only
	return &HTTPStrategy{port: port, path: path, timeout: DefaultStartupTimeout, pollInterval: DefaultPollInterval,
		client: &http.Client{Transport: tr, Timeout: probeTimeout}}
}

// WithStartupTimeout bounds the wait (default DefaultStartupTimeout).
func (s *HTTPStrategy) WithStartupTimeout(d time.Duration) *HTTPStrategy {
	s.timeout = d
	return s
}

// WithPollInterval sets the pause between probes (default DefaultPollInterval).
func (s *HTTPStrategy) WithPollInterval(d time.Duration) *HTTPStrategy {
	s.pollInterval = d
	return s
}

// URL is the probed URL.
func (s *HTTPStrategy) URL() string {
	return "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) + s.path
}

// Timeout implements wait.StrategyTimeout.
func (s *HTTPStrategy) Timeout() *time.Duration { return &s.timeout }

// String describes the strategy in testcontainers' log.
func (s *HTTPStrategy) String() string { return "HTTP 200 from " + s.URL() }

// WaitUntilReady implements wait.Strategy.
func (s *HTTPStrategy) WaitUntilReady(ctx context.Context, target wait.StrategyTarget) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	url := s.URL()
	last := "no answer yet"
	for {
		st, err := target.State(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("%w: %s did not answer 200 within %v (last: %s)", ErrNotReady, url, s.timeout, last)
			}
			return fmt.Errorf("container state: %w", err)
		}
		if !st.Running {
			return fmt.Errorf("%w: container exited with code %d (status %q) before %s answered", ErrNotReady, st.ExitCode, st.Status, url)
		}
		status, err := s.probe(ctx, url)
		switch {
		case err == nil && status == http.StatusOK:
			return nil
		case err == nil:
			last = "status " + strconv.Itoa(status)
		case ctx.Err() != nil && last != "no answer yet":
			// The deadline cut this probe short: keep the last real answer,
			// which says more than "context deadline exceeded".
		default:
			last = err.Error()
		}
		t := time.NewTimer(s.pollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w: %s did not answer 200 within %v (last: %s)", ErrNotReady, url, s.timeout, last)
		case <-t.C:
		}
	}
}

func (s *HTTPStrategy) probe(ctx context.Context, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}

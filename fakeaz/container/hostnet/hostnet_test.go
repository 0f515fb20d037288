package hostnet_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	dockercontainer "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tcexec "github.com/testcontainers/testcontainers-go/exec"

	"github.com/mcaspec/mcaspec/fakeaz/container/hostnet"
)

func TestMain(m *testing.M) {
	// No registry is reachable for the Ryuk image; tests terminate their containers themselves.
	if _, set := os.LookupEnv("TESTCONTAINERS_RYUK_DISABLED"); !set {
		os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	}
	os.Exit(m.Run())
}

// target is a wait.StrategyTarget whose state is scripted; only State is used by ForHTTP.
type target struct {
	state func() (*dockercontainer.State, error)
}

func (t target) State(context.Context) (*dockercontainer.State, error) { return t.state() }
func (target) Host(context.Context) (string, error) {
	return "", errors.New("Host must not be called: it may answer a non-loopback address")
}
func (target) Inspect(context.Context) (*dockercontainer.InspectResponse, error) { return nil, nil }
func (target) Ports(context.Context) (network.PortMap, error)                    { return nil, nil }
func (target) MappedPort(context.Context, string) (network.Port, error) {
	return network.Port{}, errors.New("MappedPort must not be called")
}
func (target) Logs(context.Context) (io.ReadCloser, error) { return nil, nil }
func (target) Exec(context.Context, []string, ...tcexec.ProcessOption) (int, io.Reader, error) {
	return 0, nil, nil
}
func (target) CopyFileFromContainer(context.Context, string) (io.ReadCloser, error) { return nil, nil }

func running() (*dockercontainer.State, error) { return &dockercontainer.State{Running: true}, nil }

func TestForHTTP(t *testing.T) {
	t.Parallel()
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(ok.Close)
	okPort := ok.Listener.Addr().(*net.TCPAddr).Port
	closedPort, err := hostnet.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		port    int
		path    string
		state   func() (*dockercontainer.State, error)
		wantErr string // "" = ready
		notRdy  bool   // error wraps ErrNotReady
	}{
		{"ready", okPort, "/healthz", running, "", false},
		{"404 until the deadline", okPort, "/missing", running, "last: status 404", true},
		{"nothing listening", closedPort, "/healthz", running, "did not answer 200 within 500ms", true},
		{"container exited", okPort, "/healthz", func() (*dockercontainer.State, error) {
			return &dockercontainer.State{Status: "exited", ExitCode: 3}, nil
		}, "container exited with code 3", true},
		{"state unknown", okPort, "/healthz", func() (*dockercontainer.State, error) {
			return nil, errors.New("engine gone")
		}, "engine gone", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := hostnet.ForHTTP(tt.port, tt.path).WithStartupTimeout(500 * time.Millisecond).WithPollInterval(20 * time.Millisecond)
			if want := "http://127.0.0.1:" + strconv.Itoa(tt.port) + tt.path; s.URL() != want {
				t.Fatalf("URL() = %q, want %q", s.URL(), want)
			}
			start := time.Now()
			err := s.WaitUntilReady(t.Context(), target{state: tt.state})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("WaitUntilReady: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("WaitUntilReady = %v, want an error containing %q", err, tt.wantErr)
			}
			if errors.Is(err, hostnet.ErrNotReady) != tt.notRdy {
				t.Errorf("errors.Is(%v, ErrNotReady) = %v, want %v", err, !tt.notRdy, tt.notRdy)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("WaitUntilReady took %v with a 500ms timeout", d)
			}
		})
	}
}

// Run creates no network and puts the container on the host's network only.
func TestRunUsesTheHostNetworkOnly(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	img := os.Getenv("MCASPEC_FAKEAZ_IMAGE")
	if img == "" {
		img = "mcaspec/fakeaz:dev"
	}
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err == nil {
		defer cli.Close()
		_, err = cli.ImageInspect(ctx, img)
	}
	if err != nil {
		if os.Getenv("MCASPEC_DOCKER_REQUIRED") == "1" {
			t.Fatalf("needs a Docker engine (.ci/docker-up.sh) and the image %s (make images): %v", img, err)
		}
		t.Skipf("needs a Docker engine (.ci/docker-up.sh) and the image %s (make images): %v", img, err)
	}
	// A missing image is reported, never pulled.
	if c, err := hostnet.Run(ctx, "mcaspec/does-not-exist:never"); !errors.Is(err, hostnet.ErrImageNotFound) || c != nil {
		t.Errorf("Run with a missing image = %v, %v; want ErrImageNotFound and no container", c, err)
	}
	before, err := cli.NetworkList(ctx, client.NetworkListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	port, err := hostnet.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	c, err := hostnet.Run(ctx, img,
		testcontainers.WithCmd("fakeaz", "--listen", "127.0.0.1:"+strconv.Itoa(port)),
		testcontainers.WithWaitStrategy(hostnet.ForHTTP(port, "/admin/").WithStartupTimeout(20*time.Second)))
	testcontainers.CleanupContainer(t, c, testcontainers.StopTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	in, err := c.Inspect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if in.HostConfig.NetworkMode != hostnet.Network {
		t.Errorf("NetworkMode = %q, want host", in.HostConfig.NetworkMode)
	}
	for name := range in.NetworkSettings.Networks {
		if name != hostnet.Network {
			t.Errorf("container attached to network %q", name)
		}
	}
	after, err := cli.NetworkList(ctx, client.NetworkListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Items) != len(before.Items) {
		t.Errorf("networks before Run: %d, after: %d; Run must create none", len(before.Items), len(after.Items))
	}
}

// Request needs no engine: the host network mode comes first, the caller's options after it.
func TestRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		opts     []testcontainers.ContainerCustomizer
		wantMode string
		wantErr  string
	}{
		{"host network", []testcontainers.ContainerCustomizer{testcontainers.WithCmd("serve")}, hostnet.Network, ""},
		{"an option may change the host config further", []testcontainers.ContainerCustomizer{
			testcontainers.WithHostConfigModifier(func(hc *dockercontainer.HostConfig) { hc.Privileged = false })}, hostnet.Network, ""},
		{"reuse refused", []testcontainers.ContainerCustomizer{testcontainers.WithReuseByName("x")}, "", "reuse is not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, err := hostnet.Request("img:test", tt.opts...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Request = %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var hc dockercontainer.HostConfig
			if req.HostConfigModifier == nil {
				t.Fatal("no host config modifier: the network mode is not set")
			}
			req.HostConfigModifier(&hc)
			if string(hc.NetworkMode) != tt.wantMode || req.Image != "img:test" || !req.Started {
				t.Errorf("network mode %q, image %q, started %v; want %q, img:test, started", hc.NetworkMode, req.Image, req.Started, tt.wantMode)
			}
		})
	}
}

package container

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/mcaspec/mcaspec/fakeaz"
	"github.com/mcaspec/mcaspec/fakeaz/container/hostnet"
)

// These tests inspect the request Run would send, without a Docker engine: the bridge path
// cannot run on the machines this project is tested on (Docker's bridge is off there).

// flagValue returns the value after flag in cmd, and whether the flag is there.
func flagValue(cmd []string, flag string) (string, bool) {
	i := slices.Index(cmd, flag)
	if i < 0 || i+1 >= len(cmd) {
		return "", false
	}
	return cmd[i+1], true
}

// strategies returns the wait strategies of the request (WithWaitStrategyAndDeadline wraps them).
func strategies(t *testing.T, req testcontainers.GenericContainerRequest) []wait.Strategy {
	t.Helper()
	ms, ok := req.WaitingFor.(*wait.MultiStrategy)
	if !ok {
		t.Fatalf("WaitingFor is %T, want the module's *wait.MultiStrategy", req.WaitingFor)
	}
	return ms.Strategies
}

func TestRequestOnTheBridgeNetwork(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		opts        []testcontainers.ContainerCustomizer
		wantExposed string
		wantPublic  string
	}{
		{"defaults", nil, "9080/tcp", PublicURLFromRequest},
		{"fixed host port", []testcontainers.ContainerCustomizer{WithPort(19080)}, "19080:9080/tcp", PublicURLFromRequest},
		{"public URL", []testcontainers.ContainerCustomizer{WithPublicURL("http://fakeaz:9080/imf-authserver/")}, "9080/tcp", "http://fakeaz:9080/imf-authserver"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := newRequest(DefaultImage, tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			req := r.req
			if req.Image != DefaultImage || !req.Started {
				t.Errorf("image %q started %v, want %q started", req.Image, req.Started, DefaultImage)
			}
			if m := networkMode(req); m != "" {
				t.Errorf("network mode %q, want the engine's default (bridge)", m)
			}
			if len(req.Networks) != 0 {
				t.Errorf("networks %v, want none (the default bridge)", req.Networks)
			}
			if !slices.Equal(req.ExposedPorts, []string{tt.wantExposed}) {
				t.Errorf("exposed ports %v, want [%s]", req.ExposedPorts, tt.wantExposed)
			}
			if l, _ := flagValue(req.Cmd, "--listen"); l != "0.0.0.0:"+strconv.Itoa(ContainerPort) {
				t.Errorf("cmd %q: --listen %q, want 0.0.0.0:%d", req.Cmd, l, ContainerPort)
			}
			if p, _ := flagValue(req.Cmd, "--public-url"); p != tt.wantPublic {
				t.Errorf("cmd %q: --public-url %q, want %q", req.Cmd, p, tt.wantPublic)
			}

			// A generated admin token, passed in the environment and sent by the readiness probe.
			if len(r.adminToken) < 20 {
				t.Fatalf("admin token %q: want a generated secret", r.adminToken)
			}
			if got := req.Env[AdminTokenEnv]; got != r.adminToken {
				t.Errorf("env %s = %q, want the admin token %q", AdminTokenEnv, got, r.adminToken)
			}
			ss := strategies(t, req)
			hs, ok := ss[0].(*wait.HTTPStrategy)
			if len(ss) != 1 || !ok {
				t.Fatalf("wait strategies %v, want one wait.HTTPStrategy", ss)
			}
			if hs.Port.String() != strconv.Itoa(ContainerPort)+"/tcp" || hs.Path != readyPath {
				t.Errorf("readiness probe %s on %s, want %s on 9080/tcp (mapped)", hs.Path, hs.Port, readyPath)
			}
			if got := hs.Headers["Authorization"]; got != "Bearer "+r.adminToken {
				t.Errorf("readiness probe Authorization %q, want the admin token", got)
			}
			if r.opts.hostNetwork {
				t.Error("host network set without WithHostNetwork")
			}
		})
	}
}

func TestRequestAdminTokenPerContainer(t *testing.T) {
	t.Parallel()
	a, err := newRequest(DefaultImage)
	if err != nil {
		t.Fatal(err)
	}
	b, err := newRequest(DefaultImage)
	if err != nil {
		t.Fatal(err)
	}
	if a.adminToken == b.adminToken {
		t.Errorf("two containers got the same admin token %q", a.adminToken)
	}
}

func TestRequestOnTheHostNetwork(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		opts       []testcontainers.ContainerCustomizer
		wantPort   int // 0: any free port
		wantPublic string
	}{
		{"free port", []testcontainers.ContainerCustomizer{WithHostNetwork()}, 0, ""},
		{"fixed port", []testcontainers.ContainerCustomizer{WithHostNetwork(), WithPort(19081)}, 19081, ""},
		{"public URL", []testcontainers.ContainerCustomizer{WithPublicURL("http://az.test:80/imf-authserver"), WithHostNetwork()}, 0, "http://az.test:80/imf-authserver"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := newRequest(DefaultImage, tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			req := r.req
			if m := networkMode(req); string(m) != hostnet.Network {
				t.Errorf("network mode %q, want %q", m, hostnet.Network)
			}
			if len(req.ExposedPorts) != 0 {
				t.Errorf("exposed ports %v, want none on the host network", req.ExposedPorts)
			}
			if r.opts.port == 0 || (tt.wantPort != 0 && r.opts.port != tt.wantPort) {
				t.Errorf("port %d, want %d (0: any free one)", r.opts.port, tt.wantPort)
			}
			if l, _ := flagValue(req.Cmd, "--listen"); l != "127.0.0.1:"+strconv.Itoa(r.opts.port) {
				t.Errorf("cmd %q: --listen %q, want 127.0.0.1:%d", req.Cmd, l, r.opts.port)
			}
			p, set := flagValue(req.Cmd, "--public-url")
			if tt.wantPublic == "" && set || p != tt.wantPublic {
				t.Errorf("cmd %q: --public-url %q (set %v), want %q", req.Cmd, p, set, tt.wantPublic)
			}
			if r.adminToken != "" || req.Env[AdminTokenEnv] != "" {
				t.Errorf("admin token %q, env %v: want none on loopback", r.adminToken, req.Env)
			}
			ss := strategies(t, req)
			hs, ok := ss[0].(*hostnet.HTTPStrategy)
			if len(ss) != 1 || !ok {
				t.Fatalf("wait strategies %v, want one hostnet.HTTPStrategy", ss)
			}
			if want := "http://127.0.0.1:" + strconv.Itoa(r.opts.port) + readyPath; hs.URL() != want {
				t.Errorf("readiness probe %s, want %s", hs.URL(), want)
			}
		})
	}
}

func TestRequestSettingsAndOverrides(t *testing.T) {
	t.Parallel()
	cfg := fakeaz.Config{Apps: []fakeaz.App{{ID: "0b5b5a8c-6a7d-4c36-9a3e-2f0e4b8a1c11"}}}
	r, err := newRequest(DefaultImage, WithConfig(cfg), WithQuiet(), WithTokenLifetime(90*time.Second),
		WithCodeLifetime(time.Minute), testcontainers.WithEnv(map[string]string{"EXTRA": "1"}))
	if err != nil {
		t.Fatal(err)
	}
	cmd := strings.Join(r.req.Cmd, " ")
	for _, want := range []string{"--config " + ConfigPath, "--quiet", "--token-lifetime 1m30s", "--code-lifetime 1m0s"} {
		if !strings.Contains(cmd, want) {
			t.Errorf("cmd %q lacks %q", cmd, want)
		}
	}
	if len(r.req.Files) != 1 || r.req.Files[0].ContainerFilePath != ConfigPath {
		t.Errorf("files %+v, want the config at %s", r.req.Files, ConfigPath)
	}
	if r.req.Env["EXTRA"] != "1" || r.req.Env[AdminTokenEnv] != r.adminToken {
		t.Errorf("env %v: a user's WithEnv must add to the module's", r.req.Env)
	}

	// A customizer given to Run comes after the module's defaults.
	r, err = newRequest(DefaultImage, testcontainers.WithCmd("fakeaz", "--listen", "0.0.0.0:9080", "--quiet"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(r.req.Cmd, " "); got != "fakeaz --listen 0.0.0.0:9080 --quiet" {
		t.Errorf("cmd %q, want the caller's", got)
	}
}

// The admin client sends the admin token, through a copy of the caller's client.
func TestAdminClientSendsTheToken(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{}`))
	}))
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		t.Fatal(err)
	}

	own := &http.Client{Timeout: 5 * time.Second}
	tests := []struct {
		name  string
		hc    *http.Client
		token string
		want  string
	}{
		{"bridge, default client", nil, "s3cret", "Bearer s3cret"},
		{"bridge, caller's client", own, "s3cret", "Bearer s3cret"},
		{"host network", nil, "", ""},
	}
	for _, tt := range tests {
		c := &Container{host: u.Hostname(), port: port, adminToken: tt.token, hc: adminHTTP(tt.hc)}
		if _, err := c.Stats(t.Context()); err != nil {
			t.Fatalf("%s: Stats: %v", tt.name, err)
		}
		mu.Lock()
		last := got[len(got)-1]
		mu.Unlock()
		if last != tt.want {
			t.Errorf("%s: Authorization %q, want %q", tt.name, last, tt.want)
		}
		if c.AdminToken() != tt.token {
			t.Errorf("%s: AdminToken() = %q, want %q", tt.name, c.AdminToken(), tt.token)
		}
	}
	if own.Transport != nil {
		t.Errorf("the caller's client was changed: Transport %T", own.Transport)
	}
}

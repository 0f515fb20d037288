// Package launch starts a target under test as a child process following
// the target contract (docs/TARGET-CONTRACT.md): it passes the contract's
// environment, waits for GET /healthz, keeps the tail of the output, and
// stops the whole process group.
package launch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Defaults.
const (
	// DefaultReadyTimeout bounds the wait for /healthz (npm targets can be slow to start).
	DefaultReadyTimeout = 60 * time.Second
	// StopGrace is how long Stop waits after SIGTERM before SIGKILL.
	StopGrace = 5 * time.Second
	// LogTailBytes is how much output a Process keeps.
	LogTailBytes = 64 << 10
)

// DefaultHost is the HOST a target is given when Contract.Host is empty.
const DefaultHost = "127.0.0.1"

// Contract is what the harness gives a target.
type Contract struct {
	ServerURL string // MCA_SERVER_URL: the AZ serverUrl
	// Issuer is MCA_ISSUER, the exact iss of the AZ's tokens
	// ("{serverUrl}/authorization/" for fakeaz); "" = not passed.
	Issuer   string
	AppID    string // MCA_APP_ID (also VCAP tenantId and application_id)
	ClientID string // MCA_CLIENT_ID: the target's service client (optional)
	Secret   string // MCA_SECRET (optional)
	Backend  bool   // MCA_MODE=backend: the app id comes from the env only
	// Host is HOST, the address the target listens on; "" = DefaultHost.
	// 0.0.0.0 makes it reachable from the network (a container on a bridge).
	Host string
	// DownstreamHosts is MCA_DOWNSTREAM_HOSTS, the hosts /propagate and
	// /service-call may call (comma-separated host[:port]); "" = not passed,
	// loopback only.
	DownstreamHosts string
	// Web is the web sign-in part of the contract (nil: a bearer target).
	Web   *Web
	Extra map[string]string // more environment, e.g. LOG_LEVEL
}

// Web is what a web sign-in target (a website using the authorization-code
// flow, e.g. MCAWebSiteStrategy) is given beside the bearer contract.
type Web struct {
	ClientID              string // MCA_WEB_CLIENT_ID (VCAP clientId)
	Secret                string // MCA_WEB_SECRET (VCAP secret)
	AuthorizationEndpoint string // MCA_AUTHORIZATION_ENDPOINT: an absolute URL at the AZ
	TokenEndpoint         string // MCA_TOKEN_ENDPOINT: an absolute URL at the AZ
	// CallbackURL is MCA_CALLBACK_URL, the target's own /web/callback URL
	// as the browser reaches it (computed by the harness).
	CallbackURL string
}

// Env returns the contract's environment for a target listening on port
// (HOST is always set, DefaultHost when Contract.Host is empty).
func (c Contract) Env(port int) []string {
	creds := map[string]string{"serverUrl": c.ServerURL, "tenantId": c.AppID, "clientId": c.ClientID, "secret": c.Secret}
	if c.Web != nil {
		// What MCAWebSiteStrategy reads: the web client replaces the service client.
		creds["clientId"], creds["secret"] = c.Web.ClientID, c.Web.Secret
		creds["authorizationEndpoint"], creds["tokenEndpoint"] = c.Web.AuthorizationEndpoint, c.Web.TokenEndpoint
	}
	vs, _ := json.Marshal(map[string]any{"AdvancedMobileAccess": []any{map[string]any{
		"name": "AdvancedMobileAccess-mcaspec", "label": "AdvancedMobileAccess", "credentials": creds}}})
	va, _ := json.Marshal(map[string]string{"application_id": c.AppID})
	host := c.Host
	if host == "" {
		host = DefaultHost
	}
	env := []string{
		"HOST=" + host,
		"PORT=" + strconv.Itoa(port),
		"MCA_SERVER_URL=" + c.ServerURL,
		"MCA_APP_ID=" + c.AppID,
		"MCA_CLIENT_ID=" + c.ClientID,
		"MCA_SECRET=" + c.Secret,
		"VCAP_SERVICES=" + string(vs),
		"VCAP_APPLICATION=" + string(va),
	}
	if c.Issuer != "" {
		env = append(env, "MCA_ISSUER="+c.Issuer)
	}
	if c.Backend {
		env = append(env, "MCA_MODE=backend")
	}
	if c.DownstreamHosts != "" {
		env = append(env, "MCA_DOWNSTREAM_HOSTS="+c.DownstreamHosts)
	}
	if w := c.Web; w != nil {
		env = append(env,
			"MCA_WEB_CLIENT_ID="+w.ClientID,
			"MCA_WEB_SECRET="+w.Secret,
			"MCA_AUTHORIZATION_ENDPOINT="+w.AuthorizationEndpoint,
			"MCA_TOKEN_ENDPOINT="+w.TokenEndpoint,
			"MCA_CALLBACK_URL="+w.CallbackURL)
	}
	for k, v := range c.Extra {
		env = append(env, k+"="+v)
	}
	return env
}

// EnvMap is Env as a map.
func (c Contract) EnvMap(port int) map[string]string {
	m := map[string]string{}
	for _, kv := range c.Env(port) {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

// Options tune Start.
type Options struct {
	Dir          string        // working directory of the command
	ReadyTimeout time.Duration // 0: DefaultReadyTimeout
	Output       io.Writer     // a copy of the target's output (optional)
	Port         int           // 0: a free loopback port
}

// Process is a running target.
type Process struct {
	cmd      *exec.Cmd
	url      string
	tail     *tailBuffer
	done     chan struct{}
	waitErr  error
	stopOnce sync.Once
	stopErr  error
}

// ErrNotReady is wrapped when the target did not become healthy.
var ErrNotReady = errors.New("target not ready")

// Start runs command through "sh -c" with the contract's environment and
// waits until it answers GET /healthz with 200.
func Start(ctx context.Context, command string, c Contract, o Options) (*Process, error) {
	port := o.Port
	if port == 0 {
		var err error
		if port, err = FreePort(); err != nil {
			return nil, err
		}
	}
	p := &Process{url: "http://" + net.JoinHostPort(DialHost(c.Host), strconv.Itoa(port)), tail: &tailBuffer{max: LogTailBytes}, done: make(chan struct{})}
	p.cmd = exec.Command("sh", "-c", command)
	p.cmd.Dir = o.Dir
	p.cmd.Env = append(os.Environ(), c.Env(port)...)
	var out io.Writer = p.tail
	if o.Output != nil {
		out = io.MultiWriter(p.tail, o.Output)
	}
	p.cmd.Stdout, p.cmd.Stderr = out, out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %q: %w", command, err)
	}
	go func() { p.waitErr = p.cmd.Wait(); close(p.done) }()
	timeout := o.ReadyTimeout
	if timeout <= 0 {
		timeout = DefaultReadyTimeout
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := p.waitHealthy(rctx); err != nil {
		_ = p.Stop()
		return nil, fmt.Errorf("%w: %q: %v\n--- target output (tail) ---\n%s", ErrNotReady, command, err, p.LogTail())
	}
	return p, nil
}

func (p *Process) waitHealthy(ctx context.Context) error {
	for {
		select {
		case <-p.done:
			return fmt.Errorf("the process exited before /healthz answered (%v)", p.waitErr)
		default:
		}
		if healthy(ctx, p.url) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no 200 from %s/healthz: %w", p.url, ctx.Err())
		case <-p.done:
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func healthy(ctx context.Context, base string) bool {
	rctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, base+"/healthz", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// WaitHealthy polls baseURL/healthz until it answers 200 or timeout passes.
func WaitHealthy(ctx context.Context, baseURL string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for !healthy(ctx, baseURL) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: no 200 from %s/healthz within %s", ErrNotReady, baseURL, timeout)
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil
}

// URL is the target's base URL.
func (p *Process) URL() string { return p.url }

// PID is the process id (of the shell that runs the command, the process group leader).
func (p *Process) PID() int { return p.cmd.Process.Pid }

// LogTail returns the last LogTailBytes of output.
func (p *Process) LogTail() string { return p.tail.String() }

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Done is closed when the process has ended (by itself or after Stop).
func (p *Process) Done() <-chan struct{} { return p.done }

// Stop sends SIGTERM to the process group, then SIGKILL after StopGrace.
func (p *Process) Stop() error {
	p.stopOnce.Do(func() {
		pgid := -p.cmd.Process.Pid
		_ = syscall.Kill(pgid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(StopGrace):
			_ = syscall.Kill(pgid, syscall.SIGKILL)
			<-p.done
		}
	})
	return p.stopErr
}

// DialHost is the host a client on this machine dials to reach a target
// listening on HOST=host: 127.0.0.1 for "", localhost and 0.0.0.0 (every
// interface), ::1 for ::, else host itself.
func DialHost(host string) string {
	h := strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	switch h {
	case "", "localhost", "0.0.0.0":
		return DefaultHost
	case "::":
		return "::1"
	}
	return h
}

// FreePort returns a free TCP port on 127.0.0.1.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (t *tailBuffer) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if len(t.buf) > t.max {
		t.buf = append([]byte(nil), t.buf[len(t.buf)-t.max:]...)
	}
	return len(b), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

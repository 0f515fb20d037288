// Package launch starts a target under test as a child process following
// the target contract (docs/TARGET-CONTRACT.md): it passes the contract's
// environment, waits for GET /healthz, keeps the tail of the output, and
// stops the whole process group.
package launch

import (
	"context"
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
	"time"

	"github.com/mcaspec/mcaspec/contract"
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
const DefaultHost = contract.DefaultHost

// Contract is what the harness gives a target (contract.Contract).
type Contract = contract.Contract

// Web is the web sign-in part of a Contract (contract.Web).
type Web = contract.Web

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
	p.cmd = shellCommand(command)
	p.cmd.Dir = o.Dir
	p.cmd.Env = append(os.Environ(), c.Env(port)...)
	var out io.Writer = p.tail
	if o.Output != nil {
		out = io.MultiWriter(p.tail, o.Output)
	}
	p.cmd.Stdout, p.cmd.Stderr = out, out
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
		return nil, fmt.Errorf("%w: %q: %w\n--- target output (tail) ---\n%s", ErrNotReady, command, err, p.LogTail())
	}
	return p, nil
}

func (p *Process) waitHealthy(ctx context.Context) error {
	for {
		select {
		case <-p.done:
			return fmt.Errorf("the process exited before /healthz answered (%w)", p.waitErr)
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
		terminate(p.cmd)
		select {
		case <-p.done:
		case <-time.After(StopGrace):
			kill(p.cmd)
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

// Package container runs a target under test from a container image, following the target
// contract (docs/TARGET-CONTRACT.md) as targets/launch does for a command: the contract's
// environment (HOST = 127.0.0.1 unless the Contract sets another, PORT = a free loopback port),
// GET /healthz until 200, the output kept for the report. The container runs with host
// networking (fakeaz/container/hostnet): the target listens on $HOST:$PORT of this machine
// (HOST must include loopback: 127.0.0.1, or 0.0.0.0 for every interface) and reaches the AZ at
// its loopback serverUrl, so a Docker engine on the same machine is needed.
//
//	t, err := container.Start(ctx, "mcaspec/reference:dev", launch.Contract{ServerURL: az, AppID: app}, container.Options{})
//	defer t.Terminate(context.Background())
//	// t.URL() is http://127.0.0.1:PORT
package container

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/testcontainers/testcontainers-go"

	"github.com/mcaspec/mcaspec/fakeaz/container/hostnet"
	"github.com/mcaspec/mcaspec/targets/launch"
)

const (
	// HealthPath is polled until it answers 200 (the contract's readiness route).
	HealthPath = "/healthz"
	// DefaultStopTimeout is how long Terminate waits after SIGTERM before the engine kills the
	// container (launch.StopGrace, as for a process).
	DefaultStopTimeout = launch.StopGrace
	// cleanupTimeout bounds reading the logs and removing a container that failed to start.
	cleanupTimeout = 30 * time.Second
)

// Options tune Start.
type Options struct {
	// Port is the loopback port the target listens on (PORT); 0: a free one is picked.
	Port int
	// ReadyTimeout bounds the wait for /healthz; 0: launch.DefaultReadyTimeout.
	ReadyTimeout time.Duration
	// Output receives a copy of the container's stdout and stderr (optional); Logs returns
	// them anyway.
	Output io.Writer
	// Cmd replaces the image's CMD (optional).
	Cmd []string
	// Customizers are applied after Start's own settings (e.g. testcontainers.WithName).
	// Do not change the network mode: the contract needs the host's loopback.
	Customizers []testcontainers.ContainerCustomizer
}

// Target is a running target container.
type Target struct {
	ctr  *testcontainers.DockerContainer
	port int

	mu         sync.Mutex
	terminated bool
	termErr    error
}

// Start runs image with host networking and the contract's environment for a loopback port
// (HOST=127.0.0.1 when c.Host is empty), and waits until GET http://127.0.0.1:PORT/healthz answers 200. If the container exits or is
// not ready in time, Start removes it and returns an error wrapping launch.ErrNotReady with the
// tail of its logs.
func Start(ctx context.Context, image string, c launch.Contract, o Options) (*Target, error) {
	if image == "" {
		return nil, errors.New("target image: no image given (e.g. mcaspec/reference:dev, built by `make images`)")
	}
	port := o.Port
	if port == 0 {
		p, err := launch.FreePort()
		if err != nil {
			return nil, fmt.Errorf("target image %s: %w", image, err)
		}
		port = p
	}
	timeout := o.ReadyTimeout
	if timeout <= 0 {
		timeout = launch.DefaultReadyTimeout
	}
	env, err := envMap(c.Env(port))
	if err != nil {
		return nil, fmt.Errorf("target image %s: %w", image, err)
	}
	opts := []testcontainers.ContainerCustomizer{
		testcontainers.WithEnv(env),
		testcontainers.WithWaitStrategyAndDeadline(timeout+5*time.Second,
			hostnet.ForHTTP(port, HealthPath).WithStartupTimeout(timeout)),
	}
	if len(o.Cmd) > 0 {
		opts = append(opts, testcontainers.WithCmd(o.Cmd...))
	}
	if o.Output != nil {
		opts = append(opts, testcontainers.WithLogConsumers(&writerConsumer{w: o.Output}))
	}
	opts = append(opts, o.Customizers...)

	ctr, err := hostnet.Run(ctx, image, opts...)
	if err != nil {
		tail := ""
		if ctr != nil {
			// Clean up even when ctx is done, within a bound.
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
			t := &Target{ctr: ctr, port: port}
			if logs, lerr := t.Logs(cctx); lerr == nil {
				tail = logs
			}
			if terr := t.Terminate(cctx); terr != nil {
				err = errors.Join(err, terr)
			}
			cancel()
		}
		return nil, fmt.Errorf("%w: target image %s on 127.0.0.1:%d: %w%s", launch.ErrNotReady, image, port, err, formatTail(tail))
	}
	return &Target{ctr: ctr, port: port}, nil
}

// envMap turns KEY=VALUE entries into a map (the last one of a key wins, as in a process).
func envMap(kvs []string) (map[string]string, error) {
	m := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("contract environment entry %q is not KEY=VALUE", kv)
		}
		m[k] = v
	}
	return m, nil
}

func formatTail(tail string) string {
	tail = strings.TrimSpace(tail)
	if tail == "" {
		return " (no output)"
	}
	const max = 4 << 10
	if len(tail) > max {
		tail = "..." + tail[len(tail)-max:]
	}
	return "\n--- target output (tail) ---\n" + tail
}

// URL returns http://127.0.0.1:PORT.
func (t *Target) URL() string { return fmt.Sprintf("http://127.0.0.1:%d", t.port) }

// Port returns the loopback port the target listens on.
func (t *Target) Port() int { return t.port }

// Container returns the underlying testcontainers container.
func (t *Target) Container() *testcontainers.DockerContainer { return t.ctr }

// Logs returns the container's stdout and stderr so far, at most the last launch.LogTailBytes.
func (t *Target) Logs(ctx context.Context) (string, error) {
	rc, err := t.ctr.Logs(ctx)
	if err != nil {
		return "", fmt.Errorf("target container logs: %w", err)
	}
	defer rc.Close()
	var tw tailWriter
	tw.max = launch.LogTailBytes
	if _, err := io.Copy(&tw, rc); err != nil {
		return tw.String(), fmt.Errorf("target container logs: %w", err)
	}
	return tw.String(), nil
}

// Terminate stops the container (SIGTERM, then SIGKILL after DefaultStopTimeout) and removes it.
// It is idempotent: later calls return the first call's result.
func (t *Target) Terminate(ctx context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.terminated {
		return t.termErr
	}
	t.terminated = true
	if err := t.ctr.Terminate(ctx, testcontainers.StopTimeout(DefaultStopTimeout)); err != nil {
		t.termErr = fmt.Errorf("terminate target container: %w", err)
	}
	return t.termErr
}

// tailWriter keeps the last max bytes written.
type tailWriter struct {
	max int
	buf []byte
}

func (w *tailWriter) Write(p []byte) (int, error) {
	n := len(p)
	if len(p) >= w.max {
		w.buf = append(w.buf[:0], p[len(p)-w.max:]...)
		return n, nil
	}
	if over := len(w.buf) + len(p) - w.max; over > 0 {
		w.buf = append(w.buf[:0], w.buf[over:]...)
	}
	w.buf = append(w.buf, p...)
	return n, nil
}

func (w *tailWriter) String() string { return string(w.buf) }

// writerConsumer copies container output to a writer (testcontainers calls Accept from one
// goroutine per container).
type writerConsumer struct{ w io.Writer }

func (c *writerConsumer) Accept(l testcontainers.Log) { _, _ = c.w.Write(l.Content) }

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/mcaspec/mcaspec/internal/downstream"
	"github.com/mcaspec/mcaspec/internal/listen"
	"github.com/mcaspec/mcaspec/reference/target"
)

func runReference(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("reference", "Runs the reference target: an HTTP server protected by the reference MCA validator,\n"+
		"following the target contract (docs/TARGET-CONTRACT.md). Configuration comes from the\n"+
		"environment (HOST, PORT, MCA_SERVER_URL, MCA_ISSUER, MCA_APP_ID, MCA_CLIENT_ID, MCA_SECRET, MCA_MODE,\n"+
		"MCA_DOWNSTREAM_HOSTS, VCAP_SERVICES, VCAP_APPLICATION); flags override it. Prints its URL;\n"+
		"runs until interrupted.", stderr)
	listenAddr := fs.String("listen", "", "listen address host:port (default $HOST:$PORT, HOST defaulting to 127.0.0.1 and PORT to 0); 0.0.0.0:PORT listens on every interface")
	serverURL := fs.String("server-url", "", "AZ serverUrl (overrides MCA_SERVER_URL)")
	appID := fs.String("app-id", "", "app id (overrides MCA_APP_ID)")
	clientID := fs.String("client-id", "", "service client id (overrides MCA_CLIENT_ID)")
	secret := fs.String("secret", "", "service secret (overrides MCA_SECRET)")
	backend := fs.Bool("backend", false, "backend mode: the app id comes from --app-id / MCA_APP_ID / VCAP, not the URL")
	downstreamHosts := fs.String("downstream-hosts", "", "comma-separated host[:port] that propagate and service-call may call (overrides MCA_DOWNSTREAM_HOSTS; default loopback only)")
	timeout := fs.Duration("downstream-timeout", target.DefaultDownstreamTimeout, "timeout of propagate and service-call downstream requests")
	verbose := fs.Bool("v", false, "log rejections and key fetch failures to stderr")
	cacheSize := fs.Int("cache-size", 0, "size of each validator cache (0: the default, reference.DefaultCacheSize; negative: no cache)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	getenv := func(k string) string {
		switch {
		case k == "MCA_SERVER_URL" && *serverURL != "":
			return *serverURL
		case k == "MCA_APP_ID" && *appID != "":
			return *appID
		case k == "MCA_CLIENT_ID" && *clientID != "":
			return *clientID
		case k == "MCA_SECRET" && *secret != "":
			return *secret
		case k == "MCA_MODE" && *backend:
			return target.ModeBackend
		case k == downstream.Env && *downstreamHosts != "":
			return *downstreamHosts
		case (k == "HOST" || k == "PORT") && *listenAddr != "":
			return "" // --listen wins; a bad HOST or PORT is then irrelevant
		}
		return os.Getenv(k)
	}
	cfg, err := target.ConfigFromEnv(getenv)
	if err != nil {
		if errors.Is(err, target.ErrNoServerURL) {
			return fmt.Errorf("%w: %w (or pass --server-url)", errUsage, err)
		}
		if errors.Is(err, target.ErrConfig) {
			return fmt.Errorf("%w: %w", errUsage, err)
		}
		return err
	}
	if *listenAddr != "" {
		cfg.Listen = *listenAddr
	}
	cfg.DownstreamTimeout = *timeout
	if *cacheSize != 0 {
		cfg.Validator.CacheSize = *cacheSize
	}
	if *verbose {
		cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	s, err := target.New(cfg)
	if err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	return serveUntilDone(ctx, s, "reference target", cfg.Listen, stdout, stderr)
}

// listenServer is a server a command starts and runs until interrupted.
type listenServer interface {
	Start(addr string) error
	Addr() string // where it listens, once started
	URL() string
	Close() error
}

// serveUntilDone starts s at addr (a bad address is a usage error), warns
// on stderr when it listens beyond loopback, prints its URL on stdout and
// runs until ctx ends.
func serveUntilDone(ctx context.Context, s listenServer, name, addr string, stdout, stderr io.Writer) error {
	if err := s.Start(addr); err != nil {
		if errors.Is(err, listen.ErrAddr) {
			return fmt.Errorf("%w: --listen / HOST:PORT: %w", errUsage, err)
		}
		return err
	}
	if line := listen.Exposure(name, s.Addr()); line != "" {
		fmt.Fprintln(stderr, line)
	}
	fmt.Fprintln(stdout, s.URL())
	<-ctx.Done()
	return s.Close()
}

package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/mcaspec/mcaspec/reference/target"
	"github.com/mcaspec/mcaspec/reference/webrp"
)

func runReferenceWeb(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("reference-web", "Runs the reference web RP: a website signing users in with the authorization-code flow\n"+
		"at an MCA AZ, following the web target contract (docs/TARGET-CONTRACT.md, Web sign-in targets).\n"+
		"Configuration comes from the environment (HOST, PORT, MCA_SERVER_URL, MCA_APP_ID,\n"+
		"MCA_WEB_CLIENT_ID, MCA_WEB_SECRET, MCA_AUTHORIZATION_ENDPOINT, MCA_TOKEN_ENDPOINT,\n"+
		"MCA_CALLBACK_URL, VCAP_SERVICES). Prints its URL; runs until interrupted.", stderr)
	listenAddr := fs.String("listen", "", "listen address host:port (default $HOST:$PORT, HOST defaulting to 127.0.0.1 and PORT to 0)")
	verbose := fs.Bool("v", false, "log refused sign-ins to stderr")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := webrp.ConfigFromEnv(os.Getenv)
	if err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	addr := *listenAddr
	if addr == "" {
		if addr, err = target.ListenFromEnv(os.Getenv); err != nil {
			return fmt.Errorf("%w: %w", errUsage, err)
		}
		if addr == "" {
			addr = "127.0.0.1:0"
		}
	}
	if *verbose {
		cfg.Logger = slog.New(slog.NewTextHandler(stderr, nil))
	}
	rp, err := webrp.New(cfg)
	if err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	return serveUntilDone(ctx, rp, "reference web RP", addr, stdout, stderr)
}

// Command gojwt is the mcaspec target of the generic Go JWT libraries
// (targets/README.md): golang-jwt/jwt/v5 with MicahParks/keyfunc/v3,
// coreos/go-oidc/v3 and lestrrat-go/jwx/v3, each validating App ID tokens
// behind the target contract (docs/TARGET-CONTRACT.md), as its README
// configures it or, with -hardened, as docs/certification advises.
//
//	gojwt [-hardened] golang-jwt|go-oidc|jwx
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/mcaspec/mcaspec/internal/listen"
	"github.com/mcaspec/mcaspec/reference/target"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stderr)
	stop()
	os.Exit(code)
}

// run starts the target and serves until ctx ends; it returns the exit code
// (2 for a usage or configuration error).
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) int {
	fs := flag.NewFlagSet("gojwt", flag.ContinueOnError)
	fs.SetOutput(stderr)
	hardened := fs.Bool("hardened", false, "the hardened configuration (docs/certification) instead of the README's")
	names := make([]string, 0, len(Libraries()))
	for _, l := range Libraries() {
		names = append(names, l.Name)
	}
	fs.Usage = func() { fmt.Fprintf(stderr, "usage: gojwt [-hardened] %s\n", strings.Join(names, "|")) }
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	lib, err := library(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "gojwt: %v (want one of %s)\n", err, strings.Join(names, ", "))
		return 2
	}
	cfg, err := target.ConfigFromEnv(getenv)
	if err != nil {
		fmt.Fprintf(stderr, "gojwt: %v\n", err)
		return 2
	}
	t := TenantFromConfig(cfg, getenv)
	v, err := lib.New(ctx, t, *hardened)
	if err != nil {
		fmt.Fprintf(stderr, "gojwt %s: %v\n", lib.Name, err)
		return 1
	}
	return serve(ctx, cfg, newServer(ctx, cfg, t, v, *hardened), lib.Name, *hardened, stderr)
}

func library(name string) (Library, error) {
	for _, l := range Libraries() {
		if l.Name == name {
			return l, nil
		}
	}
	return Library{}, fmt.Errorf("%w %q", errUnknownLibrary, name)
}

func serve(ctx context.Context, cfg target.Config, h http.Handler, name string, hardened bool, stderr io.Writer) int {
	addr := cfg.Listen
	if addr == "" {
		addr = target.DefaultHost + ":0"
	}
	srv := &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: target.DefaultReadHeaderTimeout,
		ReadTimeout:       2 * target.DefaultReadHeaderTimeout,
		WriteTimeout:      downstreamTimeout + 10*time.Second,
		MaxHeaderBytes:    target.DefaultMaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(slog.DiscardHandler, slog.LevelDebug),
	}
	conf := "as documented"
	if hardened {
		conf = "hardened"
	}
	fmt.Fprintf(stderr, "gojwt %s (%s): listening on http://%s\n", name, conf, addr)
	if msg := listen.Exposure("gojwt "+name, addr); msg != "" {
		fmt.Fprintln(stderr, msg)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		fmt.Fprintf(stderr, "gojwt: %v\n", err)
		return 1
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			fmt.Fprintf(stderr, "gojwt: %v\n", err)
		}
		return 0
	}
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/mcaspec/mcaspec/fakeaz"
)

func init() {
	register(command{
		name:    "fakeaz",
		summary: "run the fake MCA authorization server (with its admin API)",
		run:     runFakeAZ,
	})
}

func runFakeAZ(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("fakeaz", "Runs the fake MCA authorization server on a loopback address until interrupted.\n"+
		"AZ endpoints: {serverUrl}/authorization/v1/apps/{appId}/...; admin API (JSON): /admin/ (see fakeaz/README.md).", stderr)
	listen := fs.String("listen", fakeaz.DefaultListen, "loopback `host:port` to listen on (127.0.0.1:0 picks a free port)")
	config := fs.String("config", "", "JSON `file` with apps to register at start (see fakeaz.Config)")
	codeTTL := fs.Duration("code-lifetime", fakeaz.DefaultCodeLifetime, "lifetime of authorization codes")
	tokenTTL := fs.Duration("token-lifetime", fakeaz.DefaultTokenLifetime, "lifetime of minted tokens")
	quiet := fs.Bool("quiet", false, "do not log one line per request")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := fakeaz.CheckListen(*listen); err != nil {
		return fmt.Errorf("%w: --listen: %v", errUsage, err)
	}
	if *codeTTL <= 0 || *tokenTTL <= 0 {
		return fmt.Errorf("%w: --code-lifetime and --token-lifetime must be positive", errUsage)
	}
	opts := []fakeaz.Option{fakeaz.WithCodeLifetime(*codeTTL), fakeaz.WithTokenLifetime(*tokenTTL)}
	if !*quiet {
		opts = append(opts, fakeaz.WithLogger(slog.New(slog.NewTextHandler(stderr, nil))))
	}
	if *config != "" {
		c, err := fakeaz.LoadConfig(*config)
		if err != nil {
			return fmt.Errorf("%w: --config: %v", errUsage, err)
		}
		opts = append(opts, fakeaz.WithConfig(c))
	}
	s := fakeaz.New(opts...)
	defer s.Close()
	if err := s.Err(); err != nil {
		return err
	}
	if err := s.Start(*listen); err != nil {
		if errors.Is(err, fakeaz.ErrListen) {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		return err
	}
	fmt.Fprintf(stdout, "serverUrl: %s\nadmin API: %s/\n", s.URL(), s.AdminURL())
	for _, a := range s.Apps() {
		fmt.Fprintf(stdout, "app: %s bundle=%q realm=%s\n", a.ID, a.BundleID, realmLabel(a.Realm))
	}
	<-ctx.Done()
	return s.Close()
}

func realmLabel(r fakeaz.Realm) string {
	if n := r.RealmName(); n != "" {
		return n
	}
	return "anonymous"
}

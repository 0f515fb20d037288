package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/mcaspec/mcaspec/fakeaz/idp"
	"github.com/mcaspec/mcaspec/fakeaz/idp/custom"
	"github.com/mcaspec/mcaspec/fakeaz/idp/facebook"
	"github.com/mcaspec/mcaspec/fakeaz/idp/google"
	"github.com/mcaspec/mcaspec/internal/listen"
)

// idpApps collects repeated --app id:secret flags.
type idpApps [][2]string

func (a *idpApps) String() string { return fmt.Sprint(*a) }

func (a *idpApps) Set(v string) error {
	id, secret, ok := strings.Cut(v, ":")
	if !ok || id == "" || secret == "" {
		return fmt.Errorf("want <app id>:<app secret>, got %q", v)
	}
	*a = append(*a, [2]string{id, secret})
	return nil
}

// idpSimulator is what the three simulators have in common.
type idpSimulator interface {
	Start(addr string) error
	URL() string
	Close() error
}

func runIDP(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("idp", "Run one identity-provider simulator until interrupted.\n"+
		"It prints one JSON line {\"kind\", \"url\"} to stdout once it listens; drive it through its /admin/ API\n"+
		"(see fakeaz/idp/README.md). On a non-loopback --listen address the admin API needs --admin-token\n"+
		"(or --admin-token-file, $"+adminTokenEnv+").", stderr)
	kind := fs.String("kind", "custom", "simulator: custom | facebook | google")
	addr := fs.String("listen", idp.DefaultListen, "`host:port` to listen on (0.0.0.0:9101: every interface, needs an admin token)")
	tokenFlags := addAdminTokenFlags(fs)
	config := fs.String("config", "", "custom: JSON config file (default: realm \""+custom.DefaultRealm+"\" with users alice, bob (PIN) and mallory (always fails))")
	var apps idpApps
	fs.Var(&apps, "app", "facebook: register an app as <app id>:<app secret> (repeatable; also POST /admin/apps)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *config != "" && *kind != "custom" {
		return fmt.Errorf("%w: --config applies to --kind custom only", errUsage)
	}
	if len(apps) > 0 && *kind != "facebook" {
		return fmt.Errorf("%w: --app applies to --kind facebook only", errUsage)
	}
	token, err := tokenFlags.resolve()
	if err != nil {
		return err
	}
	var sim idpSimulator
	switch *kind {
	case "custom":
		cfg := custom.DefaultConfig()
		if *config != "" {
			var err error
			if cfg, err = custom.LoadConfig(*config); err != nil {
				return err
			}
		}
		var opts []custom.Option
		if token != "" {
			opts = append(opts, custom.WithAdminToken(token))
		}
		s, err := custom.New(cfg, opts...)
		if err != nil {
			return err
		}
		sim = s
	case "facebook":
		var opts []facebook.Option
		if token != "" {
			opts = append(opts, facebook.WithAdminToken(token))
		}
		for _, a := range apps {
			opts = append(opts, facebook.WithApp(a[0], a[1]))
		}
		sim = facebook.New(opts...)
	case "google":
		var opts []google.Option
		if token != "" {
			opts = append(opts, google.WithAdminToken(token))
		}
		s, err := google.New(opts...)
		if err != nil {
			return err
		}
		sim = s
	default:
		return fmt.Errorf("%w: --kind %q: want custom, facebook or google", errUsage, *kind)
	}
	if err := sim.Start(*addr); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	defer sim.Close()
	if line := listen.Exposure(*kind+" simulator", resolvedListen(*addr)); line != "" {
		fmt.Fprintln(stderr, line)
	}
	line, _ := json.Marshal(map[string]string{"kind": *kind, "url": sim.URL()})
	fmt.Fprintf(stdout, "%s\n", line)
	<-ctx.Done()
	return sim.Close()
}

// resolvedListen is addr as the listener resolved it ("" is 127.0.0.1:0), for Exposure.
func resolvedListen(addr string) string {
	a, err := listen.Addr(addr)
	if err != nil {
		return addr
	}
	return a
}

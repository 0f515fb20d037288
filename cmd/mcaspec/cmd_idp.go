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
)

func init() {
	register(command{name: "idp", summary: "run an identity-provider simulator (custom, facebook, google)", run: runIDP})
}

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
	fs := newFlagSet("idp", "Run one identity-provider simulator on a loopback address until interrupted.\n"+
		"It prints one JSON line {\"kind\", \"url\"} to stdout once it listens; drive it through its /admin/ API\n"+
		"(see fakeaz/idp/README.md).", stderr)
	kind := fs.String("kind", "custom", "simulator: custom | facebook | google")
	listen := fs.String("listen", idp.DefaultListen, "listen address (loopback only)")
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
		s, err := custom.New(cfg)
		if err != nil {
			return err
		}
		sim = s
	case "facebook":
		var opts []facebook.Option
		for _, a := range apps {
			opts = append(opts, facebook.WithApp(a[0], a[1]))
		}
		sim = facebook.New(opts...)
	case "google":
		s, err := google.New()
		if err != nil {
			return err
		}
		sim = s
	default:
		return fmt.Errorf("%w: --kind %q: want custom, facebook or google", errUsage, *kind)
	}
	if err := sim.Start(*listen); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	defer sim.Close()
	line, _ := json.Marshal(map[string]string{"kind": *kind, "url": sim.URL()})
	fmt.Fprintf(stdout, "%s\n", line)
	<-ctx.Done()
	return sim.Close()
}

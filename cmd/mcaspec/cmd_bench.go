package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mcaspec/mcaspec/bench"
	"github.com/mcaspec/mcaspec/bench/baseline"
	"github.com/mcaspec/mcaspec/fakeaz"
	"github.com/mcaspec/mcaspec/reference"
)

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	short := bench.DefaultShort()
	fs := newFlagSet("bench", "Load-tests MCA token validators with vegeta: every response is checked (a valid token must get 200\n"+
		"with its own imf.sub, a broken one a 4xx); wrong answers fail the run (exit 1). With no flags: a short\n"+
		"benchmark of hot + cold against the in-process reference and the no-validation baseline.\n\n"+
		"Targets: built-in names reference (in-process), reference-proc (`mcaspec reference` as a process:\n"+
		"CPU and RSS measured), baseline, baseline-proc (the baseline as a process), bare, bare-proc (the no-auth ceiling);\n"+
		"or NAME=COMMAND (started with the target contract's environment); --target NAME=URL: a running target, any host.\n"+
		"Scenarios: "+strings.Join(bench.Names(), ", ")+" (see --list).", stderr)
	scen := fs.String("scenario", strings.Join(short.Scenarios, ","), "comma-separated scenarios (all: every one)")
	list := fs.Bool("list", false, "list the scenarios with their documentation and exit")
	var compare, targetCmds, merge, running listFlag
	fs.Var(&compare, "compare", "a target to measure (repeatable; replaces the default reference + baseline): reference, reference-proc, baseline, baseline-proc, bare, bare-proc or NAME=COMMAND")
	fs.Var(&running, "target", "NAME=URL or URL: a running target the bench does not start (repeatable; http or https, any host; replaces the default targets). "+
		"Its CPU and memory are not measured. Tokens it accepts: --az-url/--az-key/--app-id or --tokens")
	azURL := fs.String("az-url", "", "serverUrl of an AZ the targets trust, run by you: `mcaspec fakeaz --key az.pem --public-url URL` (e.g. http://az.example:9080/imf-authserver); tokens are minted locally with --az-key")
	azKey := fs.String("az-key", "", "the AZ's signing key (the PEM file fakeaz --key was given)")
	appID := fs.String("app-id", "", "the app the targets serve (MCA_APP_ID); with --tokens, the app id of the request paths (default: each access token's aud)")
	azAdminURL := fs.String("az-admin-url", "", "the AZ's admin API (default: --az-url's scheme and host + /admin); needed by keyfetch and outage")
	azAdminToken := fs.String("az-admin-token", "", "the AZ's admin secret (fakeaz --admin-token; default: $MCASPEC_ADMIN_TOKEN)")
	azService := fs.String("az-service-client", "", "client id the targets use for /service-call (MCA_CLIENT_ID; default: the app's only service client, read through the admin API)")
	tokensFile := fs.String("tokens", "", "JSON lines {\"authorization\": \"Bearer …\", \"sub\": \"…\"}: tokens a real AZ issued (hot, warm and invalid-flood only)")
	startAt := fs.String("start-at", "", "RFC3339 time at which the first attack starts (shards on several hosts start together); more than 5s in the past is refused")
	sinkListen := fs.String("sink-listen", "", "propagation: the sink's listen address (default 127.0.0.1:0; a remote target must reach it and allow it in MCA_DOWNSTREAM_HOSTS)")
	sinkURL := fs.String("sink-url", "", "propagation: the URL the targets reach the sink at (default: from --sink-listen)")
	fs.Var(&targetCmds, "target-cmd", "NAME=COMMAND: add a launched target to the default ones (repeatable), e.g. express='node targets/bms-mca-resource/server.js'")
	targetDir := fs.String("target-dir", "", "working directory of launched targets (default: the current directory)")
	rate := fs.Float64("rate", short.Rate, "offered rate per target, requests per second (split over the shards)")
	dur := fs.Duration("duration", short.Duration, "length of each fixed-rate attack")
	maxReq := fs.Uint64("requests", 0, "end each attack after this many requests (0: no limit; --duration still bounds it)")
	workers := fs.Uint64("workers", bench.DefaultWorkers, "initial vegeta workers")
	maxWorkers := fs.Uint64("max-workers", bench.DefaultMaxWorkers, "maximum vegeta workers (requests in flight)")
	conns := fs.Int("connections", bench.DefaultConnections, "connections per target host")
	timeout := fs.Duration("timeout", bench.DefaultTimeout, "timeout of one request")
	findMax := fs.Bool("find-max", false, "step the rate up until p99, the error rate or saturation passes its bound; report the sustainable rate")
	startRate := fs.Float64("start-rate", bench.DefaultStartRate, "find-max: first rate")
	factor := fs.Float64("step-factor", bench.DefaultStepFactor, "find-max: rate multiplier per step")
	stepDur := fs.Duration("step-duration", bench.DefaultStepDuration, "find-max: length of each step")
	maxSteps := fs.Int("max-steps", bench.DefaultMaxSteps, "find-max: maximum steps")
	precision := fs.Float64("precision", 0, "find-max: bisect until the highest passing and the lowest failing rate are within this ratio (default: --step-factor)")
	budget := fs.Duration("budget", 0, "find-max: no step starts later than this after each search's first step (0: no time budget)")
	maxP99 := fs.Duration("max-p99", bench.DefaultMaxP99, "find-max: p99 latency bound; with --merge, when given: the bound on each merged attack's p99")
	maxErr := fs.Float64("max-error-rate", bench.DefaultMaxErrorRate, "find-max: error-rate bound (0..1); with --merge, when given: the bound on each merged attack's error rate")
	cacheSize := fs.Int("cache-size", bench.DefaultShortCacheSize, "cache size of the in-process reference (sizes the warm and cold pools)")
	targetCache := fs.Int("target-cache-size", reference.DefaultCacheSize, "cache size assumed for launched targets (sizes the warm and cold pools)")
	coldFactor := fs.Float64("cold-factor", bench.DefaultColdFactor, "cold pool size as a multiple of the largest target cache size")
	coldAccessOnly := fs.Bool("cold-access-only", false, "cold: access tokens without id tokens (half the minting; one verify per request), for memory runs with big pools")
	floodDistinct := fs.Uint64("flood-distinct", 0, "invalid-flood: distinct random-signature tokens (0: a new one per request)")
	warmSize := fs.Int("warm-size", bench.DefaultWarmSize, "warm: pool size (at most half the smallest target cache)")
	fleetSize := fs.Int("fleet-size", bench.DefaultFleetSize, "fleet: number of simulated devices")
	shard := fs.String("shard", "0/1", "i/n: this load generator's share of the rate, with token pools disjoint from the other shards'")
	out := fs.String("out", bench.DefaultOut, "output directory (report.json, report.txt, report.html, results/*.bin, *-latency.html)")
	poolFile := fs.String("pool-file", "", "cold pool cache (JSON lines + .meta.json): reused when it fits, else minted and saved")
	fs.Var(&merge, "merge", "merge results files (globs, repeatable) from earlier runs or shards into one report instead of attacking")
	quiet := fs.Bool("quiet", false, "no progress lines")
	verify := fs.Bool("measure-verify", true, "measure the raw RSA-2048 verify cost (for the cold CPU ratio)")
	seed := fs.Uint64("seed", 1, "seed of the generated broken tokens")
	serveBaseline := fs.Bool("serve-baseline", false, "serve the no-validation baseline target from the target contract's environment until interrupted (what baseline-proc runs)")
	serveBare := fs.Bool("serve-bare", false, "serve the no-auth ceiling (bare) from the target contract's environment until interrupted (what bare-proc runs)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *serveBaseline || *serveBare {
		return baseline.ServeFromEnv(ctx, os.Getenv, *serveBare, stdout, stderr)
	}
	if *list {
		for _, s := range bench.Scenarios() {
			fmt.Fprintf(stdout, "%-14s %s\n", s.Name, s.Doc)
		}
		return nil
	}
	if len(merge) > 0 {
		var b bench.Bounds
		fs.Visit(func(f *flag.Flag) {
			switch f.Name {
			case "max-p99":
				b.MaxP99 = *maxP99
			case "max-error-rate":
				b.MaxErrorRate, b.CheckErrorRate = *maxErr, true
			}
		})
		if b.MaxErrorRate < 0 || b.MaxErrorRate > 1 || b.MaxP99 < 0 {
			return fmt.Errorf("%w: --max-error-rate must be within 0..1 and --max-p99 positive", errUsage)
		}
		return benchMerge(ctx, merge, *out, b, stdout)
	}
	if err := checkBenchNumbers(fs); err != nil {
		return err
	}
	sh, err := bench.ParseShard(*shard)
	if err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	cfg := bench.Config{
		Rate: *rate, Duration: *dur, MaxRequests: *maxReq, Workers: *workers, MaxWorkers: *maxWorkers, Connections: *conns, Timeout: *timeout,
		Shard: sh, OutDir: *out, PoolFile: *poolFile, ColdFactor: *coldFactor, FloodDistinct: *floodDistinct,
		FleetSize: *fleetSize, WarmSize: *warmSize, ColdAccessOnly: *coldAccessOnly, MeasureVerify: *verify, Seed: *seed,
	}
	if *scen == "all" {
		cfg.Scenarios = bench.Names()
	} else {
		for _, s := range strings.Split(*scen, ",") {
			if s = strings.TrimSpace(s); s != "" {
				cfg.Scenarios = append(cfg.Scenarios, s)
			}
		}
	}
	if *findMax {
		cfg.FindMax = &bench.FindMax{StartRate: *startRate, Factor: *factor, StepDuration: *stepDur, MaxSteps: *maxSteps, MaxP99: *maxP99, MaxErrorRate: *maxErr, Precision: *precision, Budget: *budget}
	}
	specs := []string(compare)
	if len(specs) == 0 && len(running) == 0 {
		specs = append([]string{"reference", "baseline"}, targetCmds...)
	} else {
		specs = append(specs, targetCmds...)
	}
	for _, s := range specs {
		t, err := targetSpec(s, *cacheSize, *targetCache, *targetDir)
		if err != nil {
			return err
		}
		cfg.Targets = append(cfg.Targets, t)
	}
	for i, s := range running {
		t, err := runningSpec(s, i, len(running), *targetCache)
		if err != nil {
			return err
		}
		cfg.Targets = append(cfg.Targets, t)
	}
	if err := benchAZ(&cfg, *azURL, *azKey, *appID, *azAdminURL, *azAdminToken, *azService, *tokensFile); err != nil {
		return err
	}
	if *startAt != "" {
		if cfg.StartAt, err = time.Parse(time.RFC3339, *startAt); err != nil {
			return fmt.Errorf("%w: --start-at %q: want an RFC3339 time, e.g. %s", errUsage, *startAt, time.Now().Add(time.Minute).UTC().Format(time.RFC3339))
		}
	}
	cfg.SinkListen, cfg.SinkURL = *sinkListen, *sinkURL
	line := progressLine(stderr)
	switch {
	case *quiet:
	case line.Enabled(): // a terminal: one status line
		cfg.Progress = line
	default: // a log: every progress line
		cfg.Progress = stderr
	}
	rep, runErr := bench.Run(ctx, cfg)
	line.Clear()
	if errors.Is(runErr, bench.ErrConfig) {
		return fmt.Errorf("%w: %w", errUsage, runErr)
	}
	if rep != nil {
		if err := bench.WriteReports(*out, rep); err != nil && runErr == nil {
			runErr = err
		}
		_ = rep.WriteText(stdout)
		fmt.Fprintf(stdout, "\nreports: %s\n", filepath.Join(*out, "report.{json,txt,html}"))
	}
	return runErr
}

// targetSpec parses one --compare / --target-cmd value.
func targetSpec(s string, cacheSize, targetCache int, dir string) (bench.TargetSpec, error) {
	switch s {
	case "reference":
		t := bench.Reference()
		t.Reference.CacheSize = cacheSize
		return t, nil
	case "baseline":
		return bench.Baseline(), nil
	case "bare":
		return bench.Bare(), nil
	case "reference-proc", "baseline-proc", "bare-proc":
		exe, err := os.Executable()
		if err != nil {
			return bench.TargetSpec{}, fmt.Errorf("%s: cannot find the mcaspec executable: %w", s, err)
		}
		switch s {
		case "baseline-proc":
			t := bench.Command(s, "exec "+shellQuote(exe)+" bench --serve-baseline")
			t.Unchecked = true
			return t, nil
		case "bare-proc":
			t := bench.Command(s, "exec "+shellQuote(exe)+" bench --serve-bare")
			t.Unchecked, t.NoAuth = true, true
			return t, nil
		}
		t := bench.Command(s, "exec "+shellQuote(exe)+" reference")
		t.CacheSize = reference.DefaultCacheSize
		return t, nil
	}
	name, cmd, ok := strings.Cut(s, "=")
	if !ok || strings.TrimSpace(name) == "" || strings.TrimSpace(cmd) == "" {
		return bench.TargetSpec{}, fmt.Errorf("%w: target %q: want reference, reference-proc, baseline, baseline-proc, bare, bare-proc or NAME=COMMAND", errUsage, s)
	}
	t := bench.Command(strings.TrimSpace(name), cmd)
	t.CacheSize, t.Dir = targetCache, dir
	return t, nil
}

// runningSpec parses one --target value: NAME=URL or URL (named "target",
// "target-2"... when there are several).
func runningSpec(s string, i, n, cacheSize int) (bench.TargetSpec, error) {
	name, u := "target", s
	if n > 1 {
		name = fmt.Sprintf("target-%d", i+1)
	}
	if !strings.HasPrefix(s, "http://") && !strings.HasPrefix(s, "https://") {
		var ok bool
		if name, u, ok = strings.Cut(s, "="); !ok || strings.TrimSpace(name) == "" {
			return bench.TargetSpec{}, fmt.Errorf("%w: --target %q: want NAME=URL or URL, e.g. deployed=https://api.example.com", errUsage, s)
		}
	}
	t := bench.Running(strings.TrimSpace(name), strings.TrimSpace(u))
	t.CacheSize = cacheSize
	return t, nil
}

// benchAZ maps the flags saying which tokens the targets accept.
func benchAZ(cfg *bench.Config, azURL, keyFile, appID, adminURL, adminToken, service, tokensFile string) error {
	switch {
	case azURL != "" && tokensFile != "":
		return fmt.Errorf("%w: --az-url and --tokens: give one (an AZ you run, or tokens of a real AZ)", errUsage)
	case azURL == "" && tokensFile == "":
		for _, f := range []struct{ name, v string }{{"--az-key", keyFile}, {"--az-admin-url", adminURL}, {"--az-admin-token", adminToken}, {"--az-service-client", service}, {"--app-id", appID}} {
			if f.v != "" {
				return fmt.Errorf("%w: %s without --az-url (or --tokens)", errUsage, f.name)
			}
		}
		for _, t := range cfg.Targets {
			if t.Kind == bench.KindURL {
				return fmt.Errorf("%w: --target %s: say which tokens it accepts: --az-url URL --az-key az.pem --app-id ID (it trusts a fakeaz you run) or --tokens FILE (it trusts a real AZ)", errUsage, t.Name)
			}
		}
		return nil
	case tokensFile != "":
		f, err := os.Open(tokensFile)
		if err != nil {
			return fmt.Errorf("%w: --tokens: %w", errUsage, err)
		}
		defer f.Close()
		if cfg.Tokens, err = bench.ReadTokens(f); err != nil {
			return fmt.Errorf("%w: --tokens %s: %w", errUsage, tokensFile, err)
		}
		cfg.TokensAppID = appID
		return nil
	}
	if keyFile == "" || appID == "" {
		return fmt.Errorf("%w: --az-url needs --az-key (the PEM file fakeaz --key was given) and --app-id (the app the targets serve)", errUsage)
	}
	key, err := fakeaz.LoadKey(keyFile)
	if err != nil {
		return fmt.Errorf("%w: --az-key: %w", errUsage, err)
	}
	if adminToken == "" {
		adminToken = os.Getenv("MCASPEC_ADMIN_TOKEN")
	}
	cfg.AZ = &bench.RemoteAZ{ServerURL: azURL, Key: key, AppID: appID, AdminURL: adminURL, AdminToken: adminToken, ServiceClient: service}
	return nil
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func benchMerge(ctx context.Context, globs []string, out string, bounds bench.Bounds, stdout io.Writer) error {
	var files []string
	for _, g := range globs {
		m, err := filepath.Glob(g)
		if err != nil {
			return fmt.Errorf("%w: --merge %q: %w", errUsage, g, err)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		return fmt.Errorf("%w: --merge matched no file", errUsage)
	}
	rep, err := bench.Merge(ctx, files)
	if err != nil {
		return err
	}
	decision := rep.CheckBounds(bounds)
	if err := bench.WriteReports(out, rep); err != nil {
		return err
	}
	_ = rep.WriteText(stdout)
	fmt.Fprintf(stdout, "\nmerged %d files from %d load generators; reports: %s\n", len(files), rep.Generators, filepath.Join(out, "report.{json,txt,html}"))
	return decision
}

// checkBenchNumbers refuses rates, factors and lengths that are not positive
// and finite, naming the flag: a rate the pacer cannot honour must never run
// (it once became an unpaced flood), and 0 never silently means a default.
func checkBenchNumbers(fs *flag.FlagSet) error {
	var err error
	fs.Visit(func(f *flag.Flag) {
		if err != nil {
			return
		}
		switch f.Name {
		case "rate", "start-rate", "step-factor", "cold-factor":
			v := f.Value.(flag.Getter).Get().(float64)
			if !(v > 0) || math.IsInf(v, 0) {
				err = fmt.Errorf("%w: --%s %s: want a positive, finite number (e.g. --rate 0.5 sends one request every 2 s)", errUsage, f.Name, f.Value)
			}
		case "duration", "step-duration", "timeout":
			if d := f.Value.(flag.Getter).Get().(time.Duration); d <= 0 {
				err = fmt.Errorf("%w: --%s %s: want a positive length such as 10s or 2m", errUsage, f.Name, f.Value)
			}
		}
	})
	return err
}

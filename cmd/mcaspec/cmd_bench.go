package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mcaspec/mcaspec/bench"
	"github.com/mcaspec/mcaspec/bench/baseline"
	"github.com/mcaspec/mcaspec/fakeaz"
	"github.com/mcaspec/mcaspec/internal/fileio"
	"github.com/mcaspec/mcaspec/reference"
)

// benchFlags are the flags of `mcaspec bench`, declared plainly in
// declareBenchFlags (each with its default and help).
type benchFlags struct {
	scen, azURL, azKey, appID, azAdminURL, azAdminToken, azService, tokensFile, startAt, sinkListen, sinkURL, targetDir *string
	list, findMax, coldAccessOnly, quiet, verify, serveBaseline, serveBare, allowMissing, force                         *bool
	compare, targetCmds, merge, running, thresholds                                                                     listFlag
	rate                                                                                                                rateFlag
	dur, timeout, stepDur, budget, maxP99                                                                               *time.Duration
	maxReq, workers, maxWorkers, floodDistinct, seed                                                                    *uint64
	conns, maxSteps, cacheSize, targetCache, warmSize, fleetSize                                                        *int
	startRate, factor, precision, maxErr, coldFactor, minSuccess, minSendShare                                          *float64
	shard, out, poolFile, promAddr, summaryMD                                                                           *string
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	short := bench.DefaultShort()
	fs := newFlagSet("bench", "Load-tests MCA token validators with vegeta: every response is checked (a valid token must get 200\n"+
		"with its own imf.sub, a broken one a 4xx); a run fails (exit 1) on a wrong answer, a success share under --min-success,\n"+
		"a generator that could not keep the offered rate, or a broken --threshold. With no flags: a short\n"+
		"benchmark of hot + cold against the in-process reference and the no-validation baseline.\n\n"+
		"Targets: built-in names reference (in-process), reference-proc (`mcaspec reference` as a process:\n"+
		"CPU and RSS measured), baseline, baseline-proc (the baseline as a process), bare, bare-proc (the no-auth ceiling);\n"+
		"or NAME=COMMAND (started with the target contract's environment); --target NAME=URL: a running target, any host.\n"+
		"Scenarios: "+strings.Join(bench.Names(), ", ")+" (see --list).", stderr)
	f := declareBenchFlags(fs, short)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *f.serveBaseline || *f.serveBare {
		return baseline.ServeFromEnv(ctx, os.Getenv, *f.serveBare, stdout, stderr)
	}
	if *f.list {
		for _, s := range bench.Scenarios() {
			fmt.Fprintf(stdout, "%-14s %s\n", s.Name, s.Doc)
		}
		return nil
	}
	b, err := f.bounds(fs)
	if err != nil {
		return err
	}
	if *f.summaryMD != "" {
		if err := fileio.CheckDir(*f.summaryMD); err != nil {
			return fmt.Errorf("%w: --summary-md: %w", errUsage, err)
		}
	}
	if len(f.merge) > 0 {
		return benchMerge(ctx, f.merge, *f.out, *f.summaryMD, bench.MergeOptions{AllowMissingShards: *f.allowMissing}, b, stdout)
	}
	cfg, err := f.config(fs, b)
	if err != nil {
		return err
	}
	return attackAndReport(ctx, cfg, benchOutputs{promAddr: *f.promAddr, summaryMD: *f.summaryMD, quiet: *f.quiet}, stdout, stderr)
}

// declareBenchFlags declares every flag of `mcaspec bench`.
func declareBenchFlags(fs *flag.FlagSet, short bench.Config) *benchFlags {
	f := &benchFlags{rate: rateFlag{v: short.Rate}}
	f.scen = fs.String("scenario", strings.Join(short.Scenarios, ","), "comma-separated scenarios (all: every one)")
	f.list = fs.Bool("list", false, "list the scenarios with their documentation and exit")
	fs.Var(&f.compare, "compare", "a target to measure (repeatable; replaces the default reference + baseline): reference, reference-proc, baseline, baseline-proc, bare, bare-proc or NAME=COMMAND")
	fs.Var(&f.running, "target", "NAME=URL or URL: a running target the bench does not start (repeatable; http or https, any host; replaces the default targets). "+
		"Its CPU and memory are not measured. Tokens it accepts: --az-url/--az-key/--app-id or --tokens")
	f.azURL = fs.String("az-url", "", "serverUrl of an AZ the targets trust, run by you: `mcaspec fakeaz --key az.pem --public-url URL` (e.g. http://az.example:9080/imf-authserver); tokens are minted locally with --az-key")
	f.azKey = fs.String("az-key", "", "the AZ's signing key (the PEM file fakeaz --key was given)")
	f.appID = fs.String("app-id", "", "the app the targets serve (MCA_APP_ID); with --tokens, the app id of the request paths (default: each access token's aud)")
	f.azAdminURL = fs.String("az-admin-url", "", "the AZ's admin API (default: --az-url's scheme and host + /admin); needed by keyfetch and outage")
	f.azAdminToken = fs.String("az-admin-token", "", "the AZ's admin secret (fakeaz --admin-token; default: $MCASPEC_ADMIN_TOKEN)")
	f.azService = fs.String("az-service-client", "", "client id the targets use for /service-call (MCA_CLIENT_ID; default: the app's only service client, read through the admin API)")
	f.tokensFile = fs.String("tokens", "", "JSON lines {\"authorization\": \"Bearer …\", \"sub\": \"…\"}: tokens a real AZ issued (hot, warm and invalid-flood only)")
	f.startAt = fs.String("start-at", "", "RFC3339 time at which the first attack starts (shards on several hosts start together); more than 5s in the past is refused")
	f.sinkListen = fs.String("sink-listen", "", "propagation: the sink's listen address (default 127.0.0.1:0; a remote target must reach it and allow it in MCA_DOWNSTREAM_HOSTS)")
	f.sinkURL = fs.String("sink-url", "", "propagation: the URL the targets reach the sink at (default: from --sink-listen)")
	fs.Var(&f.targetCmds, "target-cmd", "NAME=COMMAND: add a launched target to the default ones (repeatable), e.g. express='node targets/bms-mca-resource/server.js'")
	f.targetDir = fs.String("target-dir", "", "working directory of launched targets (default: the current directory)")
	fs.Var(&f.rate, "rate", "offered rate per target, requests per second (split over the shards; 0.5 is one request every 2 s); "+
		"max: no pacing, a closed model with --max-workers requests in flight (reported as such)")
	f.dur = fs.Duration("duration", short.Duration, "length of each fixed-rate attack")
	f.maxReq = fs.Uint64("requests", 0, "end each attack after this many requests (0: no limit; --duration still bounds it)")
	f.workers = fs.Uint64("workers", bench.DefaultWorkers, "initial vegeta workers")
	f.maxWorkers = fs.Uint64("max-workers", bench.DefaultMaxWorkers, "maximum vegeta workers (requests in flight)")
	f.conns = fs.Int("connections", bench.DefaultConnections, "connections per target host")
	f.timeout = fs.Duration("timeout", bench.DefaultTimeout, "timeout of one request")
	declareSearchFlags(fs, f)
	declareJudgeFlags(fs, f)
	declarePoolFlags(fs, f)
	f.shard = fs.String("shard", "0/1", "i/n: this load generator's share of the rate, with token pools disjoint from the other shards'")
	f.summaryMD = fs.String("summary-md", "", "also write a Markdown summary (verdict, one row per attack, every judged bound) to this file, e.g. $GITHUB_STEP_SUMMARY; runs and --merge")
	f.out = fs.String("out", bench.DefaultOut, "output directory (report.json, report.txt, report.html, results/*.bin and *.hdr.json, *-latency.html); an earlier run there is moved to OUT/run.N")
	fs.Var(&f.merge, "merge", "merge histogram files (*.hdr.json) or vegeta results files (*.bin), globs, repeatable, from shards or earlier runs into one judged report instead of attacking")
	f.allowMissing = fs.Bool("allow-missing-shards", false, "with --merge: merge a split with shards missing (a note names them) instead of failing")
	f.promAddr = fs.String("prometheus-addr", "", "HOST:PORT: serve Prometheus metrics at /metrics while the bench runs (vegeta's and mcaspec_*: answers by verdict, offered and achieved rate, latency from the intended send time)")
	f.quiet = fs.Bool("quiet", false, "no progress lines")
	f.verify = fs.Bool("measure-verify", true, "measure the raw RSA-2048 verify cost (for the cold CPU ratio)")
	f.seed = fs.Uint64("seed", 1, "seed of the generated broken tokens")
	f.serveBaseline = fs.Bool("serve-baseline", false, "serve the no-validation baseline target from the target contract's environment until interrupted (what baseline-proc runs)")
	f.serveBare = fs.Bool("serve-bare", false, "serve the no-auth ceiling (bare) from the target contract's environment until interrupted (what bare-proc runs)")
	return f
}

// declareSearchFlags declares the find-max flags.
func declareSearchFlags(fs *flag.FlagSet, f *benchFlags) {
	f.findMax = fs.Bool("find-max", false, "step the rate up until p99, the error rate or saturation passes its bound; report the sustainable rate")
	f.startRate = fs.Float64("start-rate", bench.DefaultStartRate, "find-max: first rate")
	f.factor = fs.Float64("step-factor", bench.DefaultStepFactor, "find-max: rate multiplier per step")
	f.stepDur = fs.Duration("step-duration", bench.DefaultStepDuration, "find-max: length of each step")
	f.maxSteps = fs.Int("max-steps", bench.DefaultMaxSteps, "find-max: maximum steps")
	f.precision = fs.Float64("precision", 0, "find-max: bisect until the highest passing and the lowest failing rate are within this ratio (default: --step-factor)")
	f.budget = fs.Duration("budget", 0, "find-max: no step starts later than this after each search's first step (0: no time budget)")
	f.maxP99 = fs.Duration("max-p99", bench.DefaultMaxP99, "find-max: p99 latency bound; when given, also the bound on each attack's p99 from the intended send time (runs and --merge)")
	f.maxErr = fs.Float64("max-error-rate", bench.DefaultMaxErrorRate, "find-max: error-rate bound (0..1); when given, also the bound on each attack's error rate (runs and --merge)")
}

// declareJudgeFlags declares the bounds a run or a merge is judged by.
func declareJudgeFlags(fs *flag.FlagSet, f *benchFlags) {
	f.minSuccess = fs.Float64("min-success", bench.DefaultMinSuccess, "fail when an attack's correct share among the requests expecting success is below this (0..1)")
	f.minSendShare = fs.Float64("min-send-share", bench.DefaultMinSendShare, "fail when an attack sent less than this share of the requests due at the offered rate (the generator could not keep up)")
	fs.Var(&f.thresholds, "threshold", "SCOPE:METRIC<OP>VALUE (repeatable), e.g. 'hot:p99<200ms', 'cold:p95<50ms', '*:error_rate<0.001', 'hot:rate>=2000' (correct/s); "+
		"scope: scenario, target, target/scenario or *; metrics p50 p90 p95 p99 p99.9 max (from the intended send time), error_rate, rate, success")
}

// declarePoolFlags declares the flags that size the token pools.
func declarePoolFlags(fs *flag.FlagSet, f *benchFlags) {
	f.cacheSize = fs.Int("cache-size", bench.DefaultShortCacheSize, "cache size of the in-process reference (sizes the warm and cold pools)")
	f.targetCache = fs.Int("target-cache-size", reference.DefaultCacheSize, "cache size assumed for launched targets (sizes the warm and cold pools)")
	f.coldFactor = fs.Float64("cold-factor", bench.DefaultColdFactor, "cold pool size as a multiple of the largest target cache size (> 1)")
	f.coldAccessOnly = fs.Bool("cold-access-only", false, "cold: access tokens without id tokens (half the minting; one verify per request), for memory runs with big pools")
	f.floodDistinct = fs.Uint64("flood-distinct", 0, "invalid-flood: distinct random-signature tokens (0: a new one per request)")
	f.warmSize = fs.Int("warm-size", bench.DefaultWarmSize, "warm: pool size (at most half the smallest target cache)")
	f.fleetSize = fs.Int("fleet-size", bench.DefaultFleetSize, "fleet: number of simulated devices")
	f.poolFile = fs.String("pool-file", "", "cold pool cache (JSON lines + .meta.json): reused when it fits, else minted and saved")
	f.force = fs.Bool("force", false, "let --pool-file replace an existing file that is not a pool file")
}

// rateFlag is --rate: a positive, finite number of requests per second, or "max".
type rateFlag struct {
	v   float64
	max bool
}

func (r *rateFlag) String() string {
	if r.max {
		return "max"
	}
	return strconv.FormatFloat(r.v, 'g', -1, 64)
}

func (r *rateFlag) Set(s string) error {
	if s == "max" {
		r.max = true
		return nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || !(v > 0) || math.IsInf(v, 0) {
		return fmt.Errorf("--rate %s: want a positive, finite number of requests per second (e.g. --rate 0.5 sends one request every 2 s), or max", s)
	}
	r.v, r.max = v, false
	return nil
}

// bounds maps the judging flags; --max-p99 and --max-error-rate bound
// runs and merges only when given (their defaults are find-max's).
func (f *benchFlags) bounds(fs *flag.FlagSet) (bench.Bounds, error) {
	b := bench.Bounds{MinSuccess: *f.minSuccess, MinSendShare: *f.minSendShare}
	fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "max-p99":
			b.MaxP99 = *f.maxP99
		case "max-error-rate":
			b.MaxErrorRate, b.CheckErrorRate = *f.maxErr, true
		}
	})
	for _, v := range []struct {
		name string
		v    float64
	}{{"--max-error-rate", b.MaxErrorRate}, {"--min-success", b.MinSuccess}, {"--min-send-share", b.MinSendShare}} {
		if !(v.v >= 0 && v.v <= 1) {
			return b, fmt.Errorf("%w: %s %v: want a share within 0..1", errUsage, v.name, v.v)
		}
	}
	if b.MaxP99 < 0 {
		return b, fmt.Errorf("%w: --max-p99 must be positive", errUsage)
	}
	// 0 means "not checked" on the command line; the library reads 0 as its default.
	if b.MinSuccess == 0 {
		b.MinSuccess = -1
	}
	if b.MinSendShare == 0 {
		b.MinSendShare = -1
	}
	for _, s := range f.thresholds {
		t, err := bench.ParseThreshold(s)
		if err != nil {
			return b, fmt.Errorf("%w: --threshold: %w", errUsage, err)
		}
		b.Thresholds = append(b.Thresholds, t)
	}
	return b, nil
}

// config maps the flags of an attacking run onto a bench.Config.
func (f *benchFlags) config(fs *flag.FlagSet, b bench.Bounds) (bench.Config, error) {
	if err := checkBenchNumbers(fs); err != nil {
		return bench.Config{}, err
	}
	sh, err := bench.ParseShard(*f.shard)
	if err != nil {
		return bench.Config{}, fmt.Errorf("%w: %w", errUsage, err)
	}
	cfg := bench.Config{
		Rate: f.rate.v, RateMax: f.rate.max, Duration: *f.dur, MaxRequests: *f.maxReq, Workers: *f.workers, MaxWorkers: *f.maxWorkers, Connections: *f.conns, Timeout: *f.timeout,
		Shard: sh, OutDir: *f.out, PoolFile: *f.poolFile, PoolFileForce: *f.force, ColdFactor: *f.coldFactor, FloodDistinct: *f.floodDistinct,
		FleetSize: *f.fleetSize, WarmSize: *f.warmSize, ColdAccessOnly: *f.coldAccessOnly, MeasureVerify: *f.verify, Seed: *f.seed, Bounds: b,
	}
	if *f.scen == "all" {
		cfg.Scenarios = bench.Names()
	} else {
		for _, s := range strings.Split(*f.scen, ",") {
			if s = strings.TrimSpace(s); s != "" {
				cfg.Scenarios = append(cfg.Scenarios, s)
			}
		}
	}
	if *f.findMax {
		cfg.FindMax = &bench.FindMax{StartRate: *f.startRate, Factor: *f.factor, StepDuration: *f.stepDur, MaxSteps: *f.maxSteps, MaxP99: *f.maxP99, MaxErrorRate: *f.maxErr, Precision: *f.precision, Budget: *f.budget}
	}
	if err := f.targets(&cfg); err != nil {
		return cfg, err
	}
	if err := benchAZ(&cfg, *f.azURL, *f.azKey, *f.appID, *f.azAdminURL, *f.azAdminToken, *f.azService, *f.tokensFile); err != nil {
		return cfg, err
	}
	if *f.startAt != "" {
		if cfg.StartAt, err = time.Parse(time.RFC3339, *f.startAt); err != nil {
			return cfg, fmt.Errorf("%w: --start-at %q: want an RFC3339 time, e.g. %s", errUsage, *f.startAt, time.Now().Add(time.Minute).UTC().Format(time.RFC3339))
		}
	}
	cfg.SinkListen, cfg.SinkURL = *f.sinkListen, *f.sinkURL
	return cfg, nil
}

// targets maps --compare, --target-cmd and --target.
func (f *benchFlags) targets(cfg *bench.Config) error {
	specs := []string(f.compare)
	if len(specs) == 0 && len(f.running) == 0 {
		specs = append([]string{"reference", "baseline"}, f.targetCmds...)
	} else {
		specs = append(specs, f.targetCmds...)
	}
	for _, s := range specs {
		t, err := targetSpec(s, *f.cacheSize, *f.targetCache, *f.targetDir)
		if err != nil {
			return err
		}
		cfg.Targets = append(cfg.Targets, t)
	}
	for i, s := range f.running {
		t, err := runningSpec(s, i, len(f.running), *f.targetCache)
		if err != nil {
			return err
		}
		cfg.Targets = append(cfg.Targets, t)
	}
	return nil
}

// exitInterrupted is the exit code of a run stopped by SIGINT or SIGTERM
// (128 + SIGINT), as shells report it.
const exitInterrupted = 130

// benchOutputs are where a run reports besides OUT: live metrics, the
// Markdown summary, progress (not when quiet).
type benchOutputs struct {
	promAddr, summaryMD string
	quiet               bool
}

// attackAndReport runs the bench, serving live metrics when asked, and
// writes the reports: also those of an interrupted run (exit 130).
func attackAndReport(ctx context.Context, cfg bench.Config, o benchOutputs, stdout, stderr io.Writer) error {
	promAddr, quiet := o.promAddr, o.quiet
	if promAddr != "" {
		live, err := bench.NewLive()
		if err != nil {
			return err
		}
		url, stop, err := live.Serve(promAddr)
		if err != nil {
			return fmt.Errorf("%w: --prometheus-addr %s: %w", errUsage, promAddr, err)
		}
		defer func() { _ = stop() }()
		cfg.Live = live
		fmt.Fprintf(stderr, "metrics: %s\n", url)
	}
	if moved, err := bench.MoveAsideEarlierRun(cfg.OutDir); err != nil {
		return err
	} else if moved != "" {
		fmt.Fprintf(stderr, "an earlier run in %s was moved to %s\n", cfg.OutDir, moved)
	}
	line := progressLine(stderr)
	switch {
	case quiet:
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
		if err := bench.WriteReports(cfg.OutDir, rep); err != nil && runErr == nil {
			runErr = err
		}
		if err := writeBenchSummary(o.summaryMD, rep); err != nil && runErr == nil {
			runErr = err
		}
		_ = rep.WriteText(stdout)
		fmt.Fprintf(stdout, "\nreports: %s\n", filepath.Join(cfg.OutDir, "report.{json,txt,html}"))
	}
	if ctx.Err() != nil {
		return &exitError{exitInterrupted, "interrupted: the reports hold what was measured until then"}
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
		b, err := fileio.ReadFile(tokensFile, maxTokensFile)
		if err != nil {
			return fmt.Errorf("%w: --tokens: %w", errUsage, err)
		}
		if cfg.Tokens, err = bench.ReadTokens(bytes.NewReader(b)); err != nil {
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

func benchMerge(ctx context.Context, globs []string, out, summaryMD string, o bench.MergeOptions, bounds bench.Bounds, stdout io.Writer) error {
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
	rep, err := bench.Merge(ctx, files, o)
	if errors.Is(err, bench.ErrConfig) {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	if err != nil {
		return err
	}
	decision := rep.CheckBounds(bounds)
	if err := bench.WriteReports(out, rep); err != nil {
		return err
	}
	if err := writeBenchSummary(summaryMD, rep); err != nil {
		return err
	}
	_ = rep.WriteText(stdout)
	fmt.Fprintf(stdout, "\nmerged %d files from %d load generators; reports: %s\n", len(files), rep.Generators, filepath.Join(out, "report.{json,txt,html}"))
	return decision
}

// writeBenchSummary writes rep's Markdown summary to path (none when
// empty), whole or not at all.
func writeBenchSummary(path string, rep *bench.Report) error {
	if path == "" {
		return nil
	}
	if err := writeAtomic(path, rep.WriteSummaryMarkdown); err != nil {
		return fmt.Errorf("--summary-md: %w", err)
	}
	return nil
}

// maxTokensFile bounds the --tokens file.
const maxTokensFile = 256 << 20

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
		case "start-rate", "step-factor", "cold-factor":
			if !bench.ValidRate(f.Value.(flag.Getter).Get().(float64)) {
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

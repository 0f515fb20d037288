package bench

import (
	"context"
	"crypto"
	cryptorand "crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/mcaspec/mcaspec/internal/buildinfo"
	"github.com/mcaspec/mcaspec/internal/downstream"
	"github.com/mcaspec/mcaspec/internal/excerpt"
	"github.com/mcaspec/mcaspec/internal/fileio"
	"github.com/mcaspec/mcaspec/internal/sleep"
	"github.com/tsenart/vegeta/v12/lib/plot"
)

// runner is one Run in progress.
type runner struct {
	cfg    *Config
	env    *env
	client *http.Client

	started   bool   // the StartAt barrier is behind
	startNote string // how late the barrier was reached

	floodOnce sync.Once
	flood     []namedToken
	floodErr  error
}

// Run measures every configured scenario against every configured target,
// checking every answer. It returns the report, and ErrWrongAnswers (with
// the report) when any answer was wrong or an outage run hung. Results
// files and the latency plots go to cfg.OutDir when it is set.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	rep := newReport(&cfg)
	t0 := time.Now()
	if cfg.MeasureVerify {
		if cfg.Progress != nil {
			fmt.Fprintln(cfg.Progress, "measuring the raw RSA-2048 verify cost")
		}
		ns, err := VerifyCost(ctx, cfg.Keys)
		if err != nil {
			return nil, err
		}
		rep.VerifyNS = ns
	}
	client := newClient(cfg.Connections, cfg.Timeout)
	defer client.CloseIdleConnections()
	e, err := newEnv(ctx, &cfg, client)
	if err != nil {
		return nil, err
	}
	defer e.Close()
	if err := e.canRun(cfg.Scenarios); err != nil {
		return nil, err
	}
	if e.downstream, err = downstream.ParseAllowList(e.sinkHosts()); err != nil {
		return nil, fmt.Errorf("%w: sink URL: %w", ErrConfig, err)
	}
	r := &runner{cfg: &cfg, env: e, client: client}
	rate := cfg.Rate / float64(cfg.Shard.Count)

	plots := map[string]*plot.Plot{}
	for _, sname := range cfg.Scenarios {
		plots[sname] = plot.New(plot.Title("mcaspec bench: "+sname+" latency (ms) over time"), plot.Label(plotLabel), plot.Downsample(4000))
	}
	var runErr error
	for _, ts := range cfg.Targets {
		if runErr = ctx.Err(); runErr != nil {
			break
		}
		if runErr = r.runTarget(ctx, rep, ts, rate, plots); runErr != nil {
			break
		}
	}
	rep.addRunNotes(&cfg, e.poolNote, r.startNote)
	if cfg.OutDir != "" {
		for name, p := range plots {
			if err := writePlot(filepath.Join(cfg.OutDir, name+"-latency.html"), p); err != nil && runErr == nil {
				runErr = err
			}
		}
	}
	rep.finish(time.Since(t0))
	judged := rep.CheckBounds(cfg.Bounds)
	if runErr != nil {
		rep.OK = false
		if ctx.Err() != nil {
			rep.Interrupted = true
		}
		return rep, runErr
	}
	return rep, judged
}

// runTarget starts target ts, runs every scenario against it (a find-max
// search, or one attack at rate), adding what ran to rep, and stops it. An
// error ends the run; it carries the tail of the target's output.
func (r *runner) runTarget(ctx context.Context, rep *Report, ts TargetSpec, rate float64, plots map[string]*plot.Plot) error {
	cfg := r.cfg
	if cfg.Progress != nil {
		fmt.Fprintf(cfg.Progress, "starting target %s\n", ts.Name)
	}
	t, err := r.env.startTarget(ctx, ts)
	if err != nil {
		return err
	}
	runErr := r.runScenarios(ctx, rep, t, ts.Name, rate, plots)
	if err := t.stop(); err != nil && runErr == nil {
		rep.Notes = append(rep.Notes, fmt.Sprintf("target %s did not stop cleanly: %v", ts.Name, err))
	}
	if runErr != nil {
		if tail := t.log(); tail != "" {
			runErr = fmt.Errorf("%w\n--- %s output (tail) ---\n%s", runErr, ts.Name, excerpt.LastLines(tail, 20))
		}
	}
	return runErr
}

// runScenarios runs every scenario against the started target t, stopping
// at the first error.
func (r *runner) runScenarios(ctx context.Context, rep *Report, t *running, name string, rate float64, plots map[string]*plot.Plot) error {
	cfg := r.cfg
	for _, sname := range cfg.Scenarios {
		sc, _ := Lookup(sname)
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "%s / %s\n", name, sname)
		}
		if cfg.FindMax != nil && sc.closed == nil {
			s, err := r.findMax(ctx, t, sc, plots[sname])
			if s != nil {
				rep.Searches = append(rep.Searches, s)
			}
			if err != nil {
				return err
			}
			continue
		}
		a, err := r.one(ctx, t, sc, rate, cfg.Duration, fmt.Sprintf("%s/%s", name, sname), plots[sname])
		if a != nil {
			rep.Attacks = append(rep.Attacks, a)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// addRunNotes notes how the token pool was got, how the start went, and
// which targets the bench did not start (so did not measure).
func (r *Report) addRunNotes(cfg *Config, poolNote, startNote string) {
	if poolNote != "" {
		r.Notes = append(r.Notes, poolNote)
	}
	if startNote != "" {
		r.Notes = append(r.Notes, startNote)
	}
	for _, t := range cfg.Targets {
		if t.Kind == KindURL {
			r.Notes = append(r.Notes, fmt.Sprintf("target %s runs at %s, not started by the bench: its CPU time and memory are not measured", t.Name, t.URL))
		}
	}
}

// newReport starts the report of a run, echoing its settings.
func newReport(cfg *Config) *Report {
	rep := &Report{Started: cfg.Clock(), Shard: cfg.Shard.String(), Machine: machine(), Settings: Settings{
		Scenarios: cfg.Scenarios, Rate: cfg.Rate, Duration: cfg.Duration.String(), MaxWorkers: cfg.MaxWorkers, Connections: cfg.Connections, FindMax: cfg.FindMax,
		Model: "open: paced, latency from the intended send time",
	}}
	if cfg.RateMax {
		rep.Settings.Rate = 0
		rep.Settings.Model = fmt.Sprintf("closed (--rate max): %d requests in flight, each sent when one is answered; no intended send times, latency is service latency", cfg.MaxWorkers)
		rep.Notes = append(rep.Notes, "rate max: "+rep.Settings.Model)
	}
	for _, t := range cfg.Targets {
		rep.Settings.Targets = append(rep.Settings.Targets, t.Name)
	}
	return rep
}

func (rep *Report) all() []*Attack {
	all := append([]*Attack{}, rep.Attacks...)
	for _, s := range rep.Searches {
		all = append(all, s.Steps...)
	}
	return all
}

func (rep *Report) hangs() int {
	n := 0
	for _, a := range rep.all() {
		if a.Scenario == "outage" {
			n += a.Hangs
		}
	}
	return n
}

func (rep *Report) finish(elapsed time.Duration) {
	rep.Elapsed = elapsed
	rep.WrongAnswers, rep.Errors, rep.Requests, rep.Correct = 0, 0, 0, 0
	for _, a := range rep.all() {
		rep.WrongAnswers += a.Wrong
		rep.Errors += a.Errors
		rep.Requests += a.Requests
		rep.Correct += a.Correct
	}
	// Headline attacks: the fixed-rate ones and each search's sustainable step.
	heads := append([]*Attack{}, rep.Attacks...)
	for _, s := range rep.Searches {
		for _, a := range s.Steps {
			if a.OfferedRate == s.Sustainable {
				heads = append(heads, a)
			}
		}
	}
	rep.coldRatios(heads, rep.all())
	for _, a := range rep.Attacks {
		if a.Saturated && a.OfferedRate > 0 {
			rep.Notes = appendOnce(rep.Notes, fmt.Sprintf("%s: correct throughput %.0f/s below %.0f%% of the offered %.0f/s: saturated (the load generator shares the machine's CPUs with the target)", a.Name, a.Throughput, DefaultMinAchieved*100, a.OfferedRate))
		}
	}
	for _, a := range rep.all() {
		if a.Late > 0 {
			rep.Notes = appendOnce(rep.Notes, fmt.Sprintf("%s: %d requests sent late by up to %.0f ms: raise --max-workers or add generators (the latency from the intended send time includes the delay)", a.Name, a.Late, a.MaxLateMS))
		}
		if a.CorrectedUnknown {
			rep.Notes = appendOnce(rep.Notes, fmt.Sprintf("%s: read from results files without their histogram files: no intended send times, the latency is service latency", a.Name))
		}
	}
	rep.OK = rep.WrongAnswers == 0 && rep.hangs() == 0
	rep.table()
}

// coldRatios fills ColdCPURatio (a launched target's CPU per cold request
// over two verifies) and ColdValidationRatio (the same, less a no-validation
// baseline's at the same offered rate: what validating costs) from the
// headline cold attacks; a baseline's figure may come from any of its
// attacks at the same offered rate (a find-max step). Each attack is
// divided by the verify cost measured around it (else the run's).
func (rep *Report) coldRatios(heads, all []*Attack) {
	ratio := func(a *Attack) float64 {
		v := a.VerifyNS
		if v <= 0 {
			v = rep.VerifyNS
		}
		if a.Scenario != "cold" || a.CPUPerRequestUS <= 0 || v <= 0 {
			return 0
		}
		return a.CPUPerRequestUS * 1000 / (2 * v)
	}
	base := map[float64]float64{} // offered rate -> baseline ratio
	for _, a := range all {
		if x := ratio(a); x > 0 && isBaseline(a.Target) {
			base[a.OfferedRate] = x
		}
	}
	for _, a := range heads {
		x := ratio(a)
		if x <= 0 {
			continue
		}
		if rep.ColdCPURatio == nil {
			rep.ColdCPURatio = map[string]float64{}
		}
		rep.ColdCPURatio[a.Target] = x
		if b, ok := base[a.OfferedRate]; ok && !isBaseline(a.Target) {
			if rep.ColdValidationRatio == nil {
				rep.ColdValidationRatio = map[string]float64{}
			}
			rep.ColdValidationRatio[a.Target] = x - b
		}
	}
}

// isBaseline tells the no-validation baselines (baseline, baseline-proc)
// by name, as the comparison table does.
func isBaseline(target string) bool { return strings.HasPrefix(target, "baseline") }

// isProc tells the built-in process targets by name (reference-proc, baseline-proc, bare-proc).
func isProc(target string) bool { return strings.HasSuffix(target, "-proc") }

// isBare tells the no-auth ceilings (bare, bare-proc) by name.
func isBare(target string) bool { return target == "bare" || strings.HasPrefix(target, "bare-") }

func appendOnce(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

// one runs one fixed-rate attack (or a closed scenario) of sc against t.
func (r *runner) one(ctx context.Context, t *running, sc Scenario, rate float64, d time.Duration, name string, p *plot.Plot) (*Attack, error) {
	o := attackOpts{name: name, rate: rate, duration: d, plot: p}
	if r.cfg.OutDir != "" {
		o.file = filepath.Join(r.cfg.OutDir, "results", ResultsFileName(name, r.cfg.Shard))
	}
	if sc.closed != nil {
		return sc.closed(ctx, r, t, o)
	}
	l, err := sc.prepare(ctx, r, t)
	if err != nil {
		return nil, fmt.Errorf("bench: preparing %s for %s: %w", sc.Name, t.spec.Name, err)
	}
	if l.cleanup != nil {
		defer l.cleanup()
	}
	// The cold CPU ratio divides by the verify cost measured just before
	// and just after the attack: this machine's speed drifts over a run.
	measure := sc.Name == "cold" && r.cfg.MeasureVerify && t.pid != 0
	var v0 float64
	if measure {
		if v0, err = verifyCost(ctx, r.env.keys, verifyAroundN); err != nil {
			return nil, err
		}
	}
	a, err := r.attack(ctx, t, sc.Name, l, o)
	if measure && err == nil {
		v1, verr := verifyCost(ctx, r.env.keys, verifyAroundN)
		if verr != nil {
			return a, verr
		}
		a.VerifyNS = (v0 + v1) / 2
	}
	return a, err
}

// verifyAroundN is how many verifies measure the cost around a cold attack.
const verifyAroundN = 1500

func writePlot(path string, p *plot.Plot) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	p.Close()
	if err := fileio.WriteWith(path, 0o644, func(w io.Writer) error { _, err := p.WriteTo(w); return err }); err != nil {
		return fmt.Errorf("bench: plot %s: %w", path, err)
	}
	return nil
}

func machine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), GoVersion: runtime.Version(), Tool: buildinfo.Read().String()}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		f := strings.Fields(string(b))
		if len(f) >= 3 {
			m.LoadAvg = strings.Join(f[:3], " ")
		}
	}
	return m
}

// VerifyCost measures one rsa.VerifyPKCS1v15 (SHA-256) with an RSA-2048
// key, in nanoseconds of CPU time of the measuring thread (getrusage
// RUSAGE_THREAD, so that a busy machine does not inflate it; comparable
// with a target's /proc CPU time): at most 4000 verifies or 3 s of wall
// time. keys[0] is used when given (else one is generated).
func VerifyCost(ctx context.Context, keys []*rsa.PrivateKey) (float64, error) {
	return verifyCost(ctx, keys, 4000)
}

func verifyCost(ctx context.Context, keys []*rsa.PrivateKey, max int) (float64, error) {
	var k *rsa.PrivateKey
	if len(keys) > 0 {
		k = keys[0]
	} else {
		var err error
		if k, err = rsa.GenerateKey(cryptorand.Reader, 2048); err != nil {
			return 0, err
		}
	}
	h := sha256.Sum256([]byte("mcaspec bench verify cost"))
	sig, err := rsa.SignPKCS1v15(nil, k, crypto.SHA256, h[:])
	if err != nil {
		return 0, err
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu := threadCPU
	// Warm up, then measure.
	for range 20 {
		_ = rsa.VerifyPKCS1v15(&k.PublicKey, crypto.SHA256, h[:], sig)
	}
	c0, err := cpu()
	if err != nil {
		return 0, err
	}
	deadline := time.Now().Add(3 * time.Second)
	n := 0
	for ; n < max && time.Now().Before(deadline); n++ {
		if n%100 == 0 && ctx.Err() != nil {
			return 0, ctx.Err()
		}
		if err := rsa.VerifyPKCS1v15(&k.PublicKey, crypto.SHA256, h[:], sig); err != nil {
			return 0, fmt.Errorf("bench: verify: %w", err)
		}
	}
	c1, err := cpu()
	if err != nil {
		return 0, err
	}
	if n == 0 || c1 <= c0 {
		return 0, errors.New("bench: could not measure the verify cost")
	}
	return float64((c1 - c0).Nanoseconds()) / float64(n), nil
}

// ResultsFileName is the results file of an attack: the attack name with
// "/" as "-", tagged ".shard-<i>-of-<n>" when the load is split, ".bin".
func ResultsFileName(attack string, sh Shard) string {
	name := strings.ReplaceAll(attack, "/", "-")
	if sh.Count > 1 {
		name += fmt.Sprintf(".shard-%d-of-%d", sh.Index, sh.Count)
	}
	return name + ".bin"
}

// waitStart holds the first attack until Config.StartAt (a start barrier
// shared by shards on several hosts). Reached late, it lets it start at
// once and notes how late.
func (r *runner) waitStart(ctx context.Context) error {
	if r.started || r.cfg.StartAt.IsZero() {
		return nil
	}
	r.started = true
	wait := r.cfg.StartAt.Sub(r.cfg.Clock())
	if wait <= 0 {
		if -wait > time.Second {
			r.startNote = fmt.Sprintf("the setup ended %v after the start time %s: this shard started late", (-wait).Round(time.Millisecond), r.cfg.StartAt.Format(time.RFC3339))
		}
		return nil
	}
	if r.cfg.Progress != nil {
		fmt.Fprintf(r.cfg.Progress, "waiting %v for the start time %s\n", wait.Round(time.Millisecond), r.cfg.StartAt.Format(time.RFC3339))
	}
	return sleep.For(ctx, wait)
}

// canRun refuses the scenarios the AZ setup cannot serve.
func (e *env) canRun(scenarios []string) error {
	for _, name := range scenarios {
		sc, _ := Lookup(name)
		if sc.needs == needControl && e.az != nil {
			if err := e.az.controlled(); err != nil {
				return fmt.Errorf("%w: scenario %s needs to register apps at the AZ and drive its faults: %s (%w)", ErrConfig, name, needAZControl, err)
			}
		}
		if name == "propagation" && e.svcClient == "" {
			return fmt.Errorf("%w: scenario propagation: the targets' service client (MCA_CLIENT_ID) is unknown: give it (--az-service-client), or make the AZ's admin API reachable with an app that has exactly one service client", ErrConfig)
		}
	}
	return nil
}

package bench

import (
	"context"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"github.com/tsenart/vegeta/v12/lib/plot"
)

// BenchmarkGeneratorOverhead measures, side by side in one run, the CPU the
// bench's generator spends per checked request against the CPU vegeta's own
// attacker spends per request with its results discarded: the same hot
// load, the same target process (this test binary as the reference target),
// the same rate and length, rotating which goes first. Each iteration is
// one attack of each side; the figures are totals over all iterations.
// "ratio" divides by vegeta with its own HTTP client (the comparison users
// make); "ratio-same-client" by vegeta with the bench's client, so that what
// is left is the cost of checking every answer, the plot, the results file.
// Profile with -cpuprofile: samples carry a "side" label (pprof -tagfocus).
//
//	go test -run '^$' -bench GeneratorOverhead -benchtime 3x ./bench/
//
// GENERATOR_RATE (default 3000/s) and GENERATOR_SECONDS (default 5) shape
// each attack; GENERATOR_PROMETHEUS=1 adds the live metrics
// (--prometheus-addr). The bench side is what `mcaspec bench` does: every
// answer checked, the HDR histograms, the latency plot, the results and
// histogram files.
func BenchmarkGeneratorOverhead(b *testing.B) {
	rate, secs := envInt(b, "GENERATOR_RATE", 3000), envInt(b, "GENERATOR_SECONDS", 5)
	d := time.Duration(secs) * time.Second
	ctx := b.Context()
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	tg := Command("proc", "BENCH_TEST_TARGET=1 exec '"+exe+"' -test.run='^$' -test.bench='^$'")
	keys, _ := sharedKeys(b)
	cfg := Config{Scenarios: []string{"hot"}, Targets: []TargetSpec{tg}, Rate: float64(rate), Duration: d, Keys: keys}
	if err := cfg.defaults(); err != nil {
		b.Fatal(err)
	}
	if os.Getenv("GENERATOR_PROMETHEUS") != "" { // the bench side also feeds the live metrics
		live, err := NewLive()
		if err != nil {
			b.Fatal(err)
		}
		cfg.Live = live
	}
	client := newClient(cfg.Connections, cfg.Timeout)
	e, err := newEnv(ctx, &cfg, client)
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	r := &runner{cfg: &cfg, env: e, client: client}
	t, err := e.startTarget(ctx, tg)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = t.stop() }()
	sc, _ := Lookup("hot")
	l, err := sc.prepare(ctx, r, t)
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	var plainCPU, sameCPU, oursCPU time.Duration
	var plainN, sameN, oursN int
	// vegeta's attacker, results discarded: with its own HTTP client (what
	// the issue compares with), and with the bench's client (so that the
	// difference to the bench is what checking and recording cost).
	vegetaAlone := func(own bool, cpu *time.Duration, n *int) {
		opts := []func(*vegeta.Attacker){
			vegeta.Workers(cfg.Workers), vegeta.MaxWorkers(cfg.MaxWorkers),
			vegeta.Connections(cfg.Connections), vegeta.MaxConnections(cfg.Connections),
			vegeta.MaxBody(DefaultMaxBody), vegeta.Timeout(cfg.Timeout), vegeta.KeepAlive(true)}
		if !own {
			opts = append([]func(*vegeta.Attacker){vegeta.Client(newClient(cfg.Connections, cfg.Timeout))}, opts...)
		}
		atk := vegeta.NewAttacker(opts...)
		c0 := processCPU()
		for range atk.Attack(l.targeter(), vegeta.Rate{Freq: rate, Per: time.Second}, d, "vegeta") {
			*n++
		}
		*cpu += processCPU() - c0
	}
	ours := func(i int) {
		p := plot.New(plot.Label(plotLabel), plot.Downsample(4000))
		c0 := processCPU()
		a, err := r.attack(ctx, t, "hot", l, attackOpts{name: "proc/hot", rate: float64(rate), duration: d,
			file: filepath.Join(dir, "hot-"+strconv.Itoa(i)+".bin"), plot: p})
		oursCPU += processCPU() - c0
		if err != nil {
			b.Fatal(err)
		}
		if a.Wrong > 0 || a.Errors > 0 {
			b.Fatalf("%d wrong answers, %d errors: %v %v", a.Wrong, a.Errors, a.WrongSamples, a.ErrorKinds)
		}
		oursN += a.Requests
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sides := []func(){
			func() {
				pprof.Do(ctx, pprof.Labels("side", "vegeta"), func(context.Context) { vegetaAlone(true, &plainCPU, &plainN) })
			},
			func() {
				pprof.Do(ctx, pprof.Labels("side", "vegeta-bench-client"), func(context.Context) { vegetaAlone(false, &sameCPU, &sameN) })
			},
			func() { pprof.Do(ctx, pprof.Labels("side", "bench"), func(context.Context) { ours(i) }) },
		}
		for k := range sides { // a different side first in each iteration
			sides[(i+k)%len(sides)]()
		}
	}
	b.StopTimer()
	p := float64(plainCPU.Microseconds()) / float64(plainN)
	same := float64(sameCPU.Microseconds()) / float64(sameN)
	o := float64(oursCPU.Microseconds()) / float64(oursN)
	b.ReportMetric(p, "vegeta-µs/req")
	b.ReportMetric(same, "vegeta-bench-client-µs/req")
	b.ReportMetric(o, "bench-µs/req")
	b.ReportMetric(o/p, "ratio")
	b.ReportMetric(o/same, "ratio-same-client")
	b.ReportMetric(0, "ns/op")
}

func envInt(b *testing.B, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a positive whole number", name, s)
	}
	return n
}

package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcaspec/mcaspec/fakeaz"
	"github.com/mcaspec/mcaspec/internal/fileio"
	vegeta "github.com/tsenart/vegeta/v12/lib"
	"github.com/tsenart/vegeta/v12/lib/plot"
	"github.com/valyala/fastjson"
)

// Item is one request blueprint of a load: URL (with the fragment
// "#<expectation index>", which never leaves the client but comes back in
// vegeta's Result.URL) and headers (shared, read-only).
type Item struct {
	URL    string
	Header http.Header
}

// load is what a scenario attacks one target with.
type load struct {
	items  []Item
	gen    func(i uint64) Item // when items is empty
	expect []Expectation
	// during runs beside the attack (fault injection); it must return when ctx ends.
	during func(ctx context.Context, began time.Time, d time.Duration)
	// observe sees every checked result (single goroutine).
	observe func(r *vegeta.Result, e *Expectation, v Verdict)
	// extra adds scenario figures once the attack is over.
	extra      func(a *Attack)
	failOnHang bool
	cleanup    func()
}

func itemURL(base string, exp int) string { return base + "#" + strconv.Itoa(exp) }

// expIndex reads the expectation index back from a result's URL.
func expIndex(u string) (int, bool) {
	i := strings.LastIndexByte(u, '#')
	if i < 0 {
		return 0, false
	}
	n, err := strconv.Atoi(u[i+1:])
	return n, err == nil
}

func (l *load) targeter() vegeta.Targeter {
	var n atomic.Uint64
	return func(t *vegeta.Target) error {
		i := n.Add(1) - 1
		var it Item
		if len(l.items) > 0 {
			it = l.items[i%uint64(len(l.items))]
		} else {
			it = l.gen(i)
		}
		t.Method, t.URL, t.Header, t.Body = http.MethodGet, it.URL, it.Header, nil
		return nil
	}
}

// Second is one second of an attack's timeline (throughput over time).
type Second struct {
	T       int     `json:"t"`
	Sent    int     `json:"sent"`
	Correct int     `json:"correct"`
	Wrong   int     `json:"wrong"`
	Errors  int     `json:"errors"`
	RSSMB   float64 `json:"rssMB,omitempty"`
}

// collector checks results and feeds the attack's tally, vegeta's
// metrics, encoder and plot, and the live metrics.
type collector struct {
	mu        sync.Mutex
	att       *Attack
	tally     *Tally
	load      *load
	validates bool
	noAuth    bool // a no-auth ceiling: a 200 is all that is checked
	hang      time.Duration
	metrics   *vegeta.Metrics
	enc       vegeta.Encoder
	plot      *plot.Plot
	live      *liveAttack
	parser    fastjson.Parser // bodies of valid answers (add runs one at a time)
	began     time.Time
	ok, wrong atomic.Int64
	errs      atomic.Int64
	sent      atomic.Int64
}

const maxSamples = 10

// verdictOf checks one result against its expectation.
func (c *collector) verdictOf(r *vegeta.Result) (Verdict, string, *Expectation) {
	idx, ok := expIndex(r.URL)
	if !ok || idx < 0 || idx >= len(c.load.expect) {
		return Failed, "bench: result without an expectation (" + r.URL + ")", nil
	}
	e := &c.load.expect[idx]
	if c.noAuth {
		v, why := checkStatus(r, e)
		return v, why, e
	}
	v, why := check(&c.parser, r, e, c.validates)
	return v, why, e
}

func (c *collector) add(r *vegeta.Result) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent.Add(1)
	a := c.att
	v, why, e := c.verdictOf(r)
	if r.Latency > c.hang {
		a.Hangs++
		if v != Wrong {
			v, why = Failed, fmt.Sprintf("hang: %v > %v", r.Latency.Round(time.Millisecond), c.hang)
		}
	}
	if c.load.observe != nil && e != nil {
		c.load.observe(r, e, v)
	}
	corrected, late := c.tally.record(r, v, e != nil && e.Kind == ExpectValid, why)
	switch v {
	case Correct, CorrectUnavailable:
		c.ok.Add(1)
		r.Error = ""
	case Wrong:
		c.wrong.Add(1)
		r.Error = WrongPrefix + why
	case Failed:
		c.errs.Add(1)
		if why == "" {
			why = "error"
		}
		c.errorKind(why)
		r.Error = why
	}
	if e != nil {
		if a.ByKind == nil {
			a.ByKind = map[string]int{}
		}
		a.ByKind[e.Kind.String()+"/"+v.String()]++
	}
	if c.live != nil {
		c.live.observe(r, v, corrected, late)
	}
	// Keep the body of wrong answers only: the files stay small.
	if v != Wrong {
		r.Body = nil
	} else if len(r.Body) > 512 {
		r.Body = r.Body[:512]
	}
	r.Headers = nil
	c.metrics.Add(r)
	if c.plot != nil {
		_ = c.plot.Add(r)
	}
	if c.enc != nil {
		if err := c.enc.Encode(r); err != nil && a.fileErr == nil {
			a.fileErr = err
		}
	}
}

// errorKind counts an error by its message (at most 20 kinds).
func (c *collector) errorKind(why string) {
	a := c.att
	if a.ErrorKinds == nil {
		a.ErrorKinds = map[string]int{}
	}
	k := why
	if len(k) > 80 {
		k = k[:80]
	}
	if len(a.ErrorKinds) < 20 || a.ErrorKinds[k] > 0 {
		a.ErrorKinds[k]++
	}
}

// plotLabel partitions the latency plot by verdict.
func plotLabel(r *vegeta.Result) string {
	switch {
	case r.Error == "":
		return "correct"
	case strings.HasPrefix(r.Error, WrongPrefix):
		return "WRONG"
	}
	return "error"
}

// limitPacer stops a pacer after limit hits.
type limitPacer struct {
	vegeta.Pacer
	limit uint64
}

func (p limitPacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if hits >= p.limit {
		return 0, true
	}
	return p.Pacer.Pace(elapsed, hits)
}

// newCollector makes the collector of one attack, with its results file
// and, beside it, its histogram file (written when the returned close runs).
func newCollector(a *Attack, l *load, t *running, o attackOpts, cfg *Config) (*collector, func(), error) {
	c := &collector{att: a, load: l, validates: !t.spec.Unchecked, noAuth: t.spec.NoAuth, hang: cfg.HangThreshold, metrics: &vegeta.Metrics{}, plot: o.plot}
	c.tally = newTally(a.Name, a.Target, a.Scenario)
	c.tally.Shard, c.tally.Run, c.tally.Duration = cfg.Shard.String(), cfg.runID, o.duration
	if cfg.Live != nil {
		c.live = cfg.Live.attack(a)
	}
	if o.file == "" {
		return c, func() {}, nil
	}
	if err := os.MkdirAll(filepath.Dir(o.file), 0o755); err != nil {
		return nil, nil, fmt.Errorf("bench: %w", err)
	}
	f, err := fileio.Create(o.file, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("bench: results file: %w", err)
	}
	// Buffered: one write per result would cost the generator a syscall per request.
	buf := bufio.NewWriterSize(f, 64<<10)
	c.enc = vegeta.NewEncoder(buf)
	a.ResultsFile = o.file
	a.HistogramFile = TallyFileName(o.file)
	return c, func() {
		err := buf.Flush()
		if err == nil {
			err = f.Commit()
		}
		f.Abort()
		if err == nil {
			err = fileio.WriteWith(a.HistogramFile, 0o644, func(w io.Writer) error { _, err := c.tally.WriteTo(w); return err })
		}
		if err != nil && a.fileErr == nil {
			a.fileErr = fmt.Errorf("bench: results of %s: %w", a.Name, err)
		}
	}, nil
}

// TallyFileName is the histogram file written beside a results file.
func TallyFileName(results string) string {
	return strings.TrimSuffix(results, filepath.Ext(results)) + TallyFileSuffix
}

// start marks the attack's start: intended send times count from it.
func (c *collector) start(began time.Time, offered float64) {
	c.began = began
	c.tally.Began, c.tally.OfferedRate = began, offered
}

// attackOpts are the knobs of one attack.
type attackOpts struct {
	name     string // attack name: target/scenario[@rate]
	rate     float64
	duration time.Duration
	file     string // results file ("" none)
	plot     *plot.Plot
}

// attack runs one vegeta attack of l against t and checks every answer:
// open-model at o.rate, or closed-model (MaxWorkers in flight) with
// Config.RateMax.
func (r *runner) attack(ctx context.Context, t *running, scenario string, l *load, o attackOpts) (*Attack, error) {
	closed := r.cfg.RateMax
	if !closed {
		if err := checkRate("rate of "+o.name, o.rate); err != nil {
			return nil, err
		}
	}
	a := &Attack{Target: t.spec.Name, Scenario: scenario, Name: o.name, OfferedRate: o.rate, Duration: o.duration, Closed: closed}
	if closed {
		a.OfferedRate, a.InFlight = 0, r.cfg.MaxWorkers
	}
	c, closeFile, err := newCollector(a, l, t, o, r.cfg)
	if err != nil {
		return nil, err
	}
	defer closeFile()
	before, procErr := groupStats(t.pid)
	azBefore, azOK := r.env.stats(ctx)
	sinkBefore := r.env.sinkHits()

	workers := r.cfg.Workers
	if closed {
		workers = r.cfg.MaxWorkers
	}
	atk := vegeta.NewAttacker(
		vegeta.Client(newClient(r.cfg.Connections, r.cfg.Timeout)),
		vegeta.Workers(workers), vegeta.MaxWorkers(r.cfg.MaxWorkers),
		vegeta.Connections(r.cfg.Connections), vegeta.MaxConnections(r.cfg.Connections),
		vegeta.MaxBody(DefaultMaxBody), vegeta.Timeout(r.cfg.Timeout), vegeta.KeepAlive(true),
	)
	if err := r.waitStart(ctx); err != nil {
		return nil, err
	}
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	var pacer vegeta.Pacer = exactPacer{PerSecond: a.OfferedRate, Duration: o.duration}
	if closed {
		pacer = closedPacer{Duration: o.duration}
	}
	if limit := r.cfg.MaxRequests; limit > 0 {
		pacer = limitPacer{pacer, limit}
	}
	c.start(time.Now(), a.OfferedRate)
	genBefore := processCPU()
	results := atk.Attack(l.targeter(), pacer, o.duration, o.name)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); r.watch(actx, atk, c, t, o.name) }()
	if l.during != nil {
		wg.Add(1)
		go func() { defer wg.Done(); l.during(actx, c.began, o.duration) }()
	}
	for res := range results {
		c.add(res)
	}
	ended := time.Since(c.began)
	if n := c.sent.Load(); n > 0 {
		a.GeneratorCPUPerRequestUS = float64(processCPU()-genBefore) / float64(n) / 1e3
		a.GeneratorShared = t.pid == 0 && t.spec.Kind != KindURL
	}
	cancel()
	wg.Wait()
	c.tally.Duration = min(o.duration, ended)
	c.tally.Due = dueCount(a.OfferedRate, min(o.duration, ended), r.cfg.MaxRequests, c.tally.Requests)
	r.finish(a, c, t, before, procErr, fetchCount(azBefore, azOK), sinkBefore)
	if l.extra != nil {
		l.extra(a)
	}
	if err := ctx.Err(); err != nil {
		return a, err
	}
	return a, a.fileErr
}

// dueCount is how many requests a pacer at rate made due in d (at most
// limit when limit > 0); a closed model (rate 0) has none beyond those sent.
func dueCount(rate float64, d time.Duration, limit uint64, sent int) int {
	if rate <= 0 {
		return sent
	}
	n := int(math.Ceil(rate*d.Seconds() - 1e-9))
	if limit > 0 && uint64(n) > limit {
		n = int(limit)
	}
	return max(n, 0)
}

// watch stops the attack when ctx ends, samples the target's memory and
// reports progress once a second.
func (r *runner) watch(ctx context.Context, atk *vegeta.Attacker, c *collector, t *running, name string) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var last int64
	for {
		select {
		case <-ctx.Done():
			atk.Stop()
			return
		case now := <-tick.C:
			sent := c.sent.Load()
			if c.live != nil {
				c.live.achieved(float64(sent - last))
			}
			if t.pid > 0 {
				if st, err := groupStats(t.pid); err == nil {
					c.mu.Lock()
					if sec := int(now.Sub(c.began)/time.Second) - 1; sec >= 0 && sec < len(c.tally.Timeline) {
						c.tally.Timeline[sec].RSSMB = float64(st.RSS) / (1 << 20)
					}
					c.att.maxRSS = max(c.att.maxRSS, st.RSS)
					c.mu.Unlock()
				}
			}
			if r.cfg.Progress != nil {
				fmt.Fprintf(r.cfg.Progress, "  %-34s %5.1fs  rate %7.1f/s  correct %8d  wrong %d  errors %d\n",
					name, now.Sub(c.began).Seconds(), float64(sent-last), c.ok.Load(), c.wrong.Load(), c.errs.Load())
			}
			last = sent
		}
	}
}

// fetchCount is the AZ's key fetches so far, -1 when unknown.
func fetchCount(st fakeaz.Stats, ok bool) int {
	if !ok {
		return -1
	}
	return st.Count(fakeaz.EndpointPublicKey, "")
}

// finish fills the figures derived from the attack's tally, vegeta's
// metrics and the target process.
func (r *runner) finish(a *Attack, c *collector, t *running, before procStats, procErr error, fetchesBefore int, sinkBefore int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.metrics.Close()
	m := c.metrics
	a.Metrics = m
	c.tally.Hangs = a.Hangs
	if c.tally.Due == 0 {
		c.tally.Due = c.tally.Requests
	}
	a.fromTally(c.tally)
	a.P50, a.P99, a.Max = ms(m.Latencies.P50), ms(m.Latencies.P99), ms(m.Latencies.Max)
	for _, q := range percentiles {
		a.Percentiles = append(a.Percentiles, [2]float64{q * 100, ms(m.Latencies.Quantile(q))})
	}
	if st, ok := r.env.stats(context.Background()); ok && fetchesBefore >= 0 {
		a.KeyFetches = st.Count(fakeaz.EndpointPublicKey, "") - fetchesBefore
	}
	a.SinkHits = int(r.env.sinkHits() - sinkBefore)
	// Only a process the bench started can be measured: a running target
	// is elsewhere, an in-process one shares the load generator's process.
	a.NotMeasured = true
	if procErr == nil {
		if after, err := groupStats(t.pid); err == nil {
			a.NotMeasured = false
			a.TargetCPUSeconds = (after.CPU - before.CPU).Seconds()
			if a.Requests > 0 {
				a.CPUPerRequestUS = a.TargetCPUSeconds / float64(a.Requests) * 1e6
			}
			a.PeakRSSMB = float64(after.PeakRSS) / (1 << 20)
			a.maxRSS = max(a.maxRSS, after.RSS)
			a.MaxRSSMB = float64(a.maxRSS) / (1 << 20)
		}
	}
}

var percentiles = []float64{0.1, 0.25, 0.5, 0.75, 0.8, 0.85, 0.9, 0.95, 0.97, 0.98, 0.99, 0.995, 0.999, 0.9999, 1}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

package fakedevice

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultFleetConcurrency is the concurrency of RunFleet when
// FleetConfig.Concurrency is 0: twice GOMAXPROCS.
func DefaultFleetConcurrency() int { return 2 * runtime.GOMAXPROCS(0) }

// MaxFleetConcurrency bounds FleetConfig.Concurrency.
const MaxFleetConcurrency = 4096

// FleetConfig describes a fleet run: N devices, at most Concurrency at a
// time, each made from NewConfig(i), logged in, then handed to Then.
type FleetConfig struct {
	// N is the number of devices (required, > 0).
	N int
	// Concurrency bounds the devices in flight (default DefaultFleetConcurrency()).
	Concurrency int
	// NewConfig returns the config of device i (required). When it leaves
	// HTTPClient nil, the fleet's shared client (a pooled transport sized to
	// Concurrency) is used.
	NewConfig func(i int) Config
	// Then runs after a successful Login, e.g. to call a resource; nil to stop at Login.
	Then func(ctx context.Context, d *Device) error
	// Progress, when set, is called after each device finishes (calls are serialized).
	Progress func(done, failed int)
}

// DurationStats summarize per-device durations.
type DurationStats struct {
	Min, Mean, P50, P95, P99, Max time.Duration
}

// FleetResult is what a fleet run measured.
type FleetResult struct {
	// N is the requested number of devices; Started ran, NotStarted did not
	// (the context ended first). Succeeded + Failed == Started.
	N, Started, Succeeded, Failed, NotStarted int
	// Errors counts failures by ErrorKind; ErrorSamples holds the first
	// message seen for each kind.
	Errors       map[string]int
	ErrorSamples map[string]string
	// Elapsed is the wall time of the run; DevicesPerSec is Succeeded / Elapsed.
	Elapsed       time.Duration
	DevicesPerSec float64
	// Latency is the time of each finished device (Login + Then).
	Latency DurationStats
	// KeyGen, Sign and Wait are summed over devices (see Timings);
	// Requests counts HTTP requests sent.
	KeyGen, Sign, Wait time.Duration
	Requests           int
}

// String renders a short human summary.
func (r FleetResult) String() string {
	s := fmt.Sprintf("devices: %d requested, %d started, %d ok, %d failed, %d not started\n", r.N, r.Started, r.Succeeded, r.Failed, r.NotStarted)
	s += fmt.Sprintf("elapsed: %v, %.1f devices/s, %d requests\n", r.Elapsed.Round(time.Millisecond), r.DevicesPerSec, r.Requests)
	l := r.Latency
	s += fmt.Sprintf("per device: min %v, mean %v, p50 %v, p95 %v, p99 %v, max %v\n", l.Min, l.Mean, l.P50, l.P95, l.P99, l.Max)
	s += fmt.Sprintf("time summed over devices: key generation %v, signing %v, waiting for the server %v\n",
		r.KeyGen.Round(time.Millisecond), r.Sign.Round(time.Millisecond), r.Wait.Round(time.Millisecond))
	kinds := make([]string, 0, len(r.Errors))
	for k := range r.Errors {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		s += fmt.Sprintf("error %s: %d (e.g. %s)\n", k, r.Errors[k], r.ErrorSamples[k])
	}
	return s
}

// RunFleet runs cfg.N devices with at most cfg.Concurrency at a time. It
// stops starting devices when ctx ends (in-flight devices see ctx too) and
// then returns the result so far together with ctx's error. Device failures
// are counted in the result, not returned as an error.
func RunFleet(ctx context.Context, cfg FleetConfig) (FleetResult, error) {
	if cfg.N <= 0 || cfg.NewConfig == nil {
		return FleetResult{}, fmt.Errorf("%w: fleet needs N > 0 and NewConfig", ErrConfig)
	}
	conc := cfg.Concurrency
	if conc == 0 {
		conc = DefaultFleetConcurrency()
	}
	if conc < 0 || conc > MaxFleetConcurrency {
		return FleetResult{}, fmt.Errorf("%w: fleet concurrency %d (want 1..%d)", ErrConfig, conc, MaxFleetConcurrency)
	}
	conc = min(conc, cfg.N)

	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        2 * conc,
		MaxIdleConnsPerHost: 2 * conc,
		IdleConnTimeout:     30 * time.Second,
	}
	defer tr.CloseIdleConnections()
	shared := &http.Client{Transport: tr, Timeout: DefaultTimeout}

	res := FleetResult{N: cfg.N, Errors: map[string]int{}, ErrorSamples: map[string]string{}}
	var (
		mu        sync.Mutex
		latencies []time.Duration
		next      atomic.Int64
		wg        sync.WaitGroup
	)
	record := func(el time.Duration, t Timings, err error) {
		mu.Lock()
		defer mu.Unlock()
		res.Started++
		res.KeyGen += t.KeyGen
		res.Sign += t.Sign
		res.Wait += t.Wait
		res.Requests += t.Requests
		latencies = append(latencies, el)
		if err != nil {
			res.Failed++
			k := ErrorKind(err)
			res.Errors[k]++
			if _, ok := res.ErrorSamples[k]; !ok {
				res.ErrorSamples[k] = err.Error()
			}
		} else {
			res.Succeeded++
		}
		if cfg.Progress != nil {
			cfg.Progress(res.Succeeded+res.Failed, res.Failed)
		}
	}
	start := time.Now()
	for range conc {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= cfg.N {
					return
				}
				t0 := time.Now()
				t, err := runOne(ctx, i, cfg, shared)
				record(time.Since(t0), t, err)
			}
		})
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	res.NotStarted = cfg.N - res.Started
	if res.Elapsed > 0 {
		res.DevicesPerSec = float64(res.Succeeded) / res.Elapsed.Seconds()
	}
	res.Latency = summarize(latencies)
	if res.NotStarted > 0 {
		return res, fmt.Errorf("fakedevice: fleet stopped with %d of %d devices not started: %w", res.NotStarted, res.N, context.Cause(ctx))
	}
	return res, nil
}

func runOne(ctx context.Context, i int, cfg FleetConfig, shared *http.Client) (Timings, error) {
	dc := cfg.NewConfig(i)
	if dc.HTTPClient == nil {
		dc.HTTPClient = shared
	}
	d, err := New(dc)
	if err != nil {
		return Timings{}, opErr(OpRegister, err)
	}
	err = d.Login(ctx)
	if err == nil && cfg.Then != nil {
		if err = cfg.Then(ctx, d); err != nil {
			var oe *OpError
			if !errors.As(err, &oe) {
				err = opErr(OpThen, err)
			}
		}
	}
	return d.Timings(), err
}

func summarize(ds []time.Duration) DurationStats {
	if len(ds) == 0 {
		return DurationStats{}
	}
	slices.Sort(ds)
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	pct := func(p float64) time.Duration {
		i := int(p*float64(len(ds))+0.5) - 1
		return ds[max(0, min(i, len(ds)-1))]
	}
	return DurationStats{Min: ds[0], Mean: sum / time.Duration(len(ds)), P50: pct(0.5), P95: pct(0.95), P99: pct(0.99), Max: ds[len(ds)-1]}
}

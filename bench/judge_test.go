package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// stallingTarget answers 200 at once, except from 1 s to 2 s of every 3 s
// after start: then it holds each request until the stall ends.
func stallingTarget(t *testing.T, start time.Time) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if since := time.Since(start); since > 0 {
			if phase := since % (3 * time.Second); phase >= time.Second && phase < 2*time.Second {
				select {
				case <-time.After(2*time.Second - phase):
				case <-r.Context().Done():
					return
				}
			}
		}
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestLatencyFromIntendedTime: a target that stalls one second in every
// three, at a rate two workers cannot absorb. vegeta's service latency
// hides the stall (the requests queued behind it are sent late, then
// answered at once); the latency from the intended send time shows it.
// Not parallel: it measures latency, and runs alone before the parallel tests.
func TestLatencyFromIntendedTime(t *testing.T) {
	start := time.Now().Add(1500 * time.Millisecond)
	tg := Running("stalling", stallingTarget(t, start))
	tg.NoAuth, tg.Unchecked = true, true
	cfg := smokeConfig(t, "hot", tg)
	cfg.Rate, cfg.Duration, cfg.Workers, cfg.MaxWorkers, cfg.StartAt = 150, 3*time.Second, 2, 2, start
	cfg.Bounds = Bounds{MinSendShare: -1}
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	a := rep.Attacks[0]
	t.Logf("%d requests; service p99 %.1f ms; corrected p99 %.1f ms; %d late by up to %.0f ms", a.Requests, a.Latency.P99, a.Corrected.P99, a.Late, a.MaxLateMS)
	if a.Corrected.P99 < 500 {
		t.Errorf("corrected p99 %.1f ms, want >= 500 ms (the stall)", a.Corrected.P99)
	}
	if a.Latency.P99 >= 100 && a.Latency.P99 > a.Corrected.P99/4 {
		t.Errorf("service p99 %.1f ms, want small (the stall is in the queue, not the answers)", a.Latency.P99)
	}
	if a.Late == 0 || !strings.Contains(strings.Join(rep.Notes, "\n"), "sent late by up to") {
		t.Errorf("late %d, notes %q: want the generator's lag said", a.Late, rep.Notes)
	}
	// The bound applies to the corrected figure.
	if err := rep.CheckBounds(Bounds{MinSendShare: -1, MaxP99: 400 * time.Millisecond}); !errors.Is(err, ErrBounds) {
		t.Errorf("p99 bound 400ms: %v, want broken on the corrected p99", err)
	}
}

// TestNothingWorksFails: a target that answers once, then hangs: the run
// fails on its success share, and on the send share it could not keep.
func TestNothingWorksFails(t *testing.T) {
	t.Parallel()
	var n atomic.Int64 // the handler runs on many connections at once
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) > 1 {
			select {
			case <-hang:
			case <-r.Context().Done():
			}
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(func() { close(hang); srv.Close() })
	tg := Running("hangs", srv.URL)
	tg.NoAuth, tg.Unchecked = true, true
	cfg := smokeConfig(t, "hot", tg)
	cfg.Duration, cfg.Timeout, cfg.MaxWorkers = time.Second, 300*time.Millisecond, 4
	cfg.Bounds = Bounds{}
	rep, err := Run(context.Background(), cfg)
	if !errors.Is(err, ErrBounds) || rep == nil || rep.OK {
		t.Fatalf("Run: %v, want ErrBounds", err)
	}
	if !strings.Contains(err.Error(), "success share") {
		t.Errorf("broken: %v, want the success share named", err)
	}
}

func TestParseThreshold(t *testing.T) {
	t.Parallel()
	a := &Attack{Name: "ref/hot", Target: "ref", Scenario: "hot", Counts: Counts{Requests: 1000, Errors: 2, Correct: 998}, Throughput: 2500,
		Corrected: Latency{P50: 1, P90: 5, P95: 10, P99: 150, P999: 400, Max: 900}, SuccessShare: 0.998, ExpectSuccess: 1000, Succeeded: 998}
	cold := &Attack{Name: "ref/cold", Target: "ref", Scenario: "cold", Counts: Counts{Requests: 10, Correct: 10}, Corrected: Latency{P95: 60}, SuccessShare: 1}
	for _, tc := range []struct {
		in    string
		holds bool
	}{
		{"hot:p99<200ms", true}, {"hot:p99<100ms", false}, {"hot:p99.9<=400ms", true}, {"hot:max<1s", true},
		{"hot:p50<1ms", false}, {"hot:p90<6ms", true}, {"cold:p95<50ms", false}, {"*:error_rate<0.001", false},
		{"hot:error_rate<0.01", true}, {"hot:rate>=2000", true}, {"ref/hot:rate>3000", false}, {"ref:success>=0.99", true},
		{"warm:p99<1s", false}, // no attack of that scope: broken, never a silent pass
	} {
		th, err := ParseThreshold(tc.in)
		if err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		r := &Report{Attacks: []*Attack{a, cold}}
		if err := r.CheckBounds(Bounds{MinSuccess: -1, Thresholds: []Threshold{th}}); (err == nil) != tc.holds {
			t.Errorf("%s: %v, want holds=%v", tc.in, err, tc.holds)
		}
		found := false
		for _, c := range r.Checks {
			found = found || strings.HasPrefix(c.Name, "threshold "+tc.in)
		}
		if !found {
			t.Errorf("%s: not listed in the checks %v", tc.in, r.Checks)
		}
	}
	for _, bad := range []string{"p99<200ms", "hot:p98<1s", "hot:p99<fast", "hot:p99=1s", "hot:error_rate<2", "hot:rate>=-1", ":p99<1s", "hot:rate>=NaN"} {
		if _, err := ParseThreshold(bad); !errors.Is(err, ErrConfig) {
			t.Errorf("ParseThreshold(%q): %v, want ErrConfig", bad, err)
		}
	}
}

// TestMergeRefusals: a missing shard, the same file twice, an attack's
// results and histogram files both, and shards that started apart.
func TestMergeRefusals(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	began := time.Now()
	write := func(name string, sh Shard, began time.Time) string {
		tl := newTally("ref/hot", "ref", "hot")
		tl.Shard, tl.Run, tl.Began, tl.OfferedRate, tl.Duration = sh.String(), "run-"+sh.String(), began, 10, time.Second
		tl.Requests, tl.Correct, tl.Due, tl.ExpectSuccess, tl.SucceededOK = 10, 10, 10, 10, 10
		_ = tl.Service.RecordValue(1000)
		_ = tl.Corrected.RecordValue(2000)
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tl.WriteTo(f); err != nil {
			t.Fatal(err)
		}
		_ = f.Close()
		return p
	}
	s0 := write("ref-hot.shard-0-of-3"+TallyFileSuffix, Shard{0, 3}, began)
	s1 := write("ref-hot.shard-1-of-3"+TallyFileSuffix, Shard{1, 3}, began.Add(200*time.Millisecond))
	s2 := write("ref-hot.shard-2-of-3"+TallyFileSuffix, Shard{2, 3}, began)
	late := write("late/ref-hot.shard-2-of-3"+TallyFileSuffix, Shard{2, 3}, began.Add(3*time.Second))
	ctx := context.Background()
	rep, err := Merge(ctx, []string{s0, s1, s2}, MergeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a := rep.Attacks[0]; a.Requests != 30 || a.OfferedRate != 30 || a.Corrected.P50 != 2 || a.Latency.P50 != 1 || rep.Generators != 3 {
		t.Errorf("merged %d requests at %v/s, p50 %v/%v ms, %d generators", a.Requests, a.OfferedRate, a.Latency.P50, a.Corrected.P50, rep.Generators)
	}
	for _, tc := range []struct {
		name  string
		files []string
		o     MergeOptions
		want  string
	}{
		{"missing shard", []string{s0, s1}, MergeOptions{}, "no results from shard 2/3"},
		{"same file twice", []string{s0, s1, s2, s2}, MergeOptions{}, "same data"},
		{"a shard twice", []string{s0, s1, s2, late}, MergeOptions{}, "same shard"},
		{"started apart", []string{s0, s1, late}, MergeOptions{}, "started 3s apart"},
	} {
		if _, err := Merge(ctx, tc.files, tc.o); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want ErrConfig saying %q", tc.name, err, tc.want)
		}
	}
	// A results file beside its histogram file: the histogram is read, once.
	bin := strings.TrimSuffix(s0, TallyFileSuffix) + ".bin"
	if err := os.WriteFile(bin, []byte("not read"), 0o644); err != nil {
		t.Fatal(err)
	}
	if rep, err := Merge(ctx, []string{bin, s0, s1, s2}, MergeOptions{}); err != nil || rep.Requests != 30 {
		t.Errorf("results and histogram files of the same attacks: %v, %v", err, rep)
	}
	rep, err = Merge(ctx, []string{s0, s1}, MergeOptions{AllowMissingShards: true})
	if err != nil || !strings.Contains(strings.Join(rep.Notes, " "), "2/3") {
		t.Errorf("allowed missing shard: %v, notes %v", err, rep)
	}
}

// TestRateMax: --rate max is a closed model with MaxWorkers in flight,
// reported as such.
func TestRateMax(t *testing.T) {
	t.Parallel()
	cfg := smokeConfig(t, "hot")
	cfg.RateMax, cfg.Duration, cfg.MaxWorkers, cfg.MaxRequests = true, 300*time.Millisecond, 4, 400
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	a := rep.Attacks[0]
	if !a.Closed || a.InFlight != 4 || a.OfferedRate != 0 || a.Requests == 0 || !strings.Contains(rep.Settings.Model, "closed") {
		t.Errorf("closed %v, in flight %d, offered %v, %d requests, model %q", a.Closed, a.InFlight, a.OfferedRate, a.Requests, rep.Settings.Model)
	}
	if _, err := Run(context.Background(), Config{RateMax: true, FindMax: &FindMax{}}); !errors.Is(err, ErrConfig) {
		t.Errorf("rate max with find-max: %v, want ErrConfig", err)
	}
}

// TestColdWithoutCache: the cold scenario against targets without a cache
// (baseline) or with a factor that leaves no pool is a clear configuration
// error, never an index out of range.
func TestColdWithoutCache(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		targets []TargetSpec
		factor  float64
	}{
		{"baseline only", []TargetSpec{Baseline()}, 0},
		{"tiny factor", nil, 0.001},
	} {
		cfg := smokeConfig(t, "cold", tc.targets...)
		cfg.ColdFactor = tc.factor
		if _, err := Run(context.Background(), cfg); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "cold") {
			t.Errorf("%s: %v, want ErrConfig about the cold pool", tc.name, err)
		}
	}
}

// TestLiveMetrics scrapes /metrics during a short run: the answer counter
// moves while the attack goes on, and vegeta's and mcaspec's series are there.
func TestLiveMetrics(t *testing.T) {
	t.Parallel()
	live, err := NewLive()
	if err != nil {
		t.Fatal(err)
	}
	url, stop, err := live.Serve("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = stop() }()
	cfg := smokeConfig(t, "hot")
	cfg.Duration, cfg.Live = 2*time.Second, live
	done := make(chan error, 1)
	go func() { _, err := Run(context.Background(), cfg); done <- err }()
	correct := func() (float64, string) {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, `mcaspec_answers_total{scenario="hot",target="reference",verdict="correct"}`) {
				var v float64
				_, _ = fmt.Sscan(line[strings.LastIndexByte(line, ' ')+1:], &v)
				return v, string(b)
			}
		}
		return 0, string(b)
	}
	var seen []float64
	var body string
	deadline := time.After(20 * time.Second)
	for len(seen) < 2 {
		select {
		case err := <-done:
			t.Fatalf("run ended (%v) before the counter moved twice: %v", err, seen)
		case <-deadline:
			t.Fatalf("counter never moved: %v", seen)
		case <-time.After(100 * time.Millisecond):
		}
		v, b := correct()
		if v > 0 && (len(seen) == 0 || v > seen[len(seen)-1]) {
			seen, body = append(seen, v), b
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"request_seconds_bucket", "mcaspec_offered_rate", "mcaspec_achieved_rate", "mcaspec_corrected_latency_seconds_bucket"} {
		if !strings.Contains(body, want) {
			t.Errorf("no %s in /metrics", want)
		}
	}
}

package bench

import (
	"strings"
	"testing"
	"time"
)

// simulate runs the search's decisions against a model target that
// answers correctly up to capacity req/s, with a low p99 under it and a
// high one over it (wrongAt > 0: wrong answers from that rate on).
func simulate(t *testing.T, f FindMax, capacity, wrongAt float64) (*Search, []float64) {
	t.Helper()
	cfg := Config{FindMax: &f}
	if err := cfg.defaults(); err != nil {
		t.Fatal(err)
	}
	sr := newSearch(cfg.FindMax, 1)
	s := &Search{}
	var rates []float64
	for rate := sr.first(); rate > 0; {
		if len(rates) > 60 {
			t.Fatalf("runaway search: %v", rates)
		}
		rates = append(rates, rate)
		a := &Attack{OfferedRate: rate, Counts: Counts{Requests: int(rate)}, Throughput: min(rate, capacity), P99: 2, Corrected: Latency{P99: 2}}
		if rate > capacity {
			a.P99, a.Corrected.P99 = 500, 500
		}
		if wrongAt > 0 && rate >= wrongAt {
			a.Wrong = 1
		}
		out := sr.judge(a)
		s.Outcomes = append(s.Outcomes, out)
		var stop string
		if rate, stop = sr.next(a, out, len(rates)); stop != "" {
			s.StopReason = stop
		}
	}
	sr.fill(s)
	return s, rates
}

func TestFindMaxAlwaysFindsARate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name          string
		f             FindMax
		capacity      float64
		wantDown      bool
		maxSteps      int
		wantStop      string
		wantZero      bool
		wantWithinPct float64 // sustainable >= capacity / (1 + pct)
		wantLower     bool
	}{
		{name: "start under capacity steps up", f: FindMax{StartRate: 200, Factor: 1.5}, capacity: 1000, maxSteps: 6, wantStop: "p99", wantWithinPct: 0.5},
		{name: "start far over capacity steps down", f: FindMax{StartRate: 4000, Factor: 1.5}, capacity: 300, wantDown: true, maxSteps: 6, wantStop: "p99", wantWithinPct: 0.5},
		{name: "start just over capacity", f: FindMax{StartRate: 1100, Factor: 2}, capacity: 1000, wantDown: true, maxSteps: 6, wantWithinPct: 1},
		{name: "bisects to the precision", f: FindMax{StartRate: 500, Factor: 2, Precision: 1.1}, capacity: 3000, maxSteps: 12, wantWithinPct: 0.1},
		{name: "very slow target", f: FindMax{StartRate: 4000, Factor: 1.5}, capacity: 25, wantDown: true, maxSteps: 8, wantWithinPct: 0.5},
		{name: "nothing sustainable", f: FindMax{StartRate: 400, Factor: 2}, capacity: 1, wantDown: true, maxSteps: 6, wantStop: "not sustainable even at 10/s", wantZero: true},
		{name: "step limit going up", f: FindMax{StartRate: 100, Factor: 2, MaxSteps: 3}, capacity: 1e6, maxSteps: 3, wantStop: "may be higher", wantLower: true},
		{name: "step limit going down", f: FindMax{StartRate: 4000, Factor: 2, MaxSteps: 1}, capacity: 1, wantDown: true, maxSteps: 1, wantStop: "before any step held", wantZero: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, rates := simulate(t, tc.f, tc.capacity, 0)
			if len(rates) > tc.maxSteps {
				t.Errorf("%d steps %v, want at most %d", len(rates), rates, tc.maxSteps)
			}
			if s.SteppedDown != tc.wantDown {
				t.Errorf("stepped down %v, want %v (rates %v)", s.SteppedDown, tc.wantDown, rates)
			}
			if !strings.Contains(s.StopReason, tc.wantStop) {
				t.Errorf("stop reason %q, want it to contain %q", s.StopReason, tc.wantStop)
			}
			if tc.wantZero != (s.Sustainable == 0) {
				t.Errorf("sustainable %v (rates %v, stop %q)", s.Sustainable, rates, s.StopReason)
			}
			if s.Sustainable > tc.capacity {
				t.Errorf("sustainable %v over the capacity %v", s.Sustainable, tc.capacity)
			}
			if tc.wantWithinPct > 0 && s.Sustainable < tc.capacity/(1+tc.wantWithinPct) {
				t.Errorf("sustainable %v, want within %.0f%% of the capacity %v (rates %v)", s.Sustainable, tc.wantWithinPct*100, tc.capacity, rates)
			}
			if s.LowerBound != tc.wantLower {
				t.Errorf("lower bound %v, want %v", s.LowerBound, tc.wantLower)
			}
			if len(s.Outcomes) != len(rates) {
				t.Errorf("%d outcomes for %d steps", len(s.Outcomes), len(rates))
			}
		})
	}
}

func TestFindMaxStopsAtWrongAnswers(t *testing.T) {
	t.Parallel()
	s, rates := simulate(t, FindMax{StartRate: 100, Factor: 2}, 1e6, 300)
	if len(rates) != 3 || s.Sustainable != 200 || !strings.Contains(s.StopReason, "wrong answers at 400/s") {
		t.Fatalf("rates %v, sustainable %v, stop %q: want 100, 200, 400 and a stop at the wrong answers", rates, s.Sustainable, s.StopReason)
	}
	// A wrong answer on the first step ends the search: no stepping down.
	s, rates = simulate(t, FindMax{StartRate: 4000, Factor: 2}, 100, 1)
	if len(rates) != 1 || s.SteppedDown {
		t.Fatalf("rates %v: wrong answers must end the search", rates)
	}
}

func TestFindMaxConfigRefusesBadPrecision(t *testing.T) {
	t.Parallel()
	for _, f := range []FindMax{{Precision: 0.5}, {Budget: -time.Second}, {Factor: 1}} {
		cfg := Config{FindMax: &f}
		if err := cfg.defaults(); err == nil {
			t.Errorf("%+v: accepted", f)
		}
	}
}

func TestRoundRate(t *testing.T) {
	t.Parallel()
	for in, want := range map[float64]float64{0.3: 1, 7.4: 7, 1080: 1100, 2828.4: 2800, 149: 150, 99.6: 100} {
		if got := roundRate(in); got != want {
			t.Errorf("roundRate(%v) = %v, want %v", in, got, want)
		}
	}
}

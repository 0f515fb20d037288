package bench

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/tsenart/vegeta/v12/lib/plot"
)

// Step outcomes of a find-max search (Search.Outcomes).
const (
	StepPassed = "passed"
)

// findMax searches the sustainable rate of sc against t: it steps the
// offered rate up by Factor while every bound holds; when a step breaks a
// bound before any step passed (the start rate is already too high), it
// steps down (to under the correct throughput it saw, at most 1/Factor of
// the failed rate) until a step passes; then it bisects (geometric mean)
// between the highest passing and the lowest failing rate until they are
// within Precision. MaxSteps, Budget and MinRate bound it.
func (r *runner) findMax(ctx context.Context, t *running, sc Scenario, p *plot.Plot) (*Search, error) {
	f := r.cfg.FindMax
	s := &Search{Target: t.spec.Name, Scenario: sc.Name}
	sr := newSearch(f, r.cfg.Shard.Count)
	var firstDone time.Time // the budget counts from the first step's end (its preparation may mint pools)
	for rate := sr.first(); rate > 0; {
		if f.Budget > 0 && len(s.Steps) > 0 && time.Since(firstDone)+f.StepDuration > f.Budget {
			s.StopReason = sr.cutShort(fmt.Sprintf("time budget %v spent", f.Budget))
			break
		}
		a, err := r.one(ctx, t, sc, rate, f.StepDuration, fmt.Sprintf("%s/%s@%.0f", t.spec.Name, sc.Name, rate), p)
		if a != nil {
			s.Steps = append(s.Steps, a)
		}
		if len(s.Steps) == 1 {
			firstDone = time.Now()
		}
		if err != nil {
			s.Outcomes = append(s.Outcomes, "error: "+err.Error())
			s.StopReason = err.Error()
			sr.fill(s)
			return s, err
		}
		outcome := sr.judge(a)
		s.Outcomes = append(s.Outcomes, outcome)
		if r.cfg.Progress != nil {
			fmt.Fprintf(r.cfg.Progress, "find-max %s/%s step %d: %.0f/s offered, %.0f correct/s, p99 %.1f ms: %s\n",
				t.spec.Name, sc.Name, len(s.Steps), rate, a.Throughput, a.P99, outcome)
		}
		var stop string
		rate, stop = sr.next(a, outcome, len(s.Steps))
		if stop != "" {
			s.StopReason = stop
		}
	}
	sr.fill(s)
	return s, nil
}

// search is the state of one find-max search, apart from the attacks:
// the highest passing rate (lo) and the lowest failing one (hi).
type search struct {
	f        *FindMax
	shards   float64
	lo, hi   float64
	loThr    float64 // correct throughput at lo
	hiReason string  // the bound hi broke
	down     bool    // stepped down from a failed first step
}

func newSearch(f *FindMax, shards int) *search {
	return &search{f: f, shards: float64(max(shards, 1))}
}

// first is the first step's rate (this shard's share).
func (s *search) first() float64 { return s.f.StartRate / s.shards }

// judge says whether step a held every bound: StepPassed, or the bound it broke.
func (s *search) judge(a *Attack) string {
	f, rate := s.f, a.OfferedRate
	errRate := 0.0
	if a.Requests > 0 {
		errRate = float64(a.Errors) / float64(a.Requests)
	}
	switch {
	case a.Wrong > 0:
		return fmt.Sprintf("%d wrong answers at %.0f/s", a.Wrong, rate)
	case time.Duration(a.Corrected.P99*float64(time.Millisecond)) > f.MaxP99:
		// From the intended send time: a generator that fell behind, or a
		// target that stalls, cannot hide the wait.
		return fmt.Sprintf("p99 %.1f ms (from the intended send time) > %v at %.0f/s", a.Corrected.P99, f.MaxP99, rate)
	case errRate > f.MaxErrorRate:
		return fmt.Sprintf("error rate %.2f%% > %.2f%% at %.0f/s", errRate*100, f.MaxErrorRate*100, rate)
	case a.Throughput < f.MinAchieved*rate:
		return fmt.Sprintf("saturated: %.0f correct/s for %.0f offered", a.Throughput, rate)
	}
	return StepPassed
}

// next records step a (n steps so far) and returns the next rate, or 0 and
// why the search stops.
func (s *search) next(a *Attack, outcome string, n int) (float64, string) {
	f, rate := s.f, a.OfferedRate
	if a.Wrong > 0 {
		return 0, outcome // wrong answers end the search: no rate is sustainable with them
	}
	if outcome == StepPassed {
		if rate > s.lo {
			s.lo, s.loThr = rate, a.Throughput
		}
	} else if s.hi == 0 || rate < s.hi {
		s.hi, s.hiReason = rate, outcome
	}
	var nextRate float64
	switch {
	case s.hi == 0: // every step passed: up
		nextRate = rate * f.Factor
	case s.lo == 0: // nothing passed yet: down, under what the target did manage
		s.down = true
		nextRate = s.hi / f.Factor
		if hint := 0.9 * a.Throughput; hint > 0 && hint < nextRate {
			nextRate = hint
		}
		nextRate = roundRate(nextRate)
		if s.hi <= s.f.MinRate/s.shards {
			return 0, fmt.Sprintf("not sustainable even at %.0f/s (the lowest rate tried): %s", s.hi, s.hiReason)
		}
		nextRate = max(nextRate, s.f.MinRate/s.shards)
	case s.hi/s.lo <= f.Precision*1.0001: // bracketed closely enough
		return 0, s.hiReason
	default: // bisect
		nextRate = roundRate(math.Sqrt(s.lo * s.hi))
		if nextRate <= s.lo || nextRate >= s.hi {
			return 0, s.hiReason
		}
	}
	if n >= f.MaxSteps {
		return 0, s.cutShort(fmt.Sprintf("step limit (%d steps) reached", f.MaxSteps))
	}
	return nextRate, ""
}

// cutShort says why a search ended before it bracketed the sustainable rate.
func (s *search) cutShort(why string) string {
	switch {
	case s.hi == 0:
		return why + ": the sustainable rate may be higher"
	case s.lo == 0:
		return why + " before any step held the bounds: " + s.hiReason
	}
	return fmt.Sprintf("%s: the sustainable rate is between %.0f/s and %.0f/s", why, s.lo, s.hi)
}

// fill copies the result into the report.
func (s *search) fill(out *Search) {
	out.Sustainable, out.SustainableThroughput, out.SteppedDown = s.lo, s.loThr, s.down
	out.LowerBound = s.lo > 0 && s.hi == 0
}

// roundRate rounds a rate to a whole number (at least 1/s) and from 100/s
// on to two significant digits, so that the steps read as plain figures.
func roundRate(r float64) float64 {
	if r < 100 {
		return max(1, math.Round(r))
	}
	p := math.Pow(10, math.Floor(math.Log10(r))-1)
	return math.Round(r/p) * p
}

package bench

import (
	"fmt"
	"math"
	"time"
)

// exactPacer paces an open-model attack at exactly PerSecond requests a second,
// any positive finite rate included (0.4/s sends one request every 2.5 s).
// Request k (0-based) is due at k/PerSecond after the attack's start; no request
// is due at or after Duration (0: no end), so an attack of rate r and length
// d sends ceil(r·d) requests when the generator keeps up.
//
// vegeta's own Rate{Freq, Per} takes an integer Freq: rounding a rate below
// 0.5/s to Freq 0 gives vegeta's unlimited rate, which is why every attack
// goes through this pacer and the rate is checked first (checkRate).
type exactPacer struct {
	PerSecond float64
	Duration  time.Duration
}

// due is when request hits (0-based) is meant to be sent, after the start.
func (p exactPacer) due(hits uint64) time.Duration {
	return time.Duration(float64(hits) / p.PerSecond * float64(time.Second))
}

// Pace implements vegeta.Pacer.
func (p exactPacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if !ValidRate(p.PerSecond) {
		return 0, true // never an unlimited attack by accident
	}
	due := p.due(hits)
	if p.Duration > 0 && due >= p.Duration {
		return 0, true
	}
	if due <= elapsed {
		return 0, false
	}
	return due - elapsed, false
}

// Rate implements vegeta.Pacer.
func (p exactPacer) Rate(time.Duration) float64 { return p.PerSecond }

func (p exactPacer) String() string {
	return fmt.Sprintf("exact{%g/s for %s}", p.PerSecond, p.Duration)
}

// ValidRate says whether r is a rate (or factor) the bench takes: a
// positive, finite number.
func ValidRate(r float64) bool { return r > 0 && !math.IsInf(r, 0) && !math.IsNaN(r) }

// checkRate refuses a rate that is not a positive finite number of
// requests per second.
func checkRate(name string, r float64) error {
	if !ValidRate(r) {
		return fmt.Errorf("%w: %s %v: want a positive, finite number of requests per second (0.5 is one request every 2 s)", ErrConfig, name, r)
	}
	return nil
}

// closedPacer is the closed model of --rate max (Config.RateMax): every
// request is due at once, so vegeta keeps MaxWorkers requests in flight,
// each sent when one is answered, until Duration.
type closedPacer struct{ Duration time.Duration }

// Pace implements vegeta.Pacer.
func (p closedPacer) Pace(elapsed time.Duration, _ uint64) (time.Duration, bool) {
	return 0, p.Duration > 0 && elapsed >= p.Duration
}

// Rate implements vegeta.Pacer: unbounded.
func (closedPacer) Rate(time.Duration) float64 { return math.Inf(1) }

package bench

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"
)

// TestRateIsHonoured runs the hot scenario against the in-process reference
// at rates below, around and above 1/s, and a shard's share of a rate that
// rounds to zero: the count sent is rate × duration within one request (or
// 5%). Before the exact pacer, any rate under 0.5/s was vegeta's unlimited
// rate: --rate 0.4 --duration 1s sent 13,499 requests.
func TestRateIsHonoured(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		rate  float64
		shard Shard
		d     time.Duration
	}{
		{"0.4/s", 0.4, Shard{0, 1}, 5 * time.Second},
		{"3/s", 3, Shard{0, 1}, 3 * time.Second},
		{"300/s", 300, Shard{0, 1}, 2 * time.Second},
		{"100/s over 256 shards", 100, Shard{0, 256}, 3 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := smokeConfig(t, "hot")
			cfg.Rate, cfg.Duration, cfg.Shard = tc.rate, tc.d, tc.shard
			rep, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Attacks) != 1 {
				t.Fatalf("%d attacks, want 1", len(rep.Attacks))
			}
			a := rep.Attacks[0]
			share := tc.rate / float64(tc.shard.Count)
			want := share * tc.d.Seconds()
			if tol := math.Max(1, 0.05*want); math.Abs(float64(a.Requests)-want) > tol {
				t.Errorf("sent %d requests at %g/s for %s, want %.1f ± %.1f", a.Requests, share, tc.d, want, tol)
			}
			if a.OfferedRate != share {
				t.Errorf("offered rate %v, want %v", a.OfferedRate, share)
			}
			if a.Wrong != 0 {
				t.Errorf("%d wrong answers", a.Wrong)
			}
		})
	}
}

// TestExactPacer checks the schedule itself: request k is due at k/rate,
// none at or after the duration, and an unusable rate stops at once instead
// of pacing nothing (vegeta's zero Rate means unlimited).
func TestExactPacer(t *testing.T) {
	p := exactPacer{PerSecond: 0.4, Duration: 6 * time.Second}
	if w, stop := p.Pace(0, 0); w != 0 || stop {
		t.Errorf("first request: wait %v stop %v, want now", w, stop)
	}
	if w, stop := p.Pace(time.Second, 1); w != 1500*time.Millisecond || stop {
		t.Errorf("second request at 1s: wait %v stop %v, want 1.5s", w, stop)
	}
	if w, stop := p.Pace(4*time.Second, 1); w != 0 || stop {
		t.Errorf("late second request: wait %v stop %v, want now", w, stop)
	}
	if _, stop := p.Pace(5*time.Second, 3); !stop { // due at 7.5s, after the end
		t.Error("a request due after the duration is not stopped")
	}
	for _, r := range []float64{0, -5, math.NaN(), math.Inf(1)} {
		if _, stop := (exactPacer{PerSecond: r}).Pace(0, 0); !stop {
			t.Errorf("rate %v: the pacer does not stop", r)
		}
	}
}

// TestConfigRefusesBadRates: a rate or duration that is not positive and
// finite is a configuration error, never a default or an unpaced attack.
func TestConfigRefusesBadRates(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Config)
	}{
		{"negative rate", func(c *Config) { c.Rate = -5 }},
		{"NaN rate", func(c *Config) { c.Rate = math.NaN() }},
		{"infinite rate", func(c *Config) { c.Rate = math.Inf(1) }},
		{"negative duration", func(c *Config) { c.Duration = -time.Second }},
		{"NaN cold factor", func(c *Config) { c.ColdFactor = math.NaN() }},
		{"NaN find-max start", func(c *Config) { c.FindMax = &FindMax{StartRate: math.NaN()} }},
		{"NaN find-max factor", func(c *Config) { c.FindMax = &FindMax{Factor: math.NaN()} }},
	} {
		cfg := Config{}
		tc.mod(&cfg)
		if err := cfg.defaults(); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: %v, want ErrConfig", tc.name, err)
		}
	}
}

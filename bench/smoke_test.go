package bench

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/mcaspec/mcaspec/reference"
)

// Keys are slow to generate: every test shares these.
var (
	keysOnce sync.Once
	testKeys []*rsa.PrivateKey
	devKey   *rsa.PrivateKey
	keysErr  error
)

func sharedKeys(t testing.TB) ([]*rsa.PrivateKey, *rsa.PrivateKey) {
	t.Helper()
	keysOnce.Do(func() {
		var wg sync.WaitGroup
		testKeys = make([]*rsa.PrivateKey, 2)
		errs := make([]error, 3)
		for i := range testKeys {
			wg.Add(1)
			go func() { defer wg.Done(); testKeys[i], errs[i] = rsa.GenerateKey(rand.Reader, 2048) }()
		}
		wg.Add(1)
		go func() { defer wg.Done(); devKey, errs[2] = rsa.GenerateKey(rand.Reader, 1024) }()
		wg.Wait()
		keysErr = errors.Join(errs...)
	})
	if keysErr != nil {
		t.Fatal(keysErr)
	}
	return testKeys, devKey
}

// smokeConfig is a short run against the in-process reference with a small
// cache, so that the cold pool mints in a moment.
func smokeConfig(t *testing.T, scenario string, targets ...TargetSpec) Config {
	keys, dk := sharedKeys(t)
	d := time.Second
	if testing.Short() {
		d = 500 * time.Millisecond
	}
	if len(targets) == 0 {
		ref := Reference()
		ref.Reference = reference.Config{CacheSize: 20, FetchTimeout: time.Second}
		targets = []TargetSpec{ref}
	}
	return Config{
		Scenarios: []string{scenario}, Targets: targets,
		Rate: 100, Duration: d, MaxWorkers: 8, Connections: 8,
		KeyfetchApps: 3, KeyfetchPairs: 2, OutageApps: 6, FleetSize: 3, FleetCalls: 2, WarmSize: 8,
		Keys: keys, DeviceKey: dk, Seed: 1,
		// These runs check answers, not speed: on a loaded test machine the
		// generator may fall behind (TestGeneratorFellBehind judges that).
		Bounds: Bounds{MinSendShare: -1},
	}
}

// TestSmoke runs every scenario briefly against the in-process reference
// target and asserts that every answer was right: correctness, not speed.
func TestSmoke(t *testing.T) {
	t.Parallel()
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg := smokeConfig(t, name)
			cfg.OutDir = t.TempDir()
			if name == "invalid-flood" {
				// One request in eight is a named mutation: send each at least
				// once. Bounded by count, not time: under -race on a loaded
				// machine the rate is not reached in a fixed time.
				cfg.Rate, cfg.MaxRequests, cfg.Duration = 640, 8*80, 20*time.Second
			}
			rep, err := Run(context.Background(), cfg)
			if err != nil {
				if rep != nil {
					for _, a := range rep.all() {
						t.Logf("%s: %v %v", a.Name, a.WrongSamples, a.ErrorKinds)
					}
				}
				t.Fatalf("Run: %v", err)
			}
			if rep.WrongAnswers != 0 || !rep.OK {
				t.Fatalf("wrong answers: %d", rep.WrongAnswers)
			}
			if len(rep.Attacks) != 1 {
				t.Fatalf("attacks: %d, want 1", len(rep.Attacks))
			}
			a := rep.Attacks[0]
			if a.Correct == 0 || a.Correct != a.Requests-a.Errors {
				t.Fatalf("%s: %d requests, %d correct, %d errors: %v", a.Name, a.Requests, a.Correct, a.Errors, a.ErrorKinds)
			}
			if name != "outage" && name != "fleet" && a.Errors > 0 {
				t.Fatalf("%s: %d errors: %v", a.Name, a.Errors, a.ErrorKinds)
			}
			switch name {
			case "keyfetch":
				if got := a.Extra["maxFetchesPerApp"]; got < 1 {
					t.Errorf("keyfetch: max fetches per app %v, want >= 1", got)
				}
			case "invalid-flood":
				n := int(a.Extra["namedMutations"])
				if n < 50 || a.ByKind["refused/correct"] < 8*n {
					t.Errorf("invalid-flood: %d named mutations, %d refusals: not every mutation was sent", n, a.ByKind["refused/correct"])
				}
			case "propagation":
				if a.SinkHits == 0 {
					t.Errorf("propagation: the sink saw no request")
				}
			case "outage":
				if a.Hangs != 0 {
					t.Errorf("outage: %d hangs", a.Hangs)
				}
				if a.Extra["recoverySeconds"] < 0 {
					t.Errorf("outage: no recovery measured: %v", a.Extra)
				}
			}
			if a.ResultsFile == "" || filepath.Dir(filepath.Dir(a.ResultsFile)) != cfg.OutDir {
				t.Errorf("results file %q not under %s", a.ResultsFile, cfg.OutDir)
			}
		})
	}
}

// TestCheckerCatchesAcceptAll proves the checker: a target that accepts
// every token (the baseline, declared as validating) must produce wrong
// answers under invalid-flood, and Run must say so.
func TestCheckerCatchesAcceptAll(t *testing.T) {
	t.Parallel()
	broken := TargetSpec{Name: "accept-all", Kind: KindBaseline}
	rep, err := Run(context.Background(), smokeConfig(t, "invalid-flood", broken))
	if !errors.Is(err, ErrWrongAnswers) {
		t.Fatalf("Run: %v, want ErrWrongAnswers", err)
	}
	if rep == nil || rep.WrongAnswers == 0 || rep.OK {
		t.Fatalf("report: %+v, want wrong answers", rep)
	}
	// The same target as an unchecked baseline is not blamed.
	ok := Baseline()
	rep, err = Run(context.Background(), smokeConfig(t, "invalid-flood", ok))
	if err != nil || rep.WrongAnswers != 0 {
		t.Fatalf("baseline: %v, %d wrong", err, rep.WrongAnswers)
	}
}

// TestBareCeiling runs the no-auth ceiling beside the reference: bare is
// judged by its status only (it answers a fixed body to any token), and
// the reference's rows carry a ratio to it.
func TestBareCeiling(t *testing.T) {
	t.Parallel()
	cfg := smokeConfig(t, "hot")
	cfg.Targets = append(cfg.Targets, Bare())
	cfg.Scenarios = []string{"hot", "invalid-flood"}
	cfg.Duration, cfg.MaxRequests = 300*time.Millisecond, 60
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range rep.Attacks {
		if a.Wrong != 0 || a.Errors != 0 || a.Correct == 0 {
			t.Errorf("%s: %d correct, %d wrong, %d errors %v", a.Name, a.Correct, a.Wrong, a.Errors, a.ErrorKinds)
		}
	}
	for _, row := range rep.Table {
		if row.Target == "reference" && row.VsBare <= 0 {
			t.Errorf("%s/reference: no ratio to bare", row.Scenario)
		}
	}
}

package conformance_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mcaspec/mcaspec/conformance"
	"github.com/mcaspec/mcaspec/conformance/kit"
)

// A recipe that returns an error or panics is a harness fault: ERROR, never
// FAIL; what the target did wrong during set-up stays a FAIL.
func TestRunnerErrorIsNotFail(t *testing.T) {
	t.Parallel()
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(target.Close)
	r := &conformance.Runner{Profile: conformance.Strict, Kit: kit.Kit{Target: target.URL, HTTP: target.Client()}}
	mk := func(fn func(context.Context, *kit.Env) error) conformance.Case {
		return conformance.Case{ID: "HDR-900", Area: "header", Title: "t", Rule: "MUST", Refs: []string{"r"},
			Expect: map[conformance.Profile]conformance.Expect{conformance.Strict: {Level: conformance.Must, Outcomes: []kit.Outcome{kit.Accepted}}},
			Recipe: kit.Procedure{Doc: "d", Fn: fn}}
	}
	tests := []struct {
		name   string
		fn     func(context.Context, *kit.Env) error
		want   conformance.Verdict
		reason string
	}{
		{"setup error", func(context.Context, *kit.Env) error {
			return fmt.Errorf("%w: add app: no key", kit.ErrSetup)
		}, conformance.Errored, "harness error (not a verdict on the target): harness setup: add app: no key"},
		{"panic", func(context.Context, *kit.Env) error {
			panic("a bug in the recipe")
		}, conformance.Errored, "harness bug: recipe of HDR-900 panicked"},
		{"target refuses a valid token in set-up", func(ctx context.Context, e *kit.Env) error {
			if x := e.Get(ctx, "valid pair", "/v1/apps/a/protected", nil); x.Status != http.StatusOK {
				e.Observation().Failf("precondition: the valid pair got %d", x.Status)
			}
			return nil
		}, conformance.Fail, "precondition: the valid pair got 401"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := r.Run(context.Background(), mk(tt.fn))
			if res.Verdict != tt.want || !strings.Contains(res.Reason, tt.reason) {
				t.Errorf("verdict %s (%s), want %s saying %q", res.Verdict, res.Reason, tt.want, tt.reason)
			}
		})
	}
}

func TestOutcomeExitCodes(t *testing.T) {
	t.Parallel()
	res := func(vs ...conformance.Verdict) []conformance.Result {
		var out []conformance.Result
		for i, v := range vs {
			out = append(out, conformance.Result{ID: fmt.Sprintf("HDR-%03d", i+1), Verdict: v})
		}
		return out
	}
	tests := []struct {
		name string
		rs   []conformance.Result
		want int
	}{
		{"all pass", res(conformance.Pass, conformance.Informational, conformance.Skipped), conformance.ExitPassed},
		{"non-strict only", res(conformance.Pass, conformance.NonStrict), conformance.ExitPassed},
		{"a failure", res(conformance.Pass, conformance.Fail), conformance.ExitFailed},
		{"an error", res(conformance.Pass, conformance.Errored), conformance.ExitInvalid},
		{"an error beats a failure", res(conformance.Fail, conformance.Errored), conformance.ExitInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rep := &conformance.RunReport{Results: tt.rs}
			code, why := rep.Outcome(false)
			if code != tt.want {
				t.Errorf("exit %d (%s), want %d", code, why, tt.want)
			}
			for _, id := range rep.Errored() {
				if strings.Contains(strings.Join(rep.Failed(true), " "), id) {
					t.Errorf("ERROR %s counted as a failure", id)
				}
			}
		})
	}
}

// A flood keeps its first exchanges and its latest, counts the rest, and
// the judged exchange stays the one judged.
func TestObservationKeepsStartAndEnd(t *testing.T) {
	t.Parallel()
	var o kit.Observation
	o.Add(kit.Exchange{Step: "first"})
	o.Judge()
	for i := range 1000 {
		o.Add(kit.Exchange{Step: fmt.Sprintf("flood %d", i)})
	}
	o.Add(kit.Exchange{Step: "valid after flood"})
	if len(o.Exchanges) != kit.MaxExchanges || o.Omitted != 1001+1-kit.MaxExchanges {
		t.Fatalf("%d exchanges kept, %d omitted", len(o.Exchanges), o.Omitted)
	}
	if o.Judged().Step != "first" || o.Exchanges[len(o.Exchanges)-1].Step != "valid after flood" {
		t.Errorf("judged %q, last %q", o.Judged().Step, o.Exchanges[len(o.Exchanges)-1].Step)
	}
}

// Package mcaspectest certifies a Go validator in its own `go test` run:
// one call runs the conformance catalogue against an http.Handler (served
// in-process on loopback) or a running URL, each case a subtest with its
// verdict, a baseline of expected failures honoured.
//
//	func TestConformance(t *testing.T) {
//		mcaspectest.Certify(t, func(c launch.Contract) (http.Handler, error) {
//			return myvalidator.New(c.ServerURL, c.AppID) // configured from the contract
//		}, mcaspectest.Options{Profile: conformance.MCA, Baseline: "testdata/baseline.txt"})
//	}
//
// The harness starts its fake authorization server first, so the handler is
// built from the contract it is given (docs/TARGET-CONTRACT.md):
// Contract.ServerURL is the AZ, Contract.AppID the home app, and
// harness.Getenv(c) the environment a process target would see.
package mcaspectest

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/mcaspec/mcaspec/conformance"
	"github.com/mcaspec/mcaspec/conformance/harness"
	"github.com/mcaspec/mcaspec/targets"
	"github.com/mcaspec/mcaspec/targets/launch"
)

// Handler builds the target from the contract of the run.
type Handler func(launch.Contract) (http.Handler, error)

// Options tune a certification. The zero value runs every case of the
// strict profile and writes no reports.
type Options struct {
	// Profile: conformance.MCA or conformance.Strict (default Strict).
	Profile conformance.Profile
	// Baseline is a baseline file of expected FAIL / NON-STRICT verdicts
	// (docs/BASELINE.md); "" for none.
	Baseline string
	// FailOnNonStrict makes NON-STRICT verdicts fail their subtests.
	FailOnNonStrict bool
	// Focus runs only these case IDs; Select keeps the cases it returns true for.
	Focus  []string
	Select func(conformance.Case) bool
	// Out is where the reports go (results.json, junit.xml, report.html):
	// default a temporary folder of the test.
	Out string
	// Name labels the target in the reports (default "handler").
	Name string
	// Harness tweaks the rest of the set-up (service credentials, fixed
	// app id, response bound...); its target fields are set by Certify.
	Harness harness.Config
}

// Certify runs the catalogue against the handler that build returns, one
// subtest per case named by its ID: a FAIL (or a baseline that no longer
// matches) fails the subtest with the rule, the expected outcomes and what
// came back; SKIPPED cases are skipped subtests; NON-STRICT and
// INFORMATIONAL are logged. A failed calibration fails the test at once.
// It returns the run's report.
func Certify(t *testing.T, build Handler, o Options) *conformance.RunReport {
	t.Helper()
	cfg := o.Harness
	cfg.Target = targets.Handler(build)
	return certify(t, cfg, o)
}

// CertifyURL is Certify against a target already running at url,
// configured with the contract `mcaspec conformance --print-contract` shows
// (the harness's AZ then listens on harness.DefaultAZListen unless
// o.Harness.AZListen says otherwise).
func CertifyURL(t *testing.T, url string, o Options) *conformance.RunReport {
	t.Helper()
	cfg := o.Harness
	cfg.Target = targets.URL(url, 0)
	return certify(t, cfg, o)
}

func certify(t *testing.T, cfg harness.Config, o Options) *conformance.RunReport {
	t.Helper()
	rc, err := runConfig(cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	if rc.Out == "" {
		rc.Out = t.TempDir()
	}
	rc.Done = func(r conformance.Result) {
		t.Run(r.ID, func(t *testing.T) {
			failed, note := rc.Baseline.Judge(r, rc.FailOnNonStrict)
			switch {
			case failed:
				t.Errorf("%s\n%s", note, r.Explain())
			case r.Verdict == conformance.Skipped:
				t.Skip(r.Reason)
			case r.Verdict != conformance.Pass:
				t.Log(note)
			}
		})
	}
	rep, err := harness.RunSuite(context.Background(), rc)
	var ee *harness.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && t.Failed() && ee.Code == conformance.ExitFailed:
		// The failing subtests say it all.
	default:
		t.Errorf("mcaspec conformance: %v (reports in %s)", err, rc.Out)
	}
	return rep
}

// Run is Certify without a testing.T: it runs the catalogue against the
// handler and returns the report and the outcome (nil when it passed, else
// a *harness.ExitError with the exit code and why).
func Run(ctx context.Context, build Handler, o Options) (*conformance.RunReport, error) {
	cfg := o.Harness
	cfg.Target = targets.Handler(build)
	rc, err := runConfig(cfg, o)
	if err != nil {
		return nil, err
	}
	return harness.RunSuite(ctx, rc)
}

func runConfig(cfg harness.Config, o Options) (harness.RunConfig, error) {
	if o.Profile == "" {
		o.Profile = conformance.Strict
	}
	cfg.Profile = o.Profile
	if o.Name != "" {
		cfg.TargetName = o.Name
	}
	if cfg.AZListen == "" && cfg.Target.Info().Mode != targets.ModeURL {
		cfg.AZListen = "127.0.0.1:0"
	}
	rc := harness.RunConfig{Config: cfg, Focus: o.Focus, Select: o.Select, FailOnNonStrict: o.FailOnNonStrict, Out: o.Out, BaselineFile: o.Baseline}
	if o.Baseline != "" {
		b, err := harness.ReadBaseline(o.Baseline)
		if err != nil {
			return rc, err
		}
		rc.Baseline = b
	}
	return rc, nil
}

// Package specs turns the conformance catalogue into Ginkgo specs: one
// DescribeTable per area, one Entry per case, labelled case:ID,
// level:must|should|info and area:KEY, all in one Ordered container so the
// calibration cases run first and a failed calibration aborts the run.
//
// The mcaspec CLI and Go callers run the catalogue with harness.RunSuite
// (no Ginkgo); Run drives Ginkgo in-process; the package's own test
// runs the suite against the built-in reference target with `go test` or
// the pinned ginkgo CLI (go tool ginkgo).
package specs

import (
	"context"
	"fmt"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/mcaspec/mcaspec/conformance"
	"github.com/mcaspec/mcaspec/conformance/harness"
)

// DefaultCaseTimeout bounds one case (harness.DefaultCaseTimeout).
const DefaultCaseTimeout = harness.DefaultCaseTimeout

// Options configure a suite.
type Options struct {
	Session *harness.Session
	// Cases in run order (harness.Order).
	Cases []conformance.Case
	// Baseline of expected non-PASS verdicts (nil: none).
	Baseline harness.Baseline
	// FailOnNonStrict makes NON-STRICT verdicts fail specs.
	FailOnNonStrict bool
	// CaseTimeout: default DefaultCaseTimeout.
	CaseTimeout time.Duration
}

// Collector gathers the results of the specs that ran.
type Collector struct {
	mu      sync.Mutex
	results []conformance.Result
	// Aborted holds the calibration diagnosis when the run was stopped.
	Aborted string
}

func (c *Collector) add(r conformance.Result) {
	c.mu.Lock()
	c.results = append(c.results, r)
	c.mu.Unlock()
}

// Results returns the results in the order they ran.
func (c *Collector) Results() []conformance.Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]conformance.Result(nil), c.results...)
}

// Define builds the spec tree. Call it once, before RunSpecs.
func Define(o Options, col *Collector) bool {
	timeout := o.CaseTimeout
	if timeout <= 0 {
		timeout = DefaultCaseTimeout
	}
	// One table per run of consecutive cases of an area: the cases keep the
	// exact order of o.Cases (calibration first, disruptive cases last).
	var groups [][]conformance.Case
	for i, c := range o.Cases {
		if i == 0 || c.Area != o.Cases[i-1].Area {
			groups = append(groups, nil)
		}
		groups[len(groups)-1] = append(groups[len(groups)-1], c)
	}
	profile := o.Session.Runner.Profile
	return Describe("mcaspec conformance ["+string(profile)+"] "+o.Session.Target.Name, Ordered, ContinueOnFailure, func() {
		for _, group := range groups {
			area, _ := conformance.AreaByKey(group[0].Area)
			var entries []TableEntry
			for _, c := range group {
				labels := Label(c.Labels(profile)...)
				entries = append(entries, Entry(c.ID+" "+c.Title, c, labels))
			}
			DescribeTable(area.Title+" ("+area.Prefix+")", func(c conformance.Case) {
				ctx, cancel := context.WithTimeout(context.Background(), timeout)
				defer cancel()
				r := o.Session.Run(ctx, c)
				col.add(r)
				judge(o, col, r)
			}, entries)
		}
	})
}

// judge turns a result into Ginkgo's pass / fail / skip, honouring the baseline.
func judge(o Options, col *Collector, r conformance.Result) {
	// Shown with failures and in verbose runs only: a passing spec prints nothing.
	AddReportEntry("verdict", string(r.Verdict), ReportEntryVisibilityFailureOrVerbose)
	if r.Reason != "" {
		AddReportEntry("reason", r.Reason, ReportEntryVisibilityFailureOrVerbose)
	}
	want, listed := o.Baseline[r.ID]
	failing := r.Verdict == conformance.Fail || (o.FailOnNonStrict && r.Verdict == conformance.NonStrict)
	switch {
	case r.Area == "calibration" && r.Verdict == conformance.Errored:
		col.Aborted = fmt.Sprintf("calibration case %s (%s) could not be run, the harness failed: %s\n", r.ID, r.Title, r.Reason)
		AbortSuite("the run is invalid, not 'all passed': " + col.Aborted)
	case r.Area == "calibration" && r.Verdict != conformance.Pass:
		col.Aborted = o.Session.Diagnose(r)
		AbortSuite("the run is invalid, not 'all passed': " + col.Aborted)
	case r.Verdict == conformance.Skipped:
		Skip(r.Reason)
	case r.Verdict == conformance.Errored:
		Fail("harness ERROR, not a verdict on the target: " + r.Explain())
	case listed && r.Verdict == want:
		AddReportEntry("baseline", "expected "+string(want)+" (listed in the baseline)", ReportEntryVisibilityFailureOrVerbose)
	case listed:
		Fail(fmt.Sprintf("stale baseline: listed as %s, now %s — update the baseline\n%s", want, r.Verdict, r.Explain()))
	case failing:
		Fail(r.Explain())
	}
}

// Config is a whole suite run.
type Config struct {
	Options
	// LabelFilter is a Ginkgo label filter, e.g. "area:header && level:must" or "case:HDR-003".
	LabelFilter string
	// FocusStrings focus specs by description (IDs or titles).
	FocusStrings []string
	// Verbose prints every spec; otherwise Ginkgo prints a dot per spec and details of failures.
	Verbose bool
	// NoColor turns off colours (set when the output is not a terminal).
	NoColor bool
}

type shimT struct{ failed bool }

func (t *shimT) Fail() { t.failed = true }

// Run defines the specs and runs them in this process with Ginkgo. Ginkgo
// allows one RunSpecs per process.
func Run(cfg Config) (*Collector, bool) {
	col := &Collector{}
	Define(cfg.Options, col)
	sc, rc := GinkgoConfiguration()
	sc.LabelFilter = cfg.LabelFilter
	sc.FocusStrings = cfg.FocusStrings
	sc.RandomizeAllSpecs = false
	sc.Timeout = 2 * time.Hour
	rc.NoColor = cfg.NoColor
	rc.Verbose = cfg.Verbose
	rc.Succinct = !cfg.Verbose
	t := &shimT{}
	passed := RunSpecs(t, "mcaspec conformance", sc, rc)
	return col, passed && !t.failed
}

package specs_test

import (
	"context"
	"os"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mcaspec/mcaspec/conformance"
	"github.com/mcaspec/mcaspec/conformance/harness"
	"github.com/mcaspec/mcaspec/conformance/specs"
)

// TestReferenceConformance runs the whole catalogue, as Ginkgo specs,
// against the built-in reference target in the strict profile: every case
// must PASS (INFO cases are only recorded).
//
//	go test ./conformance/specs/                 # or: go tool ginkgo ./conformance/specs
//	go test ./conformance/specs/ -args -ginkgo.label-filter=area:header
func TestReferenceConformance(t *testing.T) {
	RegisterFailHandler(Fail)
	profile := conformance.Strict
	if p := os.Getenv("MCASPEC_PROFILE"); p != "" {
		profile = conformance.Profile(p)
	}
	sess, err := harness.Prepare(context.Background(), harness.Config{Profile: profile, AZListen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sess.Close() })
	col := &specs.Collector{}
	specs.Define(specs.Options{Session: sess, Cases: harness.Cases(harness.Config{})}, col) // the MCA family: the reference implements it
	start := time.Now()
	ReportAfterSuite("every case passes against the reference", func(Report) {
		results := col.Results()
		t.Logf("%d cases in %s: %v", len(results), time.Since(start).Round(time.Millisecond), conformance.Summarize(results))
		for _, r := range results {
			if r.Verdict != conformance.Pass && r.Verdict != conformance.Informational {
				t.Errorf("%s", r.Explain())
			}
		}
	})
	RunSpecs(t, "mcaspec conformance against the reference target")
}

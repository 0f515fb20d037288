package mcaspectest_test

import (
	"context"
	"fmt"
	"net/http"
	"os"

	"github.com/mcaspec/mcaspec/conformance"
	"github.com/mcaspec/mcaspec/conformance/harness"
	"github.com/mcaspec/mcaspec/conformance/mcaspectest"
	"github.com/mcaspec/mcaspec/reference/target"
	"github.com/mcaspec/mcaspec/targets/launch"
)

// referenceHandler builds the reference target from the contract, as a
// team's own validator would be built from it.
func referenceHandler(c launch.Contract) (http.Handler, error) {
	cfg, err := target.ConfigFromEnv(harness.Getenv(c))
	if err != nil {
		return nil, err
	}
	return target.New(cfg)
}

// Run certifies a handler without a testing.T (in a test, use Certify:
// each case becomes a subtest). Here: the calibration and two header cases
// in the mca profile, where the reference misses one SHOULD (a NON-STRICT
// verdict, which does not fail the run).
func ExampleRun() {
	out, err := os.MkdirTemp("", "mcaspectest-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(out)
	rep, err := mcaspectest.Run(context.Background(), referenceHandler, mcaspectest.Options{
		Profile: conformance.MCA,
		Focus:   []string{"CAL-001", "CAL-002", "CAL-003", "HDR-001", "HDR-003"},
		Out:     out,
	})
	if err != nil {
		fmt.Println("not certified:", err)
		return
	}
	for _, r := range rep.Results {
		fmt.Println(r.ID, r.Verdict)
	}
	// Output:
	// CAL-001 PASS
	// CAL-002 PASS
	// CAL-003 PASS
	// HDR-001 PASS
	// HDR-003 NON-STRICT
}

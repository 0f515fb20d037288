package mcaspectest_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/mcaspec/mcaspec/conformance"
	"github.com/mcaspec/mcaspec/conformance/harness"
	"github.com/mcaspec/mcaspec/conformance/mcaspectest"
	"github.com/mcaspec/mcaspec/targets/launch"
)

// The whole catalogue against the reference handler, in-process: every
// case a subtest, none failing (reference/baseline-mca.txt lists the mca
// profile's expected verdicts; strict has none).
func TestCertifyReference(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole catalogue (about 30 s)")
	}
	rep := mcaspectest.Certify(t, referenceHandler, mcaspectest.Options{Name: "reference"})
	if rep == nil || len(rep.Results) < 100 {
		t.Fatalf("report %v: want the whole catalogue", rep)
	}
	if n := rep.Summary[conformance.Fail] + rep.Summary[conformance.Errored]; n != 0 {
		t.Errorf("%d FAIL/ERROR against the reference", n)
	}
}

// A handler that accepts anything fails calibration: the run is invalid
// (exit code 3), not a list of failures.
func TestRunAcceptEverythingIsInvalid(t *testing.T) {
	t.Parallel()
	accept := func(launch.Contract) (http.Handler, error) {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }), nil
	}
	_, err := mcaspectest.Run(context.Background(), accept, mcaspectest.Options{Out: t.TempDir(), Focus: []string{"CAL-001", "HDR-001"}})
	var ee *harness.ExitError
	if !errors.As(err, &ee) || ee.Code != conformance.ExitInvalid {
		t.Fatalf("err %v, want exit code %d (calibration failed)", err, conformance.ExitInvalid)
	}
}

// A handler that cannot be built is reported as such, not as failures.
func TestRunHandlerBuildError(t *testing.T) {
	t.Parallel()
	broken := func(launch.Contract) (http.Handler, error) { return nil, errors.New("no config") }
	_, err := mcaspectest.Run(context.Background(), broken, mcaspectest.Options{Out: t.TempDir()})
	if !errors.As(err, new(*harness.ExitError)) || (err == nil || !strings.Contains(err.Error(), "no config")) {
		t.Fatalf("err %v, want the build error", err)
	}
}

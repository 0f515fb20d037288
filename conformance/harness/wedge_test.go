package harness_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcaspec/mcaspec/conformance"
	"github.com/mcaspec/mcaspec/conformance/harness"
	"github.com/mcaspec/mcaspec/conformance/kit"
	"github.com/mcaspec/mcaspec/reference/target"
	"github.com/mcaspec/mcaspec/targets"
	"github.com/mcaspec/mcaspec/targets/launch"
)

// wedgeAfterOutage answers normally until the target first fails closed
// (503: the AZ key could not be had), then never answers again: the
// hang-on-outage kind of target that takes a suite down with it.
func wedgeAfterOutage(h http.Handler) http.Handler {
	var wedged atomic.Bool
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if wedged.Load() && r.URL.Path != "/healthz" {
			<-r.Context().Done() // hangs until the client gives up or the server closes
			return
		}
		h.ServeHTTP(&statusWatch{ResponseWriter: w, wedged: &wedged}, r)
	})
}

type statusWatch struct {
	http.ResponseWriter
	wedged *atomic.Bool
}

func (s *statusWatch) WriteHeader(code int) {
	if code == http.StatusServiceUnavailable {
		s.wedged.Store(true)
	}
	s.ResponseWriter.WriteHeader(code)
}

// startWedgingReference serves the reference target, wedged after its first
// outage, on ln, configured by getenv (the target contract).
func startWedgingReference(ln net.Listener, getenv func(string) string) (*http.Server, error) {
	tc, err := target.ConfigFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	srv, err := target.New(tc)
	if err != nil {
		return nil, err
	}
	hs := &http.Server{Handler: wedgeAfterOutage(srv), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	return hs, nil
}

// wedgeContract is a free AZ address and the environment a target gets for
// it (the contract's variables, no service-call downstream).
func wedgeContract(t *testing.T) (azListen string, getenv func(string) string) {
	t.Helper()
	port, err := launch.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	azListen = fmt.Sprintf("127.0.0.1:%d", port)
	return azListen, harness.Getenv(launch.Contract{ServerURL: "http://" + azListen + "/imf-authserver",
		AppID: harness.DefaultAppID, ClientID: harness.DefaultClientID, Secret: harness.DefaultSecret})
}

// runStrictSuite runs every strict case, a minute at most each, against the
// running target at u with the AZ at azListen, and reports how long it took.
func runStrictSuite(t *testing.T, u, azListen string) ([]conformance.Result, *conformance.RunReport, time.Duration) {
	t.Helper()
	start := time.Now()
	cfg := harness.Config{Profile: conformance.Strict, Target: targets.URL(u, 0), AZListen: azListen}
	sess, err := harness.Prepare(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sess.Close() })
	var results []conformance.Result
	for _, c := range harness.Cases(cfg) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		results = append(results, sess.Run(ctx, c))
		cancel()
	}
	return results, sess.Report(start, nil, results), time.Since(start)
}

// TestHelperWedgingTarget is not a test: run by --target-cmd with
// HARNESS_HELPER=wedge, it is a target under the contract that wedges for
// good after its first outage.
func TestHelperWedgingTarget(t *testing.T) {
	if os.Getenv("HARNESS_HELPER") != "wedge" {
		t.Skip("only runs as a launched helper process")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:"+os.Getenv("PORT"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := startWedgingReference(ln, os.Getenv); err != nil {
		t.Fatal(err)
	}
	select {} // until the harness stops the process
}

// A running target (--target URL) that hangs for good after its first
// outage: the harness notices within a few requests, marks the remaining
// cases SKIPPED ("target unresponsive since ..."), the run is invalid
// (exit 3), and the whole suite ends well under two minutes.
func TestWedgedURLTargetSkipsTheRest(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the suite up to the first outage")
	}
	azListen, getenv := wedgeContract(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs, err := startWedgingReference(ln, getenv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = hs.Close() })

	results, rep, took := runStrictSuite(t, "http://"+ln.Addr().String(), azListen)
	// The wall-clock figure is logged (it is load-dependent: quote it, do not
	// assert it); what is asserted below is that no case after the wedge
	// waits out a timeout.
	t.Logf("suite against a target wedged after its first outage: %s, unresponsive since %s, %v", took.Round(time.Millisecond), rep.UnresponsiveSince, rep.Summary)
	if !strings.HasPrefix(rep.UnresponsiveSince, "KEY-") {
		t.Fatalf("unresponsive since %q, want the key case after the first outage", rep.UnresponsiveSince)
	}
	after, skipped := false, 0
	for _, r := range results {
		if r.ID == rep.UnresponsiveSince {
			after = true
			if !strings.Contains(r.Reason, "stopped answering") || !strings.Contains(r.Reason, "remaining cases are SKIPPED") {
				t.Errorf("%s reason %q does not say the target stopped answering", r.ID, r.Reason)
			}
			continue
		}
		if after {
			if r.Verdict != conformance.Skipped || !strings.HasPrefix(r.Reason, conformance.UnresponsiveReason+rep.UnresponsiveSince) {
				t.Errorf("%s after the wedge: %s %q, want SKIPPED (target unresponsive since %s)", r.ID, r.Verdict, r.Reason, rep.UnresponsiveSince)
			}
			skipped++
		}
	}
	if skipped == 0 {
		t.Error("no case was skipped after the wedge")
	}
	if code, why := rep.Outcome(false); code != conformance.ExitInvalid || !strings.Contains(why, "stopped answering") {
		t.Errorf("outcome %d %q, want exit 3 saying the target stopped answering", code, why)
	}
	if len(rep.Events) != 1 || rep.Events[0].After != rep.UnresponsiveSince {
		t.Errorf("events %+v, want one for %s", rep.Events, rep.UnresponsiveSince)
	}
}

// A target the harness started (--target-cmd) that wedges is restarted,
// the case says so, the report records it, and later cases run normally.
func TestWedgedCmdTargetIsRestarted(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("waits for timeouts")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cfg := harness.Config{Profile: conformance.Strict, AZListen: "127.0.0.1:0",
		Target: targets.Command("HARNESS_HELPER=wedge exec "+exe+" -test.run=^TestHelperWedgingTarget$", launch.Options{ReadyTimeout: 30 * time.Second})}
	start := time.Now()
	sess, err := harness.Prepare(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sess.Close() })
	byID := map[string]conformance.Case{}
	for _, c := range conformance.Catalogue() {
		byID[c.ID] = c
	}
	got := map[string]conformance.Result{}
	for _, id := range []string{"KEY-002", "KEY-003", "HDR-001", "CAL-001"} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		got[id] = sess.Run(ctx, byID[id])
		cancel()
	}
	rep := sess.Report(start, nil, nil)
	t.Logf("restart path took %s; events %+v", time.Since(start).Round(time.Millisecond), rep.Events)
	if r := got["KEY-003"]; !strings.Contains(r.Reason, "stopped answering") || !strings.Contains(r.Reason, "restarted") {
		t.Errorf("KEY-003 %s %q: want the reason to say the target was restarted", r.Verdict, r.Reason)
	}
	for _, id := range []string{"HDR-001", "CAL-001"} {
		if got[id].Verdict != conformance.Pass {
			t.Errorf("%s after the restart: %s %q, want PASS", id, got[id].Verdict, got[id].Reason)
		}
	}
	if rep.UnresponsiveSince != "" || len(rep.Events) != 1 || !strings.Contains(rep.Events[0].What, "restarted") {
		t.Errorf("report: unresponsive %q, events %+v; want one restart event", rep.UnresponsiveSince, rep.Events)
	}
}

// wedgeKeyPathAfterOutage answers normally until the target first fails
// closed (503: the AZ key could not be had); from then on every request that
// carries a token (the ones that need the key: its key-fetch lock is never
// released) hangs, while requests without one are answered at once.
func wedgeKeyPathAfterOutage(h http.Handler) http.Handler {
	var wedged atomic.Bool
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if wedged.Load() && strings.Contains(r.Header.Get("Authorization"), ".") {
			<-r.Context().Done()
			return
		}
		h.ServeHTTP(&statusWatch{ResponseWriter: w, wedged: &wedged}, r)
	})
}

// A running target (--target URL) that wedges only where it needs a key
// after an outage: the harness's key-path probe notices it, the cases after
// it that send a token are SKIPPED with the reason, those that send none
// still run, and the strict suite ends in under two minutes.
func TestKeyPathWedgedURLTargetSkipsTokenCases(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the suite against a target wedged after its first outage")
	}
	azListen, getenv := wedgeContract(t)
	tc, err := target.ConfigFromEnv(getenv)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := target.New(tc)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: wedgeKeyPathAfterOutage(srv), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() { _ = hs.Close() })

	results, rep, took := runStrictSuite(t, "http://"+ln.Addr().String(), azListen)
	// The wall-clock figure is logged (it is load-dependent: quote it, do not
	// assert it); what is asserted is that no later case waits out a timeout.
	t.Logf("strict suite against a target wedged on its key path after its first outage: %s, %v, events %+v", took.Round(time.Millisecond), rep.Summary, rep.Events)
	if len(rep.Events) != 1 || !strings.Contains(rep.Events[0].What, "wedged where it needs a key") {
		t.Fatalf("events %+v, want one saying the target is wedged where it needs a key", rep.Events)
	}
	since := rep.Events[0].After
	after, skipped, ran := false, 0, 0
	for _, r := range results {
		switch {
		case r.ID == since:
			after = true
			if !strings.Contains(r.Reason, "wedged where it needs a key") {
				t.Errorf("%s reason %q does not say the key path is wedged", r.ID, r.Reason)
			}
		case after && r.Verdict == conformance.Skipped && strings.Contains(r.Reason, "wedged where it needs a key since "+since):
			skipped++
		case after:
			ran++
			if d := time.Duration(r.Duration); d >= kit.DefaultResponseBound {
				t.Errorf("%s after the key path wedged took %s: it waited out a timeout", r.ID, d)
			}
		}
	}
	if skipped == 0 {
		t.Error("no case that sends a token was skipped after the key path wedged")
	}
	t.Logf("after %s: %d cases SKIPPED (they send a token), %d ran", since, skipped, ran)
}

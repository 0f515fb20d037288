package harness

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/mcaspec/mcaspec/conformance"
	"github.com/mcaspec/mcaspec/conformance/kit"
	"github.com/mcaspec/mcaspec/fakeaz"
	"github.com/mcaspec/mcaspec/internal/buildinfo"
)

// Order returns the cases in run order: calibration first, then catalogue
// order, then the disruptive (flooding) cases; in fixed-app-id mode the
// cases that rotate keys or inject AZ faults for the one app go last too,
// so they cannot disturb the others.
func Order(cases []conformance.Case, fixedApp bool) []conformance.Case {
	rank := func(c conformance.Case) int {
		switch {
		case c.Area == "calibration":
			return 0
		case c.NeedsAny(conformance.NeedDisruptive):
			return 3
		case fixedApp && c.NeedsAny(conformance.NeedAZControl):
			return 2
		}
		return 1
	}
	out := append([]conformance.Case(nil), cases...)
	sort.SliceStable(out, func(i, j int) bool { return rank(out[i]) < rank(out[j]) })
	return out
}

// Diagnose explains a failed calibration case in terms a user can act on.
func (s *Session) Diagnose(r conformance.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "calibration case %s (%s) did not pass: %s\n", r.ID, r.Title, r.Reason)
	var x *kit.Exchange
	if r.Observed != nil {
		x = r.Observed.Judged()
	}
	switch {
	case s.Target.Family.IsWeb():
		b.WriteString(s.webDiagnosis(x))
	case x == nil:
	case x.Error != "":
		fmt.Fprintf(&b, "The target at %s did not answer (%s): is it running and listening on that address?\n", s.Target.URL, x.Error)
	case x.Status == http.StatusNotFound:
		b.WriteString("The target answered 404: it does not serve /v1/apps/{appId}/protected as the target contract asks (docs/TARGET-CONTRACT.md).\n")
	case r.ID == "CAL-003" && x.Status == http.StatusOK:
		b.WriteString("The target accepted garbage: it does not validate tokens on /protected at all.\n")
	case x.Status == http.StatusOK:
		b.WriteString("The target answered 200 but not with the security context of the token: check /protected returns {imf.sub, imf.user, imf.device, imf.application}.\n")
	default:
		fetches := s.AZ.Stats().Count(fakeaz.EndpointPublicKey, "") + s.AZ.Stats().Count(fakeaz.EndpointJWKS, "")
		if fetches == 0 {
			fmt.Fprintf(&b, "The target refused a valid token (%d) and never asked the AZ for a key: is its MCA_SERVER_URL %s?\n", x.Status, s.AZ.URL())
		} else {
			fmt.Fprintf(&b, "The target refused a valid token (%d) although it fetched the AZ key: check the app id it expects (home app %s; cases use the app id in the URL unless --fixed-app-id).\n", x.Status, s.Runner.HomeAppID)
		}
	}
	if tail := s.LogTail(); tail != "" {
		lines := strings.Split(strings.TrimRight(tail, "\n"), "\n")
		if len(lines) > 20 {
			lines = lines[len(lines)-20:]
		}
		b.WriteString("Target output (last lines):\n  " + strings.Join(lines, "\n  ") + "\n")
	}
	return b.String()
}

// Report builds the results file of a run.
func (s *Session) Report(started time.Time, filters []string, results []conformance.Result) *conformance.RunReport {
	info := s.Target
	info.Log = s.LogTail()
	return &conformance.RunReport{
		Version: conformance.ReportVersion, Tool: "mcaspec", Profile: s.Runner.Profile, Target: info,
		ToolVersion: buildinfo.Read().String(), Catalogue: conformance.CatalogueDigest(conformance.Catalogue()),
		StartedAt: started.UTC(), Duration: conformance.Duration(time.Since(started)), Filters: filters,
		Summary: conformance.Summarize(results), Results: results,
		Events: append([]conformance.TargetEvent(nil), s.events...), UnresponsiveSince: s.unresponsive,
	}
}

// Cases returns the catalogue cases of a run configured by cfg, in run
// order: those that apply to its protocol family.
func Cases(cfg Config) []conformance.Case {
	var out []conformance.Case
	for _, c := range Order(conformance.Catalogue(), cfg.FixedAppID) {
		if c.AppliesTo(cfg.Family) {
			out = append(out, c)
		}
	}
	return out
}

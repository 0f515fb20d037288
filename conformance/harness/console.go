package harness

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/mcaspec/mcaspec/conformance"
)

// ShortReason is how much of a reason a console line keeps.
const ShortReason = 90

// WriteCaseLine writes one case as one line: verdict, ID, title and, for
// a case that did not pass, the start of the reason.
func WriteCaseLine(w io.Writer, r conformance.Result) {
	line := fmt.Sprintf("  %-13s %-8s %s", r.Verdict, r.ID, r.Title)
	switch {
	case r.Verdict == conformance.Informational:
		// Recorded behaviour, not a failure: what came back, in brief.
		brief, _, _ := strings.Cut(r.Reason, ";")
		line += ": " + Shorten(brief, ShortReason/2)
	case r.Verdict != conformance.Pass && r.Reason != "":
		line += ": " + Shorten(r.Reason, ShortReason)
	}
	fmt.Fprintln(w, line)
}

// Shorten keeps the first line of s, at most n runes of it.
func Shorten(s string, n int) string {
	s, _, cut := strings.Cut(strings.TrimSpace(s), "\n")
	r := []rune(s)
	if len(r) > n {
		return string(r[:n-1]) + "…"
	}
	if cut {
		return s + " …"
	}
	return s
}

// WriteSummary writes the compact result of a run: a header line, one line
// per area with its counts, one line per case that did not pass (verbose:
// every case), the target's events, the baseline, the totals and where the
// reports are (out; "" when none were written).
func WriteSummary(w io.Writer, rep *conformance.RunReport, out string, verbose bool) {
	fmt.Fprintf(w, "mcaspec conformance: %s, profile %s, %d cases in %s\n", rep.Target.Name, rep.Profile, len(rep.Results), time.Duration(rep.Duration).Round(100*time.Millisecond))
	type tally struct {
		area   conformance.Area
		counts map[conformance.Verdict]int
		n      int
	}
	var areas []*tally
	byKey := map[string]*tally{}
	for _, r := range rep.Results {
		t := byKey[r.Area]
		if t == nil {
			a, ok := conformance.AreaByKey(r.Area)
			if !ok {
				a = conformance.Area{Key: r.Area, Title: r.Area}
			}
			t = &tally{area: a, counts: map[conformance.Verdict]int{}}
			byKey[r.Area] = t
			areas = append(areas, t)
		}
		t.counts[r.Verdict]++
		t.n++
	}
	for _, t := range areas {
		fmt.Fprintf(w, "  %-3s %-40s %3d  %s\n", t.area.Prefix, t.area.Title, t.n, countsLine(t.counts))
	}
	var notable []conformance.Result
	for _, r := range rep.Results {
		if verbose || r.Verdict != conformance.Pass {
			notable = append(notable, r)
		}
	}
	if len(notable) > 0 {
		fmt.Fprintln(w)
	}
	for _, r := range notable {
		WriteCaseLine(w, r)
	}
	for _, e := range rep.Events {
		fmt.Fprintf(w, "  target event during %s: %s\n", e.After, e.What)
	}
	if b := rep.Baseline; b != nil {
		fmt.Fprintf(w, "  baseline %s: %d expected, %d new, %d stale\n", b.File, len(b.Expected), len(b.New), len(b.Stale))
	}
	fmt.Fprintf(w, "Summary: %s\n", countsLine(rep.Summary))
	if out != "" {
		fmt.Fprintf(w, "Reports: %s (also results.json, junit.xml, %s/)\n", filepath.Join(out, "report.html"), KeysDir)
	}
}

// countsLine is "12 PASS, 1 NON-STRICT": the verdicts present, in report order.
func countsLine(c map[conformance.Verdict]int) string {
	var parts []string
	for _, v := range conformance.Verdicts() {
		if c[v] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c[v], v))
		}
	}
	if len(parts) == 0 {
		return "no case"
	}
	return strings.Join(parts, ", ")
}

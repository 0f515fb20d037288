package reports

import (
	"io"
	"strings"

	"github.com/mcaspec/mcaspec/conformance"
	"github.com/mcaspec/mcaspec/internal/mdtext"
)

// SummaryOptions tune WriteSummaryMarkdown.
type SummaryOptions struct {
	// ReportURL is where the run's HTML report is (a path relative to the
	// summary, or the URL of an uploaded artifact): failing case IDs link
	// to their entry in it. Empty: case IDs link to docs/CASES.md.
	ReportURL string
	// CasesDocURL is the URL of docs/CASES.md (default DefaultCasesDocURL).
	CasesDocURL string
	// FailOnNonStrict decides the outcome line as the run did.
	FailOnNonStrict bool
	// MaxCases is the most failing cases listed (default 50; the rest are counted).
	MaxCases int
}

// WriteSummaryMarkdown writes a short Markdown summary of r for a CI job
// page ($GITHUB_STEP_SUMMARY, a merge-request note): the outcome, the
// counts per verdict, and the FAIL, NON-STRICT and ERROR cases with their
// level, rule and reason, each linked into the HTML report. Text from the
// target is escaped so it cannot add Markdown or HTML of its own.
func WriteSummaryMarkdown(w io.Writer, r *conformance.RunReport, opt SummaryOptions) error {
	if opt.CasesDocURL == "" {
		opt.CasesDocURL = DefaultCasesDocURL
	}
	if opt.MaxCases <= 0 {
		opt.MaxCases = 50
	}
	ew := mdtext.NewWriter(w)
	code, why := r.Outcome(opt.FailOnNonStrict)
	outcome := "passed"
	switch code {
	case conformance.ExitFailed:
		outcome = "FAILED"
	case conformance.ExitInvalid:
		outcome = "INVALID"
	}
	ew.Printf("## mcaspec conformance: %s (%s profile): %s\n\n", mdCell(r.Target.Name), r.Profile, outcome)
	if why != "" {
		ew.Printf("%s\n\n", mdCell(why))
	}
	ew.Printf("Target `%s` (%s, family %s)", strings.ReplaceAll(r.Target.URL, "`", "'"), mdCell(r.Target.Mode), mdCell(r.Target.Family.Name()))
	if r.ToolVersion != "" {
		ew.Printf(" · %s", mdCell(r.ToolVersion))
	}
	if r.Catalogue != "" {
		ew.Printf(" · catalogue `%s`", r.Catalogue)
	}
	ew.Printf("\n\n| Cases |")
	for _, v := range verdictOrder {
		ew.Printf(" %s |", v)
	}
	ew.Printf("\n|---:|")
	for range verdictOrder {
		ew.Printf("---:|")
	}
	ew.Printf("\n| %d |", len(r.Results))
	for _, v := range verdictOrder {
		ew.Printf(" %d |", r.Summary[v])
	}
	ew.Printf("\n")
	writeFindings(ew, r, opt)
	if b := r.Baseline; b != nil {
		ew.Printf("\nBaseline `%s`: %d expected failure(s) failed again; new %s; stale %s.\n",
			strings.ReplaceAll(b.File, "`", "'"), len(b.Expected), idList(b.New), idList(b.Stale))
	}
	return ew.Err()
}

// writeFindings lists the FAIL, NON-STRICT and ERROR cases.
func writeFindings(ew *mdtext.Writer, r *conformance.RunReport, opt SummaryOptions) {
	var rows []*conformance.Result
	for i := range r.Results {
		switch r.Results[i].Verdict {
		case conformance.Fail, conformance.NonStrict, conformance.Errored:
			rows = append(rows, &r.Results[i])
		}
	}
	if len(rows) == 0 {
		return
	}
	ew.Printf("\n| Case | Verdict | Level | Rule | Reason |\n|---|---|---|---|---|\n")
	for i, res := range rows {
		if i == opt.MaxCases {
			ew.Printf("\n…and %d more: see the HTML report.\n", len(rows)-i)
			break
		}
		ew.Printf("| [%s](%s) | %s | %s | %s | %s |\n", res.ID, caseLink(res.ID, opt), res.Verdict, res.Level,
			mdCell(res.Rule), mdCell(clip(res.Reason, 300)))
	}
}

// caseLink is where a case ID links: its entry in the HTML report of one
// run, or its rule in docs/CASES.md.
func caseLink(id string, opt SummaryOptions) string {
	if opt.ReportURL != "" {
		return opt.ReportURL + "#" + caseAnchor("t0", id)
	}
	return opt.CasesDocURL + "#" + CaseDocAnchor(id)
}

func idList(ids []string) string {
	if len(ids) == 0 {
		return "none"
	}
	return strings.Join(ids, ", ")
}

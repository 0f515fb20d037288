package bench

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mcaspec/mcaspec/internal/mdtext"
)

// WriteSummaryMarkdown writes a short Markdown summary of r for a CI job
// page ($GITHUB_STEP_SUMMARY, a merge-request note): the verdict, the tool
// that ran or merged, one table row per attack (find-max steps included),
// every judged bound with its value, bound and pass or FAIL, and the
// report's notes. Names and text from targets are escaped (internal/mdtext)
// so they cannot add Markdown or HTML of their own. It serves a run and a
// merge alike.
func (r *Report) WriteSummaryMarkdown(w io.Writer) error {
	ew := mdtext.NewWriter(w)
	ew.Printf("## mcaspec bench: %s\n\n", mdtext.Cell(r.verdict()))
	if r.Interrupted {
		ew.Printf("The run was stopped before its end: the figures are what was measured until then.\n\n")
	}
	ew.Printf("%d requests, %d correct, %d wrong answers, %d errors; %s", r.Requests, r.Correct, r.WrongAnswers, r.Errors, r.Elapsed.Round(time.Millisecond))
	if r.Generators > 0 {
		ew.Printf("; merged from %d load generators", r.Generators)
		if len(r.GeneratorShards) > 0 {
			ew.Printf(" (shards %s)", mdtext.Cell(strings.Join(r.GeneratorShards, ", ")))
		}
	}
	ew.Printf(".\n\n")
	if r.Machine.Tool != "" {
		ew.Printf("Tool: %s\n\n", mdtext.Cell(r.Machine.Tool))
	}
	r.writeAttackRows(ew)
	r.writeCheckRows(ew)
	if len(r.Notes) > 0 {
		ew.Printf("\nNotes:\n\n")
		for _, n := range r.Notes {
			ew.Printf("- %s\n", mdtext.Cell(n))
		}
	}
	return ew.Err()
}

// verdict is the summary's heading: status's, with OK or FAILED kept on an
// interrupted run (the bounds judged what was measured).
func (r *Report) verdict() string {
	if !r.Interrupted {
		return r.status()
	}
	c := *r
	c.Interrupted = false
	return "INTERRUPTED (" + c.status() + ")"
}

// writeAttackRows writes the table of attacks: p50* and p99* are from the
// intended send time, p99 the service latency.
func (r *Report) writeAttackRows(ew *mdtext.Writer) {
	all := r.all()
	if len(all) == 0 {
		return
	}
	ew.Printf("| Target | Scenario | Offered req/s | Achieved req/s | Correct/s | p50* ms | p99* ms | p99 ms | Wrong | Errors |\n")
	ew.Printf("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, a := range all {
		offered := fmt.Sprintf("%.0f", a.OfferedRate)
		if a.Closed || a.OfferedRate == 0 {
			offered = "— (closed)"
		}
		p50, p99 := fmt.Sprintf("%.2f", a.Corrected.P50), fmt.Sprintf("%.2f", a.Corrected.P99)
		if a.Closed || a.CorrectedUnknown {
			p50, p99 = "—", "—"
		}
		sat := ""
		if a.Saturated {
			sat = " (saturated)"
		}
		ew.Printf("| %s | %s | %s | %.0f | %.0f%s | %s | %s | %.2f | %d | %d |\n", mdtext.Cell(a.Target), mdtext.Cell(a.Scenario),
			offered, a.AchievedRate, a.Throughput, sat, p50, p99, a.P99, a.Wrong, a.Errors)
	}
	ew.Printf("\np50\\*/p99\\*: latency from the intended send time (the queueing of a stalled target included; — for a closed model); p99: service latency.\n")
}

// writeCheckRows writes every judged bound.
func (r *Report) writeCheckRows(ew *mdtext.Writer) {
	if len(r.Checks) == 0 {
		return
	}
	ew.Printf("\n| Check | Attack | Value | Bound | Result |\n|---|---|---:|---|---|\n")
	for _, c := range r.Checks {
		verdict := "pass"
		if !c.OK {
			verdict = "**FAIL**"
			if c.Why != "" {
				verdict += ": " + mdtext.Cell(c.Why)
			}
		}
		attack := "(all)"
		if c.Attack != "" {
			attack = mdtext.Cell(c.Attack)
		}
		ew.Printf("| %s | %s | %s | %s | %s |\n", mdtext.Cell(c.Name), attack, mdtext.Cell(c.Value), mdtext.Cell(c.Bound), verdict)
	}
}

package bench

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteBrief answers, in a few lines, how fast validation is next to no
// validation at all: per scenario, each validating target's sustainable
// rate (find-max; else its correct answers per second) beside the no-auth
// ceiling's (bare) and their ratio, with the p99 at that rate; then the
// cold CPU per request against two raw RSA verifies; then what the figures
// mean on a shared machine. A rate marked ≥ is a lower bound (the search
// ran out of steps or time before any step broke a bound).
func (r *Report) WriteBrief(w io.Writer) error {
	var checked, bares []string
	for _, t := range r.targetOrder() {
		if isBare(t) {
			bares = append(bares, t)
		} else {
			checked = append(checked, t)
		}
	}
	rows := map[[2]string]Row{}
	var scenarios []string
	for _, row := range r.Table {
		if _, ok := rows[[2]string{row.Scenario, ""}]; !ok {
			scenarios = append(scenarios, row.Scenario)
			rows[[2]string{row.Scenario, ""}] = Row{}
		}
		rows[[2]string{row.Scenario, row.Target}] = row
	}
	// bareOf picks the ceiling to compare t with: a process with a process.
	bareOf := func(t string) string {
		for _, b := range bares {
			if isProc(b) == isProc(t) {
				return b
			}
		}
		if len(bares) > 0 {
			return bares[0]
		}
		return ""
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "  scenario\ttarget\tsustainable\tvs bare\tCPU µs/req\tCPU vs bare\tp99 ms\tp99* ms\t")
	for _, sc := range scenarios {
		for _, t := range append(append([]string{}, checked...), bares...) {
			row, ok := rows[[2]string{sc, t}]
			if !ok {
				continue
			}
			vs, cpuVs := "—", "—"
			if b := bareOf(t); b != "" && !isBare(t) {
				br := rows[[2]string{sc, b}]
				vs = briefRatio(row, br)
				if row.CPUPerReq > 0 && br.CPUPerReq > 0 {
					cpuVs = fmt.Sprintf("%.2fx", row.CPUPerReq/br.CPUPerReq)
				}
			}
			name := t
			if isBare(t) {
				name += " (no auth)"
			}
			cpu := "—"
			if row.CPUPerReq > 0 {
				cpu = fmt.Sprintf("%.0f", row.CPUPerReq)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%.1f\t%.1f\t\n", sc, name, briefRate(row), vs, cpu, cpuVs, row.P99, row.CorrectedP99)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, t := range checked {
		x, ok := r.ColdCPURatio[t]
		row := rows[[2]string{"cold", t}]
		if !ok || row.CPUPerReq <= 0 {
			continue
		}
		line := fmt.Sprintf("  cold CPU: %s spends %.0f µs per request = %.1f × two raw RSA-2048 verifies (%.0f µs each)",
			t, row.CPUPerReq, x, row.CPUPerReq/(2*x))
		if b := bareOf(t); b != "" {
			if br := rows[[2]string{"cold", b}]; br.CPUPerReq > 0 {
				line += fmt.Sprintf("; %s %.0f µs", b, br.CPUPerReq)
			}
		}
		fmt.Fprintln(w, line)
	}
	if !r.OK {
		fmt.Fprintf(w, "  FAILED: %d wrong answers (see the report)\n", r.WrongAnswers)
	}
	load := ""
	if f := strings.Fields(r.Machine.LoadAvg); len(f) > 0 {
		load = ", load " + f[0]
	}
	fmt.Fprintf(w, "  vs bare: the rate over the no-auth ceiling's; ≥: a lower bound (the search ran out of time first); p99*: from the intended send time.\n")
	fmt.Fprintf(w, "  A shared machine (%d CPUs%s): load generator, targets and other work compete, so the rates are this machine's; the CPU per request carries over.\n",
		r.Machine.CPUs, load)
	return nil
}

func briefRate(row Row) string {
	s := ""
	if row.LowerBound {
		s = "≥"
	}
	if row.Rate <= 0 {
		return "none"
	}
	return s + thousands(row.Rate) + "/s"
}

func briefRatio(t, b Row) string {
	if t.Rate <= 0 || b.Rate <= 0 {
		return "—"
	}
	q := ""
	switch {
	case t.LowerBound && !b.LowerBound:
		q = "≥"
	case b.LowerBound && !t.LowerBound:
		q = "≤"
	case t.LowerBound && b.LowerBound:
		q = "~"
	}
	return fmt.Sprintf("%s%.2fx", q, t.Rate/b.Rate)
}

// thousands formats a rate with thousands separators: 12,345.
func thousands(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

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
	b := r.briefRows()
	if err := b.writeTable(w); err != nil {
		return err
	}
	b.writeColdCPU(w, r.ColdCPURatio)
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

// brief is the table the brief prints: the rows by scenario and target,
// the scenarios in order, and the targets checked and bare (no auth).
type brief struct {
	checked, bares, scenarios []string
	rows                      map[[2]string]Row // {scenario, target}; {scenario, ""} marks a scenario seen
}

// briefRows gathers the brief's table from the report's.
func (r *Report) briefRows() brief {
	var b brief
	for _, t := range r.targetOrder() {
		if isBare(t) {
			b.bares = append(b.bares, t)
		} else {
			b.checked = append(b.checked, t)
		}
	}
	b.rows = map[[2]string]Row{}
	for _, row := range r.Table {
		if _, ok := b.rows[[2]string{row.Scenario, ""}]; !ok {
			b.scenarios = append(b.scenarios, row.Scenario)
			b.rows[[2]string{row.Scenario, ""}] = Row{}
		}
		b.rows[[2]string{row.Scenario, row.Target}] = row
	}
	return b
}

// bareOf picks the ceiling to compare t with: a process with a process.
func (b brief) bareOf(t string) string {
	for _, bare := range b.bares {
		if isProc(bare) == isProc(t) {
			return bare
		}
	}
	if len(b.bares) > 0 {
		return b.bares[0]
	}
	return ""
}

// writeTable writes the table of rates, CPU and latencies.
func (b brief) writeTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "  scenario\ttarget\tsustainable\tvs bare\tCPU µs/req\tCPU vs bare\tp99 ms\tp99* ms\t")
	for _, sc := range b.scenarios {
		for _, t := range append(append([]string{}, b.checked...), b.bares...) {
			row, ok := b.rows[[2]string{sc, t}]
			if !ok {
				continue
			}
			vs, cpuVs := "—", "—"
			if bare := b.bareOf(t); bare != "" && !isBare(t) {
				br := b.rows[[2]string{sc, bare}]
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
	return tw.Flush()
}

// writeColdCPU writes, for each checked target, its cold CPU per request
// in raw RSA verifies (by coldCPURatio) and beside the bare target's.
func (b brief) writeColdCPU(w io.Writer, coldCPURatio map[string]float64) {
	for _, t := range b.checked {
		x, ok := coldCPURatio[t]
		row := b.rows[[2]string{"cold", t}]
		if !ok || row.CPUPerReq <= 0 {
			continue
		}
		line := fmt.Sprintf("  cold CPU: %s spends %.0f µs per request = %.1f × two raw RSA-2048 verifies (%.0f µs each)",
			t, row.CPUPerReq, x, row.CPUPerReq/(2*x))
		if bare := b.bareOf(t); bare != "" {
			if br := b.rows[[2]string{"cold", bare}]; br.CPUPerReq > 0 {
				line += fmt.Sprintf("; %s %.0f µs", bare, br.CPUPerReq)
			}
		}
		fmt.Fprintln(w, line)
	}
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

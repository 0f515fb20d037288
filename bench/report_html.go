package bench

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
)

// The charts are drawn by uPlot (MIT, github.com/leeoniya/uPlot), vendored
// in assets/ (see assets/README.md) and inlined into report.html: one
// self-contained file, nothing fetched when it is opened.
var (
	//go:embed assets/uPlot.iife.min.js
	uplotJS string
	//go:embed assets/uPlot.min.css
	uplotCSS string
	//go:embed assets/report.js
	reportJS string
	//go:embed report.html.tmpl
	reportHTML string
)

var htmlTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"ms":    func(v float64) string { return fmt.Sprintf("%.2f", v) },
	"rate":  func(v float64) string { return fmt.Sprintf("%.0f", v) },
	"ratio": ratio,
	"opt":   opt,
	"inc":   func(i int) int { return i + 1 },
}).Parse(reportHTML))

// Palette gives each target its colour, the same in every chart (Okabe-Ito
// and Tableau hues, readable by colour-blind readers where they can be).
var palette = []string{"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#7f7f7f", "#8c564b"}

// chartSeries is one line of a chart: a target's, or a reference line.
type chartSeries struct {
	Label  string     `json:"label"`
	Target string     `json:"target,omitempty"` // "" for a reference line
	Color  string     `json:"color"`
	Unit   string     `json:"unit"`
	Dash   bool       `json:"dash,omitempty"`
	Values []*float64 `json:"values"` // aligned with the chart's X; nil: no point
}

// chartTick is a labelled tick of an axis with fixed ticks.
type chartTick struct {
	V     float64 `json:"v"`
	Label string  `json:"label"`
}

// chartData is one chart, drawn by assets/report.js.
type chartData struct {
	ID       string        `json:"id"`
	Kind     string        `json:"kind"` // percentiles, timeline, findmax-throughput, findmax-p99
	Scenario string        `json:"scenario"`
	Title    string        `json:"title"`
	XLabel   string        `json:"xLabel"`
	XUnit    string        `json:"xUnit"`
	XTicks   []chartTick   `json:"xTicks,omitempty"`
	YLabel   string        `json:"yLabel"`
	YUnit    string        `json:"yUnit"`
	Points   bool          `json:"points,omitempty"`
	X        []float64     `json:"x"`
	Series   []chartSeries `json:"series"`
}

// percentileTicks label the percentile axis.
var percentileTicks = []float64{50, 90, 99, 99.9, 99.99}

// pctX places a percentile on the log-scaled percentile axis: 90 -> 1,
// 99 -> 2, 99.9 -> 3 (100 is drawn at 99.99's place).
func pctX(p float64) float64 { return -math.Log10(math.Max(1e-4, 1-p/100)) }

// WriteHTML writes the comparison table, the targets' legend and, per
// scenario, a latency-percentile chart and a throughput-over-time chart,
// and for find-max searches the correct throughput and the p99 of each
// step by offered rate, linking vegeta's latency-over-time plot.
func (r *Report) WriteHTML(w io.Writer) error {
	colors := r.targetColors()
	type legend struct{ Name, Color string }
	var leg []legend
	for _, t := range r.targetOrder() {
		leg = append(leg, legend{t, colors[t]})
	}
	charts := r.charts(colors)
	data, err := json.Marshal(struct {
		Charts []chartData `json:"charts"`
	}{charts})
	if err != nil {
		return fmt.Errorf("bench: report data: %w", err)
	}
	type section struct {
		Scenario string
		Charts   []chartData
		Plot     string
	}
	var sections []section
	for _, c := range charts {
		if n := len(sections); n == 0 || sections[n-1].Scenario != c.Scenario {
			sections = append(sections, section{Scenario: c.Scenario, Plot: c.Scenario + "-latency.html"})
		}
		sections[len(sections)-1].Charts = append(sections[len(sections)-1].Charts, c)
	}
	return htmlTmpl.Execute(w, struct {
		R        *Report
		Legend   []legend
		Sections []section
		Steps    []*Search
		Data     template.JS
		UPlotJS  template.JS
		UPlotCSS template.CSS
		ReportJS template.JS
	}{r, leg, sections, r.Searches, template.JS(data), template.JS(uplotJS), template.CSS(uplotCSS), template.JS(reportJS)}) // #nosec G203: json.Marshal escapes <, > and &; the assets are vendored files
}

// targetOrder lists the report's targets: as configured, then any other
// an attack names (merged reports).
func (r *Report) targetOrder() []string {
	order := append([]string{}, r.Settings.Targets...)
	for _, a := range r.all() {
		if !slices.Contains(order, a.Target) {
			order = append(order, a.Target)
		}
	}
	return order
}

func (r *Report) targetColors() map[string]string {
	c := map[string]string{}
	for i, t := range r.targetOrder() {
		c[t] = palette[i%len(palette)]
	}
	return c
}

// headlines are the attacks that stand for each (target, scenario): the
// fixed-rate attacks and each search's headline step.
func (r *Report) headlines() (scenarios []string, by map[string][]*Attack) {
	by = map[string][]*Attack{}
	add := func(a *Attack) {
		if a == nil {
			return
		}
		if _, ok := by[a.Scenario]; !ok {
			scenarios = append(scenarios, a.Scenario)
		}
		by[a.Scenario] = append(by[a.Scenario], a)
	}
	for _, a := range r.Attacks {
		add(a)
	}
	for _, s := range r.Searches {
		add(s.headline())
	}
	return scenarios, by
}

func (r *Report) charts(colors map[string]string) []chartData {
	scenarios, by := r.headlines()
	var out []chartData
	id := func() string { return fmt.Sprintf("chart-%d", len(out)+1) }
	for _, sc := range scenarios {
		attacks := by[sc]
		out = append(out, percentileChart(id(), sc, attacks, colors))
		out = append(out, timelineChart(id(), sc, attacks, colors))
		if ft, fp, ok := r.findMaxCharts(id(), sc, colors); ok {
			fp.ID = fmt.Sprintf("chart-%d", len(out)+2) // each chart its own element
			out = append(out, ft, fp)
		}
	}
	return out
}

// percentileChart charts the scenario's attacks' latency by percentile
// (p50 and up), as measured and from the intended send time.
func percentileChart(id, sc string, attacks []*Attack, colors map[string]string) chartData {
	pc := chartData{ID: id, Kind: "percentiles", Scenario: sc, Title: sc + ": latency by percentile",
		XLabel: "percentile (log scale)", YLabel: "latency", YUnit: "ms", Points: true}
	for _, p := range percentileTicks {
		pc.XTicks = append(pc.XTicks, chartTick{pctX(p), "p" + strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", p), "0"), ".")})
	}
	var xs []float64
	for _, a := range attacks {
		for _, p := range a.Percentiles {
			if p[0] >= 50 && !slices.Contains(xs, pctX(p[0])) {
				xs = append(xs, pctX(p[0]))
			}
		}
	}
	sort.Float64s(xs)
	pc.X = xs
	for _, a := range attacks {
		vals := make([]*float64, len(xs))
		for _, p := range a.Percentiles {
			if i := slices.Index(xs, pctX(p[0])); i >= 0 && p[0] >= 50 {
				vals[i] = ptr(p[1])
			}
		}
		pc.Series = append(pc.Series, chartSeries{Label: seriesLabel(a), Target: a.Target, Color: colors[a.Target], Unit: "ms", Values: vals})
		cvals := make([]*float64, len(xs))
		for _, p := range a.CorrectedPercentiles {
			if i := slices.Index(xs, pctX(p[0])); i >= 0 && p[0] >= 50 {
				cvals[i] = ptr(p[1])
			}
		}
		pc.Series = append(pc.Series, chartSeries{Label: seriesLabel(a) + " · from intended send time", Color: colors[a.Target], Unit: "ms", Values: cvals})
	}
	return pc
}

// timelineChart charts the scenario's attacks' correct answers per second
// over time.
func timelineChart(id, sc string, attacks []*Attack, colors map[string]string) chartData {
	tc := chartData{ID: id, Kind: "timeline", Scenario: sc, Title: sc + ": correct answers per second over time",
		XLabel: "time since the attack began", XUnit: "s", YLabel: "correct answers", YUnit: "/s", Points: true}
	n := 0
	tc.X = []float64{}
	series := make([][]float64, len(attacks))
	for i, a := range attacks {
		series[i] = fullSeconds(a)
		n = max(n, len(series[i]))
	}
	for s := range n {
		tc.X = append(tc.X, float64(s)+0.5)
	}
	for i, a := range attacks {
		vals := make([]*float64, n)
		for s, v := range series[i] {
			if !math.IsNaN(v) {
				vals[s] = ptr(math.Round(v))
			}
		}
		tc.Series = append(tc.Series, chartSeries{Label: seriesLabel(a), Target: a.Target, Color: colors[a.Target], Unit: "/s", Values: vals})
	}
	return tc
}

// findMaxCharts charts the scenario's find-max searches: each step's correct
// throughput and p99 by offered rate; false when there were none.
func (r *Report) findMaxCharts(id, sc string, colors map[string]string) (chartData, chartData, bool) {
	var searches []*Search
	for _, s := range r.Searches {
		if s.Scenario == sc && len(s.Steps) > 0 {
			searches = append(searches, s)
		}
	}
	if len(searches) == 0 {
		return chartData{}, chartData{}, false
	}
	var rates []float64
	for _, s := range searches {
		for _, a := range s.Steps {
			if !slices.Contains(rates, a.OfferedRate) {
				rates = append(rates, a.OfferedRate)
			}
		}
	}
	sort.Float64s(rates)
	ft := chartData{ID: id, Kind: "findmax-throughput", Scenario: sc, Title: sc + ": find-max, correct answers per second at each offered rate",
		XLabel: "offered rate", XUnit: "/s", YLabel: "achieved correct answers", YUnit: "/s", Points: true, X: rates}
	fp := chartData{ID: id, Kind: "findmax-p99", Scenario: sc, Title: sc + ": find-max, p99 latency at each offered rate",
		XLabel: "offered rate", XUnit: "/s", YLabel: "p99 latency", YUnit: "ms", Points: true, X: rates}
	offered := make([]*float64, len(rates))
	for i, x := range rates {
		offered[i] = ptr(x)
	}
	ft.Series = append(ft.Series, chartSeries{Label: "offered (achieved = offered)", Color: "#999999", Unit: "/s", Dash: true, Values: offered})
	for _, s := range searches {
		thr, p99 := make([]*float64, len(rates)), make([]*float64, len(rates))
		for _, a := range s.Steps {
			i := slices.Index(rates, a.OfferedRate)
			thr[i], p99[i] = ptr(math.Round(a.Throughput)), ptr(a.P99)
		}
		ft.Series = append(ft.Series, chartSeries{Label: s.Target, Target: s.Target, Color: colors[s.Target], Unit: "/s", Values: thr})
		fp.Series = append(fp.Series, chartSeries{Label: s.Target, Target: s.Target, Color: colors[s.Target], Unit: "ms", Values: p99})
	}
	return ft, fp, true
}

func seriesLabel(a *Attack) string {
	if a.OfferedRate > 0 {
		return fmt.Sprintf("%s (%.0f/s offered)", a.Target, a.OfferedRate)
	}
	return a.Target
}

func ptr(v float64) *float64 { return &v }

// fullSeconds is an attack's correct answers per second, second by
// second. The timeline counts answers by the second their request was
// sent in; the last second is usually cut short by the end of the attack
// (a few milliseconds of it: read as a rate it would show a false drop to
// zero): a second is scaled to its covered part when at least half of it
// was covered (or it is the only one), else left out (NaN).
func fullSeconds(a *Attack) []float64 {
	end := a.Duration.Seconds()
	if end <= 0 && a.Metrics != nil {
		end = a.Metrics.Duration.Seconds()
	}
	out := make([]float64, 0, len(a.Timeline))
	for _, s := range a.Timeline {
		cover := 1.0
		if end > 0 {
			cover = math.Min(1, end-float64(s.T))
		}
		// An attack under a second keeps its one (partial) second.
		if keep := cover >= 0.5 || (s.T == 0 && cover > 0); !keep {
			out = append(out, math.NaN())
			continue
		}
		out = append(out, float64(s.Correct)/cover)
	}
	for len(out) > 0 && math.IsNaN(out[len(out)-1]) {
		out = out[:len(out)-1]
	}
	return out
}

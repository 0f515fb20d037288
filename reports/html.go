package reports

import (
	_ "embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/mcaspec/mcaspec/conformance"
)

//go:embed report.html.tmpl
var htmlTemplateText string

var htmlTemplate = template.Must(template.New("report").Parse(htmlTemplateText))

// WriteHTML writes a self-contained HTML page (inline CSS, one small inline
// script for the filters, no external assets; without scripts everything
// is shown). With one report it shows the run: target, summary,
// per-area tables and every case's evidence. With several (the same
// catalogue against several targets or profiles) it shows a matrix of
// verdicts, targets as columns and cases as rows, each cell linking to the
// case's evidence for that target, followed by the MUST failures of each
// target and every target's details.
func WriteHTML(w io.Writer, reps ...*conformance.RunReport) error {
	if len(reps) == 0 {
		return errors.New("reports: WriteHTML: no report given")
	}
	for i, r := range reps {
		if r == nil {
			return fmt.Errorf("reports: WriteHTML: report %d is nil", i+1)
		}
	}
	p := buildPage(reps)
	if err := htmlTemplate.Execute(w, p); err != nil {
		return fmt.Errorf("reports: write HTML: %w", err)
	}
	return nil
}

// page is what the template renders.
type page struct {
	Title   string
	Compare bool
	Targets []*targetView
	Matrix  *matrixView
	Legend  []countView
}

type targetView struct {
	Index      int
	Anchor     string
	Label      string // name (profile)
	Name       string
	Profile    string
	URL        string
	Mode       string
	Command    string
	Image      string
	Family     string
	FixedAppID string
	Tool       string
	Catalogue  string
	Started    string
	Duration   string
	Filters    string
	Versions   []keyValue
	Log        string
	Baseline   *conformance.BaselineOutcome
	Total      int
	Counts     []countView
	Areas      []areaView
	MustFails  []*caseView
	// Errors are the cases the harness could not run (ERROR).
	Errors []*caseView
	// Events happened to the target (crashes, restarts); Unresponsive is
	// the case after which it stopped answering for good.
	Events       []conformance.TargetEvent
	Unresponsive string
}

type countView struct {
	Verdict string
	Class   string
	N       int
}

type areaView struct {
	Anchor string
	Title  string
	Key    string
	Cases  []*caseView
}

type caseView struct {
	Anchor    string
	ID        string
	Title     string
	Level     string
	Verdict   string
	Class     string
	Reason    string
	Rule      string
	Refs      []string
	Recipe    string
	Expected  string
	Profile   string
	Duration  string
	Open      bool
	HasObs    bool
	Exchanges []exchangeView
	Judged    *exchangeView
	Tokens    []decodedToken
	Facts     []keyValue
	Failures  []string
	Down      []downView
	Want      string
	Area      string
	Repro     *reproView
}

type exchangeView struct {
	N          int
	Judged     bool
	Step       string
	Method     string
	URL        string
	Request    []headerLine
	Status     int
	StatusText string
	StatusCls  string
	Challenge  string
	Response   []headerLine
	Body       string
	Latency    string
	Error      string
}

type downView struct {
	Method, Path, At string
	Header           []headerLine
}

type matrixView struct {
	Targets []*targetView
	Areas   []matrixArea
}

type matrixArea struct {
	Title string
	Span  int
	Rows  []matrixRow
}

type matrixRow struct {
	ID, Title string
	Differs   bool
	Cells     []matrixCell
}

type matrixCell struct {
	Missing bool
	Href    string
	Verdict string
	Class   string
	Tip     string
}

func buildPage(reps []*conformance.RunReport) *page {
	p := &page{Compare: len(reps) > 1}
	for _, v := range verdictOrder {
		p.Legend = append(p.Legend, countView{Verdict: string(v), Class: verdictClass(v)})
	}
	for i, r := range reps {
		p.Targets = append(p.Targets, buildTarget(i, r))
	}
	if p.Compare {
		labels := make([]string, len(p.Targets))
		for i, t := range p.Targets {
			labels[i] = t.Label
		}
		p.Title = "mcaspec comparison: " + strings.Join(labels, " · ")
		p.Matrix = buildMatrix(reps, p.Targets)
	} else {
		p.Title = "mcaspec conformance: " + p.Targets[0].Label
	}
	return p
}

func buildTarget(i int, r *conformance.RunReport) *targetView {
	t := &targetView{
		Index: i, Anchor: fmt.Sprintf("t%d", i),
		Name: r.Target.Name, Profile: string(r.Profile), URL: r.Target.URL, Mode: r.Target.Mode,
		Command: r.Target.Command, Image: r.Target.Image, Family: r.Target.Family.Name(),
		FixedAppID: r.Target.FixedAppID, Tool: toolLabel(r), Catalogue: r.Catalogue, Filters: strings.Join(r.Filters, ", "),
		Versions: sortedKV(r.Target.Versions), Log: clip(r.Target.Log, 64<<10), Baseline: r.Baseline,
		Events: r.Events, Unresponsive: r.UnresponsiveSince,
		Total: len(r.Results),
	}
	if t.Name == "" {
		t.Name = r.Target.URL
	}
	if t.Name == "" {
		t.Name = fmt.Sprintf("target %d", i+1)
	}
	t.Label = t.Name + " (" + t.Profile + ")"
	if !r.StartedAt.IsZero() {
		t.Started = r.StartedAt.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	if r.Duration > 0 {
		t.Duration = fmtDuration(time.Duration(r.Duration))
	}
	c := counts(r.Results)
	for _, v := range verdictOrder {
		t.Counts = append(t.Counts, countView{Verdict: string(v), Class: verdictClass(v), N: c[v]})
	}
	for _, v := range sortedVerdicts(c) {
		t.Counts = append(t.Counts, countView{Verdict: string(v), Class: "unknown", N: c[v]})
	}
	for _, g := range groupByArea(r.Results) {
		a := areaView{Anchor: t.Anchor + "-area-" + anchorSafe(g.Area.Key), Title: g.Area.Title, Key: g.Area.Key}
		for _, res := range g.Results {
			cv := buildCase(t.Anchor, res)
			cv.Repro = buildRepro(res, strings.TrimRight(r.Target.URL, "/"), r.KeysDir)
			a.Cases = append(a.Cases, cv)
			switch res.Verdict {
			case conformance.Fail:
				t.MustFails = append(t.MustFails, cv)
			case conformance.Errored:
				t.Errors = append(t.Errors, cv)
			}
		}
		t.Areas = append(t.Areas, a)
	}
	return t
}

// sortedVerdicts lists verdicts not in verdictOrder (from a newer or broken file).
func sortedVerdicts(c map[conformance.Verdict]int) []conformance.Verdict {
	var out []conformance.Verdict
	for v := range c {
		if verdictClass(v) == "unknown" {
			out = append(out, v)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// anchorSafe keeps letters, digits, '-' and '_' so anchors are always valid fragment ids.
func anchorSafe(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
			b.WriteRune(c)
		default:
			fmt.Fprintf(&b, "_%x", c)
		}
	}
	return b.String()
}

func caseAnchor(target, id string) string { return target + "-" + anchorSafe(id) }

func buildCase(target string, r *conformance.Result) *caseView {
	c := &caseView{
		Anchor: caseAnchor(target, r.ID), ID: r.ID, Title: r.Title, Level: string(r.Level),
		Verdict: string(r.Verdict), Class: verdictClass(r.Verdict), Reason: r.Reason, Rule: r.Rule,
		Refs: r.Refs, Recipe: r.Recipe, Expected: joinOutcomes(r.Expected), Profile: string(r.Profile),
		Duration: fmtDuration(time.Duration(r.Duration)), Area: r.Area,
		Open: r.Verdict == conformance.Fail || r.Verdict == conformance.Errored,
	}
	o := r.Observed
	if o == nil {
		return c
	}
	c.HasObs = true
	j := judgedIndex(o)
	for i := range o.Exchanges {
		x := &o.Exchanges[i]
		ev := exchangeView{
			N: i + 1, Judged: i == j, Step: x.Step, Method: x.Method, URL: x.URL,
			Request: headerLines(x.RequestHeader), Status: x.Status, Challenge: challenge(x.Header),
			Response: responseLines(x.Header), Body: x.Body, Latency: fmtDuration(x.Latency), Error: x.Error,
		}
		switch {
		case x.Error != "":
			ev.StatusText, ev.StatusCls = "no response", "s5"
		case x.Status >= 200 && x.Status < 300:
			ev.StatusText, ev.StatusCls = fmt.Sprint(x.Status), "s2"
		case x.Status >= 400 && x.Status < 500:
			ev.StatusText, ev.StatusCls = fmt.Sprint(x.Status), "s4"
		case x.Status >= 500:
			ev.StatusText, ev.StatusCls = fmt.Sprint(x.Status), "s5"
		default:
			ev.StatusText, ev.StatusCls = fmt.Sprint(x.Status), "s3"
		}
		c.Exchanges = append(c.Exchanges, ev)
	}
	if j >= 0 {
		jv := c.Exchanges[j]
		c.Judged = &jv
	}
	c.Tokens = sortedTokens(o.Tokens)
	c.Facts = sortedKV(o.Facts)
	c.Failures = o.Failures
	for _, d := range o.Downstream {
		dv := downView{Method: d.Method, Path: d.Path, Header: headerLines(d.Header)}
		if !d.At.IsZero() {
			dv.At = d.At.UTC().Format("15:04:05.000")
		}
		c.Down = append(c.Down, dv)
	}
	if o.Want != nil {
		if s, err := marshalIndent(o.Want); err == nil {
			c.Want = s
		}
	}
	return c
}

// buildMatrix lays out the union of the reports' cases: areas in catalogue
// order, and within an area the cases in run order, a case missing from
// the first report slotted in after the case it follows in another.
func buildMatrix(reps []*conformance.RunReport, targets []*targetView) *matrixView {
	var order []string
	seen := map[string]bool{}
	title := map[string]string{}
	area := map[string]string{}
	for _, r := range reps {
		prev := ""
		for _, res := range r.Results {
			if !seen[res.ID] {
				seen[res.ID] = true
				title[res.ID], area[res.ID] = res.Title, res.Area
				order = insertAfter(order, prev, res.ID)
			}
			prev = res.ID
		}
	}
	// Group by area with the same rules as a single report.
	rs := make([]conformance.Result, len(order))
	for i, id := range order {
		rs[i] = conformance.Result{ID: id, Area: area[id], Title: title[id]}
	}
	byID := make([]map[string]*conformance.Result, len(reps))
	for i, r := range reps {
		byID[i] = r.ByID()
	}
	m := &matrixView{Targets: targets}
	for _, g := range groupByArea(rs) {
		ma := matrixArea{Title: g.Area.Title, Span: len(reps) + 1}
		for _, res := range g.Results {
			row := matrixRow{ID: res.ID, Title: res.Title}
			first := conformance.Verdict("")
			for i := range reps {
				got, ok := byID[i][res.ID]
				if !ok {
					row.Cells = append(row.Cells, matrixCell{Missing: true})
					row.Differs = true
					continue
				}
				if i == 0 || first == "" {
					first = got.Verdict
				} else if got.Verdict != first {
					row.Differs = true
				}
				tip := string(got.Verdict)
				if got.Reason != "" {
					tip += ": " + clip(got.Reason, 300)
				}
				row.Cells = append(row.Cells, matrixCell{
					Href: "#" + caseAnchor(targets[i].Anchor, res.ID), Verdict: string(got.Verdict),
					Class: verdictClass(got.Verdict), Tip: tip,
				})
			}
			ma.Rows = append(ma.Rows, row)
		}
		m.Areas = append(m.Areas, ma)
	}
	return m
}

// insertAfter inserts id after prev in order (at the start when prev is
// empty or absent).
func insertAfter(order []string, prev, id string) []string {
	at := 0
	if prev != "" {
		for i, x := range order {
			if x == prev {
				at = i + 1
				break
			}
		}
		if at == 0 {
			at = len(order)
		}
	} else if len(order) > 0 {
		at = 0
	}
	order = append(order, "")
	copy(order[at+1:], order[at:])
	order[at] = id
	return order
}

// toolLabel is the mcaspec that wrote r: its version when recorded.
func toolLabel(r *conformance.RunReport) string {
	if r.ToolVersion != "" {
		return r.ToolVersion
	}
	return r.Tool
}

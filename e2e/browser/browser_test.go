package browser_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mcaspec/mcaspec/bench"
)

// chromiumPath finds Chromium: $MCASPEC_CHROMIUM, else chromium,
// chromium-browser or google-chrome on PATH. Without one the test skips,
// or fails in CI.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("MCASPEC_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const why = "no Chromium found (chromium, chromium-browser, google-chrome or $MCASPEC_CHROMIUM): install it with 'apt-get install -y chromium' to check the reports in a browser"
	if os.Getenv("CI") == "true" {
		t.Fatal("CI must run the browser test: " + why)
	}
	t.Skip(why)
	return ""
}

// page is a loaded page and the console errors seen while it loaded.
type page struct {
	ctx    context.Context
	mu     sync.Mutex
	errors []string
}

func (p *page) consoleErrors() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.errors)
}

// open starts a headless Chromium (its own profile in a temporary
// directory, no background networking: this machine's network is closed)
// and loads file.
func open(t *testing.T, file string) *page {
	t.Helper()
	exe := chromiumPath(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1100, 900),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
	}
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium refuses to run as root with its sandbox
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelT(); cancelB(); cancelA() })
	p := &page{ctx: ctx}
	// Console subscribes (and starts the browser) now: nothing the page
	// writes while it loads is lost.
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException || m.Type == "assert" {
				p.mu.Lock()
				p.errors = append(p.errors, fmt.Sprintf("%s: %s (%s:%d)", m.Type, m.Text, m.URL, m.Line+1))
				p.mu.Unlock()
			}
		}
	}()
	abs, err := filepath.Abs(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+abs), chromedp.WaitReady(chromedp.CSS("body"))); err != nil {
		t.Fatalf("loading %s in Chromium: %v", file, err)
	}
	return p
}

// screenshot saves a PNG of the whole page (else of the window) under
// out/browser/ ($MCASPEC_OUT/browser).
func (p *page) screenshot(t *testing.T, name string, whole bool) string {
	t.Helper()
	shot := chromedp.CaptureScreenshot()
	if whole {
		shot = chromedp.FullScreenshot(100)
	}
	png, err := chromedp.Run(p.ctx, shot)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	out := os.Getenv("MCASPEC_OUT")
	if out == "" {
		out = filepath.Join("..", "..", "out")
	}
	path := filepath.Join(out, "browser", name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
	return path
}

func noConsoleErrors(t *testing.T, p *page) {
	t.Helper()
	// One more round trip: events of the load have been delivered.
	if _, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](`true`)); err != nil {
		t.Fatal(err)
	}
	if errs := p.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
}

// drawnChart is what the report's script says it drew, plus what the page shows.
type drawnChart struct {
	ID          string   `json:"id"`
	Kind        string   `json:"kind"`
	Scenario    string   `json:"scenario"`
	Targets     []string `json:"targets"`
	Colors      []string `json:"colors"`
	DrawnSeries int      `json:"drawnSeries"`
	// From the DOM:
	LegendLabels []string `json:"legendLabels"`
	Inked        int      `json:"inked"` // canvas pixels that are not blank
	Axes         struct {
		XLabel string   `json:"xLabel"`
		YLabel string   `json:"yLabel"`
		XTicks []string `json:"xTicks"`
		YTicks []string `json:"yTicks"`
	} `json:"axes"`
}

const inspectCharts = `(window.benchCharts || []).map(function (c) {
  var el = document.getElementById(c.id);
  var labels = Array.from(el.querySelectorAll(".u-legend .u-series .u-label")).map(function (e) { return e.textContent; });
  var cv = el.querySelector("canvas"), inked = 0;
  if (cv) {
    var d = cv.getContext("2d").getImageData(0, 0, cv.width, cv.height).data;
    for (var i = 3; i < d.length; i += 4) if (d[i] !== 0) inked++;
  }
  return Object.assign({}, c, {legendLabels: labels, inked: inked});
})`

// TestBenchReportInBrowser runs a small bench (hot and cold, find-max,
// the reference and the no-auth ceiling in-process), writes its reports
// and loads report.html in Chromium.
func TestBenchReportInBrowser(t *testing.T) {
	t.Parallel()
	chromiumPath(t) // skip before the benchmark when there is no browser
	dir := t.TempDir()
	ref := bench.Reference()
	ref.Reference.CacheSize = 100
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := bench.Run(ctx, bench.Config{
		Scenarios: []string{"hot", "cold"},
		Targets:   []bench.TargetSpec{ref, bench.Bare()},
		FindMax:   &bench.FindMax{StartRate: 50, Factor: 2, StepDuration: 400 * time.Millisecond, MaxSteps: 2},
		OutDir:    dir,
	})
	if err != nil {
		t.Fatalf("bench: %v", err)
	}
	if err := bench.WriteReports(dir, rep); err != nil {
		t.Fatal(err)
	}
	p := open(t, filepath.Join(dir, "report.html"))
	charts, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]drawnChart](inspectCharts))
	if err != nil {
		t.Fatal(err)
	}
	targets := []string{"reference", "bare"}
	kinds := map[string]int{}
	for _, c := range charts {
		kinds[c.Kind]++
		if !slices.Equal(c.Targets, targets) {
			t.Errorf("%s (%s %s): series of targets %v, want one per target %v", c.ID, c.Scenario, c.Kind, c.Targets, targets)
		}
		if len(slices.Compact(slices.Sorted(slices.Values(c.Colors)))) != len(c.Colors) {
			t.Errorf("%s: colours %v: want one colour per target", c.ID, c.Colors)
		}
		for _, tg := range targets {
			if !slices.ContainsFunc(c.LegendLabels, func(l string) bool { return strings.HasPrefix(l, tg) }) {
				t.Errorf("%s (%s): legend %v has no entry for %s", c.ID, c.Kind, c.LegendLabels, tg)
			}
		}
		if c.DrawnSeries < len(targets) {
			t.Errorf("%s: %d series drawn", c.ID, c.DrawnSeries)
		}
		if c.Inked < 500 {
			t.Errorf("%s (%s): the canvas is blank (%d inked pixels)", c.ID, c.Kind, c.Inked)
		}
		// The axes are drawn on the canvas: the report's script keeps what it drew.
		axes := strings.Join(append(append([]string{c.Axes.XLabel, c.Axes.YLabel}, c.Axes.XTicks...), c.Axes.YTicks...), " | ")
		if len(c.Axes.XTicks) < 2 || len(c.Axes.YTicks) < 2 {
			t.Errorf("%s (%s): axes without ticks: %s", c.ID, c.Kind, axes)
		}
		want := map[string][]string{
			"percentiles":        {"p50", "p90", "p99", "p99.9", "p99.99", " ms"},
			"timeline":           {"(s)", "/s"},
			"findmax-throughput": {"offered rate (req/s)", "/s"},
			"findmax-p99":        {"offered rate (req/s)", " ms"},
		}[c.Kind]
		for _, w := range want {
			if !strings.Contains(axes, w) {
				t.Errorf("%s (%s): the axes (%s) lack %q", c.ID, c.Kind, axes, w)
			}
		}
	}
	for _, k := range []string{"percentiles", "timeline", "findmax-throughput", "findmax-p99"} {
		if kinds[k] != 2 {
			t.Errorf("%d %s charts, want 2 (hot and cold): %v", kinds[k], k, kinds)
		}
	}
	legend, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#targets-legend [data-target]")).map(function (e) { return e.dataset.target + "=" + getComputedStyle(e.querySelector(".swatch")).backgroundColor; })`))
	if err != nil {
		t.Fatal(err)
	}
	if len(legend) != 2 || !strings.HasPrefix(legend[0], "reference=rgb") || !strings.HasPrefix(legend[1], "bare=rgb") || legend[0][len("reference"):] == legend[1][len("bare"):] {
		t.Errorf("targets legend %v: want reference and bare, each its own colour", legend)
	}
	dashes, err := chromedp.Run(p.ctx, chromedp.Evaluate[int](`Array.from(document.querySelectorAll("#comparison td.na")).filter(function (e) { return e.textContent === "—"; }).length`))
	if err != nil {
		t.Fatal(err)
	}
	if dashes == 0 {
		t.Error("the in-process targets' CPU and RSS do not read —")
	}
	noConsoleErrors(t, p)
	p.screenshot(t, "bench-report.png", true)
	p.screenshot(t, "bench-report-top.png", false)
}

// TestConformanceExampleReportInBrowser loads the committed example
// conformance report: no console errors; the filters (verdict, area,
// level) change what is shown, search by case ID finds one case and opens
// its details, which hold a reproducer.
func TestConformanceExampleReportInBrowser(t *testing.T) {
	t.Parallel()
	file := filepath.Join("..", "..", "docs", "example-report.html")
	if _, err := os.Stat(file); err != nil {
		t.Fatalf("the example report: %v", err)
	}
	p := open(t, file)
	title, err := chromedp.Run(p.ctx, chromedp.Title())
	if err != nil {
		t.Fatal(err)
	}
	tables, err := chromedp.Run(p.ctx, chromedp.Evaluate[int](`document.querySelectorAll("table").length`))
	if err != nil {
		t.Fatal(err)
	}
	if title == "" || tables == 0 {
		t.Errorf("example report: title %q, %d tables: not a report", title, tables)
	}
	all := visibleRows(t, p)
	if len(all) < 100 {
		t.Fatalf("%d case rows shown before filtering, want the whole catalogue", len(all))
	}
	filters := []struct {
		field, value, attr string
	}{
		{"verdict", "INFORMATIONAL", "verdict"},
		{"area", "signature", "area"},
		{"level", "SHOULD", "level"},
	}
	for _, f := range filters {
		rows := filterBy(t, p, f.field, f.value)
		if len(rows) == 0 || len(rows) >= len(all) {
			t.Errorf("filter %s=%s shows %d of %d rows: want some, not all", f.field, f.value, len(rows), len(all))
		}
		for _, r := range rows {
			if r[f.attr] != f.value {
				t.Errorf("filter %s=%s shows %v", f.field, f.value, r)
			}
		}
		if got := filterBy(t, p, f.field, ""); len(got) != len(all) {
			t.Errorf("clearing %s shows %d rows, want %d", f.field, len(got), len(all))
		}
	}
	// Search by case ID, typed as a person would.
	if _, err := chromedp.Run(p.ctx, chromedp.SendKeys(`form.filters input[name="id"]`, "SIG-014")); err != nil {
		t.Fatal(err)
	}
	rows := visibleRows(t, p)
	if len(rows) != 1 || rows[0]["id"] != "SIG-014" {
		t.Fatalf("search SIG-014 shows %v, want that case only", rows)
	}
	detail, err := chromedp.Run(p.ctx, chromedp.Evaluate[map[string]any](`(function () {
  var d = document.querySelector('details.case[data-id="SIG-014"]');
  var others = Array.from(document.querySelectorAll("details.case")).filter(function (e) { return !e.hidden && e !== d; }).length;
  return {open: d.open, hidden: d.hidden, others: others, repro: (d.querySelector(".repro") || {}).textContent || "", shown: document.querySelector("form.filters .shown").textContent};
})()`))
	if err != nil {
		t.Fatal(err)
	}
	repro, _ := detail["repro"].(string)
	if detail["open"] != true || detail["hidden"] != false || detail["others"] != float64(0) ||
		!strings.Contains(repro, "curl -i") || !strings.Contains(repro, "mcaspec fakeaz") || !strings.Contains(repro, "--key az-keys/") {
		t.Errorf("after searching SIG-014: %v; want its details open, alone, with curl and fakeaz --key", detail)
	}
	if s, _ := detail["shown"].(string); !strings.HasPrefix(s, "1 of ") {
		t.Errorf("the filter bar says %q, want 1 of N", s)
	}
	noConsoleErrors(t, p)
	p.screenshot(t, "conformance-example-report.png", false)
	p.screenshot(t, "conformance-example-report-search.png", true)
}

// visibleRows returns the case rows of the results tables that are shown.
func visibleRows(t *testing.T, p *page) []map[string]string {
	t.Helper()
	rows, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]map[string]string](`Array.from(document.querySelectorAll("tr.case-row")).filter(function (e) { return e.offsetParent !== null; }).map(function (e) { return {id: e.dataset.id, verdict: e.dataset.verdict, area: e.dataset.area, level: e.dataset.level}; })`))
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// filterBy picks value in the filter select named field (as a user's
// choice fires "change") and returns the rows shown.
func filterBy(t *testing.T, p *page, field, value string) []map[string]string {
	t.Helper()
	js := fmt.Sprintf(`(function () { var s = document.querySelector('form.filters select[name=%q]'); s.value = %q; s.dispatchEvent(new Event("change", {bubbles: true})); return s.value; })()`, field, value)
	got, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		t.Fatal(err)
	}
	if got != value {
		t.Fatalf("select %s has no option %q", field, value)
	}
	return visibleRows(t, p)
}

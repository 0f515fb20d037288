package bench

import (
	"bytes"
	"encoding/json"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestFullSecondsDropsTheCutLastSecond(t *testing.T) {
	t.Parallel()
	tl := []Second{{T: 0, Correct: 100}, {T: 1, Correct: 100}, {T: 2, Correct: 1}}
	for _, tc := range []struct {
		name string
		d    time.Duration
		want []float64
	}{
		{"whole seconds", 2 * time.Second, []float64{100, 100}},
		{"a half second at the end is scaled", 2500 * time.Millisecond, []float64{100, 100, 2}},
		{"a sliver at the end is left out", 2100 * time.Millisecond, []float64{100, 100}},
		{"an attack under a second keeps its second", 400 * time.Millisecond, []float64{250}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := fullSeconds(&Attack{Duration: tc.d, Timeline: tl})
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if math.Abs(got[i]-tc.want[i]) > 1e-9 {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}

// A report with an in-process target, a process target and a find-max
// search: every chart has one series per target, an unmeasured figure
// reads "—", the data is valid JSON and nothing is fetched from elsewhere.
func TestWriteHTMLChartsAndUnmeasuredFigures(t *testing.T) {
	t.Parallel()
	step := func(target string, rate, thr, p99 float64) *Attack {
		return &Attack{Target: target, Scenario: "hot", Name: target + "/hot", OfferedRate: rate, Throughput: thr, P99: p99, Duration: time.Second,
			Percentiles: [][2]float64{{50, 1}, {90, 2}, {99, p99}, {99.9, p99 * 2}, {100, p99 * 3}}, Timeline: []Second{{T: 0, Correct: int(thr)}}}
	}
	inproc := step("reference", 100, 100, 3)
	inproc.NotMeasured = true
	proc := step("bare-proc", 100, 100, 1)
	proc.CPUPerRequestUS, proc.PeakRSSMB = 42.5, 12
	rep := &Report{Settings: Settings{Targets: []string{"reference", "bare-proc"}}, Searches: []*Search{
		{Target: "reference", Scenario: "hot", Steps: []*Attack{inproc, step("reference", 200, 120, 300)}, Sustainable: 100, Outcomes: []string{StepPassed, "p99 300 ms > 100ms"}},
		{Target: "bare-proc", Scenario: "hot", Steps: []*Attack{proc}, Sustainable: 100, Outcomes: []string{StepPassed}},
	}}
	rep.finish(time.Second)
	var b bytes.Buffer
	if err := rep.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	m := regexp.MustCompile(`(?s)<script id="bench-data" type="application/json">(.*?)</script>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no chart data in the page")
	}
	var data struct{ Charts []chartData }
	if err := json.Unmarshal([]byte(m[1]), &data); err != nil {
		t.Fatalf("chart data: %v", err)
	}
	kinds := map[string]bool{}
	for _, c := range data.Charts {
		kinds[c.Kind] = true
		var targets []string
		for _, s := range c.Series {
			if s.Target != "" {
				targets = append(targets, s.Target)
			}
			if len(s.Values) != len(c.X) {
				t.Errorf("%s: series %s has %d values for %d x", c.ID, s.Label, len(s.Values), len(c.X))
			}
		}
		if strings.Join(targets, ",") != "reference,bare-proc" {
			t.Errorf("%s (%s): targets %v, want one series per target", c.ID, c.Kind, targets)
		}
		if !strings.Contains(page, `id="`+c.ID+`"`) {
			t.Errorf("%s: no element", c.ID)
		}
	}
	for _, k := range []string{"percentiles", "timeline", "findmax-throughput", "findmax-p99"} {
		if !kinds[k] {
			t.Errorf("no %s chart", k)
		}
	}
	row := regexp.MustCompile(`(?s)<td class="l">reference</td>.*?</tr>`).FindString(page)
	if !strings.Contains(row, "—") || strings.Contains(row, "0.0<") {
		t.Errorf("in-process row does not say — for CPU and RSS: %s", row)
	}
	if !strings.Contains(page, "42.5") {
		t.Error("process target's CPU figure missing")
	}
	if regexp.MustCompile(`(src|href)="https?://`).MatchString(page) {
		t.Error("the page loads something from elsewhere")
	}
}

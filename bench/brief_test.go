package bench

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestWriteBriefComparesWithBare(t *testing.T) {
	t.Parallel()
	step := func(target, sc string, rate, cpu float64) *Attack {
		return &Attack{Target: target, Scenario: sc, Name: target + "/" + sc, OfferedRate: rate, Throughput: rate, P99: 5, CPUPerRequestUS: cpu, VerifyNS: 40000}
	}
	rep := &Report{Machine: Machine{CPUs: 2, LoadAvg: "3.5 2 1"}, Settings: Settings{Targets: []string{"reference-proc", "bare-proc"}}, Searches: []*Search{
		{Target: "reference-proc", Scenario: "hot", Steps: []*Attack{step("reference-proc", "hot", 4000, 80)}, Sustainable: 4000},
		{Target: "reference-proc", Scenario: "cold", Steps: []*Attack{step("reference-proc", "cold", 1000, 320)}, Sustainable: 1000},
		{Target: "bare-proc", Scenario: "hot", Steps: []*Attack{step("bare-proc", "hot", 8000, 40)}, Sustainable: 8000, LowerBound: true},
		{Target: "bare-proc", Scenario: "cold", Steps: []*Attack{step("bare-proc", "cold", 4000, 40)}, Sustainable: 4000},
	}}
	rep.finish(time.Second)
	var b bytes.Buffer
	if err := rep.WriteBrief(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"≤0.50x", // hot: 4000 over at least 8000
		"0.25x",  // cold: 1000 / 4000
		"8.00x",  // cold CPU: 320 / 40
		"≥8,000/s",
		"320 µs per request = 4.0 × two raw RSA-2048 verifies (40 µs each)",
		"2 CPUs, load 3.5",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("brief lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "\n"); n > 15 {
		t.Errorf("brief is %d lines, want at most 15:\n%s", n, out)
	}
}

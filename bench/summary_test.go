package bench

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// summaryReport is a judged report of two attacks, one bound held and one broken.
func summaryReport() *Report {
	hot := &Attack{Target: "reference", Scenario: "hot", OfferedRate: 200, AchievedRate: 199.6, Throughput: 199.4,
		P99: 1.25, Corrected: Latency{P50: 0.5, P99: 1.75}, Counts: Counts{Wrong: 0, Errors: 1}}
	odd := &Attack{Target: "my|target", Scenario: "cold", OfferedRate: 50, AchievedRate: 50, Throughput: 48,
		P99: 9.5, Corrected: Latency{P50: 3, P99: 12.5}, Counts: Counts{Wrong: 2, Errors: 0}}
	return &Report{
		Elapsed: 2 * time.Second, Machine: Machine{Tool: "mcaspec v1.2.3 (abc1234)"},
		Attacks:  []*Attack{hot, odd},
		Requests: 500, Correct: 498, WrongAnswers: 2, Errors: 1,
		Checks: []Check{
			{Name: "p99 from the intended send time", Attack: "reference/hot", Value: "1.75ms", Bound: "<= 50ms", OK: true},
			{Name: "wrong answers", Attack: "my|target/cold", Value: "2", Bound: "0", Why: "a <script> answer"},
		},
		Broken: []string{"my|target/cold: wrong answers 2, want 0"},
		Notes:  []string{"a note | with a pipe"},
	}
}

func TestWriteSummaryMarkdown(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	if err := summaryReport().WriteSummaryMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		"## mcaspec bench: FAILED: 2 wrong answers\n",
		"Tool: mcaspec v1.2.3 (abc1234)\n",
		"| reference | hot | 200 | 200 | 199 | 0.50 | 1.75 | 1.25 | 0 | 1 |\n",
		`| my\|target | cold | 50 | 50 | 48 | 3.00 | 12.50 | 9.50 | 2 | 0 |` + "\n",
		"| p99 from the intended send time | reference/hot | 1.75ms | &lt;= 50ms | pass |\n",
		`| wrong answers | my\|target/cold | 2 | 0 | **FAIL**: a &lt;script&gt; answer |` + "\n",
		`- a note \| with a pipe` + "\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("summary lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "my|target") || strings.Contains(md, "<script>") {
		t.Errorf("a name or reason is not escaped:\n%s", md)
	}
}

func TestWriteSummaryMarkdownVerdicts(t *testing.T) {
	t.Parallel()
	r := summaryReport()
	r.Interrupted = true
	var b strings.Builder
	if err := r.WriteSummaryMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), "## mcaspec bench: INTERRUPTED (FAILED: 2 wrong answers)\n") || !strings.Contains(b.String(), "stopped before its end") {
		t.Errorf("interrupted run:\n%s", b.String())
	}
	r = summaryReport()
	r.Checks, r.Broken, r.WrongAnswers, r.OK = r.Checks[:1], nil, 0, true
	b.Reset()
	if err := r.WriteSummaryMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), "## mcaspec bench: OK: every bound held (1 checks)\n") || strings.Contains(b.String(), "FAIL") {
		t.Errorf("passing run:\n%s", b.String())
	}
	if err := summaryReport().WriteSummaryMarkdown(failWriter{}); !errors.Is(err, errFailWrite) {
		t.Errorf("write error: got %v, want errFailWrite", err)
	}
}

var errFailWrite = errors.New("disk full")

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errFailWrite }

package bench

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Judgement defaults.
const (
	// DefaultMinSuccess is the least share of correct answers among the
	// requests that expected a success (a valid token).
	DefaultMinSuccess = 0.99
	// DefaultMinSendShare is the least share of the due requests the
	// generator must have sent: below it, it could not keep up, and the
	// rate it reports is not the target's.
	DefaultMinSendShare = 0.95
)

// Bounds judge a report (a run, or the merged results of several load
// generators). Wrong answers are always checked (none allowed), and so are
// hangs in the outage scenario. The fixed-rate attacks (Report.Attacks; a
// find-max search has bounds of its own) are checked against MinSuccess,
// MinSendShare, MaxP99, MaxErrorRate and every Threshold.
type Bounds struct {
	// MinSuccess bounds each attack's correct share among the requests
	// that expected a success (0: DefaultMinSuccess; negative: unchecked).
	MinSuccess float64
	// MinSendShare bounds each paced attack's sent / due requests (0:
	// DefaultMinSendShare; negative: unchecked).
	MinSendShare float64
	// MaxP99 bounds each attack's p99 latency from the intended send time.
	MaxP99 time.Duration
	// MaxErrorRate bounds each attack's errors / requests (0..1); set
	// CheckErrorRate to check 0 itself (no error allowed).
	MaxErrorRate   float64
	CheckErrorRate bool
	// Thresholds are k6-style bounds per scenario (ParseThreshold).
	Thresholds []Threshold
}

// Check is one judged bound: what was checked, on which attack, the value
// measured, the bound and whether it held.
type Check struct {
	Name   string `json:"name"`
	Attack string `json:"attack,omitempty"`
	Value  string `json:"value"`
	Bound  string `json:"bound"`
	OK     bool   `json:"ok"`
	// Why explains a broken bound when the figure alone does not.
	Why string `json:"why,omitempty"`
}

func (c Check) String() string {
	s := c.Name
	if c.Attack != "" {
		s = c.Attack + ": " + s
	}
	s += " " + c.Value + ", want " + c.Bound
	if c.Why != "" {
		s += " (" + c.Why + ")"
	}
	return s
}

// ErrBounds is returned by CheckBounds when a bound is broken.
var ErrBounds = errors.New("bench: bounds broken")

// CheckBounds judges r against b: it fills r.Checks with every bound
// checked, r.Broken with one line per broken bound, sets r.OK, and returns
// an error wrapping ErrBounds (and ErrWrongAnswers when answers were
// wrong or the outage scenario hung) when any bound is broken.
func (r *Report) CheckBounds(b Bounds) error {
	r.Checks, r.Broken = nil, nil
	add := func(c Check) {
		r.Checks = append(r.Checks, c)
		if !c.OK {
			r.Broken = append(r.Broken, c.String())
		}
	}
	add(Check{Name: "wrong answers", Value: strconv.Itoa(r.WrongAnswers), Bound: "0", OK: r.WrongAnswers == 0})
	if h := r.hangs(); h > 0 {
		add(Check{Name: "outage hangs", Value: strconv.Itoa(h), Bound: "0"})
	}
	for _, a := range r.Attacks {
		for _, c := range b.attackChecks(a) {
			add(c)
		}
	}
	for _, t := range b.Thresholds {
		for _, c := range t.judge(r.Attacks) {
			add(c)
		}
	}
	r.OK = len(r.Broken) == 0
	if r.OK {
		return nil
	}
	err := fmt.Errorf("%w:\n  %s", ErrBounds, strings.Join(r.Broken, "\n  "))
	if r.WrongAnswers > 0 || r.hangs() > 0 {
		err = fmt.Errorf("%w (%w)", err, ErrWrongAnswers)
	}
	return err
}

// attackChecks are the bounds every fixed-rate attack is held to.
func (b Bounds) attackChecks(a *Attack) []Check {
	var out []Check
	minSuccess, minSend := orDefault(b.MinSuccess, DefaultMinSuccess), orDefault(b.MinSendShare, DefaultMinSendShare)
	if minSuccess > 0 && a.ExpectSuccess > 0 {
		out = append(out, Check{Name: "success share", Attack: a.Name, Value: pct(a.SuccessShare) + fmt.Sprintf(" (%d of %d)", a.Succeeded, a.ExpectSuccess),
			Bound: ">= " + pct(minSuccess), OK: a.SuccessShare >= minSuccess})
	} else if minSuccess > 0 && a.Requests > 0 && a.Correct == 0 {
		out = append(out, Check{Name: "correct answers", Attack: a.Name, Value: "0", Bound: "> 0", Why: "nothing worked"})
	}
	if minSend > 0 && !a.Closed && a.OfferedRate > 0 && a.Due > 0 {
		c := Check{Name: "send share", Attack: a.Name, Value: pct(a.SendShare) + fmt.Sprintf(" (%d of %d due; %.1f/s of %.1f/s offered)", a.Requests, a.Due, a.AchievedRate, a.OfferedRate),
			Bound: ">= " + pct(minSend), OK: a.SendShare >= minSend}
		if !c.OK {
			c.Why = "the load generator could not keep up: the rate it sent is not the target's; raise --max-workers or add generators"
		}
		out = append(out, c)
	}
	if b.MaxP99 > 0 {
		out = append(out, Check{Name: "p99", Attack: a.Name, Value: fmt.Sprintf("%.2f ms", a.Corrected.P99), Bound: "<= " + b.MaxP99.String(),
			OK: a.Corrected.P99 <= float64(b.MaxP99)/float64(time.Millisecond)})
	}
	if (b.MaxErrorRate > 0 || b.CheckErrorRate) && a.Requests > 0 {
		er := float64(a.Errors) / float64(a.Requests)
		out = append(out, Check{Name: "error rate", Attack: a.Name, Value: fmt.Sprintf("%.3f%% (%d of %d)", er*100, a.Errors, a.Requests),
			Bound: "<= " + pct(b.MaxErrorRate), OK: er <= b.MaxErrorRate})
	}
	return out
}

func orDefault(v, d float64) float64 {
	if v == 0 {
		return d
	}
	return v
}

func pct(v float64) string { return strconv.FormatFloat(v*100, 'f', -1, 64) + "%" }

// Threshold is a k6-style bound on the attacks of a scope: Scope is a
// scenario, a target, "target/scenario" or "*" (every attack); Metric is
// p50, p90, p95, p99, p99.9 or max (latency from the intended send time),
// error_rate (errors / requests), rate (correct answers per second) or
// success (correct share among requests expecting a success).
type Threshold struct {
	Scope, Metric, Op string
	Value             float64 // milliseconds for latencies
	Text              string  // as given
}

// thresholdOps, longest first.
var thresholdOps = []string{"<=", ">=", "<", ">"}

// ParseThreshold parses "scope:metric<op>value", e.g. "hot:p99<200ms",
// "*:error_rate<0.001", "hot:rate>=2000".
func ParseThreshold(s string) (Threshold, error) {
	bad := func(why string) (Threshold, error) {
		return Threshold{}, fmt.Errorf("%w: threshold %q: %s (want scope:metric<op>value, e.g. hot:p99<200ms, *:error_rate<0.001, hot:rate>=2000; "+
			"metrics p50 p90 p95 p99 p99.9 max error_rate rate success; ops < <= > >=)", ErrConfig, s, why)
	}
	scope, rest, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || scope == "" {
		return bad("no scope")
	}
	t := Threshold{Scope: scope, Text: s}
	for _, op := range thresholdOps {
		if i := strings.Index(rest, op); i > 0 {
			t.Metric, t.Op = strings.TrimSpace(rest[:i]), op
			rest = strings.TrimSpace(rest[i+len(op):])
			break
		}
	}
	if t.Op == "" {
		return bad("no comparison")
	}
	switch t.Metric {
	case "p50", "p90", "p95", "p99", "p99.9", "max":
		d, err := time.ParseDuration(rest)
		if err != nil || d <= 0 {
			return bad("a latency bound is a duration such as 200ms")
		}
		t.Value = float64(d) / float64(time.Millisecond)
	case "error_rate", "rate", "success":
		v, err := strconv.ParseFloat(rest, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return bad("the bound is a non-negative number")
		}
		if t.Metric != "rate" && v > 1 {
			return bad("a share is within 0..1")
		}
		t.Value = v
	default:
		return bad("unknown metric " + strconv.Quote(t.Metric))
	}
	return t, nil
}

func (t Threshold) matches(a *Attack) bool {
	return t.Scope == "*" || t.Scope == a.Scenario || t.Scope == a.Target || t.Scope == a.Target+"/"+a.Scenario
}

// value is the attack's figure for the threshold's metric, and its text.
func (t Threshold) value(a *Attack) (float64, string) {
	if v, ok := a.Corrected.percentile(t.Metric); ok {
		return v, fmt.Sprintf("%.2f ms", v)
	}
	switch t.Metric {
	case "error_rate":
		er := 0.0
		if a.Requests > 0 {
			er = float64(a.Errors) / float64(a.Requests)
		}
		return er, fmt.Sprintf("%g (%d of %d)", er, a.Errors, a.Requests)
	case "rate":
		return a.Throughput, fmt.Sprintf("%.1f correct/s", a.Throughput)
	}
	return a.SuccessShare, fmt.Sprintf("%g (%d of %d)", a.SuccessShare, a.Succeeded, a.ExpectSuccess)
}

func (t Threshold) holds(v float64) bool {
	switch t.Op {
	case "<":
		return v < t.Value
	case "<=":
		return v <= t.Value
	case ">":
		return v > t.Value
	}
	return v >= t.Value
}

// judge checks the threshold on every attack of its scope; a scope that
// matches no attack is a broken threshold, never a silent pass.
func (t Threshold) judge(attacks []*Attack) []Check {
	var out []Check
	bound := strings.TrimPrefix(t.Text[strings.IndexByte(t.Text, ':')+1:], t.Metric)
	for _, a := range attacks {
		if !t.matches(a) {
			continue
		}
		v, text := t.value(a)
		out = append(out, Check{Name: "threshold " + t.Text, Attack: a.Name, Value: t.Metric + " " + text, Bound: strings.TrimSpace(bound), OK: t.holds(v)})
	}
	if len(out) == 0 {
		out = append(out, Check{Name: "threshold " + t.Text, Value: "no attack of scope " + strconv.Quote(t.Scope), Bound: "at least one"})
	}
	return out
}

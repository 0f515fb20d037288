package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Attack is every figure of one attack of one target.
type Attack struct {
	Target   string `json:"target"`
	Scenario string `json:"scenario"`
	// Name is vegeta's attack name (Result.Attack).
	Name        string        `json:"name"`
	OfferedRate float64       `json:"offeredRate"` // req/s; 0 for closed-model scenarios (fleet)
	Duration    time.Duration `json:"duration"`
	// AchievedRate is the rate requests were sent at (vegeta's rate);
	// Throughput the rate of correct answers. Saturated: Throughput fell
	// under DefaultMinAchieved of the offered rate.
	AchievedRate float64 `json:"achievedRate"`
	Throughput   float64 `json:"throughput"`
	Saturated    bool    `json:"saturated"`
	Counts
	WrongSamples []string       `json:"wrongSamples,omitempty"`
	ErrorKinds   map[string]int `json:"errorKinds,omitempty"`
	// ByKind counts "<expectation>/<verdict>".
	ByKind map[string]int `json:"byKind,omitempty"`
	// Latencies in milliseconds.
	P50         float64      `json:"p50ms"`
	P99         float64      `json:"p99ms"`
	Max         float64      `json:"maxms"`
	Percentiles [][2]float64 `json:"percentiles"` // [percentile, ms]: service latency
	// CorrectedPercentiles: the same from the intended send time.
	CorrectedPercentiles [][2]float64 `json:"correctedPercentiles"`
	Timeline             []Second     `json:"timeline"`
	// Target process figures (launched targets only).
	TargetCPUSeconds float64 `json:"targetCpuSeconds,omitempty"`
	CPUPerRequestUS  float64 `json:"cpuPerRequestUs,omitempty"`
	// VerifyNS: cold attacks on launched targets: one rsa.VerifyPKCS1v15
	// (RSA-2048) in the load generator, measured just before and after.
	VerifyNS  float64 `json:"verifyNs,omitempty"`
	PeakRSSMB float64 `json:"peakRssMB,omitempty"` // VmHWM: peak since the process started
	MaxRSSMB  float64 `json:"maxRssMB,omitempty"`  // highest RSS sampled during this attack
	// NotMeasured: no CPU or RSS figures: the target runs elsewhere
	// (KindURL) or in the bench's own process (reference, baseline, bare).
	NotMeasured bool `json:"cpuRssNotMeasured,omitempty"`
	// GeneratorCPUPerRequestUS is the CPU this load generator spent per
	// request during the attack (sending, reading and checking every answer,
	// writing the results file). GeneratorShared: the target ran in the
	// same process, so the figure includes the target's own cost.
	GeneratorCPUPerRequestUS float64 `json:"generatorCpuPerRequestUs,omitempty"`
	GeneratorShared          bool    `json:"generatorIncludesTarget,omitempty"`
	KeyFetches               int     `json:"keyFetches"`
	SinkHits                 int     `json:"sinkHits,omitempty"`
	// Extra holds scenario figures (recovery time, fetches per app...).
	Extra       map[string]float64 `json:"extra,omitempty"`
	ResultsFile string             `json:"resultsFile,omitempty"`
	// HistogramFile is the attack's Tally beside its results file (what
	// --merge adds up).
	HistogramFile string `json:"histogramFile,omitempty"`
	// Closed: a closed-model attack (--rate max, Config.RateMax): InFlight
	// requests at all times, each sent when one is answered; no intended
	// send times, so latency is service latency.
	Closed   bool   `json:"closedModel,omitempty"`
	InFlight uint64 `json:"inFlight,omitempty"`
	// Due is how many requests the pacer made due; Requests of them were
	// sent (SendShare = Requests / Due: below DefaultMinSendShare the
	// generator could not keep up).
	Due       int     `json:"due"`
	SendShare float64 `json:"sendShare"`
	// ExpectSuccess counts requests that expected a success (a valid
	// token); Succeeded those answered correctly (SuccessShare their ratio).
	ExpectSuccess int     `json:"expectSuccess"`
	Succeeded     int     `json:"succeeded"`
	SuccessShare  float64 `json:"successShare"`
	// Latency is the service latency (from when the request was sent) and
	// Corrected the latency from the intended send time (start + k / rate:
	// the queueing a stalled target causes is in it), both from the HDR
	// histograms. CorrectedUnknown: results files without intended times.
	Latency          Latency `json:"latency"`
	Corrected        Latency `json:"correctedLatency"`
	CorrectedUnknown bool    `json:"correctedUnknown,omitempty"`
	// Late requests were sent more than DefaultLateBy after their intended
	// time, the latest MaxLateMS late: the generator fell behind.
	Late      int     `json:"late"`
	MaxLateMS float64 `json:"maxLateMs"`
	// Metrics is vegeta's own summary of the attack.
	Metrics *vegeta.Metrics `json:"vegeta"`

	fileErr error
	maxRSS  int64
}

// fromTally fills the counters, rates and latencies from t.
func (a *Attack) fromTally(t *Tally) {
	a.Counts = t.Counts
	a.WrongSamples, a.Timeline = t.WrongSamples, t.Timeline
	a.Due, a.ExpectSuccess, a.Succeeded, a.Late = t.Due, t.ExpectSuccess, t.SucceededOK, t.Late
	a.MaxLateMS = ms(t.MaxLate)
	a.SendShare, a.SuccessShare = 1, 1
	if t.Due > 0 {
		a.SendShare = float64(t.Requests) / float64(t.Due)
	}
	if t.ExpectSuccess > 0 {
		a.SuccessShare = float64(t.SucceededOK) / float64(t.ExpectSuccess)
	}
	span := t.Duration
	if t.OfferedRate <= 0 || span <= 0 {
		span = max(span, t.LastSent.Sub(t.Began))
	}
	if s := span.Seconds(); s > 0 {
		a.Throughput = float64(a.Correct) / s
		a.AchievedRate = float64(a.Requests) / s
	}
	if t.OfferedRate > 0 {
		a.AchievedRate = t.OfferedRate * a.SendShare
		if a.Throughput < DefaultMinAchieved*t.OfferedRate {
			a.Saturated = true
		}
	}
	a.Latency = summarise(t.Service)
	a.Corrected = summarise(t.Corrected)
	a.CorrectedUnknown = !t.CorrectedKnown
	h := t.Corrected
	if a.CorrectedUnknown {
		a.Corrected, h = a.Latency, t.Service
	}
	a.CorrectedPercentiles = nil
	for _, q := range percentiles {
		a.CorrectedPercentiles = append(a.CorrectedPercentiles, [2]float64{q * 100, float64(h.ValueAtQuantile(q*100)) / 1000})
	}
}

func (a *Attack) setExtra(k string, v float64) {
	if a.Extra == nil {
		a.Extra = map[string]float64{}
	}
	a.Extra[k] = v
}

// Search is a find-max search of one target and scenario.
type Search struct {
	Target   string    `json:"target"`
	Scenario string    `json:"scenario"`
	Steps    []*Attack `json:"steps"`
	// Sustainable is the highest offered rate whose step passed every bound
	// (0: not even the first).
	Sustainable float64 `json:"sustainableRate"`
	// SustainableThroughput is the correct-answer throughput of that step.
	SustainableThroughput float64 `json:"sustainableThroughput"`
	StopReason            string  `json:"stopReason"`
	// Outcomes says, step by step, StepPassed or the bound the step broke.
	Outcomes []string `json:"stepOutcomes"`
	// SteppedDown: the first step already broke a bound and the search
	// stepped down to find a sustainable rate.
	SteppedDown bool `json:"steppedDown,omitempty"`
	// LowerBound: every step held the bounds (the search ran out of steps
	// or time first): the sustainable rate is at least Sustainable.
	LowerBound bool `json:"lowerBound,omitempty"`
}

// headline is the step that stands for the search: the one at the
// sustainable rate, else the first (nil without steps).
func (s *Search) headline() *Attack {
	var best *Attack
	for _, a := range s.Steps {
		if a.OfferedRate == s.Sustainable {
			best = a
		}
	}
	if best == nil && len(s.Steps) > 0 {
		best = s.Steps[0]
	}
	return best
}

// Row is one line of the comparison table.
type Row struct {
	Scenario string  `json:"scenario"`
	Target   string  `json:"target"`
	Rate     float64 `json:"rate"` // sustainable rate (find-max) or correct throughput (fixed rate)
	// VsBaseline is Rate / the baseline's Rate in the same scenario (0 without a baseline).
	VsBaseline float64 `json:"vsBaseline,omitempty"`
	// VsBare is Rate / the no-auth ceiling's (bare) Rate in the same scenario (0 without bare).
	VsBare float64 `json:"vsBare,omitempty"`
	// NotMeasured: CPU and RSS are not measured (a running target, or an
	// in-process one): shown as "—", not 0.
	NotMeasured bool    `json:"cpuRssNotMeasured,omitempty"`
	P50         float64 `json:"p50ms"`
	P99         float64 `json:"p99ms"`
	// CorrectedP50 and CorrectedP99: latency from the intended send time.
	CorrectedP50 float64 `json:"correctedP50ms"`
	CorrectedP99 float64 `json:"correctedP99ms"`
	CPUPerReq    float64 `json:"cpuPerRequestUs,omitempty"`
	PeakRSSMB    float64 `json:"peakRssMB,omitempty"`
	Wrong        int     `json:"wrongAnswers"`
	Errors       int     `json:"errors"`
	Saturated    bool    `json:"saturated"`
	// LowerBound: a find-max that ended before any step broke a bound:
	// the sustainable rate is at least Rate.
	LowerBound bool `json:"lowerBound,omitempty"`
}

// Report is everything a run measured.
type Report struct {
	Started  time.Time     `json:"started"`
	Elapsed  time.Duration `json:"elapsed"`
	Machine  Machine       `json:"machine"`
	Shard    string        `json:"shard"`
	Settings Settings      `json:"settings"`
	Attacks  []*Attack     `json:"attacks,omitempty"`
	Searches []*Search     `json:"searches,omitempty"`
	Table    []Row         `json:"table"`
	// VerifyNS is the measured cost of one rsa.VerifyPKCS1v15 (RSA-2048,
	// SHA-256) in this process at the start of the run; ColdCPURatio the
	// cold scenario's target CPU per request over 2 x the verify cost
	// measured around that attack (Attack.VerifyNS), per launched target;
	// ColdValidationRatio the same less the no-validation baseline's ratio
	// at the same offered rate in the same run (baseline-proc): what
	// validation itself costs, without the HTTP server's own cost.
	VerifyNS            float64            `json:"verifyNs,omitempty"`
	ColdCPURatio        map[string]float64 `json:"coldCpuRatio,omitempty"`
	ColdValidationRatio map[string]float64 `json:"coldValidationRatio,omitempty"`
	Notes               []string           `json:"notes,omitempty"`
	// Requests and Correct total every attack's (WrongAnswers and Errors too).
	Requests     int  `json:"requests"`
	Correct      int  `json:"correct"`
	WrongAnswers int  `json:"wrongAnswers"`
	Errors       int  `json:"errors"`
	OK           bool `json:"ok"`
	// Generators (Merge) is how many load generators the merged results
	// came from: distinct shard tags, an untagged results directory counting
	// as one; GeneratorShards lists the tags.
	Generators      int      `json:"generators,omitempty"`
	GeneratorShards []string `json:"generatorShards,omitempty"`
	// Checks lists every bound judged (CheckBounds), held or broken;
	// Broken the broken ones, one line each.
	Checks []Check  `json:"checks,omitempty"`
	Broken []string `json:"brokenBounds,omitempty"`
	// Interrupted: the run was stopped (SIGINT, SIGTERM) before its end:
	// the figures are what was measured until then.
	Interrupted bool `json:"interrupted,omitempty"`
}

// Machine describes where the run happened.
type Machine struct {
	CPUs       int    `json:"cpus"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	GoVersion  string `json:"goVersion"`
	LoadAvg    string `json:"loadavg,omitempty"`
	// Tool is the mcaspec that ran or merged (version and commit,
	// internal/buildinfo): every report records it.
	Tool string `json:"tool,omitempty"`
}

// Settings echo the configuration.
type Settings struct {
	Scenarios   []string `json:"scenarios"`
	Targets     []string `json:"targets"`
	Rate        float64  `json:"rate"`
	Duration    string   `json:"duration"`
	MaxWorkers  uint64   `json:"maxWorkers"`
	Connections int      `json:"connections"`
	FindMax     *FindMax `json:"findMax,omitempty"`
	// Model says how the load was offered: open (paced) or closed (--rate max).
	Model string `json:"model,omitempty"`
}

func (r *Report) table() {
	r.Table = nil
	rows := map[rowKey]*Row{}
	var order []rowKey
	add := func(a *Attack, rate float64, sat bool) {
		k := rowKey{a.Scenario, a.Target}
		row := rows[k]
		if row == nil {
			row = &Row{Scenario: a.Scenario, Target: a.Target}
			rows[k] = row
			order = append(order, k)
		}
		row.Rate, row.P50, row.P99, row.CPUPerReq, row.Saturated, row.NotMeasured = rate, a.P50, a.P99, a.CPUPerRequestUS, sat, a.NotMeasured
		row.CorrectedP50, row.CorrectedP99 = a.Corrected.P50, a.Corrected.P99
		if a.PeakRSSMB > row.PeakRSSMB {
			row.PeakRSSMB = a.PeakRSSMB
		}
	}
	for _, a := range r.Attacks {
		add(a, a.Throughput, a.Saturated)
	}
	for _, s := range r.Searches {
		if best := s.headline(); best != nil {
			add(best, s.Sustainable, s.Sustainable == 0)
			rows[rowKey{best.Scenario, best.Target}].LowerBound = s.LowerBound
		}
	}
	count := func(as []*Attack) {
		for _, a := range as {
			row := rows[rowKey{a.Scenario, a.Target}]
			row.Wrong += a.Wrong
			row.Errors += a.Errors
		}
	}
	count(r.Attacks)
	for _, s := range r.Searches {
		count(s.Steps)
	}
	r.Table = withRatios(rows, order)
}

// rowKey identifies a table row: scenario and target.
type rowKey struct{ s, t string }

// ratioRef identifies the rate a row is compared with: its scenario's, from
// a process target or an in-process one.
type ratioRef struct {
	s    string
	proc bool
}

// withRatios returns the rows in order with their rate as a ratio of the
// baseline's and the bare target's. A ratio compares like with like when it
// can: a process target with the process baseline (baseline-proc,
// bare-proc), an in-process one with the in-process baseline; else with
// whichever ran.
func withRatios(rows map[rowKey]*Row, order []rowKey) []Row {
	baseline, bare := map[ratioRef]float64{}, map[ratioRef]float64{}
	for _, k := range order {
		switch {
		case isBaseline(k.t):
			baseline[ratioRef{k.s, isProc(k.t)}] = rows[k].Rate
		case isBare(k.t):
			bare[ratioRef{k.s, isProc(k.t)}] = rows[k].Rate
		}
	}
	pick := func(m map[ratioRef]float64, k rowKey) float64 {
		if v := m[ratioRef{k.s, isProc(k.t)}]; v > 0 {
			return v
		}
		return m[ratioRef{k.s, !isProc(k.t)}]
	}
	var table []Row
	for _, k := range order {
		row := rows[k]
		if b := pick(baseline, k); b > 0 {
			row.VsBaseline = math.Round(row.Rate/b*1000) / 1000
		}
		if b := pick(bare, k); b > 0 {
			row.VsBare = math.Round(row.Rate/b*1000) / 1000
		}
		table = append(table, *row)
	}
	return table
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes a human summary.
func (r *Report) WriteText(w io.Writer) error {
	status := r.status()
	fmt.Fprintf(w, "mcaspec bench — %s (shard %s, %d CPUs, %s, load %s)\n%s; %d errors; %s\n\n",
		r.Started.Format(time.RFC3339), r.Shard, r.Machine.CPUs, r.Machine.GoVersion, r.Machine.LoadAvg, status, r.Errors, r.Elapsed.Round(time.Millisecond))
	if r.Machine.Tool != "" {
		fmt.Fprintf(w, "Tool: %s\n\n", r.Machine.Tool)
	}
	if r.Generators > 0 {
		shards := ""
		if len(r.GeneratorShards) > 0 {
			shards = " (shards " + strings.Join(r.GeneratorShards, ", ") + ")"
		}
		fmt.Fprintf(w, "merged results of %d load generators%s: %d requests, %d correct, %d wrong, %d errors\n\n", r.Generators, shards, r.Requests, r.Correct, r.WrongAnswers, r.Errors)
	}
	r.writeChecks(w)
	if err := r.writeTable(w); err != nil {
		return err
	}
	r.writeSearches(w)
	r.writeAttackDetails(w)
	if r.VerifyNS > 0 {
		fmt.Fprintf(w, "\nraw rsa.VerifyPKCS1v15 (RSA-2048): %.1f µs at the start\n", r.VerifyNS/1000)
	}
	for _, a := range r.all() {
		if a.Scenario == "cold" && a.VerifyNS > 0 {
			fmt.Fprintf(w, "%s: %.1f µs of target CPU per request, verify %.1f µs around it: %.2f x (2 x verify)\n",
				a.Name, a.CPUPerRequestUS, a.VerifyNS/1000, a.CPUPerRequestUS*1000/(2*a.VerifyNS))
		}
	}
	for _, t := range sortedKeys(r.ColdCPURatio) {
		fmt.Fprintf(w, "cold CPU per request / (2 x verify), %s: %.2f\n", t, r.ColdCPURatio[t])
	}
	for _, t := range sortedKeys(r.ColdValidationRatio) {
		fmt.Fprintf(w, "cold validation CPU per request (less the baseline's) / (2 x verify), %s: %.2f\n", t, r.ColdValidationRatio[t])
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	return nil
}

// writeTable writes the text summary's table of rows and its notes.
func (r *Report) writeTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\ttarget\tcorrect/s\tvs baseline\tvs bare\tp50 ms\tp99 ms\tp50* ms\tp99* ms\tcpu µs/req\tpeak RSS MB\twrong\terrors\t")
	for _, row := range r.Table {
		sat := ""
		if row.Saturated {
			sat = " (saturated)"
		}
		cpu, rss := opt(row.CPUPerReq), opt(row.PeakRSSMB)
		if row.NotMeasured {
			cpu, rss = "—", "—"
		}
		fmt.Fprintf(tw, "%s\t%s\t%.0f%s\t%s\t%s\t%.2f\t%.2f\t%.2f\t%.2f\t%s\t%s\t%d\t%d\t\n", row.Scenario, row.Target, row.Rate, sat, ratio(row.VsBaseline), ratio(row.VsBare),
			row.P50, row.P99, row.CorrectedP50, row.CorrectedP99, cpu, rss, row.Wrong, row.Errors)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "p50/p99: service latency (vegeta's, from when the request was sent); p50*/p99*: from the intended send time (start + k / rate), the queueing of a stalled target included")
	for _, row := range r.Table {
		if row.NotMeasured || row.CPUPerReq == 0 {
			fmt.Fprintln(w, "—: not measured (CPU and memory: targets the bench starts as processes only)")
			break
		}
	}
	return nil
}

// writeSearches writes each find-max search: its outcome and its steps.
func (r *Report) writeSearches(w io.Writer) {
	for _, s := range r.Searches {
		down := ""
		if s.SteppedDown {
			down = " (stepped down: the first step broke a bound)"
		}
		fmt.Fprintf(w, "\nfind-max %s/%s: sustainable %.0f req/s (%.0f correct/s)%s; stopped: %s\n", s.Target, s.Scenario, s.Sustainable, s.SustainableThroughput, down, s.StopReason)
		for i, a := range s.Steps {
			outcome := ""
			if i < len(s.Outcomes) {
				outcome = "  " + s.Outcomes[i]
			}
			fmt.Fprintf(w, "  offered %7.0f  achieved %7.0f  correct/s %7.0f  p99 %7.2f ms  p99* %7.2f ms  wrong %d  errors %d%s\n", a.OfferedRate, a.AchievedRate, a.Throughput, a.P99, a.Corrected.P99, a.Wrong, a.Errors, outcome)
		}
	}
}

// writeAttackDetails writes, for each attack (find-max steps included) that
// has any, its extra figures, wrong answers and errors by kind.
func (r *Report) writeAttackDetails(w io.Writer) {
	all := append([]*Attack{}, r.Attacks...)
	for _, s := range r.Searches {
		all = append(all, s.Steps...)
	}
	for _, a := range all {
		if len(a.Extra) == 0 && len(a.WrongSamples) == 0 && len(a.ErrorKinds) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s:\n", a.Name)
		keys := make([]string, 0, len(a.Extra))
		for k := range a.Extra {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "  %s = %g\n", k, a.Extra[k])
		}
		for _, s := range a.WrongSamples {
			fmt.Fprintf(w, "  WRONG: %s\n", s)
		}
		for k, n := range a.ErrorKinds {
			fmt.Fprintf(w, "  error x%d: %s\n", n, k)
		}
	}
}

// status is the first line's verdict.
func (r *Report) status() string {
	switch {
	case r.Interrupted:
		return "INTERRUPTED"
	case !r.OK && r.WrongAnswers == 0 && len(r.Broken) > 0:
		return fmt.Sprintf("FAILED: %d bounds broken", len(r.Broken))
	case !r.OK:
		return fmt.Sprintf("FAILED: %d wrong answers", r.WrongAnswers)
	case len(r.Checks) > 0:
		return fmt.Sprintf("OK: every bound held (%d checks)", len(r.Checks))
	}
	return "OK: no wrong answers"
}

// writeChecks lists every check with pass or FAIL.
func (r *Report) writeChecks(w io.Writer) {
	if r.Interrupted {
		fmt.Fprintln(w, "INTERRUPTED: the run was stopped before its end; the figures are what was measured until then")
	}
	for _, c := range r.Checks {
		verdict := "pass"
		if !c.OK {
			verdict = "FAIL"
		}
		fmt.Fprintf(w, "%s  %s\n", verdict, c)
	}
	if len(r.Checks) > 0 {
		fmt.Fprintln(w)
	}
}

func sortedKeys(m map[string]float64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func ratio(v float64) string {
	if v <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.2fx", v)
}

// opt formats a figure that may not have been measured (0): "—".
func opt(v float64) string {
	if v == 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f", v)
}

package bench

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Latency histograms record microseconds from 1 µs to one hour with three
// significant figures (a value is within 0.1% of what was measured): about
// 200 KiB each, whatever the request count.
const (
	histMin     = 1
	histMax     = int64(time.Hour / time.Microsecond)
	histSigFigs = 3
)

// DefaultLateBy is how late a request may be sent after its intended time
// before it counts as sent late (the generator fell behind).
const DefaultLateBy = 10 * time.Millisecond

// TallyVersion is the version of the histogram files (Tally) this package
// writes and reads.
const TallyVersion = 1

// TallyFileSuffix ends the histogram file written beside each results file.
const TallyFileSuffix = ".hdr.json"

// Counts is how many requests an attack sent and how they were answered.
type Counts struct {
	Requests int `json:"requests"`
	// Correct includes Unavailable (fail-closed 503s where they are acceptable).
	Correct     int `json:"correct"`
	Unavailable int `json:"unavailable"`
	Wrong       int `json:"wrongAnswers"`
	Errors      int `json:"errors"`
	Hangs       int `json:"hangs"`
}

// add adds o to c.
func (c *Counts) add(o Counts) {
	c.Requests += o.Requests
	c.Correct += o.Correct
	c.Unavailable += o.Unavailable
	c.Wrong += o.Wrong
	c.Errors += o.Errors
	c.Hangs += o.Hangs
}

// Tally is what one load generator measured of one attack, in a size that
// does not grow with the request count: counters, the per-second timeline
// and two HDR latency histograms. Tallies of the same attack from several
// shards add up (Add); Merge reads them from the histogram files (.hdr.json)
// written beside the results files.
type Tally struct {
	Version  int    `json:"version"`
	Run      string `json:"run"` // a random id of the run that wrote it
	Attack   string `json:"attack"`
	Target   string `json:"target"`
	Scenario string `json:"scenario"`
	Shard    string `json:"shard"`
	// Began is when the attack started: request k was intended at
	// Began + k/OfferedRate. OfferedRate is 0 for a closed model (--rate
	// max, fleet): there is no intended time and latency is service latency.
	Began       time.Time     `json:"began"`
	OfferedRate float64       `json:"offeredRate"`
	Duration    time.Duration `json:"duration"`
	// Due is how many requests the pacer made due before the attack ended.
	Due int `json:"due"`
	Counts
	// ExpectSuccess counts the requests that expected a success (a valid
	// token), SucceededOK those of them answered correctly.
	ExpectSuccess int `json:"expectSuccess"`
	SucceededOK   int `json:"succeeded"`
	// Late counts requests sent more than DefaultLateBy after their
	// intended time; MaxLate is the latest.
	Late         int           `json:"late"`
	MaxLate      time.Duration `json:"maxLate"`
	LastSent     time.Time     `json:"lastSent"`
	WrongSamples []string      `json:"wrongSamples,omitempty"`
	Timeline     []Second      `json:"timeline,omitempty"`
	// Service is the latency vegeta measures (from when a worker sent the
	// request); Corrected is measured from the intended send time.
	Service   *hdrhistogram.Histogram `json:"-"`
	Corrected *hdrhistogram.Histogram `json:"-"`
	// CorrectedKnown is false when the intended times are unknown (a
	// vegeta results file read without its histogram file).
	CorrectedKnown bool `json:"correctedKnown"`
}

func newHist() *hdrhistogram.Histogram { return hdrhistogram.New(histMin, histMax, histSigFigs) }

// newTally starts the tally of one attack.
func newTally(attack, target, scenario string) *Tally {
	return &Tally{Version: TallyVersion, Attack: attack, Target: target, Scenario: scenario,
		Service: newHist(), Corrected: newHist(), CorrectedKnown: true}
}

// intended is when request seq was meant to be sent (zero for a closed model).
func (t *Tally) intended(seq uint64) time.Time {
	if t.OfferedRate <= 0 {
		return time.Time{}
	}
	return t.Began.Add(exactPacer{PerSecond: t.OfferedRate}.due(seq))
}

func usec(d time.Duration) int64 { return min(max(d.Microseconds(), histMin), histMax) }

// record adds one checked result: v is its verdict, expectOK whether it
// expected a success. It returns the latency from the intended send time
// and how late the request was sent.
func (t *Tally) record(r *vegeta.Result, v Verdict, expectOK bool, why string) (corrected, late time.Duration) {
	t.Requests++
	service := r.Latency
	corrected = service
	if due := t.intended(r.Seq); !due.IsZero() {
		if late = r.Timestamp.Sub(due); late > 0 {
			corrected += late
			if late > DefaultLateBy {
				t.Late++
			}
			t.MaxLate = max(t.MaxLate, late)
		}
	}
	_ = t.Service.RecordValue(usec(service))
	if t.CorrectedKnown {
		_ = t.Corrected.RecordValue(usec(corrected))
	}
	if r.Timestamp.After(t.LastSent) {
		t.LastSent = r.Timestamp
	}
	if expectOK {
		t.ExpectSuccess++
	}
	ok := v == Correct || v == CorrectUnavailable
	switch {
	case ok:
		t.Correct++
		if v == CorrectUnavailable {
			t.Unavailable++
		}
		if expectOK {
			t.SucceededOK++
		}
	case v == Wrong:
		t.Wrong++
		if len(t.WrongSamples) < maxSamples {
			t.WrongSamples = append(t.WrongSamples, why)
		}
	default:
		t.Errors++
	}
	t.second(r.Timestamp, ok, v == Wrong)
	return corrected, late
}

// second counts a result in the timeline second it was sent in.
func (t *Tally) second(at time.Time, ok, wrong bool) {
	sec := int(at.Sub(t.Began) / time.Second)
	if sec < 0 || sec >= maxTimeline {
		return
	}
	for len(t.Timeline) <= sec {
		t.Timeline = append(t.Timeline, Second{T: len(t.Timeline)})
	}
	s := &t.Timeline[sec]
	s.Sent++
	switch {
	case ok:
		s.Correct++
	case wrong:
		s.Wrong++
	default:
		s.Errors++
	}
}

// maxTimeline bounds the per-second timeline (one hour).
const maxTimeline = 3600

// Add adds o (the same attack, from another shard or file) to t.
func (t *Tally) Add(o *Tally) {
	if t.Began.IsZero() || (!o.Began.IsZero() && o.Began.Before(t.Began)) {
		t.Began = o.Began
	}
	t.OfferedRate += o.OfferedRate
	t.Duration = max(t.Duration, o.Duration)
	t.Due += o.Due
	t.Counts.add(o.Counts)
	t.ExpectSuccess += o.ExpectSuccess
	t.SucceededOK += o.SucceededOK
	t.Late += o.Late
	t.MaxLate = max(t.MaxLate, o.MaxLate)
	if o.LastSent.After(t.LastSent) {
		t.LastSent = o.LastSent
	}
	for _, s := range o.WrongSamples {
		if len(t.WrongSamples) < maxSamples {
			t.WrongSamples = append(t.WrongSamples, s)
		}
	}
	for i, s := range o.Timeline {
		for len(t.Timeline) <= i {
			t.Timeline = append(t.Timeline, Second{T: len(t.Timeline)})
		}
		d := &t.Timeline[i]
		d.Sent += s.Sent
		d.Correct += s.Correct
		d.Wrong += s.Wrong
		d.Errors += s.Errors
	}
	t.Service.Merge(o.Service)
	t.Corrected.Merge(o.Corrected)
	t.CorrectedKnown = t.CorrectedKnown && o.CorrectedKnown
}

// tallyFile is a Tally's JSON form: the histograms in HdrHistogram's
// compressed V2 encoding (base64), readable by any HdrHistogram library.
type tallyFile struct {
	*Tally
	ServiceHist   string `json:"serviceHistogram"`
	CorrectedHist string `json:"correctedHistogram"`
}

// WriteTo writes t as JSON (a histogram file).
func (t *Tally) WriteTo(w io.Writer) (int64, error) {
	s, err := t.Service.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		return 0, fmt.Errorf("bench: encoding a histogram: %w", err)
	}
	c, err := t.Corrected.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		return 0, fmt.Errorf("bench: encoding a histogram: %w", err)
	}
	b, err := json.Marshal(tallyFile{Tally: t, ServiceHist: string(s), CorrectedHist: string(c)})
	if err != nil {
		return 0, fmt.Errorf("bench: %w", err)
	}
	n, err := w.Write(append(b, '\n'))
	return int64(n), err
}

// maxTallyFile bounds a histogram file read by ReadTally.
const maxTallyFile = 16 << 20

// ReadTally reads a histogram file written by WriteTo.
func ReadTally(r io.Reader) (*Tally, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxTallyFile+1))
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	if len(b) > maxTallyFile {
		return nil, fmt.Errorf("bench: histogram file over %d MiB", maxTallyFile>>20)
	}
	f := tallyFile{Tally: &Tally{}}
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("bench: not a histogram file: %w", err)
	}
	t := f.Tally
	if t.Version != TallyVersion || t.Attack == "" {
		return nil, fmt.Errorf("bench: not a histogram file of version %d (version %d, attack %q)", TallyVersion, t.Version, t.Attack)
	}
	if t.Service, err = hdrhistogram.Decode([]byte(f.ServiceHist)); err != nil {
		return nil, fmt.Errorf("bench: service histogram: %w", err)
	}
	if t.Corrected, err = hdrhistogram.Decode([]byte(f.CorrectedHist)); err != nil {
		return nil, fmt.Errorf("bench: corrected histogram: %w", err)
	}
	if len(t.Timeline) > maxTimeline || len(t.WrongSamples) > maxSamples {
		return nil, errors.New("bench: histogram file: timeline or samples over their bounds")
	}
	return t, nil
}

// Latency summarises a latency histogram, in milliseconds.
type Latency struct {
	P50   float64 `json:"p50ms"`
	P90   float64 `json:"p90ms"`
	P95   float64 `json:"p95ms"`
	P99   float64 `json:"p99ms"`
	P999  float64 `json:"p999ms"`
	Max   float64 `json:"maxms"`
	Mean  float64 `json:"meanms"`
	Count int64   `json:"count"`
}

func summarise(h *hdrhistogram.Histogram) Latency {
	if h == nil || h.TotalCount() == 0 {
		return Latency{}
	}
	q := func(p float64) float64 { return float64(h.ValueAtPercentile(p)) / 1000 }
	return Latency{P50: q(50), P90: q(90), P95: q(95), P99: q(99), P999: q(99.9), Max: float64(h.Max()) / 1000,
		Mean: math.Round(h.Mean()) / 1000, Count: h.TotalCount()}
}

// percentile returns the named percentile (p50, p90, p95, p99, p99.9, max) in ms.
func (l Latency) percentile(name string) (float64, bool) {
	v, ok := map[string]float64{"p50": l.P50, "p90": l.P90, "p95": l.P95, "p99": l.P99, "p99.9": l.P999, "max": l.Max}[strings.ToLower(name)]
	return v, ok
}

package bench

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/mcaspec/mcaspec/internal/listen"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	vegeta "github.com/tsenart/vegeta/v12/lib"
	"github.com/tsenart/vegeta/v12/lib/prom"
)

// Live exposes a run's figures as Prometheus metrics while it runs:
// vegeta's own (lib/prom: request_seconds, request_bytes_in,
// request_bytes_out, request_fail_count, by method, URL and status) and
// mcaspec's: answers by verdict, offered and achieved rate, and the latency
// from the intended send time. Give it to Config.Live and serve Handler.
type Live struct {
	reg       *prometheus.Registry
	vegeta    *prom.Metrics
	answers   *prometheus.CounterVec
	late      *prometheus.CounterVec
	offered   *prometheus.GaugeVec
	achieved  *prometheus.GaugeVec
	corrected *prometheus.HistogramVec
	started   time.Time
}

// LatencyBuckets are the buckets of mcaspec_corrected_latency_seconds.
var latencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// NewLive makes the metrics of one run in a registry of their own.
func NewLive() (*Live, error) {
	l := &Live{reg: prometheus.NewRegistry(), vegeta: prom.NewMetrics(), started: time.Now()}
	labels := []string{"scenario", "target"}
	l.answers = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mcaspec_answers_total",
		Help: "Checked answers by verdict: correct, wrong (a wrong answer: the validator is broken) or error (timeout, hang, unexpected status)."},
		append(labels, "verdict"))
	l.late = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mcaspec_requests_late_total",
		Help: "Requests sent more than 10 ms after their intended time: the load generator fell behind."}, labels)
	l.offered = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "mcaspec_offered_rate",
		Help: "Requests per second this generator offers in the current attack (0: closed model)."}, labels)
	l.achieved = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "mcaspec_achieved_rate",
		Help: "Requests per second this generator sent in the last second."}, labels)
	l.corrected = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "mcaspec_corrected_latency_seconds",
		Help: "Latency from the intended send time (start + k / rate), queueing included.", Buckets: latencyBuckets}, labels)
	for _, c := range []prometheus.Collector{l.answers, l.late, l.offered, l.achieved, l.corrected} {
		if err := l.reg.Register(c); err != nil {
			return nil, fmt.Errorf("bench: metrics: %w", err)
		}
	}
	if err := l.vegeta.Register(l.reg); err != nil {
		return nil, fmt.Errorf("bench: metrics: %w", err)
	}
	return l, nil
}

// Handler serves the metrics (Prometheus text or OpenMetrics).
func (l *Live) Handler() http.Handler {
	return promhttp.HandlerFor(l.reg, promhttp.HandlerOpts{Registry: l.reg, EnableOpenMetrics: true, ProcessStartTime: l.started})
}

// Serve serves /metrics on addr until the returned stop is called; url is
// where a client on this machine reaches it.
func (l *Live) Serve(addr string) (url string, stop func() error, err error) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", l.Handler())
	var s listen.Server
	if err := s.Start(addr, &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}); err != nil {
		return "", nil, fmt.Errorf("bench: metrics: %w", err)
	}
	return s.URL() + "/metrics", s.Close, nil
}

// liveAttack is one attack's metrics, their labels resolved once.
type liveAttack struct {
	l                      *Live
	correct, wrong, errors prometheus.Counter
	late                   prometheus.Counter
	achievedG              prometheus.Gauge
	corrected              prometheus.Observer
}

func (l *Live) attack(a *Attack) *liveAttack {
	lv := []string{a.Scenario, a.Target}
	l.offered.WithLabelValues(lv...).Set(a.OfferedRate)
	return &liveAttack{l: l,
		correct: l.answers.WithLabelValues(a.Scenario, a.Target, "correct"),
		wrong:   l.answers.WithLabelValues(a.Scenario, a.Target, "wrong"),
		errors:  l.answers.WithLabelValues(a.Scenario, a.Target, "error"),
		late:    l.late.WithLabelValues(lv...), achievedG: l.achieved.WithLabelValues(lv...),
		corrected: l.corrected.WithLabelValues(lv...)}
}

// observe counts one checked result; corrected is its latency from the
// intended send time.
func (la *liveAttack) observe(r *vegeta.Result, v Verdict, corrected, late time.Duration) {
	// vegeta labels by URL and error message: the expectation fragment and
	// the detail are dropped so that the series stay few.
	vr := *r
	if i := strings.IndexByte(vr.URL, '#'); i >= 0 {
		vr.URL = vr.URL[:i]
	}
	switch v {
	case Correct, CorrectUnavailable:
		la.correct.Inc()
		vr.Error = ""
	case Wrong:
		la.wrong.Inc()
		vr.Error = "wrong answer"
	default:
		la.errors.Inc()
		vr.Error = "error"
	}
	la.l.vegeta.Observe(&vr)
	la.corrected.Observe(corrected.Seconds())
	if late > DefaultLateBy {
		la.late.Inc()
	}
}

func (la *liveAttack) achieved(perSecond float64) { la.achievedG.Set(perSecond) }

package bench

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Bounds are pass/fail limits on a report (e.g. the merged results of
// several load generators). Zero fields are not checked; wrong answers
// always are (none allowed).
type Bounds struct {
	// MaxP99 bounds each attack's p99 latency.
	MaxP99 time.Duration
	// MaxErrorRate bounds each attack's errors / requests (0..1); set
	// CheckErrorRate to check 0 itself (no error allowed).
	MaxErrorRate   float64
	CheckErrorRate bool
}

// ErrBounds is returned by CheckBounds when a bound is broken.
var ErrBounds = errors.New("bench: bounds broken")

// CheckBounds checks r against b: it fills r.Broken with one line per
// broken bound (wrong answers always count), sets r.OK, and returns an
// error wrapping ErrBounds (and ErrWrongAnswers when answers were wrong)
// when any bound is broken.
func (r *Report) CheckBounds(b Bounds) error {
	r.Broken = nil
	if r.WrongAnswers > 0 {
		r.Broken = append(r.Broken, fmt.Sprintf("wrong answers: %d, want 0", r.WrongAnswers))
	}
	for _, a := range r.all() {
		if b.MaxP99 > 0 && time.Duration(a.P99*float64(time.Millisecond)) > b.MaxP99 {
			r.Broken = append(r.Broken, fmt.Sprintf("%s: p99 %.2f ms > %v", a.Name, a.P99, b.MaxP99))
		}
		if (b.MaxErrorRate > 0 || b.CheckErrorRate) && a.Requests > 0 {
			if er := float64(a.Errors) / float64(a.Requests); er > b.MaxErrorRate {
				r.Broken = append(r.Broken, fmt.Sprintf("%s: error rate %.3f%% (%d of %d) > %.3f%%", a.Name, er*100, a.Errors, a.Requests, b.MaxErrorRate*100))
			}
		}
	}
	r.OK = len(r.Broken) == 0 && r.hangs() == 0
	if len(r.Broken) == 0 {
		return nil
	}
	err := fmt.Errorf("%w:\n  %s", ErrBounds, strings.Join(r.Broken, "\n  "))
	if r.WrongAnswers > 0 {
		err = fmt.Errorf("%w (%w)", err, ErrWrongAnswers)
	}
	return err
}

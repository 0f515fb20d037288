package conformance

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mcaspec/mcaspec/conformance/kit"
)

// Verdict is the result of one case.
type Verdict string

// Verdicts.
const (
	Pass          Verdict = "PASS"
	Fail          Verdict = "FAIL"          // a MUST broken by the target
	NonStrict     Verdict = "NON-STRICT"    // a SHOULD missed
	Informational Verdict = "INFORMATIONAL" // behaviour recorded, never a failure
	Skipped       Verdict = "SKIPPED"       // not run, with the reason
	// Errored: the harness could not run the case (it could not register an
	// app, mint, drive the AZ, or hit a bug of its own). It says nothing
	// about the target: never a FAIL, never a caught mutant, and a run with
	// one is incomplete (exit code 3).
	Errored Verdict = "ERROR"
)

// Verdicts lists every verdict in the order reports show them.
func Verdicts() []Verdict {
	return []Verdict{Pass, Fail, NonStrict, Informational, Skipped, Errored}
}

// Runner runs cases against one target: it decides which cases run
// (skips), runs each recipe with an Env on its Kit, and judges the
// observation against the case's expected outcomes in its Profile. It is
// safe to run cases one at a time (the AZ scenario controls are shared).
type Runner struct {
	// Kit is what the cases act with: the target, the AZ, the sink, the
	// attacker's key server and the run's identities.
	kit.Kit
	// Profile decides levels and acceptable outcomes.
	Profile Profile
	// ServiceCredentials tells whether the target was given a service
	// client id and secret (service-call cases are skipped otherwise).
	ServiceCredentials bool
}

// Skip returns the SKIPPED result of a case that is not run, with the reason.
func (r *Runner) Skip(c Case, reason string) Result {
	res := r.result(c)
	res.Verdict, res.Reason = Skipped, reason
	return res
}

func (r *Runner) result(c Case) Result {
	exp := c.Expect[r.Profile]
	return Result{ID: c.ID, Area: c.Area, Title: c.Title, Rule: c.Rule, Refs: c.Refs, Profile: r.Profile,
		Level: exp.Level, Expected: exp.Outcomes, Recipe: c.Recipe.Describe()}
}

// ErrHarness marks a bug of the harness found while running a case (a
// recipe that panicked).
var ErrHarness = errors.New("harness bug")

// Result is the outcome of one case.
type Result struct {
	ID       string           `json:"id"`
	Area     string           `json:"area"`
	Title    string           `json:"title"`
	Rule     string           `json:"rule"`
	Refs     []string         `json:"refs"`
	Profile  Profile          `json:"profile"`
	Level    Level            `json:"level"`
	Expected []kit.Outcome    `json:"expected"`
	Recipe   string           `json:"recipe"`
	Verdict  Verdict          `json:"verdict"`
	Reason   string           `json:"reason,omitempty"`
	Observed *kit.Observation `json:"observed,omitempty"`
	Duration Duration         `json:"durationMs"`
}

// Duration marshals as milliseconds.
type Duration time.Duration

// MarshalJSON writes milliseconds with microsecond precision.
func (d Duration) MarshalJSON() ([]byte, error) {
	return []byte(fmt.Sprintf("%.3f", float64(time.Duration(d).Microseconds())/1000)), nil
}

// UnmarshalJSON reads milliseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var ms float64
	if _, err := fmt.Sscan(string(b), &ms); err != nil {
		return err
	}
	*d = Duration(ms * float64(time.Millisecond))
	return nil
}

// Run executes one case and judges it.
func (r *Runner) Run(ctx context.Context, c Case) Result {
	exp := c.Expect[r.Profile]
	res := r.result(c)
	if reason := r.skipReason(&c); reason != "" {
		res.Verdict, res.Reason = Skipped, reason
		return res
	}
	start := time.Now()
	obs, err := r.execute(ctx, c)
	res.Duration = Duration(time.Since(start))
	res.Observed = obs
	var skip *SkipError
	switch {
	case errors.As(err, &skip):
		res.Verdict, res.Reason = Skipped, skip.Reason
		return res
	case err != nil:
		res.Verdict, res.Reason = Errored, "harness error (not a verdict on the target): "+err.Error()
		return res
	}
	matched, why := r.judge(exp.Outcomes, obs)
	switch {
	case exp.Level == Info:
		res.Verdict, res.Reason = Informational, "observed: "+obs.Summary()
	case matched:
		res.Verdict = Pass
	case exp.Level == Should:
		res.Verdict, res.Reason = NonStrict, why
	default:
		res.Verdict, res.Reason = Fail, why
	}
	return res
}

// execute runs the recipe; a panic in it is the harness's own bug and
// comes back as an error wrapping ErrHarness.
// The observation holds what was sent before an error or a panic too.
func (r *Runner) execute(ctx context.Context, c Case) (obs *kit.Observation, err error) {
	env := kit.NewEnv(&r.Kit, c.ID)
	defer env.Cleanup()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: recipe of %s panicked: %v", ErrHarness, c.ID, p)
		}
	}()
	return env.Observation(), c.Recipe.Execute(ctx, env)
}

func (r *Runner) skipReason(c *Case) string {
	if f := r.Family; !c.AppliesTo(f) {
		return fmt.Sprintf("applies to the %v family only; this run tests the %s family", c.Families, f.Name())
	}
	if r.FixedAppID != "" && c.NeedsAny(NeedSecondApp) {
		return "needs a second app id, but the target serves one fixed app id (--fixed-app-id)"
	}
	if r.FixedAppID != "" && c.NeedsAny(NeedFreshApp) {
		return "needs a fresh app id whose key the target has never fetched, but the target serves one fixed app id (--fixed-app-id)"
	}
	if !r.ServiceCredentials && c.NeedsAny(NeedServiceCredentials) {
		return "the target has no service credentials (MCA_CLIENT_ID / MCA_SECRET)"
	}
	return ""
}

// SkipError makes a recipe's case SKIPPED with a reason.
type SkipError struct{ Reason string }

func (e *SkipError) Error() string { return "skipped: " + e.Reason }

// Skip returns a SkipError.
func Skip(format string, args ...any) error { return &SkipError{Reason: fmt.Sprintf(format, args...)} }

// judge decides whether the observation is one of the outcomes and passes
// the checks every rejection must pass.
func (r *Runner) judge(outcomes []kit.Outcome, obs *kit.Observation) (bool, string) {
	if len(obs.Failures) > 0 {
		return false, strings.Join(obs.Failures, "; ")
	}
	x := obs.Judged()
	if x == nil {
		return false, "no request was made"
	}
	if x.Error != "" {
		return false, fmt.Sprintf("%s: no response: %s", x.Step, x.Error)
	}
	bound := r.Bound()
	if x.Latency > bound {
		return false, fmt.Sprintf("%s: answered after %s (bound %s)", x.Step, x.Latency.Round(time.Millisecond), bound)
	}
	for _, o := range outcomes {
		if ok, _ := o.Match(x, obs.Want); ok {
			if o != kit.Accepted && o != kit.Observed && len(obs.Downstream) > 0 && obs.NoDownstream {
				return false, fmt.Sprintf("rejected, but the target still called downstream %d time(s)", len(obs.Downstream))
			}
			return true, ""
		}
	}
	var whys []string
	for _, o := range outcomes {
		_, why := o.Match(x, obs.Want)
		whys = append(whys, why)
	}
	return false, fmt.Sprintf("%s: got %s; expected %s (%s)", x.Step, x.Brief(), joinOutcomes(outcomes), strings.Join(whys, "; "))
}

func joinOutcomes(os []kit.Outcome) string {
	s := make([]string, len(os))
	for i, o := range os {
		s[i] = string(o)
	}
	return strings.Join(s, " or ")
}

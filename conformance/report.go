package conformance

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/mcaspec/mcaspec/conformance/kit"
	"github.com/mcaspec/mcaspec/internal/fileio"
)

// ReportVersion is the version of the results file format.
const ReportVersion = 1

// TargetInfo says what was tested.
type TargetInfo struct {
	// Name is a short label for comparisons ("reference", "bms-mca-resource").
	Name string `json:"name"`
	// URL is the target's base URL.
	URL string `json:"url"`
	// How it was started: "url" (already running), "cmd" or "image", with the command or image.
	Mode    string `json:"mode"`
	Command string `json:"command,omitempty"`
	Image   string `json:"image,omitempty"`
	// Family of protocol: mca or appid.
	Family kit.Family `json:"family"`
	// FixedAppID is set in --fixed-app-id mode.
	FixedAppID string `json:"fixedAppId,omitempty"`
	// Versions of the packages under test, when known (e.g. npm package@version).
	Versions map[string]string `json:"versions,omitempty"`
	// Log is the tail of the target's output, when the harness started it.
	Log string `json:"log,omitempty"`
}

// RunReport is the results file of one run: JSON keyed by case ID in Results.
type RunReport struct {
	Version int    `json:"version"`
	Tool    string `json:"tool"`
	// ToolVersion is the mcaspec that ran (version and commit, see
	// internal/buildinfo); Catalogue the digest of the case list it ran
	// from (CatalogueDigest). Both are empty in files written before them.
	ToolVersion string          `json:"toolVersion,omitempty"`
	Catalogue   string          `json:"catalogue,omitempty"`
	Profile     Profile         `json:"profile"`
	Target      TargetInfo      `json:"target"`
	StartedAt   time.Time       `json:"startedAt"`
	Duration    Duration        `json:"durationMs"`
	Filters     []string        `json:"filters,omitempty"`
	Summary     map[Verdict]int `json:"summary"`
	// Results in run order.
	Results []Result `json:"results"`
	// Baseline outcome, when a baseline file was used.
	Baseline *BaselineOutcome `json:"baseline,omitempty"`
	// Events are what happened to the target during the run (crashes,
	// restarts, outages), in order.
	Events []TargetEvent `json:"events,omitempty"`
	// UnresponsiveSince is the case after which the target stopped
	// answering and could not be restarted: the later cases are SKIPPED
	// and the run is invalid.
	UnresponsiveSince string `json:"unresponsiveSince,omitempty"`
	// Interrupted says the run was stopped (SIGINT, SIGTERM) before it
	// finished: the case in flight is SKIPPED with InterruptedReason and
	// the cases after it are not listed.
	Interrupted string `json:"interrupted,omitempty"`
	// KeysDir is the folder beside the reports that holds the signing keys
	// of the run's AZ (<kid>.pem), when the harness wrote them: the reports'
	// reproducers name it.
	KeysDir string `json:"keysDir,omitempty"`
}

// TargetEvent is something that happened to the target during a run.
type TargetEvent struct {
	// After is the case during which it happened.
	After string `json:"after"`
	// What happened, in a sentence.
	What string `json:"what"`
}

// BaselineOutcome says how the run compares with a baseline of expected failures.
type BaselineOutcome struct {
	File string `json:"file"`
	// Expected failures that failed again (they do not fail the run).
	Expected []string `json:"expected,omitempty"`
	// Stale: listed as failing but now passing (they fail the run).
	Stale []string `json:"stale,omitempty"`
	// New failures not in the baseline (they fail the run).
	New []string `json:"new,omitempty"`
}

// Summarize counts verdicts.
func Summarize(rs []Result) map[Verdict]int {
	m := map[Verdict]int{}
	for _, r := range rs {
		m[r.Verdict]++
	}
	return m
}

// ByID returns the results keyed by case ID.
func (r *RunReport) ByID() map[string]*Result {
	m := make(map[string]*Result, len(r.Results))
	for i := range r.Results {
		m[r.Results[i].ID] = &r.Results[i]
	}
	return m
}

// Failed lists the IDs of failed cases (and NON-STRICT ones if nonStrict), sorted.
func (r *RunReport) Failed(nonStrict bool) []string {
	var out []string
	for _, x := range r.Results {
		if x.Verdict == Fail || nonStrict && x.Verdict == NonStrict {
			out = append(out, x.ID)
		}
	}
	sort.Strings(out)
	return out
}

// Errored lists the IDs of the cases the harness could not run (ERROR), sorted.
func (r *RunReport) Errored() []string {
	var out []string
	for _, x := range r.Results {
		if x.Verdict == Errored {
			out = append(out, x.ID)
		}
	}
	sort.Strings(out)
	return out
}

// UnresponsiveReason starts the reason of the cases SKIPPED because the
// target stopped answering.
const UnresponsiveReason = "target unresponsive since "

// InterruptedReason starts the reason of the case SKIPPED because the run
// was interrupted while it ran: not a verdict on the target.
const InterruptedReason = "interrupted: "

// Exit codes of a conformance run (the mcaspec CLI exits with them).
const (
	// ExitPassed: every case ran and no MUST failed.
	ExitPassed = 0
	// ExitFailed: a MUST failed (or a SHOULD with failOnNonStrict), or the
	// run differs from its baseline.
	ExitFailed = 1
	// ExitInvalid: the run says nothing reliable: calibration failed, no
	// case matched, the target was unavailable or unresponsive, or a case
	// ERRORed (the harness could not run it).
	ExitInvalid = 3
	// ExitInterrupted: the run was stopped by SIGINT or SIGTERM (128+2, as
	// a shell reports a process Ctrl-C ended); the reports hold the cases
	// done.
	ExitInterrupted = 130
)

// Outcome decides a finished run's exit code and says why in one line
// ("" when it passed). Calibration failures and empty runs are decided by
// the caller, which saw them happen.
func (r *RunReport) Outcome(failOnNonStrict bool) (int, string) {
	var why []string
	code := ExitPassed
	if b := r.Baseline; b != nil && len(b.New)+len(b.Stale) > 0 {
		code = ExitFailed
		why = append(why, fmt.Sprintf("the run differs from the baseline %s: new %v, stale %v", b.File, b.New, b.Stale))
	}
	if failed := r.Failed(failOnNonStrict); r.Baseline == nil && len(failed) > 0 {
		code = ExitFailed
		why = append(why, fmt.Sprintf("%d case(s) failed: %s", len(failed), strings.Join(failed, " ")))
	}
	if r.UnresponsiveSince != "" {
		code = ExitInvalid
		n := 0
		for _, x := range r.Results {
			if x.Verdict == Skipped && strings.HasPrefix(x.Reason, UnresponsiveReason) {
				n++
			}
		}
		why = append(why, fmt.Sprintf("the target stopped answering during %s: %d later case(s) were not run", r.UnresponsiveSince, n))
	}
	if errored := r.Errored(); len(errored) > 0 {
		code = ExitInvalid
		why = append(why, fmt.Sprintf("the harness could not run %d case(s) (ERROR, not a verdict on the target): %s", len(errored), strings.Join(errored, " ")))
	}
	return code, strings.Join(why, "; ")
}

// WriteJSON writes the report as indented JSON.
func (r *RunReport) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// MaxReportBytes caps a results file read by ReadReport (a whole run with
// its evidence is a few MiB).
const MaxReportBytes = 64 << 20

// ReadReport reads a results file of at most MaxReportBytes.
func ReadReport(path string) (*RunReport, error) {
	b, err := fileio.ReadFile(path, MaxReportBytes)
	if err != nil {
		return nil, err
	}
	var r RunReport
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s is not an mcaspec results file: %w", path, err)
	}
	if r.Version != ReportVersion || r.Tool != "mcaspec" {
		return nil, fmt.Errorf("%s is not an mcaspec results file (version %d, tool %q)", path, r.Version, r.Tool)
	}
	return &r, nil
}

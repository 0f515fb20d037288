package harness

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/mcaspec/mcaspec/conformance"
	"github.com/mcaspec/mcaspec/internal/fileio"
)

// A Baseline lists the verdicts a team expects that are not PASS, so the
// suite can gate CI before every case passes: a listed FAIL does not fail
// the run, a verdict that changes in either direction does.
//
// File format, one case a line, '#' starts a comment:
//
//	HDR-002 NON-STRICT   # answers 400 to Basic, as the seed README says
//	TIM-004 FAIL         # accepts tokens without exp
type Baseline map[string]conformance.Verdict

// MaxBaselineBytes caps a baseline file read (a baseline lists at most a
// few hundred cases: a few KiB).
const MaxBaselineBytes = 1 << 20

// ReadBaseline parses a baseline file of at most MaxBaselineBytes.
func ReadBaseline(path string) (Baseline, error) {
	b, err := fileio.ReadFile(path, MaxBaselineBytes)
	if err != nil {
		return nil, err
	}
	return ParseBaseline(bytes.NewReader(b), path)
}

// ParseBaseline parses baseline text; name is used in errors.
func ParseBaseline(r io.Reader, name string) (Baseline, error) {
	b := Baseline{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 2 {
			return nil, fmt.Errorf("%s:%d: want 'CASE-ID VERDICT', got %q", name, n, strings.TrimSpace(line))
		}
		v := conformance.Verdict(f[1])
		switch v {
		case conformance.Fail, conformance.NonStrict:
		default:
			return nil, fmt.Errorf("%s:%d: verdict %q: a baseline lists FAIL or NON-STRICT only", name, n, f[1])
		}
		if _, dup := b[f[0]]; dup {
			return nil, fmt.Errorf("%s:%d: %s listed twice", name, n, f[0])
		}
		b[f[0]] = v
	}
	return b, sc.Err()
}

// Compare checks a run against the baseline. Cases the run did not include
// (filtered out) are ignored, and so are SKIPPED, INFORMATIONAL and ERROR
// results (an ERROR says nothing about the target; it makes the run invalid
// on its own).
func (b Baseline) Compare(file string, rs []conformance.Result) *conformance.BaselineOutcome {
	out := &conformance.BaselineOutcome{File: file}
	for _, r := range rs {
		if r.Verdict == conformance.Skipped || r.Verdict == conformance.Informational || r.Verdict == conformance.Errored {
			continue
		}
		want, listed := b[r.ID]
		switch {
		case listed && r.Verdict == want:
			out.Expected = append(out.Expected, r.ID)
		case listed:
			out.Stale = append(out.Stale, fmt.Sprintf("%s (baseline %s, now %s)", r.ID, want, r.Verdict))
		case r.Verdict != conformance.Pass:
			out.New = append(out.New, fmt.Sprintf("%s %s", r.ID, r.Verdict))
		}
	}
	return out
}

// WriteBaseline writes the non-PASS verdicts of a run (FAIL, NON-STRICT) as a baseline.
func WriteBaseline(w io.Writer, rep *conformance.RunReport) error {
	var lines []string
	for _, r := range rep.Results {
		if r.Verdict == conformance.Fail || r.Verdict == conformance.NonStrict {
			lines = append(lines, fmt.Sprintf("%-8s %-10s # %s", r.ID, r.Verdict, r.Title))
		}
	}
	sort.Strings(lines)
	_, err := fmt.Fprintf(w, "# mcaspec baseline: target %s, profile %s (regenerate with --write-baseline)\n%s\n",
		rep.Target.Name, rep.Profile, strings.Join(lines, "\n"))
	return err
}

// Judge says whether one result fails a run under this baseline (nil: no
// baseline) and the policy, with a note for people: an ERROR always fails
// (the run is invalid), a verdict the baseline lists does not, a listed case
// whose verdict changed does (the baseline is stale), and an unlisted FAIL
// does (NON-STRICT too with failOnNonStrict).
func (b Baseline) Judge(r conformance.Result, failOnNonStrict bool) (failed bool, note string) {
	want, listed := b[r.ID]
	switch {
	case r.Verdict == conformance.Errored:
		return true, "harness ERROR, not a verdict on the target: " + r.Reason
	case r.Verdict == conformance.Skipped || r.Verdict == conformance.Informational:
		return false, string(r.Verdict) + ": " + r.Reason
	case listed && r.Verdict == want:
		return false, fmt.Sprintf("expected %s (listed in the baseline): %s", want, r.Reason)
	case listed:
		return true, fmt.Sprintf("stale baseline: listed as %s, now %s; update the baseline", want, r.Verdict)
	case r.Verdict == conformance.Fail, failOnNonStrict && r.Verdict == conformance.NonStrict:
		return true, r.Reason
	}
	return false, r.Reason
}

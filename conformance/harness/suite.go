package harness

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mcaspec/mcaspec/conformance"
	"github.com/mcaspec/mcaspec/fakeaz"
	"github.com/mcaspec/mcaspec/internal/fileio"
	"github.com/mcaspec/mcaspec/reports"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

// DefaultCaseTimeout bounds one case (the slowest wait for rotation or
// recovery inside a case is 15 s).
const DefaultCaseTimeout = 60 * time.Second

// KeysDir is the folder of a run's output that holds every signing key
// the harness's fakeaz made (az-keys/<kid>.pem, kid as fakeaz computes
// it), so that a failure can be replayed with `mcaspec fakeaz --key`. The
// run report names it (RunReport.KeysDir) for the reports' reproducers.
const KeysDir = "az-keys"

// RunConfig is a whole conformance run: the set-up, which cases, and the
// policy (baseline, reports, what fails the run).
type RunConfig struct {
	Config
	// Select keeps the cases it returns true for (nil: every case that
	// applies to the target's family). The CLI builds it from a Ginkgo
	// label filter; any predicate on conformance.Case will do.
	Select func(conformance.Case) bool
	// Focus keeps only these case IDs (nil: no such restriction).
	Focus []string
	// Filters describe Select and Focus in the report ("area:header", "HDR-001").
	Filters []string
	// Baseline of expected non-PASS verdicts (nil: none), read from BaselineFile.
	Baseline     Baseline
	BaselineFile string
	// FailOnNonStrict makes NON-STRICT verdicts fail the run.
	FailOnNonStrict bool
	// CaseTimeout bounds one case (default DefaultCaseTimeout).
	CaseTimeout time.Duration
	// Out is the folder for results.json, junit.xml, report.html and the
	// AZ keys (default: DefaultOut of the target's name and the profile).
	Out string
	// Starting is called once the session is ready, with the target, the
	// number of cases selected and the output folder (optional).
	Starting func(target conformance.TargetInfo, cases int, out string)
	// Progress is called before each case, with its 1-based position (optional).
	Progress func(n, total int, c conformance.Case)
	// Done is called after each case with its result (optional).
	Done func(r conformance.Result)
}

// ExitError is the error of a run that did not pass: its ExitCode is one
// of conformance.Exit*. The run's report is still returned beside it.
type ExitError struct {
	Code int
	Msg  string
}

func (e *ExitError) Error() string { return e.Msg }

// ExitCode is the process exit code for this outcome.
func (e *ExitError) ExitCode() int { return e.Code }

// RunSuite prepares a session, runs the selected cases in run order
// (calibration first: a calibration case that does not pass stops the run),
// compares with the baseline, writes the reports to cfg.Out and decides the
// outcome. It returns the report (nil when nothing ran) and, when the run
// did not pass, an *ExitError (or another error for a fault of its own).
func RunSuite(ctx context.Context, cfg RunConfig) (*conformance.RunReport, error) {
	keys := &keyRecorder{}
	cfg.AZOptions = append([]fakeaz.Option{fakeaz.WithKeyGen(keys.generate)}, cfg.AZOptions...)
	started := time.Now()
	sess, err := Prepare(ctx, cfg.Config)
	if err != nil {
		if errors.Is(err, ErrTargetDown) {
			return nil, &ExitError{conformance.ExitInvalid, err.Error()}
		}
		return nil, err
	}
	defer sess.Close()
	h := cfg.Config
	h.Family = sess.Target.Family
	var cases []conformance.Case
	for _, c := range Cases(h) {
		if (cfg.Select == nil || cfg.Select(c)) && (len(cfg.Focus) == 0 || slices.Contains(cfg.Focus, c.ID)) {
			cases = append(cases, c)
		}
	}
	if cfg.Out == "" {
		cfg.Out = DefaultOut(sess.Target.Name, cfg.Profile)
	}
	if _, err := PrepareOut(cfg.Out); err != nil {
		return nil, err
	}
	if cfg.Starting != nil {
		cfg.Starting(sess.Target, len(cases), cfg.Out)
	}
	timeout := cfg.CaseTimeout
	if timeout <= 0 {
		timeout = DefaultCaseTimeout
	}
	var results []conformance.Result
	aborted := ""
	for i, c := range cases {
		if ctx.Err() != nil {
			break
		}
		if cfg.Progress != nil {
			cfg.Progress(i+1, len(cases), c)
		}
		cctx, cancel := context.WithTimeout(ctx, timeout)
		r := sess.Run(cctx, c)
		cancel()
		if ctx.Err() != nil {
			r = interrupted(r, ctx)
		}
		results = append(results, r)
		if cfg.Done != nil {
			cfg.Done(r)
		}
		if c.Area == "calibration" && r.Verdict != conformance.Pass {
			if r.Verdict == conformance.Errored {
				aborted = fmt.Sprintf("calibration case %s (%s) could not be run, the harness failed: %s\n", r.ID, r.Title, r.Reason)
			} else {
				aborted = sess.Diagnose(r)
			}
			break
		}
	}
	rep := sess.Report(started, cfg.Filters, results)
	rep.KeysDir = KeysDir
	if ctx.Err() != nil {
		rep.Interrupted = fmt.Sprintf("after %d of %d case(s): %v", len(results), len(cases), context.Cause(ctx))
	}
	if cfg.Baseline != nil {
		rep.Baseline = cfg.Baseline.Compare(cfg.BaselineFile, results)
	}
	if err := WriteReports(cfg.Out, rep, cfg.FailOnNonStrict); err != nil {
		return rep, err
	}
	if err := keys.write(filepath.Join(cfg.Out, KeysDir)); err != nil {
		return rep, err
	}
	return rep, Decide(rep, aborted, ctx.Err(), cfg.FailOnNonStrict)
}

// interrupted is the result of a case the run's interruption cut short:
// SKIPPED (not run to its end), never a FAIL of the target, whatever the
// cut-short case observed. Its evidence is kept.
func interrupted(r conformance.Result, ctx context.Context) conformance.Result {
	r.Verdict = conformance.Skipped
	r.Reason = conformance.InterruptedReason + fmt.Sprintf("the run was stopped (%v) while this case ran; it says nothing about the target", context.Cause(ctx))
	return r
}

// OutMarks are the names whose presence in a folder shows it holds an
// earlier run's output (PrepareOut moves such a folder aside).
var outMarks = []string{"results.json", "junit.xml", "report.html", KeysDir, "results"}

// PrepareOut makes dir ready for a run's reports before the run starts:
// created when missing, an earlier run in it moved aside to dir.1 (dir.2,
// ...) so that old and new results never mix, a folder holding other
// files refused, a folder that cannot be written named in the error. It
// returns where an earlier run went ("" when none).
func PrepareOut(dir string) (string, error) {
	return fileio.PrepareRunDir(dir, outMarks...)
}

// DefaultOut is the output folder of a run: out/conformance/<name>-<profile>,
// the name reduced to letters, digits, '-', '_' and '.'.
func DefaultOut(name string, p conformance.Profile) string {
	safe := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, name)
	return filepath.Join("out", "conformance", safe+"-"+string(p))
}

// Decide is the exit decision of a finished run: invalid when calibration
// failed (aborted holds the diagnosis), the run was interrupted or no case
// ran; else the report's own Outcome.
func Decide(rep *conformance.RunReport, aborted string, interrupted error, failOnNonStrict bool) error {
	switch {
	case aborted != "":
		return &ExitError{conformance.ExitInvalid, "calibration failed, the run is invalid:\n" + aborted}
	case interrupted != nil:
		return &ExitError{conformance.ExitInterrupted, fmt.Sprintf("the run was interrupted after %d case(s) (%v); the reports hold the cases done, the case in flight is SKIPPED", len(rep.Results), interrupted)}
	case len(rep.Results) == 0:
		return &ExitError{conformance.ExitInvalid, "no case matched the filters: nothing was tested"}
	}
	if code, why := rep.Outcome(failOnNonStrict); code != conformance.ExitPassed {
		return &ExitError{code, why}
	}
	return nil
}

// WriteReports writes results.json, junit.xml and report.html to dir.
func WriteReports(dir string, rep *conformance.RunReport, failOnNonStrict bool) error {
	if err := writeFile(filepath.Join(dir, "results.json"), rep.WriteJSON); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, "junit.xml"), func(w io.Writer) error {
		return reports.WriteJUnit(w, rep, reports.JUnitOptions{FailOnNonStrict: failOnNonStrict})
	}); err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, "report.html"), func(w io.Writer) error { return reports.WriteHTML(w, rep) })
}

func writeFile(path string, write func(io.Writer) error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return fileio.WriteWith(path, 0o644, write)
}

// keyRecorder is fakeaz's key generator for a run: it keeps every key it
// makes so the run can write them out for replaying failures.
type keyRecorder struct {
	mu   sync.Mutex
	keys []*rsa.PrivateKey
}

func (k *keyRecorder) generate() (*rsa.PrivateKey, error) {
	key, err := tokenfactory.GenerateKey(tokenfactory.DefaultKeyBits, nil)
	if err == nil {
		k.mu.Lock()
		k.keys = append(k.keys, key)
		k.mu.Unlock()
	}
	return key, err
}

// KeyID is the kid fakeaz gives a signing key: the first 8 bytes of the
// SHA-256 of its modulus, in hex.
func KeyID(pub *rsa.PublicKey) string {
	sum := sha256.Sum256(pub.N.Bytes())
	return hex.EncodeToString(sum[:8])
}

// write saves the keys as dir/<kid>.pem (PKCS#8, mode 0600).
func (k *keyRecorder) write(dir string) error {
	k.mu.Lock()
	keys := slices.Clone(k.keys)
	k.mu.Unlock()
	if len(keys) == 0 {
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	for _, key := range keys {
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return err
		}
		path := filepath.Join(dir, KeyID(&key.PublicKey)+".pem")
		err = fileio.CreateExclusive(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
		if errors.Is(err, fileio.ErrExists) {
			continue // the same kid: the same key, already saved
		}
		if err != nil {
			return fmt.Errorf("write the AZ key %s: %w", path, err)
		}
	}
	return nil
}

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/mcaspec/mcaspec/conformance"
	"github.com/mcaspec/mcaspec/conformance/harness"
	"github.com/mcaspec/mcaspec/conformance/kit"
	"github.com/mcaspec/mcaspec/internal/fileio"
)

// Exit codes of conformance runs (conformance.Exit*).
const (
	exitFailed  = conformance.ExitFailed  // a MUST failed (or NON-STRICT with --fail-on-nonstrict), or the baseline no longer matches
	exitInvalid = conformance.ExitInvalid // the run is invalid: calibration failed, no case matched, the target did not start, a case ERRORed
)

type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }
func (e *exitError) ExitCode() int { return e.code }

// conformanceRun is everything one conformance run needs, from flags.
type conformanceRun struct {
	harness         harness.Config
	targets         targetFlags
	labelFilter     string
	focus           []string
	out             string
	baseline        string
	writeBaseline   string
	force           bool // --force: replace an existing file that a partial run would not
	failOnNonStrict bool
	verbose         bool
	machine         machineOutputs
}

func runConformanceCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("conformance", `Runs the conformance catalogue (docs/CASES.md) against a target that follows the
target contract (docs/TARGET-CONTRACT.md) and writes a verdict per case.

The harness starts a fake authorization server (fakeaz), registers the target's home app
and service client there, then starts the target (--target-cmd, --target-image) or uses a
running one (--target, configured with the values --print-contract shows). With none of
them it tests the built-in reference target.

Verdicts: PASS, FAIL (a MUST broken), NON-STRICT (a SHOULD missed), INFORMATIONAL, SKIPPED,
and ERROR (the harness itself could not run the case: not a verdict on the target).
Exit code: 0 passed, 1 failures (or baseline mismatch), 2 bad flags (an unknown --focus ID,
a --target that is not an http(s) URL), 3 invalid run (calibration failed, no case matched,
target unavailable or unresponsive, a case ERRORed).

Examples:
  mcaspec conformance                                   # built-in reference, strict profile
  mcaspec conformance --target-cmd "node targets/bms-mca-resource/server.js" --profile mca
  mcaspec conformance --target http://127.0.0.1:3000 --label-filter "area:signature && level:must"
  mcaspec conformance --focus HDR-001,SIG-014 --verbose`, stderr)
	r := conformanceRun{}
	cf := r.declareFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	p, err := r.applyFlags(cf)
	if err != nil {
		return err
	}
	h, tf := &r.harness, &r.targets
	if err := r.check(); err != nil {
		return err
	}
	if h.Target, err = tf.target(); err != nil {
		return err
	}
	if err := harness.CheckNetwork(*h); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	if cf.printContract {
		c, err := harness.PlannedContract(*h, r.targets.url)
		if err != nil {
			return fmt.Errorf("%w: %w", errUsage, err)
		}
		fmt.Fprint(stdout, harness.ContractHelp(c))
		return nil
	}
	if cf.list {
		return listCases(stdout, r, p)
	}
	if err := r.prepareOut(stderr); err != nil {
		return err
	}
	_, err = r.run(ctx, stdout, stderr)
	return err
}

// conformanceFlags holds the conformance command's flags that are not
// fields of conformanceRun, as parsed.
type conformanceFlags struct {
	profile, family, generation, focus string
	versions, npmDir                   string
	list, printContract                bool
}

// declareFlags declares the conformance command's flags on fs, into r and
// the returned conformanceFlags.
func (r *conformanceRun) declareFlags(fs *flag.FlagSet) *conformanceFlags {
	h := &r.harness
	cf := &conformanceFlags{}
	tf := &r.targets
	fs.StringVar(&tf.url, "target", "", "base URL of a running target (configure it with --print-contract's values first)")
	fs.StringVar(&tf.cmd, "target-cmd", "", "shell command that starts the target with the contract's environment")
	fs.StringVar(&tf.dir, "target-dir", "", "working directory for --target-cmd")
	fs.StringVar(&tf.image, "target-image", "", "Docker image of the target (needs a Docker engine)")
	fs.StringVar(&h.TargetName, "name", "", "name of the target in reports (default: derived from the target)")
	fs.StringVar(&cf.profile, "profile", string(conformance.Strict), "profile: mca (what the seed strategy promises) or strict (adds RFC 6750/8725/9068 best practice)")
	fs.StringVar(&cf.family, "family", kit.FamilyMCA.Name(), "protocol family of the target: mca, appid, web (a website signing users in: the web cases) or web-appid (the web cases against an App ID tenant)")
	fs.StringVar(&cf.generation, "appid-generation", "", "App ID token generation (--family appid or web-appid): v4 (ibmcloud-appid 6 and later, the default), v3 (5.x) or v3-host (up to 4.2.1, bluemix-appid)")
	fs.BoolVar(&h.FixedAppID, "fixed-app-id", false, "the target serves one app id only (backend style, MCA_MODE=backend): cases needing other apps are skipped")
	fs.StringVar(&h.AZListen, "az-listen", harness.DefaultAZListen, "address of the harness's fake AZ (0.0.0.0:9080: every interface, with --az-public-url)")
	fs.StringVar(&h.AZPublicURL, "az-public-url", "", "the AZ's serverUrl as the target reaches it (MCA_SERVER_URL and the tokens' iss), e.g. http://harness-host:9080/imf-authserver (default: from --az-listen)")
	fs.StringVar(&h.ServersListen, "servers-listen", "127.0.0.1", "host the harness's sink and attacker key server listen on (0.0.0.0: every interface, with --servers-host)")
	fs.StringVar(&h.ServersHost, "servers-host", "", "host the target reaches the sink and attacker server at (default: --servers-listen); off loopback the target is told MCA_DOWNSTREAM_HOSTS=<it>")
	fs.StringVar(&h.AppID, "app-id", harness.DefaultAppID, "the target's home app id (MCA_APP_ID)")
	fs.StringVar(&h.ClientID, "client-id", harness.DefaultClientID, "the target's service client id (MCA_CLIENT_ID)")
	fs.StringVar(&h.Secret, "secret", harness.DefaultSecret, "the target's service client secret (MCA_SECRET)")
	fs.BoolVar(&h.NoServiceCredentials, "no-service-credentials", false, "give the target no client id / secret (service-call cases are skipped)")
	fs.DurationVar(&h.ResponseBound, "response-bound", kit.DefaultResponseBound, "longest a target may take to answer one request")
	fs.DurationVar(&tf.ready, "ready-timeout", 60*time.Second, "how long to wait for the target's /healthz")
	fs.StringVar(&r.labelFilter, "label-filter", "", `Ginkgo label filter, e.g. "area:header", "level:must && !area:keys", "case:HDR-003"`)
	fs.StringVar(&cf.focus, "focus", "", "comma-separated case IDs to run (e.g. HDR-001,SIG-014)")
	fs.StringVar(&r.out, "out", "", "output folder (default out/conformance/<name>-<profile>)")
	fs.StringVar(&r.baseline, "baseline", "", "baseline file of expected FAIL / NON-STRICT verdicts (see docs/BASELINE.md)")
	fs.StringVar(&r.writeBaseline, "write-baseline", "", "write this run's FAIL / NON-STRICT verdicts as a baseline file (a focused or filtered run replaces an existing one only with --force; an interrupted run writes none)")
	fs.BoolVar(&r.force, "force", false, "let --write-baseline replace an existing file from a focused or filtered run, or a file that is not a baseline")
	fs.BoolVar(&r.failOnNonStrict, "fail-on-nonstrict", false, "NON-STRICT verdicts fail the run too")
	fs.BoolVar(&r.verbose, "verbose", false, "print every case as it runs")
	r.machine.addFlags(fs)
	fs.StringVar(&cf.versions, "versions", "", "versions of what is tested, for the report: name=version,name=version")
	fs.StringVar(&cf.npmDir, "npm-versions", "", "read the installed versions of this npm target folder's dependencies, for the report")
	fs.BoolVar(&cf.list, "list", false, "list the cases the filters select, and exit")
	fs.BoolVar(&cf.printContract, "print-contract", false, "print the environment to configure a target with, and exit")
	return cf
}

// applyFlags checks the parsed flags and sets what they say in r.
func (r *conformanceRun) applyFlags(cf *conformanceFlags) (conformance.Profile, error) {
	h := &r.harness
	p, err := conformance.ParseProfile(cf.profile)
	if err != nil {
		return "", fmt.Errorf("%w: --profile: %w", errUsage, err)
	}
	h.Profile = p
	if h.Family, err = kit.ParseFamily(cf.family, cf.generation); err != nil {
		return "", fmt.Errorf("%w: --family / --appid-generation: %w", errUsage, err)
	}
	if cf.versions != "" {
		if h.Versions, err = parseVersions(cf.versions); err != nil {
			return "", fmt.Errorf("%w: --versions: %w", errUsage, err)
		}
	}
	if cf.npmDir != "" {
		nv, err := npmVersions(cf.npmDir)
		if err != nil {
			return "", fmt.Errorf("%w: --npm-versions: %w", errUsage, err)
		}
		if h.Versions == nil {
			h.Versions = map[string]string{}
		}
		for k, v := range nv {
			h.Versions[k] = v
		}
	}
	if cf.focus != "" {
		if r.focus, err = parseFocus(cf.focus); err != nil {
			return "", err
		}
	}
	return p, nil
}

// parseFocus splits --focus into case IDs; an ID the catalogue does not
// have is a usage error naming the closest ones.
func parseFocus(focus string) ([]string, error) {
	cases := conformance.Catalogue()
	known := map[string]bool{}
	for _, c := range cases {
		known[c.ID] = true
	}
	var ids, unknown []string
	for _, id := range strings.Split(focus, ",") {
		id = strings.TrimSpace(id)
		switch {
		case id == "":
		case known[id]:
			ids = append(ids, id)
		default:
			unknown = append(unknown, fmt.Sprintf("%q (closest: %s)", id, strings.Join(conformance.Closest(cases, id, 3), ", ")))
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("%w: --focus: no such case %s; see 'mcaspec conformance --list' or docs/CASES.md", errUsage, strings.Join(unknown, ", "))
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("%w: --focus %q names no case ID", errUsage, focus)
	}
	return ids, nil
}

func listCases(w io.Writer, r conformanceRun, p conformance.Profile) error {
	n := 0
	for _, c := range harness.Cases(r.harness) {
		if len(r.focus) > 0 && !containsStr(r.focus, c.ID) {
			continue
		}
		if r.labelFilter != "" && !matchesLabels(r.labelFilter, c.Labels(p)) {
			continue
		}
		n++
		e := c.Expect[p]
		fmt.Fprintf(w, "%-8s %-6s %-22s %s\n", c.ID, e.Level, joinOut(e.Outcomes), c.Title)
	}
	if n == 0 {
		return &exitError{exitInvalid, "no case matches the filters"}
	}
	return nil
}

func joinOut(os []kit.Outcome) string {
	s := make([]string, len(os))
	for i, o := range os {
		s[i] = string(o)
	}
	return strings.Join(s, "|")
}

func containsStr(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// run maps the flags onto a harness run: the library runs the cases,
// writes the reports and decides the outcome; this prints progress (on a
// terminal) and the compact result.
func (r conformanceRun) run(ctx context.Context, stdout, stderr io.Writer) (*conformance.RunReport, error) {
	rc := harness.RunConfig{Config: r.harness, Focus: r.focus, FailOnNonStrict: r.failOnNonStrict, BaselineFile: r.baseline}
	if r.baseline != "" {
		var err error
		if rc.Baseline, err = harness.ReadBaseline(r.baseline); err != nil {
			return nil, fmt.Errorf("%w: --baseline: %w", errUsage, err)
		}
	}
	rc.Filters = append([]string(nil), r.focus...)
	if r.labelFilter != "" {
		filter, err := parseLabelFilter(r.labelFilter)
		if err != nil {
			return nil, err
		}
		p := r.harness.Profile
		rc.Select = func(c conformance.Case) bool { return filter(c.Labels(p)) }
		rc.Filters = append(rc.Filters, r.labelFilter)
	}
	rc.Out = r.out
	out := ""
	progress := progressLine(stderr)
	rc.Starting = func(t conformance.TargetInfo, n int, dir string) {
		out = dir
		fmt.Fprintf(stderr, "mcaspec: %d cases against %s (%s) at %s, profile %s\n", n, t.Name, t.Mode, t.URL, r.harness.Profile)
	}
	rc.Progress = func(n, total int, c conformance.Case) {
		fmt.Fprintf(progress, "[%d/%d] %s %s\n", n, total, c.ID, c.Title)
	}
	if r.verbose {
		rc.Done = func(res conformance.Result) {
			progress.Clear()
			harness.WriteCaseLine(stdout, res)
		}
	}
	rep, err := harness.RunSuite(ctx, rc)
	progress.Clear()
	if rep == nil {
		return nil, err
	}
	if r.writeBaseline != "" {
		if rep.Interrupted != "" || rep.UnresponsiveSince != "" || len(rep.Results) == 0 {
			fmt.Fprintf(stderr, "mcaspec: the run did not finish: %s not written (a baseline is written from a whole run)\n", r.writeBaseline)
		} else if werr := fileio.WriteWith(r.writeBaseline, 0o644, func(w io.Writer) error { return harness.WriteBaseline(w, rep) }); werr != nil {
			return rep, werr
		}
	}
	fmt.Fprintln(stdout)
	harness.WriteSummary(stdout, rep, out, false)
	if werr := r.machine.write(rep, out, r.failOnNonStrict); werr != nil {
		return rep, werr
	}
	return rep, err
}

// matchesLabels evaluates a Ginkgo label filter with Ginkgo's own parser.
func matchesLabels(filter string, labels []string) bool {
	f, err := types.ParseLabelFilter(filter)
	return err == nil && f(labels)
}

// parseLabelFilter parses --label-filter with Ginkgo's parser; its error is
// a usage error (Ginkgo's colour codes are dropped when printed).
func parseLabelFilter(filter string) (types.LabelFilter, error) {
	f, err := types.ParseLabelFilter(filter)
	if err != nil {
		return nil, fmt.Errorf("%w: --label-filter %q: %w", errUsage, filter, err)
	}
	return f, nil
}

// check refuses, before anything starts, flag combinations that cannot
// work: two targets, negative durations, a label filter Ginkgo cannot
// parse, and a --write-baseline that would lose a file.
func (r conformanceRun) check() error {
	h := r.harness
	if r.targets.several() {
		return fmt.Errorf("%w: give one of --target, --target-cmd and --target-image, not several", errUsage)
	}
	if h.ResponseBound < 0 || r.targets.ready < 0 {
		return fmt.Errorf("%w: --response-bound and --ready-timeout must not be negative (got %v and %v)", errUsage, h.ResponseBound, r.targets.ready)
	}
	if r.labelFilter != "" {
		if _, err := parseLabelFilter(r.labelFilter); err != nil {
			return err
		}
	}
	if r.writeBaseline != "" {
		return r.checkWriteBaseline()
	}
	return nil
}

// checkWriteBaseline: the folder must exist (never created silently), the
// baseline being read is not written over, and an existing file is
// replaced only by a whole run's baseline when it is one (else --force).
func (r conformanceRun) checkWriteBaseline() error {
	path := r.writeBaseline
	if err := fileio.CheckDir(path); err != nil {
		return fmt.Errorf("%w: --write-baseline: %w", errUsage, err)
	}
	if _, err := os.Lstat(path); err != nil || r.force {
		return nil
	}
	if r.baseline != "" && fileio.Same(r.baseline, path) {
		return fmt.Errorf("%w: --write-baseline %s is the --baseline this run reads: write to another file and compare, or add --force", errUsage, path)
	}
	if len(r.focus) > 0 || r.labelFilter != "" {
		return fmt.Errorf("%w: --write-baseline %s exists and this run is focused or filtered: its baseline would drop every case it does not run; run the whole catalogue, or add --force", errUsage, path)
	}
	if _, err := harness.ReadBaseline(path); err != nil {
		return fmt.Errorf("%w: --write-baseline %s exists and is not a baseline (%w): add --force to replace it", errUsage, path, err)
	}
	return nil
}

// prepareOut moves an earlier run in --out aside (to <out>.1, ...) before
// anything starts, and refuses a folder that holds other files or cannot
// be written.
func (r conformanceRun) prepareOut(stderr io.Writer) error {
	if r.out == "" {
		return nil
	}
	moved, err := harness.PrepareOut(r.out)
	if err != nil {
		return fmt.Errorf("%w: --out: %w", errUsage, err)
	}
	if moved != "" {
		fmt.Fprintf(stderr, "mcaspec: %s held an earlier run: moved it to %s\n", r.out, moved)
	}
	return nil
}

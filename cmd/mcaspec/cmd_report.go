package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"github.com/mcaspec/mcaspec/conformance"
	"github.com/mcaspec/mcaspec/internal/fileio"
	"github.com/mcaspec/mcaspec/reports"
)

func runReport(_ context.Context, args []string, stdout, stderr io.Writer) error {
	flags := newFlagSet("report", `Reads one or more results files written by 'mcaspec run' and renders them.
Arguments: results.json [more.json ...]; flags may come before or after them.

With one results file, --html writes the report of that run: target, summary,
per-area tables and each case's evidence (exchanges, decoded tokens, facts).
With several (e.g. the reference and an npm strategy, or the mca and strict
profiles), --html writes a comparison: a matrix of targets × cases, each
verdict linking to its evidence, and the MUST failures of each target.
--junit (one results file only) writes JUnit XML for CI test reporters;
--sarif and --summary-md (one file) the SARIF log and the job-page summary.
A one-line summary of each file is printed. The exit code does not depend
on the verdicts ('mcaspec run' decides pass/fail); it is 2 for a missing or
invalid file.

Examples:
  mcaspec report --html out/report.html --junit out/junit.xml out/results.json
  mcaspec report --html out/compare.html out/reference.json out/npm.json`, stderr)
	var (
		htmlOut   = flags.String("html", "", "write the HTML report (or comparison, for several files) to this file")
		junitOut  = flags.String("junit", "", "write JUnit XML to this file (exactly one results file)")
		nonStrict = flags.Bool("fail-on-nonstrict", false, "in JUnit, report NON-STRICT cases (a SHOULD missed) as failures")
	)
	var machine machineOutputs
	machine.addFlags(flags)
	files, err := parseInterspersed(flags, args)
	if err != nil {
		return err
	}
	if err := checkReportOutputs(files, *htmlOut, *junitOut, machine); err != nil {
		return err
	}
	reps, err := readReports(files, stdout)
	if err != nil {
		return err
	}
	if *htmlOut != "" {
		if err := writeFileFrom(*htmlOut, func(w io.Writer) error { return reports.WriteHTML(w, reps...) }); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s\n", *htmlOut)
	}
	if *junitOut != "" {
		opts := reports.JUnitOptions{FailOnNonStrict: *nonStrict}
		if err := writeFileFrom(*junitOut, func(w io.Writer) error { return reports.WriteJUnit(w, reps[0], opts) }); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s\n", *junitOut)
	}
	if machine.sarif != "" || machine.summaryMD != "" {
		if err := machine.write(reps[0], filepath.Dir(files[0]), *nonStrict); err != nil {
			return err
		}
	}
	if *htmlOut == "" && *junitOut == "" && machine.sarif == "" && machine.summaryMD == "" {
		fmt.Fprintln(stderr, "mcaspec report: no --html, --junit, --sarif or --summary-md given; only the summary was printed")
	}
	return nil
}

// checkReportOutputs refuses a results file missing, an output that takes
// one results file only given several, and an output that would overwrite
// an input or another output or cannot be written where it is.
func checkReportOutputs(files []string, htmlOut, junitOut string, machine machineOutputs) error {
	if len(files) == 0 {
		return fmt.Errorf("%w: no results file given (see --help)", errUsage)
	}
	if junitOut != "" && len(files) != 1 {
		return fmt.Errorf("%w: --junit takes exactly one results file, got %d", errUsage, len(files))
	}
	if (machine.sarif != "" || machine.summaryMD != "") && len(files) != 1 {
		return fmt.Errorf("%w: --sarif and --summary-md take exactly one results file, got %d", errUsage, len(files))
	}
	for _, out := range []string{htmlOut, junitOut, machine.sarif, machine.summaryMD} {
		if out == "" {
			continue
		}
		for _, f := range files {
			if filepath.Clean(out) == filepath.Clean(f) || fileio.Same(out, f) {
				return fmt.Errorf("%w: %s is one of the results files read: the report would overwrite its own input; write it to another file", errUsage, out)
			}
		}
		if err := fileio.CheckDir(out); err != nil {
			return fmt.Errorf("%w: %w", errUsage, err)
		}
	}
	if htmlOut != "" && htmlOut == junitOut {
		return fmt.Errorf("%w: --html and --junit name the same file %s", errUsage, htmlOut)
	}
	return nil
}

// readReports reads the results files, printing a summary line of each.
func readReports(files []string, stdout io.Writer) ([]*conformance.RunReport, error) {
	reps := make([]*conformance.RunReport, len(files))
	for i, f := range files {
		r, err := conformance.ReadReport(f)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("%w: results file %s does not exist (write one with 'mcaspec run --out')", errUsage, f)
			}
			return nil, fmt.Errorf("%w: %w", errUsage, err)
		}
		reps[i] = r
		fmt.Fprintln(stdout, summaryLine(f, r))
	}
	return reps, nil
}

// parseInterspersed parses flags that may come before, between or after
// the positional arguments, which it returns. After "--" everything is
// positional.
func parseInterspersed(flags *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := flags.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %w", errUsage, err)
		}
		rest := flags.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// summaryLine is "file: target (profile): N cases: a PASS, b FAIL, ... in 3.2s".
func summaryLine(file string, r *conformance.RunReport) string {
	c := conformance.Summarize(r.Results)
	var parts []string
	for _, v := range conformance.Verdicts() {
		parts = append(parts, fmt.Sprintf("%d %s", c[v], v))
	}
	name := r.Target.Name
	if name == "" {
		name = r.Target.URL
	}
	s := fmt.Sprintf("%s: %s (%s): %d cases: %s", file, name, r.Profile, len(r.Results), strings.Join(parts, ", "))
	if r.Duration > 0 {
		s += fmt.Sprintf(" in %s", time.Duration(r.Duration).Round(time.Millisecond))
	}
	return s
}

// writeFileFrom writes path atomically (a failed render leaves the old
// file, or none); its folder must exist.
func writeFileFrom(path string, render func(io.Writer) error) error {
	return fileio.WriteWith(path, 0o644, render)
}

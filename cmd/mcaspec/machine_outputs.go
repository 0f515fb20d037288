package main

import (
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/mcaspec/mcaspec/conformance"
	"github.com/mcaspec/mcaspec/internal/fileio"
	"github.com/mcaspec/mcaspec/reports"
)

// machineOutputs are the files a CI step reads: a SARIF log for code
// scanning and a Markdown summary for the job page.
type machineOutputs struct {
	sarif, sarifArtifact, summaryMD, reportURL string
}

func (m *machineOutputs) addFlags(fs *flag.FlagSet) {
	fs.StringVar(&m.sarif, "sarif", "", "also write the FAIL / NON-STRICT verdicts as a SARIF 2.1.0 log (code scanning) to this file")
	fs.StringVar(&m.sarifArtifact, "sarif-artifact", "", "the file SARIF results are located in, relative to the repository root (code scanning shows only results in a file; default: the target's URL)")
	fs.StringVar(&m.summaryMD, "summary-md", "", "also write a Markdown summary (counts, failing cases with their rule) to this file, e.g. for $GITHUB_STEP_SUMMARY")
	fs.StringVar(&m.reportURL, "report-url", "", "where the summary links failing cases to (the published report.html; default: the report's path relative to --summary-md)")
}

// write writes the files asked for from rep; dir is the run's report folder.
func (m machineOutputs) write(rep *conformance.RunReport, dir string, failOnNonStrict bool) error {
	if m.sarif != "" {
		opt := reports.SARIFOptions{Artifact: filepath.ToSlash(m.sarifArtifact)}
		if err := writeAtomic(m.sarif, func(w io.Writer) error { return reports.WriteSARIF(w, rep, opt) }); err != nil {
			return err
		}
	}
	if m.summaryMD != "" {
		opt := reports.SummaryOptions{ReportURL: m.reportURL, FailOnNonStrict: failOnNonStrict}
		if opt.ReportURL == "" && dir != "" {
			if rel, err := filepath.Rel(filepath.Dir(absOr(m.summaryMD)), absOr(filepath.Join(dir, "report.html"))); err == nil {
				opt.ReportURL = filepath.ToSlash(rel)
			}
		}
		if err := writeAtomic(m.summaryMD, func(w io.Writer) error { return reports.WriteSummaryMarkdown(w, rep, opt) }); err != nil {
			return err
		}
	}
	return nil
}

// writeAtomic writes a report file whole or not at all (internal/fileio).
func writeAtomic(path string, render func(io.Writer) error) error {
	if err := fileio.WriteWith(path, 0o644, render); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func absOr(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

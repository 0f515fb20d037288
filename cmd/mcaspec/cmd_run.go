package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/mcaspec/mcaspec/conformance"
	"github.com/mcaspec/mcaspec/conformance/harness"
	"github.com/mcaspec/mcaspec/conformance/kit"
	"github.com/mcaspec/mcaspec/internal/termline"
)

// progressLine is a status line on w when w is a terminal (else it drops
// what it is given: logs keep the results only).
func progressLine(w io.Writer) *termline.Line {
	if f, ok := w.(*os.File); ok {
		return termline.New(f)
	}
	return &termline.Line{}
}

// DefaultRunOut is where the main job writes its reports.
const DefaultRunOut = "out/run"

func runMainJob(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("run", `The main job, and what 'mcaspec' does with no arguments: starts the fake authorization
server and the built-in reference targets in this process, runs the whole conformance
catalogue (the bearer-token cases against the reference target, the web cases against the
reference web RP), then a short load benchmark, and writes the reports to --out:
conformance/, conformance-web/ and bench/.

To test your own target use 'mcaspec conformance' and 'mcaspec bench'.`, stderr)
	out := fs.String("out", DefaultRunOut, "output folder for the reports")
	profile := fs.String("profile", string(conformance.Strict), "conformance profile: mca or strict")
	noBench := fs.Bool("no-bench", false, "skip the short benchmark")
	noWeb := fs.Bool("no-web", false, "skip the web family (the cases for websites, against the reference web RP)")
	verbose := fs.Bool("verbose", false, "print every case as it runs")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	p, err := conformance.ParseProfile(*profile)
	if err != nil {
		return fmt.Errorf("%w: --profile: %w", errUsage, err)
	}
	r := conformanceRun{
		harness: harness.Config{Profile: p, AZListen: "127.0.0.1:0"},
		out:     filepath.Join(*out, "conformance"),
		verbose: *verbose,
	}
	if err := r.prepareOut(stderr); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "mcaspec run: the conformance catalogue, then a short benchmark, against the built-in reference targets\n")
	rep, cerr := r.run(ctx, stdout, stderr)
	if cerr != nil && rep == nil {
		return cerr
	}
	if !*noWeb {
		web := r
		web.harness.Family = kit.FamilyWeb
		web.out = filepath.Join(*out, "conformance-web")
		if err := web.prepareOut(stderr); err != nil {
			return err
		}
		wrep, werr := web.run(ctx, stdout, stderr)
		if werr != nil && wrep == nil {
			return werr
		}
		if cerr == nil {
			cerr = werr
		}
	}
	if !*noBench {
		if err := runShortBench(ctx, filepath.Join(*out, "bench"), stdout, progressLine(stderr)); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "\nmcaspec run: reports in %s (open %s", *out, filepath.Join(*out, "conformance", "report.html"))
	if !*noWeb {
		fmt.Fprintf(stdout, " and %s", filepath.Join(*out, "conformance-web", "report.html"))
	}
	fmt.Fprintf(stdout, ")\n")
	return cerr
}

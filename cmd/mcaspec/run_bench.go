package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/mcaspec/mcaspec/bench"
	"github.com/mcaspec/mcaspec/internal/termline"
)

// The main job's benchmark: how fast is validation next to no validation
// at all? A short find-max of hot and cold for the reference target and
// the no-auth ceiling (bare), both as processes so that their CPU is
// measured: about 30 s in all.
const (
	// runBenchCacheSize is the reference process's cache size: its cold
	// pool (1.2 x the cache) mints in about a second.
	runBenchCacheSize = 1000
	// runBenchStart, runBenchFactor, runBenchPrecision, runBenchStep and
	// runBenchBudget shape each of the four searches.
	runBenchStart     = 2000.0
	runBenchFactor    = 2.0
	runBenchPrecision = 1.3
	runBenchStep      = time.Second
	runBenchSteps     = 6
	runBenchBudget    = 5 * time.Second
)

// runBenchConfig is the main job's benchmark configuration; exe is the
// mcaspec executable the targets run from.
func runBenchConfig(exe, dir string) bench.Config {
	ref := bench.Command("reference-proc", fmt.Sprintf("exec %s reference --cache-size %d", shellQuote(exe), runBenchCacheSize))
	ref.CacheSize = runBenchCacheSize
	bare := bench.Command("bare-proc", "exec "+shellQuote(exe)+" bench --serve-bare")
	bare.Unchecked, bare.NoAuth = true, true
	return bench.Config{
		Scenarios: []string{"hot", "cold"},
		Targets:   []bench.TargetSpec{ref, bare},
		FindMax: &bench.FindMax{StartRate: runBenchStart, Factor: runBenchFactor, Precision: runBenchPrecision,
			StepDuration: runBenchStep, MaxSteps: runBenchSteps, Budget: runBenchBudget},
		MeasureVerify: true,
		OutDir:        dir,
	}
}

// runShortBench runs the main job's benchmark and writes its reports to
// dir; it prints a brief comparison. Wrong answers fail the job. progress
// (a terminal's status line, or nil) shows what it is doing.
func runShortBench(ctx context.Context, dir string, stdout io.Writer, progress *termline.Line) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("benchmark: cannot find the mcaspec executable to start the targets from: %w", err)
	}
	cfg := runBenchConfig(exe, dir)
	if progress.Enabled() {
		cfg.Progress = progress
	}
	began := time.Now()
	rep, err := bench.Run(ctx, cfg)
	progress.Clear()
	if rep != nil {
		if werr := bench.WriteReports(dir, rep); werr != nil {
			return werr
		}
		fmt.Fprintf(stdout, "\nBenchmark: how fast is validation next to no validation at all? (find-max, %v steps, hot and cold, %v)\n",
			runBenchStep, time.Since(began).Round(time.Second))
		_ = rep.WriteBrief(stdout)
		fmt.Fprintf(stdout, "  bench report: %s\n", filepath.Join(dir, "report.html"))
	}
	if errors.Is(err, bench.ErrWrongAnswers) {
		return &exitError{exitFailed, "the benchmark saw wrong answers: " + err.Error()}
	}
	if err != nil {
		return fmt.Errorf("benchmark: %w", err)
	}
	return nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/mcaspec/mcaspec/bench"
)

// runShortBench runs the main job's short benchmark (bench.DefaultShort:
// hot and cold against the in-process reference and the no-validation
// baseline) and writes its reports to dir. Wrong answers fail the job.
func runShortBench(ctx context.Context, dir string, stdout, stderr io.Writer) error {
	cfg := bench.DefaultShort()
	cfg.Progress = stderr
	fmt.Fprintf(stderr, "\nmcaspec run: short benchmark (%v, %s per attack) against the reference and the baseline\n", cfg.Scenarios, cfg.Duration)
	rep, err := bench.Run(ctx, cfg)
	if rep != nil {
		if werr := bench.WriteReports(dir, rep); werr != nil {
			return werr
		}
		_ = rep.WriteText(stdout)
		fmt.Fprintf(stdout, "  bench reports: %s\n", dir)
	}
	if errors.Is(err, bench.ErrWrongAnswers) {
		return &exitError{exitFailed, "the benchmark saw wrong answers: " + err.Error()}
	}
	return err
}

package bench

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/signal"
	"syscall"
	"testing"

	"github.com/mcaspec/mcaspec/reference/target"
)

// TestMain doubles as a launched target: with BENCH_TEST_TARGET=1 the test
// binary runs the reference target from the contract's environment until
// SIGTERM, so that KindCommand and the /proc figures are tested without
// building mcaspec.
func TestMain(m *testing.M) {
	if os.Getenv("BENCH_TEST_TARGET") == "1" {
		os.Exit(serveTarget())
	}
	os.Exit(m.Run())
}

func serveTarget() int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	cfg, err := target.ConfigFromEnv(os.Getenv)
	if err == nil {
		var s *target.Server
		if s, err = target.New(cfg); err == nil {
			if err = s.Start(cfg.Listen); err == nil {
				<-ctx.Done()
				err = s.Close()
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// TestLaunchedTarget measures a target started as a process: its answers
// are checked like any other and its CPU time and RSS are read from /proc.
func TestLaunchedTarget(t *testing.T) {
	t.Parallel()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	tg := Command("proc", "BENCH_TEST_TARGET=1 exec '"+exe+"' -test.run='^$'")
	// The launched reference has the default cache: a pool of 30 pairs is
	// not cold for it, but CacheSize 20 sizes it as if it were (the figures
	// are still checked answers).
	tg.CacheSize = 20
	cfg := smokeConfig(t, "cold", tg)
	cfg.Scenarios = []string{"hot", "cold"}
	cfg.MeasureVerify = true
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range rep.Attacks {
		if a.Correct == 0 || a.Wrong != 0 {
			t.Errorf("%s: %d correct, %d wrong", a.Name, a.Correct, a.Wrong)
		}
		if a.PeakRSSMB <= 0 {
			t.Errorf("%s: no peak RSS read", a.Name)
		}
	}
	if rep.VerifyNS <= 0 {
		t.Error("verify cost not measured")
	}
	for _, a := range rep.Attacks {
		if a.Scenario == "cold" && a.VerifyNS <= 0 {
			t.Errorf("%s: verify cost not measured around the attack", a.Name)
		}
	}
	if rep.ColdCPURatio["proc"] <= 0 {
		t.Errorf("cold CPU ratio %v: no entry for proc", rep.ColdCPURatio)
	}
}

func TestColdRatios(t *testing.T) {
	t.Parallel()
	cold := func(target string, rate, cpuUS, verifyNS float64) *Attack {
		return &Attack{Target: target, Scenario: "cold", OfferedRate: rate, CPUPerRequestUS: cpuUS, VerifyNS: verifyNS}
	}
	rep := &Report{VerifyNS: 50_000}
	heads := []*Attack{
		cold("reference-proc", 5000, 150, 50_000), // 1.5
		cold("baseline-proc", 7500, 60, 40_000),   // 0.75 (the baseline's sustainable step)
		cold("express", 2500, 300, 0),             // the run's verify cost: 3.0; no baseline at 2500
		{Target: "reference-proc", Scenario: "hot", OfferedRate: 5000, CPUPerRequestUS: 20},
	}
	rep.coldRatios(heads, append([]*Attack{cold("baseline-proc", 5000, 60, 40_000)}, heads...))
	want := map[string]float64{"reference-proc": 1.5, "baseline-proc": 0.75, "express": 3}
	for k, w := range want {
		if got := rep.ColdCPURatio[k]; math.Abs(got-w) > 1e-9 {
			t.Errorf("ColdCPURatio[%s] = %v, want %v", k, got, w)
		}
	}
	if len(rep.ColdCPURatio) != len(want) {
		t.Errorf("ColdCPURatio = %v, want the keys of %v", rep.ColdCPURatio, want)
	}
	if got := rep.ColdValidationRatio; len(got) != 1 || math.Abs(got["reference-proc"]-0.75) > 1e-9 {
		t.Errorf("ColdValidationRatio = %v, want reference-proc: 0.75 only", got)
	}
}

func TestGroupStats(t *testing.T) {
	t.Parallel()
	st, err := groupStats(syscall.Getpgrp())
	if err != nil {
		t.Fatal(err)
	}
	if st.RSS <= 0 || st.PeakRSS < st.RSS {
		t.Fatalf("stats %+v", st)
	}
	if _, err := groupStats(0); err == nil {
		t.Fatal("groupStats(0) succeeded")
	}
}

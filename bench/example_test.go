package bench_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/mcaspec/mcaspec/bench"
)

// The short benchmark, as the main job runs it: hot and cold against the
// in-process reference and the baseline, every answer checked.
func ExampleRun() {
	rep, err := bench.Run(context.Background(), bench.DefaultShort())
	if errors.Is(err, bench.ErrWrongAnswers) {
		fmt.Println("a validator gave wrong answers:", rep.WrongAnswers)
	} else if err != nil {
		fmt.Println(err)
		return
	}
	for _, row := range rep.Table {
		fmt.Printf("%s %s %.0f/s (%.2fx baseline)\n", row.Scenario, row.Target, row.Rate, row.VsBaseline)
	}
	_ = bench.WriteReports(os.TempDir()+"/bench", rep)
}

func ExampleScenarios() {
	for _, s := range bench.Scenarios() {
		fmt.Println(s.Name)
	}
	// Output:
	// hot
	// warm
	// cold
	// keyfetch
	// invalid-flood
	// propagation
	// fleet
	// outage
}

package main

import "github.com/mcaspec/mcaspec/conformance/harness"

// imageStarter returns how --target-image starts a container (nil: not
// available in this build, and the harness says so).
func imageStarter() harness.ImageStarter { return nil }

//go:build windows

package bench

import (
	"errors"
	"time"
)

// processCPU is not measured on Windows (reported as not measured).
func processCPU() time.Duration { return 0 }

// threadCPU is not available on Windows: the verify cost is not measured.
func threadCPU() (time.Duration, error) {
	return 0, errors.New("bench: per-thread CPU time is not measured on Windows")
}

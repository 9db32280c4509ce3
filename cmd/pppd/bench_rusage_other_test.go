//go:build !unix

package main

import (
	"testing"
	"time"
)

// processCPU is not measured here: without getrusage the benchmarks leave
// cpu_us/reply out.
func processCPU(*testing.B) time.Duration { return 0 }

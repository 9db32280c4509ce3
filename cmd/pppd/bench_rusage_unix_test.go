//go:build unix

package main

import (
	"syscall"
	"testing"
	"time"
)

// processCPU is the user and system CPU this process has used so far
// (getrusage RUSAGE_SELF: every thread of the test binary).
func processCPU(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Package cpubench measures what a benchmark costs this process in CPU:
// the figure issue 12's budget is set in (CPU per token), which ns/op does
// not give when the work waits on an emulator running in another process.
package cpubench

import (
	"syscall"
	"testing"
	"time"
)

// Loop runs op b.N times (b.Loop) and reports, beside ns/op (wall time,
// which includes the emulators' time when op calls them) and the
// allocations, cpu-ms/op: the CPU time (user + system) of this process per
// op, from getrusage around the loop. The emulators run in other
// processes, so cpu-ms/op is this process's CPU alone (its other
// goroutines included, e.g. the garbage collector).
func Loop(b *testing.B, op func()) {
	b.Helper()
	b.ReportAllocs()
	before := Process(b)
	for b.Loop() {
		op()
	}
	b.ReportMetric(float64(Process(b)-before)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}

// Process is the user and system CPU time of this process so far.
func Process(tb testing.TB) time.Duration {
	tb.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

package cli

import (
	"math"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Go lets the heap grow to twice the live heap between collections and
// returns little of it to the system: a snapshot of a million vehicles
// (about 240 MB live) peaked at 0.73 GB. On a headless box, or an
// operator's laptop watching a national fleet, memory is what runs out, so
// snapshot and the live screen keep the heap near what is live, four times
// a second, by one of two means:
//
//   - capHeap, for snapshot (a one-shot read, where memory matters most):
//     a soft memory limit of the live heap and a quarter again (at least
//     64 MB more). The limit counts the runtime's own memory too, so the
//     heap gets less than a quarter: a million vehicles peak under 300 MB,
//     for more collections.
//   - paceHeap, for the live screen: GOGC's percentage, so that the
//     collector runs once the heap has grown by a tenth of what is live
//     (at least 32 MB). At a million vehicles a quarter peaked 45 MB
//     higher for 4 % less CPU while catching up. With the limit instead,
//     a million-vehicle live screen had 15 % of headroom and collected
//     every 0.2 s while catching up: 16–19 CPU-s for 2 M reports, against
//     11–13 with GOGC and 11 ungoverned (BENCHMARKS.md).
//
// The vehicle table and the alert detector's states hold no pointers, so a
// collection does not scan the fleet's rows: while the detector's had
// pointers, the governed live screen spent most of its CPU collecting.
// serve does without either: its many viewers' garbage, not the fleet, is
// what its heap holds. A GOGC or GOMEMLIMIT the user set is left alone.
// Each returns the function that stops it.
func capHeap() func() {
	return governHeap(func(live int64) { debug.SetMemoryLimit(capFor(live)) },
		func() { debug.SetMemoryLimit(math.MaxInt64) }) // none, as at start
}

// paceHeap: see capHeap.
func paceHeap() func() {
	return governHeap(func(live int64) { debug.SetGCPercent(paceFor(live)) },
		func() { debug.SetGCPercent(100) }) // Go's default, as at start
}

// capFor is capHeap's memory limit for a live heap of live bytes.
func capFor(live int64) int64 { return live + max(live/4, 64<<20) }

// paceFor is paceHeap's GOGC percentage for a live heap of live bytes.
func paceFor(live int64) int { return int(min(100, max(10, 100*(32<<20)/max(live, 1)))) }

// governHeap calls set with the live heap four times a second, and reset
// once stopped.
func governHeap(set func(live int64), reset func()) func() {
	if os.Getenv("GOMEMLIMIT") != "" || os.Getenv("GOGC") != "" {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			metrics.Read(sample)
			if sample[0].Value.Kind() != metrics.KindUint64 {
				return
			}
			set(int64(sample[0].Value.Uint64()))
		}
	}()
	return func() {
		close(done)
		reset()
	}
}

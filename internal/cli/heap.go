package cli

import (
	"math"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// governHeap keeps the heap near what is live, for snapshot and the live
// screen: on a headless box, or an operator's laptop watching a national
// fleet, memory is what runs out. Go lets the heap grow to twice the live
// heap between collections and returns little of it to the system, so a
// snapshot of a million vehicles (about 240 MB live) peaked at 0.73 GB.
// Every quarter second this sets the collector's soft memory limit to the
// live heap and a quarter again (at least 64 MB more): a large fleet is
// collected sooner, a small one no more often than before. The vehicle
// table and the alert detector's states hold no pointers, so a collection
// does not scan the fleet; while the detector's states had pointers, the
// governed live screen spent most of its CPU collecting at a million
// vehicles (BENCHMARKS.md). serve does without it: its many viewers'
// garbage, not the fleet, is what its heap holds. A GOMEMLIMIT the user
// set is left alone. The returned function stops it.
func governHeap() func() {
	if os.Getenv("GOMEMLIMIT") != "" {
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
			live := int64(sample[0].Value.Uint64())
			debug.SetMemoryLimit(live + max(live/4, 64<<20))
		}
	}()
	return func() {
		close(done)
		debug.SetMemoryLimit(math.MaxInt64) // none, as at start
	}
}

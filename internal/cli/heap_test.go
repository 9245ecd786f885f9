package cli

import (
	"math"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestHeapTargets(t *testing.T) {
	const mb = 1 << 20
	tests := []struct {
		live     int64
		pace     int
		capBytes int64
	}{
		{0, 100, 64 * mb},
		{10 * mb, 100, 74 * mb},    // a small fleet: Go's default
		{32 * mb, 100, 96 * mb},    // at least 32 MB of growth
		{64 * mb, 50, 128 * mb},    // still 32 MB; the cap at least 64 MB
		{256 * mb, 12, 320 * mb},   // the cap a quarter from here on
		{320 * mb, 10, 400 * mb},   // a tenth from here on
		{1024 * mb, 10, 1280 * mb}, // a million vehicles with alerts is about 300 MB
	}
	for _, tt := range tests {
		if got := paceFor(tt.live); got != tt.pace {
			t.Errorf("paceFor(%d MB) = %d, want %d", tt.live/mb, got, tt.pace)
		}
		if got := capFor(tt.live); got != tt.capBytes {
			t.Errorf("capFor(%d MB) = %d MB, want %d MB", tt.live/mb, got/mb, tt.capBytes/mb)
		}
	}
}

// With 300 MB live, the live screen collects at 10 % growth and snapshot's
// cap is the live heap and a quarter; each is undone when stopped.
func TestGovernHeap(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates 300 MB")
	}
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	gcPercent := func() int { p := debug.SetGCPercent(100); debug.SetGCPercent(p); return p }
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !ok(); {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not after 5 s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	live := make([]byte, 300<<20)
	runtime.GC()

	stop := paceHeap()
	waitFor("GOGC 10 with 300 MB live", func() bool { return gcPercent() == 10 })
	stop()
	if p := gcPercent(); p != 100 {
		t.Fatalf("stopped: GOGC %d, want 100", p)
	}

	stop = capHeap()
	waitFor("a limit of live + 1/4", func() bool {
		l := debug.SetMemoryLimit(-1)
		return l >= 375<<20 && l < 400<<20
	})
	stop()
	if l := debug.SetMemoryLimit(-1); l != math.MaxInt64 {
		t.Fatalf("stopped: limit %d, want none", l)
	}
	runtime.KeepAlive(live)
}

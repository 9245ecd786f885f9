package main

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fleetwatch/fleetwatch/internal/testutil"
)

var replayClockRE = regexp.MustCompile(`(▶|⏸|…) 2026-11-22 (\d\d:\d\d:\d\d)Z ×(\S+)`)

// A recorded morning played back on the live screen: vehicles move, space
// pauses, ] jumps a minute on, > speeds up.
func TestReplayOfRecordedHistory(t *testing.T) {
	db := testutil.FreshDB(t)
	fw := testutil.Binary(t, "./cmd/tui", "fleetwatch")
	sim := testutil.Binary(t, "./cmd/sim", "fleetsim")
	addr := testutil.EmbeddedBroker(t)
	if out, err := exec.Command(sim, "-b", addr, "--speedup", "max", "--duration", "10m", "--seed", "4", "--vehicles", "20",
		"--start", "2026-11-22T08:00:00Z").CombinedOutput(); err != nil {
		t.Fatalf("fleetsim: %v: %s", err, out)
	}
	if out, err := exec.Command(fw, "record", "--db", db, "-b", addr, "--until-caught-up", "--progress", "0").CombinedOutput(); err != nil {
		t.Fatalf("record: %v: %s", err, out)
	}
	s := startTmux(t, 140, 36, fw+" replay --db '"+db+"' --from 2026-11-22T08:01:00Z --speed 10")
	clock := func(sc string) (state, hms, speed string) {
		m := replayClockRE.FindStringSubmatch(sc)
		if m == nil {
			return "", "", ""
		}
		return m[1], m[2], m[3]
	}
	sc := s.waitFor(30*time.Second, "the replay running with vehicles", func(sc string) bool {
		st, hms, _ := clock(sc)
		return st == "▶" && hms > "08:01:02" && strings.Contains(sc, "20 vehicles on 8 lines")
	})
	if !hasBraille(mapArea(sc, 80)) {
		t.Fatalf("no map:\n%s", sc)
	}
	s.keys("Space")
	sc = s.waitFor(10*time.Second, "paused", func(sc string) bool { st, _, _ := clock(sc); return st == "⏸" })
	_, paused, _ := clock(sc)
	s.keys("]")
	s.waitFor(20*time.Second, "a minute on", func(sc string) bool {
		st, hms, _ := clock(sc)
		at, _ := time.Parse("15:04:05", hms)
		was, _ := time.Parse("15:04:05", paused)
		return st == "⏸" && at.Sub(was) == time.Minute
	})
	s.keys(">")
	s.waitFor(10*time.Second, "faster", func(sc string) bool { _, _, sp := clock(sc); return sp == "30" })
	s.keys("q")
	s.waitFor(10*time.Second, "exit", func(sc string) bool { return strings.Contains(sc, "EXITED 0") })
}

package model

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestETAsFromObservedRunningTimes(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	f := NewFleet()
	arrive := func(v, station, prev string, s int) {
		f.Apply(Arrival{StationID: station, VehicleID: v, Line: "blue", Direction: "a", PrevStationID: prev, TS: at(s)})
	}
	// v1 runs a→b→c (60 s, then 90 s); v3 runs c→d in 100 s; v2 follows v1.
	arrive("v1", "a", "", 0)
	arrive("v1", "b", "a", 60)
	arrive("v1", "c", "b", 150)
	arrive("v3", "c", "b", 200)
	arrive("v3", "d", "c", 300)
	arrive("v2", "a", "", 300)
	arrive("v2", "b", "a", 360)
	arrive("v2", "b", "a", 360) // a duplicate teaches nothing twice

	got := f.VehicleETAs("v2")
	want := []ETA{{"v2", "blue", "a", "c", at(450)}, {"v2", "blue", "a", "d", at(550)}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("v2's next stops %+v, want %+v", got, want)
	}
	// At d: v1 (left c at 150, due 250) and v2 (due 550); v3 is there already.
	if got := f.StationETAs("d", at(200), 2); len(got) != 2 || got[0].VehicleID != "v1" || got[1].VehicleID != "v2" {
		t.Errorf("due at d: %+v", got)
	}
	// After v1's time has passed, only v2 is due; one a direction at most.
	if got := f.StationETAs("d", at(260), 1); len(got) != 1 || got[0].VehicleID != "v2" {
		t.Errorf("due at d after 260 s: %+v", got)
	}
	// The median shrugs off one breakdown: a→b took 60, 60 and then 900 s.
	arrive("v4", "a", "", 1000)
	arrive("v4", "b", "a", 1900)
	arrive("v5", "a", "", 2000)
	if got := f.VehicleETAs("v5"); len(got) == 0 || got[0].At != at(2060) {
		t.Errorf("v5 after a breakdown on a→b: %+v, want b at +60 s", got)
	}
	f.Apply(VehicleRemoved{VehicleID: "v5"})
	if got := f.VehicleETAs("v5"); got != nil {
		t.Errorf("a removed vehicle is still predicted: %+v", got)
	}
}

// A station board lists what predicting every vehicle would: random
// arrivals on lines with branches, loops shorter than the prediction's
// reach, stop orders that change, and vehicles that leave.
func TestStationETAsAsEveryVehiclePredicted(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	t0 := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	f := NewFleet()
	last := map[string]int{} // a vehicle's latest station
	predicted, loops := 0, 0
	for step := range 20000 {
		v := fmt.Sprintf("v%d", rng.IntN(200))
		line := []string{"loop", "long"}[rng.IntN(2)]
		dir := []string{"a", "b"}[rng.IntN(2)]
		size := map[string]int{"loop": 7, "long": 30}[line]
		from, ok := last[v]
		if !ok || rng.IntN(20) == 0 {
			from = rng.IntN(size)
		}
		to := (from + 1 + rng.IntN(2)) % size // sometimes a stop skipped: the order learned changes
		if rng.IntN(300) == 0 {
			f.Apply(VehicleRemoved{VehicleID: v})
			delete(last, v)
			continue
		}
		f.Apply(Arrival{StationID: fmt.Sprintf("s%d", to), PrevStationID: fmt.Sprintf("s%d", from), VehicleID: v, Line: line,
			Direction: dir, TS: t0.Add(time.Duration(step*10+rng.IntN(60)) * time.Second)})
		last[v] = to
		if step%500 != 0 {
			continue
		}
		now := t0.Add(time.Duration(step*10) * time.Second)
		for s := range 30 {
			station := fmt.Sprintf("s%d", s)
			var want []ETA
			for slot := range f.eta.ids.Slots() {
				id := f.eta.ids.ID(int32(slot))
				if id == "" {
					continue // a free slot
				}
				for _, e := range f.VehicleETAs(strings.Clone(id)) {
					if e.StationID == station {
						if !e.At.Before(now) {
							want = append(want, e)
						}
						break
					}
				}
			}
			got := f.StationETAs(station, now, 1<<30)
			canon := func(es []ETA) {
				slices.SortFunc(es, func(a, b ETA) int {
					return cmp.Or(cmp.Compare(a.Direction, b.Direction), a.At.Compare(b.At), cmp.Compare(a.VehicleID, b.VehicleID))
				})
			}
			canon(want)
			canon(got)
			if !slices.Equal(got, want) {
				t.Fatalf("step %d, %s: %d predictions, want %d:\n%v\n%v", step, station, len(got), len(want), got, want)
			}
			predicted += len(got)
			for _, e := range got {
				if e.Line == "loop" && "s"+fmt.Sprint(last[e.VehicleID]) == station {
					loops++ // due back where it last arrived, round the loop
				}
			}
		}
	}
	if predicted < 1000 || loops == 0 {
		t.Fatalf("%d predictions, %d of them round a loop: the test tests little", predicted, loops)
	}
}

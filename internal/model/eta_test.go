package model

import (
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

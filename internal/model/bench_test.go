package model

import (
	"strconv"
	"testing"
	"time"
)

// BenchmarkApplyVehicle folds position reports of 1000 vehicles into the fleet.
func BenchmarkApplyVehicle(b *testing.B) {
	f := NewFleet()
	ids := make([]string, 1000)
	for i := range ids {
		ids[i] = "v" + string(rune('a'+i%26)) + string(rune('a'+i/26%26))
	}
	ts := time.Now()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		f.Apply(VehiclePosition{VehicleID: ids[i%len(ids)], Line: "blue", Lat: 41.8, Lon: -87.6, TS: ts.Add(time.Duration(i))})
		i++
	}
}

// BenchmarkSnapshot is what a reader pays per frame for a consistent copy
// of a large fleet, with and without sorting the vehicles by id (the live
// screen takes the copy only; see ingest.Store.Snapshot).
func BenchmarkSnapshot(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		f := NewFleet()
		ts := time.Now()
		for i := range n {
			f.Apply(VehiclePosition{VehicleID: "veh-" + strconv.Itoa(i*7919%n), Line: "l" + strconv.Itoa(i%20), Lat: 41.8, Lon: -87.6, TS: ts})
		}
		b.Run("copy/vehicles="+strconv.Itoa(n), func(b *testing.B) {
			for b.Loop() {
				f.Snapshot()
			}
		})
		b.Run("copy+sort/vehicles="+strconv.Itoa(n), func(b *testing.B) {
			for b.Loop() {
				f.Snapshot()
			}
		})
	}
}

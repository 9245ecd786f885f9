package model

import (
	"fmt"
	"runtime"
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

// BenchmarkApplyWhileDrawing folds reports into a fleet of 1 000 000
// vehicles in random order while a reader takes a view every so many
// reports (a frame at 15 per second of 50 000 reports a second, or never):
// what copying the chunks views share costs the writer (issue 17).
func BenchmarkApplyWhileDrawing(b *testing.B) {
	const n = 1_000_000
	f := NewFleet()
	ids := make([]string, n)
	ts := time.Now()
	for i := range ids {
		ids[i] = "veh-" + strconv.Itoa(i)
		f.Apply(VehiclePosition{VehicleID: ids[i], Line: "l" + strconv.Itoa(i%20), Lat: 41.8, Lon: -87.6, TS: ts})
	}
	for _, every := range []int{0, 3300} {
		b.Run("views-every="+strconv.Itoa(every), func(b *testing.B) {
			rng := uint64(1)
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				rng = rng*6364136223846793005 + 1442695040888963407
				f.Apply(VehiclePosition{VehicleID: ids[(rng>>33)%n], Line: "l1", Lat: 41.8, Lon: -87.6, TS: ts.Add(time.Duration(i))})
				i++
				if every > 0 && i%every == 0 {
					f.Snapshot()
				}
			}
		})
	}
}

// BenchmarkStationETAs is a station board's predictions, which the screen
// asks for every frame while a station is selected, under the store's
// lock: with every vehicle of a large fleet having arrived somewhere.
func BenchmarkStationETAs(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("vehicles=%d", n), func(b *testing.B) {
			f := NewFleet()
			t0 := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
			const stations = 40 // a line of 40 stations, both ways
			st := func(i int) string { return fmt.Sprintf("s%02d", i) }
			for v := range n {
				id := fmt.Sprintf("v%d", v)
				dir := []string{"north", "south"}[v%2]
				at := v % (stations - 1)
				for hop := range 3 {
					s := (at + hop) % stations
					f.Apply(Arrival{StationID: st(s + 1), PrevStationID: st(s), VehicleID: id, Line: "red", Direction: dir,
						TS: t0.Add(time.Duration(v+hop*90) * time.Second)})
				}
			}
			b.ResetTimer()
			for range b.N {
				if len(f.StationETAs(st(20), t0, 2)) == 0 {
					b.Fatal("no predictions")
				}
			}
		})
	}
}

// BenchmarkMemoryArrivals is the heap a fleet keeps per vehicle, with and
// without an arrival for each (the ETA model's latest arrival by vehicle).
func BenchmarkMemoryArrivals(b *testing.B) {
	t0 := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	stations := make([]string, 141)
	for i := range stations {
		stations[i] = fmt.Sprintf("s%d", i)
	}
	for _, arrivals := range []bool{false, true} {
		b.Run(fmt.Sprintf("arrivals=%t", arrivals), func(b *testing.B) {
			const n = 1_000_000
			for range b.N {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				f := NewFleet()
				for i := range n {
					id := "veh-" + strconv.Itoa(i)
					f.Apply(VehiclePosition{VehicleID: id, Line: "red", Lat: 41, Lon: -87, TS: t0})
					if arrivals {
						s := i % 140
						f.Apply(Arrival{StationID: stations[s+1], PrevStationID: stations[s], VehicleID: id, Line: "red",
							Direction: "north", TS: t0})
					}
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "B/vehicle")
				runtime.KeepAlive(f)
			}
		})
	}
}

package model

import (
	"strconv"
	"testing"
	"time"
)

var benchVehicle = []byte(`{"vehicle_id":"blue-07","line":"blue","lat":41.8781,"lon":-87.6298,"heading":90,"speed_kmh":32.5,"status":"in_transit","stop_id":"clark-lake","delay_s":45,"occupancy":0.63,"ts":"2026-11-22T10:00:00.123Z"}`)

// BenchmarkDecodeVehicle is the per-message decoding cost of a full position report.
func BenchmarkDecodeVehicle(b *testing.B) {
	rec := Record{Kind: KindVehicles, Key: []byte("blue-07"), Value: benchVehicle, Time: time.Now()}
	b.SetBytes(int64(len(benchVehicle)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(rec); err != nil {
			b.Fatal(err)
		}
	}
}

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

// BenchmarkDecodeVehicleMapped is the cost of --field paths: each mapped
// field is looked up from the top of the message.
func BenchmarkDecodeVehicleMapped(b *testing.B) {
	value := []byte(`{"payload":{"unit":{"code":"blue-07"},"route":"blue"},"pos":{"y":41.8781,"x":-87.6298},"heading":90,"speed_kmh":32.5,"status":"in_transit","ts":"2026-11-22T10:00:00.123Z"}`)
	fields, err := ParseFieldMap([]string{"vehicle_id=payload.unit.code", "line=payload.route", "lat=pos.y", "lon=pos.x"})
	if err != nil {
		b.Fatal(err)
	}
	d := Decoder{Fields: fields}
	rec := Record{Kind: KindVehicles, Value: value, Time: time.Now()}
	b.SetBytes(int64(len(value)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Decode(rec); err != nil {
			b.Fatal(err)
		}
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
				f.SnapshotUnsorted()
			}
		})
		b.Run("copy+sort/vehicles="+strconv.Itoa(n), func(b *testing.B) {
			for b.Loop() {
				f.Snapshot()
			}
		})
	}
}

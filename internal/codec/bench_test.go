package codec

import (
	"testing"
	"time"

	"github.com/fleetwatch/fleetwatch/internal/model"
)

var benchVehicle = []byte(`{"vehicle_id":"blue-07","line":"blue","lat":41.8781,"lon":-87.6298,"heading":90,"speed_kmh":32.5,"status":"in_transit","stop_id":"clark-lake","delay_s":45,"occupancy":0.63,"ts":"2026-11-22T10:00:00.123Z"}`)

// BenchmarkDecodeVehicle is the per-message decoding cost of a full position report.
func BenchmarkDecodeVehicle(b *testing.B) {
	rec := model.Record{Kind: model.KindVehicles, Key: []byte("blue-07"), Value: benchVehicle, Time: time.Now()}
	b.SetBytes(int64(len(benchVehicle)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(rec); err != nil {
			b.Fatal(err)
		}
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
	rec := model.Record{Kind: model.KindVehicles, Value: value, Time: time.Now()}
	b.SetBytes(int64(len(value)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Decode(rec); err != nil {
			b.Fatal(err)
		}
	}
}

package ingest

import (
	"fmt"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/fleetwatch/fleetwatch/internal/alert"
	"github.com/fleetwatch/fleetwatch/internal/model"
)

// BenchmarkMemoryPerVehicle measures the heap the state keeps per tracked
// vehicle (issue 8's target: under 300 bytes at 1 000 000 vehicles). Each
// vehicle sends two full reports through the real decode path, as a live
// feed would: the state must not keep both.
func BenchmarkMemoryPerVehicle(b *testing.B) {
	for _, alerts := range []bool{false, true} {
		for _, n := range []int{10_000, 100_000, 1_000_000} {
			b.Run(fmt.Sprintf("alerts=%t/vehicles=%d", alerts, n), func(b *testing.B) {
				for range b.N {
					perVehicle := measureStore(n, alerts)
					b.ReportMetric(perVehicle, "B/vehicle")
				}
			})
		}
	}
}

// measureStore is the heap per vehicle of a store of n vehicles; with
// alerts, the live screen's detector (default thresholds) judges them too.
func measureStore(n int, alerts bool) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var o Options
	if alerts {
		cfg := alert.DefaultConfig()
		o.Alerts = &cfg
	}
	s := NewStore(o)
	batch := make([]model.Record, 0, 512)
	ts := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	for round := range 2 {
		for i := range n {
			id := "veh-" + strconv.Itoa(i)
			line := "line-" + strconv.Itoa(i%20)
			v := fmt.Sprintf(`{"vehicle_id":%q,"line":%q,"lat":41.%06d,"lon":-87.%06d,"heading":90,"speed_kmh":32.5,"status":"in_transit","stop_id":"stop-%d","delay_s":45,"occupancy":0.63,"ts":%d}`,
				id, line, i%1000000, (i*7)%1000000, i%500, ts.Unix()+int64(round))
			batch = append(batch, model.Record{Kind: model.KindVehicles, Key: []byte(id), Value: []byte(v), Time: ts})
			if len(batch) == cap(batch) {
				s.Handle(batch)
				batch = batch[:0]
			}
		}
	}
	s.Handle(batch)
	runtime.GC()
	runtime.ReadMemStats(&after)
	if got := s.Snapshot(ts).Vehicles.Len(); got != n {
		panic(fmt.Sprintf("%d vehicles tracked, want %d", got, n))
	}
	runtime.KeepAlive(s)
	return float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
}

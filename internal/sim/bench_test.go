package sim

import (
	"testing"
	"time"

	"github.com/fleetwatch/fleetwatch/internal/model"
	"github.com/fleetwatch/fleetwatch/internal/network"
)

type countSink struct{ n, bytes int }

func (c *countSink) Send(_ model.Kind, _ string, v []byte) { c.n++; c.bytes += len(v) }

// BenchmarkStep measures the simulator alone (movement and JSON encoding)
// for 10 000 vehicles; events/s is what one core can generate.
func BenchmarkStep(b *testing.B) {
	s, err := New(Config{Network: network.Default(), Vehicles: 10000, Seed: 1,
		Start: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)})
	if err != nil {
		b.Fatal(err)
	}
	sink := &countSink{}
	s.Step(sink)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		s.Step(sink)
	}
	b.ReportMetric(float64(sink.n)/time.Since(start).Seconds(), "events/s")
}

package alert

import (
	"runtime"
	"testing"
	"time"

	"github.com/fleetwatch/fleetwatch/internal/codec"
	"github.com/fleetwatch/fleetwatch/internal/model"
	"github.com/fleetwatch/fleetwatch/internal/network"
	"github.com/fleetwatch/fleetwatch/internal/sim"
)

// recordSink keeps the simulator's records.
type recordSink struct{ recs []model.Record }

func (r *recordSink) Send(kind model.Kind, key string, value []byte) {
	r.recs = append(r.recs, model.Record{Kind: kind, Key: []byte(key), Value: append([]byte(nil), value...)})
}

// eachSecond runs fn on every second of a 10 000-vehicle fleet on the demo
// network, after a minute to settle: its records and their events, fresh
// each time (a benchmark replaying one minute would soon time only the
// refusal of reports older than those judged). Generating and decoding
// them is not timed, nor is collecting their garbage; fn's ns per record
// and per event are reported.
func eachSecond(b *testing.B, fn func(recs []model.Record, evs []model.Event)) {
	s, err := sim.New(sim.Config{Network: network.Default(), Vehicles: 10000, Seed: 1,
		Start: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)})
	if err != nil {
		b.Fatal(err)
	}
	for range 600 {
		s.Step(&recordSink{})
	}
	var dec codec.Decoder
	var evs []model.Event
	records, events := 0, 0
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		sink := &recordSink{}
		for range 10 {
			s.Step(sink)
		}
		evs = evs[:0]
		for _, r := range sink.recs {
			evs, _ = dec.DecodeAll(r, evs)
		}
		records, events = records+len(sink.recs), events+len(evs)
		runtime.GC() // the garbage of generating is not fn's to collect
		b.StartTimer()
		fn(sink.recs, evs)
	}
	b.StopTimer()
	ns := float64(b.Elapsed().Nanoseconds())
	b.ReportMetric(ns/float64(records), "ns/record")
	b.ReportMetric(ns/float64(events), "ns/event")
}

// BenchmarkDetectorApply is the detector's cost per event, positions of
// 10 000 vehicles every second and their arrivals, with a tick per second:
// what it adds to each record read.
func BenchmarkDetectorApply(b *testing.B) {
	det := New(DefaultConfig(), network.Default())
	eachSecond(b, func(_ []model.Record, evs []model.Event) {
		var latest time.Time
		for _, ev := range evs {
			det.Apply(ev)
			if p, ok := ev.(model.VehiclePosition); ok && p.TS.After(latest) {
				latest = p.TS
			}
		}
		det.Tick(latest)
	})
}

// BenchmarkIngest compares reading records into the fleet state (decode
// and fold, what the live screen does with each) without and with alert
// detection, ticked every second of data: the cost the issue bounds at
// 10 %.
func BenchmarkIngest(b *testing.B) {
	for _, alerts := range []bool{false, true} {
		name := "state"
		if alerts {
			name = "state+alerts"
		}
		b.Run(name, func(b *testing.B) {
			var dec codec.Decoder
			fleet := model.NewFleet()
			det := New(DefaultConfig(), network.Default())
			var evs []model.Event
			eachSecond(b, func(recs []model.Record, _ []model.Event) {
				var latest time.Time
				for _, r := range recs {
					evs, _ = dec.DecodeAll(r, evs[:0])
					for _, ev := range evs {
						fleet.Apply(ev)
						if alerts {
							det.Apply(ev)
							if p, ok := ev.(model.VehiclePosition); ok && p.TS.After(latest) {
								latest = p.TS
							}
						}
					}
				}
				if alerts {
					det.Tick(latest)
				}
			})
		})
	}
}

// BenchmarkDetectorTick is one tick (a second of the data's clock) over a
// fleet of 10 000 vehicles: the stale, feed and headway judgements.
func BenchmarkDetectorTick(b *testing.B) {
	det := New(DefaultConfig(), network.Default())
	var latest time.Time
	eachSecond(&testing.B{N: 1}, func(_ []model.Record, evs []model.Event) {
		for _, ev := range evs {
			det.Apply(ev)
			if p, ok := ev.(model.VehiclePosition); ok && p.TS.After(latest) {
				latest = p.TS
			}
		}
	})
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		det.Tick(latest)
	}
}

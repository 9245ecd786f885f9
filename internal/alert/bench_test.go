package alert

import (
	"runtime"
	"slices"
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
// them is not timed, nor is collecting their garbage. It returns how many
// records and events fn was given.
func eachSecond(b *testing.B, fn func(recs []model.Record, evs []model.Event)) (records, events int) {
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
	return records, events
}

// BenchmarkDetectorApply is the detector's cost per event, positions of
// 10 000 vehicles every second and their arrivals, with a tick per second:
// what it adds to each record read.
func BenchmarkDetectorApply(b *testing.B) {
	det := New(DefaultConfig(), network.Default())
	_, events := eachSecond(b, func(_ []model.Record, evs []model.Event) {
		var latest time.Time
		for _, ev := range evs {
			det.Apply(ev)
			if p, ok := ev.(model.VehiclePosition); ok && p.TS.After(latest) {
				latest = p.TS
			}
		}
		det.Tick(latest)
	})
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(events), "ns/event")
}

// BenchmarkIngest compares reading records into the fleet state (decode
// and fold, what the live screen does with each) without and with alert
// detection, record by record, ticked every second of data: the cost the
// issue bounds at 10 %. BenchmarkStoreHandle measures the same through
// the live screen's store.
func BenchmarkIngest(b *testing.B) {
	var dec codec.Decoder
	var evs []model.Event
	plain, judged := model.NewFleet(), model.NewFleet()
	det := New(DefaultConfig(), network.Default())
	paired(b, nil, func(batches [][]model.Record, with bool) {
		fleet := plain
		if with {
			fleet = judged
		}
		var latest time.Time
		for _, r := range batches[0] {
			evs, _ = dec.DecodeAll(r, evs[:0])
			for _, ev := range evs {
				fleet.Apply(ev)
				if with {
					det.Apply(ev)
					if p, ok := ev.(model.VehiclePosition); ok && p.TS.After(latest) {
						latest = p.TS
					}
				}
			}
		}
		if with {
			det.Tick(latest)
		}
	})
}

// paired times read on every second of data (eachSecond) both ways,
// without and with detection, into two states kept side by side, in turn
// first: on a machine shared with other work, two benchmarks run one after
// the other meet different loads, and the difference between them is then
// mostly the load's. Each way is timed in CPU time of the process
// (cpuTime), which other processes do not inflate, after a collection of
// the garbage before. The second's records are read as split makes them
// into batches, untimed (nil: one batch). It reports state-ns/record and
// alerts-ns/record, and detect-%, the median over the seconds of what
// detection added as a percentage of the second's reading without: a
// second read while the machine's other work thrashed the caches skews a
// mean, not the median. ns/op is the wall time of both ways.
func paired(b *testing.B, split func([]model.Record) [][]model.Record, read func(batches [][]model.Record, with bool)) {
	var total [2]time.Duration // without, with detection
	var added []float64
	records, _ := eachSecond(b, func(recs []model.Record, _ []model.Event) {
		b.StopTimer()
		batches := [][]model.Record{recs}
		if split != nil {
			batches = split(recs)
		}
		var took [2]time.Duration
		for i := range 2 {
			with := (len(added) + i) % 2
			runtime.GC()
			b.StartTimer()
			c0 := cpuTime()
			read(batches, with == 1)
			took[with] = cpuTime() - c0
			b.StopTimer()
		}
		total[0], total[1] = total[0]+took[0], total[1]+took[1]
		added = append(added, 100*float64(took[1]-took[0])/float64(took[0]))
		b.StartTimer()
	})
	slices.Sort(added)
	b.ReportMetric(float64(total[0].Nanoseconds())/float64(records), "state-ns/record")
	b.ReportMetric(float64(total[1].Nanoseconds())/float64(records), "alerts-ns/record")
	b.ReportMetric(added[len(added)/2], "detect-%")
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

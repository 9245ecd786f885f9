package history

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/fleetwatch/fleetwatch/internal/model"
)

const benchBatch = 5000

// positionBatch is the n-th batch of a fleet of 10 000 vehicles reporting
// in turn, every field given, as fleetsim's are.
func positionBatch(partition int32, n int) Batch {
	var b Batch
	b.Positions = make([]Position, 0, benchBatch)
	start := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	for i := range benchBatch {
		k := n*benchBatch + i
		ts := start.Add(time.Duration(k) * 100 * time.Microsecond)
		b.Add(model.Record{Kind: model.KindVehicles, Topic: topicV, Partition: partition, Offset: int64(k), Time: ts},
			[]model.Event{model.VehiclePosition{
				VehicleID: fmt.Sprintf("bus-%05d", k%10000), Line: fmt.Sprintf("line-%02d", k%40),
				Lat: 41.8 + float64(k%1000)/1e4, Lon: -87.6 - float64(k%777)/1e4, Heading: float64(k % 360),
				SpeedKmh: float64(k % 60), Status: model.StatusInTransit, StopID: fmt.Sprintf("stop-%04d", k%2000),
				DelayS: float64(k%300 - 60), Occupancy: float64(k%100) / 100, TS: ts, Has: allFields,
			}}, nil)
	}
	return b
}

// BenchmarkWrite records batches of 5 000 positions, one transaction each
// (COPY, offsets, commit), from one recorder: the figure is positions/s.
func BenchmarkWrite(b *testing.B) {
	s := openTest(b)
	ctx := context.Background()
	n := 0
	for b.Loop() {
		b.StopTimer()
		batch := positionBatch(0, n)
		n++
		b.StartTimer()
		if err := s.Write(ctx, group, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*benchBatch)/b.Elapsed().Seconds(), "positions/s")
}

// BenchmarkWriteParallel is two recorders of two partitions writing at
// once, as a consumer group on this two-core machine would.
func BenchmarkWriteParallel(b *testing.B) {
	s := openTest(b)
	ctx := context.Background()
	const writers = 2
	n := 0
	for b.Loop() {
		b.StopTimer()
		batches := make([]Batch, writers)
		for w := range batches {
			batches[w] = positionBatch(int32(w), n)
		}
		n++
		b.StartTimer()
		var wg sync.WaitGroup
		errs := make([]error, writers)
		for w := range batches {
			wg.Go(func() { errs[w] = s.Write(ctx, group, batches[w]) })
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(n*writers*benchBatch)/b.Elapsed().Seconds(), "positions/s")
}

// fillFleet stores seconds of history of a fleet of 10 000 vehicles, each
// reporting once a second (fleetsim's tick), straight from SQL: Write
// would take longer to fill it than the benchmarks take to read it.
func fillFleet(b *testing.B, s *Store, start time.Time, seconds int) {
	b.Helper()
	ctx := context.Background()
	if err := s.ensurePartitions(ctx, []Position{{VehiclePosition: model.VehiclePosition{TS: start}}}); err != nil {
		b.Fatal(err)
	}
	_, err := s.pool.Exec(ctx, `
		INSERT INTO vehicle_positions (topic, partition, "offset", idx, ts, vehicle_id, line, lat, lon, speed_kmh,
			heading, status, stop_id, delay_s, occupancy)
		SELECT 'fleet.vehicles', v % 6, sec * 10000 + v, 0, $1::timestamptz + make_interval(secs => sec + v / 10000.0),
			format('bus-%s', lpad(v::text, 5, '0')), format('line-%s', v % 40), 41.8 + (v % 1000) / 1e4,
			-87.6 - ((v + sec) % 777) / 1e4, (v + sec) % 60, (v * 7 + sec) % 360, 'IN_TRANSIT_TO',
			format('stop-%s', (v + sec / 30) % 2000), (v % 300) - 60, (v % 100) / 100.0
		FROM generate_series(0, $2::int - 1) sec, generate_series(0, 9999) v`, start, seconds)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, `ANALYZE vehicle_positions`); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkEvents reads one minute of a 10 000-vehicle fleet's history,
// 600 000 positions in time order, as the replay player loads a chunk.
// Replaying that fleet at 10× needs 100 000 events/s; the x_realtime
// metric is how many times faster than real time the reads go.
func BenchmarkEvents(b *testing.B) {
	s := openTest(b)
	start := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	fillFleet(b, s, start, 120)
	ctx := context.Background()
	from := start.Add(30 * time.Second)
	var n int64
	for b.Loop() {
		err := s.Events(ctx, from, from.Add(time.Minute), func(model.Event) error {
			n++
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	rate := float64(n) / b.Elapsed().Seconds()
	b.ReportMetric(rate, "events/s")
	b.ReportMetric(rate/10000, "x_realtime")
}

// BenchmarkFleetAt is a replay's seek and `snapshot --at`: each of 10 000
// vehicles' last report before a moment, two minutes of history stored.
func BenchmarkFleetAt(b *testing.B) {
	s := openTest(b)
	start := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	fillFleet(b, s, start, 120)
	ctx := context.Background()
	for b.Loop() {
		fleet, err := s.FleetAt(ctx, start.Add(90*time.Second), 10*time.Minute)
		if err != nil {
			b.Fatal(err)
		}
		if len(fleet) != 10000 {
			b.Fatalf("%d vehicles", len(fleet))
		}
	}
}

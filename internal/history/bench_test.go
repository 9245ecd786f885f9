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

package cli

import (
	"bufio"
	"io"
	"testing"
	"time"

	"github.com/fleetwatch/fleetwatch/internal/kafka"
	"github.com/fleetwatch/fleetwatch/internal/model"
	"github.com/fleetwatch/fleetwatch/internal/network"
	"github.com/fleetwatch/fleetwatch/internal/sim"
)

var benchTopics = map[model.Kind]string{model.KindVehicles: "fleet.vehicles", model.KindStations: "fleet.stations", model.KindWeather: "fleet.weather"}

func benchSim(b *testing.B) *sim.Sim {
	s, err := sim.New(sim.Config{Network: network.Default(), Vehicles: 10000, Seed: 1,
		Start: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

func reportRate(b *testing.B, start time.Time, produced [3]int64) {
	total := produced[0] + produced[1] + produced[2]
	b.ReportMetric(float64(total)/time.Since(start).Seconds(), "events/s")
}

// BenchmarkOutputJSONL is `fleetsim --output jsonl --speedup max` with
// 10 000 vehicles, writing to a discarding writer.
func BenchmarkOutputJSONL(b *testing.B) {
	s := benchSim(b)
	sink := &jsonlSink{w: bufio.NewWriterSize(io.Discard, 1<<16), topics: benchTopics}
	start := time.Now()
	for b.Loop() {
		s.Step(sink)
	}
	sink.w.Flush()
	produced, _ := sink.Produced()
	reportRate(b, start, produced)
}

// BenchmarkOutputKafka is `fleetsim --speedup max` with 10 000 vehicles
// producing through sarama (lz4, acks=all) to an embedded broker in the
// same process, so broker and producer share the two cores.
func BenchmarkOutputKafka(b *testing.B) {
	broker, err := kafka.StartEmbedded("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer broker.Close()
	opts := kafka.Options{Brokers: []string{broker.Addr()}}
	if err := kafka.EnsureTopics(opts, []string{"fleet.vehicles", "fleet.stations", "fleet.weather"}, 6, 1); err != nil {
		b.Fatal(err)
	}
	p, err := kafka.NewProducer(opts, benchTopics)
	if err != nil {
		b.Fatal(err)
	}
	s := benchSim(b)
	start := time.Now()
	for b.Loop() {
		s.Step(p)
	}
	if err := p.Close(); err != nil {
		b.Fatal(err)
	}
	produced, _ := p.Produced()
	reportRate(b, start, produced)
}

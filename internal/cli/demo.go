package cli

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/fleetwatch/fleetwatch/internal/kafka"
	"github.com/fleetwatch/fleetwatch/internal/model"
	"github.com/fleetwatch/fleetwatch/internal/network"
	"github.com/fleetwatch/fleetwatch/internal/sim"
)

// demo is an embedded broker with the simulator producing to it through
// sarama: the same path as production data, in one process.
type demo struct {
	broker   *kafka.Embedded
	producer *kafka.Producer
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

// startDemo starts the broker on a free loopback port, creates the topics
// (so a watcher finds them at once) and starts the simulator.
// demoRoamers is how many free-roaming drivers the demo adds to the lines.
const demoRoamers = 12

func startDemo(net *network.Network, topics map[model.Kind]string, speedup float64) (*demo, error) {
	broker, err := kafka.StartEmbedded("127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	opts := kafka.Options{Brokers: []string{broker.Addr()}, ClientID: "fleetsim-demo"}
	names := []string{topics[model.KindVehicles], topics[model.KindStations], topics[model.KindWeather]}
	if err := kafka.EnsureTopics(opts, names, kafka.DefaultPartitions, 1); err != nil {
		broker.Close()
		return nil, fmt.Errorf("demo: %w", err)
	}
	producer, err := kafka.NewProducer(opts, topics)
	if err != nil {
		broker.Close()
		return nil, fmt.Errorf("demo: %w", err)
	}
	// A few drivers without a line show the zone table and density view,
	// and the default incidents give the alerts something to find.
	incidents, err := sim.ParseIncidents("default")
	if err != nil {
		producer.Close()
		broker.Close()
		return nil, fmt.Errorf("demo: %w", err)
	}
	s, err := sim.New(sim.Config{Network: net, Speedup: speedup, Start: time.Now(), Seed: uint64(time.Now().UnixNano()),
		Roam: demoRoamers, Incidents: incidents})
	if err != nil {
		producer.Close()
		broker.Close()
		return nil, fmt.Errorf("demo: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	d := &demo{broker: broker, producer: producer, cancel: cancel}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		s.Run(ctx, producer)
	}()
	return d, nil
}

// Addr is the embedded broker's address.
func (d *demo) Addr() string { return d.broker.Addr() }

// Stop ends the simulator, flushes the producer and stops the broker.
func (d *demo) Stop() {
	d.cancel()
	d.wg.Wait()
	d.producer.Close()
	d.broker.Close()
}

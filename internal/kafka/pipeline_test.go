package kafka_test

import (
	"context"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/fleetwatch/fleetwatch/internal/ingest"
	"github.com/fleetwatch/fleetwatch/internal/kafka"
	"github.com/fleetwatch/fleetwatch/internal/model"
	"github.com/fleetwatch/fleetwatch/internal/network"
	"github.com/fleetwatch/fleetwatch/internal/sim"
)

var topics = map[model.Kind]string{
	model.KindVehicles: "fleet.vehicles",
	model.KindStations: "fleet.stations",
	model.KindWeather:  "fleet.weather",
}

func topicList() []kafka.Topic {
	return []kafka.Topic{{Name: topics[model.KindVehicles], Kind: model.KindVehicles},
		{Name: topics[model.KindStations], Kind: model.KindStations}, {Name: topics[model.KindWeather], Kind: model.KindWeather}}
}

// The whole path of the demo: simulator → sarama producer → embedded broker
// → sarama consumer → decoder → fleet state. The consumer starts before the
// topics exist, so it must find them when the producer creates them.
func TestPipelineEndToEnd(t *testing.T) {
	broker, err := kafka.StartEmbedded("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()
	opts := kafka.Options{Brokers: []string{broker.Addr()}}

	store := ingest.NewStore(ingest.Options{})
	consumer := kafka.NewConsumer(kafka.ConsumerConfig{Options: opts, Topics: topicList(),
		Start: kafka.Start{Mode: kafka.StartLatest}, Retry: true, Rediscover: 100 * time.Millisecond, Handler: store.Handle})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- consumer.Run(ctx) }()
	defer func() { cancel(); <-done }()
	waitFor(t, "consumer ready", func() bool { return consumer.Status().Ready })

	net := network.Default()
	s, err := sim.New(sim.Config{Network: net, Start: time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC),
		Duration: 10 * time.Minute, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	producer, err := kafka.NewProducer(opts, topics)
	if err != nil {
		t.Fatal(err)
	}
	s.Run(context.Background(), producer)
	if err := producer.Close(); err != nil {
		t.Fatalf("producer close: %v", err)
	}
	produced, failed := producer.Produced()
	if failed != 0 {
		t.Fatalf("%d records failed: %s", failed, producer.LastError())
	}
	for _, k := range model.Kinds {
		if produced[k] == 0 {
			t.Fatalf("simulator produced no %s records", k)
		}
	}

	deadline := time.Now().Add(30 * time.Second)
	var snap model.Snapshot
	for {
		snap = store.Snapshot(time.Now())
		if snap.Counters.Consumed == produced || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if snap.Counters.Consumed != produced {
		t.Fatalf("consumed %v, produced %v", snap.Counters.Consumed, produced)
	}
	if snap.Counters.Rejected != [3]int64{} {
		t.Fatalf("rejected %v (last: %s)", snap.Counters.Rejected, store.LastReject())
	}

	have := map[string]bool{}
	for _, v := range snap.Vehicles.Rows() {
		have[v.VehicleID] = true
	}
	for _, id := range s.VehicleIDs() {
		if !have[id] {
			t.Errorf("vehicle %s missing from the state", id)
		}
	}
	if snap.Vehicles.Len() != len(s.VehicleIDs()) {
		t.Errorf("state has %d vehicles, simulator %d", snap.Vehicles.Len(), len(s.VehicleIDs()))
	}
	named := map[string]string{}
	for _, st := range snap.Stations {
		named[st.StationID] = st.Name
	}
	for _, st := range net.Stations {
		if named[st.ID] != st.Name {
			t.Errorf("station %s: name %q in state, want %q", st.ID, named[st.ID], st.Name)
		}
	}
	areas := map[string]bool{}
	for _, w := range snap.Weather {
		areas[w.Area] = true
	}
	for _, a := range s.AreaIDs() {
		if !areas[a] {
			t.Errorf("weather area %s missing", a)
		}
	}
	if st := consumer.Status(); !st.Connected || st.Topics != 3 || st.Partitions != 3*kafka.DefaultPartitions || st.Lag != [3]int64{} {
		t.Errorf("consumer status %+v", st)
	}
}

// Catch-up mode reads what a topic held at start, then returns by itself.
func TestConsumerUntilCaughtUp(t *testing.T) {
	broker, err := kafka.StartEmbedded("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()
	opts := kafka.Options{Brokers: []string{broker.Addr()}}
	if err := kafka.EnsureTopics(opts, []string{"fleet.vehicles", "fleet.weather"}, 3, 1); err != nil {
		t.Fatal(err)
	}
	producer, err := kafka.NewProducer(opts, topics)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		producer.Send(model.KindVehicles, "v"+string(rune('a'+i%26)), []byte(`{"vehicle_id":"v","lat":1,"lon":2}`))
	}
	producer.Send(model.KindVehicles, "bad", []byte(`{"lat":1}`))
	if err := producer.Close(); err != nil {
		t.Fatal(err)
	}
	store := ingest.NewStore(ingest.Options{})
	consumer := kafka.NewConsumer(kafka.ConsumerConfig{Options: opts, Topics: topicList(),
		Start: kafka.Start{Mode: kafka.StartEarliest}, UntilCaughtUp: true, Handler: store.Handle})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := consumer.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if ctx.Err() != nil {
		t.Fatal("catch-up read did not finish by itself")
	}
	c := store.Snapshot(time.Now()).Counters
	if c.Consumed[model.KindVehicles] != 51 || c.Rejected[model.KindVehicles] != 1 {
		t.Fatalf("counters %+v", c)
	}
	if store.LastReject() == "" {
		t.Fatal("no reason kept for the rejected record")
	}
}

func TestConsumerUnreachable(t *testing.T) {
	consumer := kafka.NewConsumer(kafka.ConsumerConfig{Options: kafka.Options{Brokers: []string{"127.0.0.1:1"}},
		Topics: topicList(), Handler: func([]model.Record) {}})
	err := consumer.Run(context.Background())
	if err == nil {
		t.Fatal("no error for an unreachable broker")
	}
	if st := consumer.Status(); st.Connected || st.Err == "" {
		t.Fatalf("status %+v", st)
	}
}

// waitFor polls cond until it holds, failing the test after 20 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A re: pattern reads every matching topic, also one created while running,
// and nothing else.
func TestConsumerTopicPattern(t *testing.T) {
	broker, err := kafka.StartEmbedded("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()
	opts := kafka.Options{Brokers: []string{broker.Addr()}}
	if err := kafka.EnsureTopics(opts, []string{"city.a.vehicles", "other.vehicles"}, 2, 1); err != nil {
		t.Fatal(err)
	}
	send := func(topic string, n int) {
		p, err := kafka.NewProducer(opts, map[model.Kind]string{model.KindVehicles: topic})
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			p.Send(model.KindVehicles, topic, []byte(`{"vehicle_id":"`+topic+string(rune('a'+i))+`","lat":1,"lon":2}`))
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
	}
	send("city.a.vehicles", 3)
	send("other.vehicles", 5)
	pattern, err := kafka.ParseTopic(`re:^city\..*\.vehicles$`, model.KindVehicles)
	if err != nil {
		t.Fatal(err)
	}
	store := ingest.NewStore(ingest.Options{})
	consumer := kafka.NewConsumer(kafka.ConsumerConfig{Options: opts, Topics: []kafka.Topic{pattern},
		Start: kafka.Start{Mode: kafka.StartEarliest}, Retry: true, Rediscover: 100 * time.Millisecond, Handler: store.Handle})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- consumer.Run(ctx) }()
	defer func() { cancel(); <-done }()
	waitFor(t, "the first matching topic", func() bool { return store.Snapshot(time.Now()).Vehicles.Len() == 3 })
	if err := kafka.EnsureTopics(opts, []string{"city.b.vehicles"}, 2, 1); err != nil {
		t.Fatal(err)
	}
	send("city.b.vehicles", 4)
	waitFor(t, "the topic created later", func() bool { return store.Snapshot(time.Now()).Vehicles.Len() == 7 })
	if st := consumer.Status(); st.Topics != 2 {
		t.Errorf("status %+v: want 2 topics", st)
	}
	if c := store.Snapshot(time.Now()).Counters.Consumed[model.KindVehicles]; c != 7 {
		t.Errorf("consumed %d, want 7 (other.vehicles must not be read)", c)
	}
	if _, err := kafka.ParseTopic("re:([", model.KindVehicles); err == nil {
		t.Error("bad pattern accepted")
	}
}

// A topic deleted and created again while being read: the readers whose
// offsets no longer exist start over, and records of the new topic arrive.
func TestConsumerSurvivesTopicRecreated(t *testing.T) {
	broker, err := kafka.StartEmbedded("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()
	opts := kafka.Options{Brokers: []string{broker.Addr()}}
	const topic = "recreated.vehicles"
	if err := kafka.EnsureTopics(opts, []string{topic}, 1, 1); err != nil {
		t.Fatal(err)
	}
	send := func(ids ...string) {
		p, err := kafka.NewProducer(opts, map[model.Kind]string{model.KindVehicles: topic})
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			p.Send(model.KindVehicles, id, []byte(`{"vehicle_id":"`+id+`","lat":1,"lon":2}`))
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
	}
	send("a1", "a2", "a3", "a4", "a5")
	store := ingest.NewStore(ingest.Options{})
	consumer := kafka.NewConsumer(kafka.ConsumerConfig{Options: opts,
		Topics: []kafka.Topic{{Name: topic, Kind: model.KindVehicles}},
		Start:  kafka.Start{Mode: kafka.StartEarliest}, Retry: true, Rediscover: 100 * time.Millisecond, Handler: store.Handle})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- consumer.Run(ctx) }()
	defer func() { cancel(); <-done }()
	consumed := func() int64 { return store.Snapshot(time.Now()).Counters.Consumed[model.KindVehicles] }
	waitFor(t, "the first five records", func() bool { return consumed() == 5 })

	admin, err := sarama.NewClusterAdmin(opts.Brokers, sarama.NewConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if err := admin.DeleteTopic(topic); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the topic to be gone", func() bool {
		list, err := admin.ListTopics()
		_, there := list[topic]
		return err == nil && !there
	})
	if err := kafka.EnsureTopics(opts, []string{topic}, 1, 1); err != nil {
		t.Fatal(err)
	}
	send("b1", "b2")
	waitFor(t, "the records of the new topic", func() bool { return consumed() == 7 })
	seen := map[string]bool{}
	for _, v := range store.Snapshot(time.Now()).Vehicles.Rows() {
		seen[v.VehicleID] = true
	}
	if !seen["b1"] || !seen["b2"] {
		t.Errorf("vehicles of the new topic missing: have %v", seen)
	}
}

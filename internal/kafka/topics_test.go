package kafka_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/fleetwatch/fleetwatch/internal/kafka"
	"github.com/fleetwatch/fleetwatch/internal/model"
	"github.com/fleetwatch/fleetwatch/internal/testutil"
)

func TestSuggestTopics(t *testing.T) {
	existing := []string{"busData", "bus_data", "BusDatum", "weather", "__consumer_offsets", "_schemas",
		"fleet.bus1", "fleet.bus2", "fleet.bus3", "fleet.bus4", "fleet-bus", "ab", "xy",
		"org.example.busData", "org.example.city.weather", "org.example.vehicles_positions"}
	for _, tc := range []struct {
		name string
		want []string
	}{
		// bus_data differs from busDta by more than case and punctuation:
		// 2 edits, after busData (1 edit); BusDatum is 3 edits away.
		{"busDta", []string{"busData", "bus_data"}},
		{"BUSDATA", []string{"busData", "bus_data", "BusDatum"}}, // case and punctuation only come first
		{"fleet.bus", []string{"fleet-bus", "fleet.bus1", "fleet.bus2"}},
		{"consumer_offsets", nil}, // internal topics are never offered
		{"schemas", nil},
		{"wether", []string{"weather"}},
		{"vehicles", nil},
		{"ab", nil}, // "xy" is 2 edits away, but that is all of it
		// A shared namespace does not make a long name's limit wider.
		{"org.example.busDta", []string{"org.example.busData"}},
		{"org.example.vehicels_positons", []string{"org.example.vehicles_positions"}}, // 3 edits in 11 differing characters
		{"abc", []string{"ab"}},
	} {
		if got := kafka.SuggestTopics(tc.name, existing); !slices.Equal(got, tc.want) {
			t.Errorf("SuggestTopics(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestMissingTopicString(t *testing.T) {
	for _, tc := range []struct {
		suggest []string
		want    string
	}{
		{nil, "busDta not found"},
		{[]string{"busData"}, "busDta not found; did you mean busData?"},
		{[]string{"busData", "bus_data"}, "busDta not found; did you mean busData or bus_data?"},
		{[]string{"a", "b", "c"}, "busDta not found; did you mean a, b or c?"},
	} {
		m := kafka.MissingTopic{Kind: model.KindVehicles, Name: "busDta", Suggest: tc.suggest}
		if got := m.String(); got != tc.want {
			t.Errorf("%q, want %q", got, tc.want)
		}
	}
}

// waitMissing polls the consumer's status until its Missing list is as wanted.
func waitMissing(t *testing.T, c *kafka.Consumer, want []kafka.MissingTopic) {
	t.Helper()
	same := func(got []kafka.MissingTopic) bool {
		return slices.EqualFunc(got, want, func(a, b kafka.MissingTopic) bool {
			return a.Kind == b.Kind && a.Name == b.Name && slices.Equal(a.Suggest, b.Suggest)
		})
	}
	deadline := time.Now().Add(20 * time.Second)
	for st := c.Status(); !same(st.Missing); st = c.Status() {
		if time.Now().After(deadline) {
			t.Fatalf("status missing %+v, want %+v", st.Missing, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A named topic that does not exist is reported with the names it may be a
// typo of, stays watched, and is no longer reported once created.
func testMissingTopics(t *testing.T, addr, prefix string) {
	opts := kafka.Options{Brokers: []string{addr}}
	if err := kafka.EnsureTopics(opts, []string{prefix + "busData", prefix + "city.weather"}, 1, 1); err != nil {
		t.Fatal(err)
	}
	pattern, err := kafka.ParseTopic("re:^"+prefix+`nothing\..*`, model.KindStations)
	if err != nil {
		t.Fatal(err)
	}
	handled := make(chan int, 64)
	consumer := kafka.NewConsumer(kafka.ConsumerConfig{Options: opts,
		Topics: []kafka.Topic{{Name: prefix + "busDta", Kind: model.KindVehicles}, pattern,
			{Name: prefix + "city.weather", Kind: model.KindWeather}},
		Start: kafka.Start{Mode: kafka.StartEarliest}, Retry: true, Rediscover: 100 * time.Millisecond,
		Handler: func(b []model.Record) { handled <- len(b) }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- consumer.Run(ctx) }()
	defer func() { cancel(); <-done }()

	// A pattern that matches nothing is not a missing topic: it waits for
	// topics by design.
	waitMissing(t, consumer, []kafka.MissingTopic{{Kind: model.KindVehicles, Name: prefix + "busDta", Suggest: []string{prefix + "busData"}}})
	if st := consumer.Status(); !st.Ready || st.Topics != 1 {
		t.Errorf("status %+v: want ready with the one existing topic", st)
	}
	if err := kafka.EnsureTopics(opts, []string{prefix + "busDta"}, 1, 1); err != nil {
		t.Fatal(err)
	}
	waitMissing(t, consumer, nil)
	// Still watched: a record in the topic created late is read.
	p, err := kafka.NewProducer(opts, map[model.Kind]string{model.KindVehicles: prefix + "busDta"})
	if err != nil {
		t.Fatal(err)
	}
	p.Send(model.KindVehicles, "v1", []byte(`{"vehicle_id":"v1","lat":1,"lon":2}`))
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-handled:
	case <-time.After(20 * time.Second):
		t.Fatal("the record of the topic created later was not read")
	}
}

func TestConsumerReportsMissingTopics(t *testing.T) {
	broker, err := kafka.StartEmbedded("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()
	testMissingTopics(t, broker.Addr(), "")
}

func TestConsumerReportsMissingTopicsRealKafka(t *testing.T) {
	testMissingTopics(t, testutil.RealKafka(t), fmt.Sprintf("missing%d.", time.Now().UnixNano()))
}

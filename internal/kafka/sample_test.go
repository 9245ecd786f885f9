package kafka_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/fleetwatch/fleetwatch/internal/kafka"
	"github.com/fleetwatch/fleetwatch/internal/testutil"
)

// produceTo writes values to one partition each, in order (a nil value is a
// tombstone), with sarama directly: the test must know where each one lands.
func produceTo(t *testing.T, addr, topic string, values map[int32][]string) {
	t.Helper()
	cfg := sarama.NewConfig()
	cfg.Producer.Return.Successes = true
	cfg.Producer.Partitioner = sarama.NewManualPartitioner
	p, err := sarama.NewSyncProducer([]string{addr}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var msgs []*sarama.ProducerMessage
	for part, vs := range values {
		for _, v := range vs {
			m := &sarama.ProducerMessage{Topic: topic, Partition: part}
			if v != "" {
				m.Value = sarama.StringEncoder(v)
			}
			msgs = append(msgs, m)
		}
	}
	if err := p.SendMessages(msgs); err != nil {
		t.Fatalf("produce to %s: %v", topic, err)
	}
}

func seqs(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, strconv.Itoa(i))
	}
	return out
}

func strs(values [][]byte) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return out
}

// SampleTopics reads the newest records of every topic, about perTopic of
// them however they are spread over partitions, skips null values, and
// leaves out the topics Kafka and its companions keep for themselves.
func TestSampleTopics(t *testing.T) {
	broker, err := kafka.StartEmbedded("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()
	addr := broker.Addr()
	opts := kafka.Options{Brokers: []string{addr}}
	internal := []string{"__fleet_internal", "_schemas", "_confluent-telemetry-metrics", "connect-offsets", "connect-configs", "connect-status"}
	if err := kafka.EnsureTopics(opts, append([]string{"busData", "empty", "connect-me"}, internal...), 1, 1); err != nil {
		t.Fatal(err)
	}
	if err := kafka.EnsureTopics(opts, []string{"spread"}, 3, 1); err != nil {
		t.Fatal(err)
	}
	// 30 records, then a tombstone: the newest ten offsets hold nine values.
	produceTo(t, addr, "busData", map[int32][]string{0: append(seqs(0, 30), "")})
	// Partition 0 holds few records, so the others give more.
	produceTo(t, addr, "spread", map[int32][]string{0: seqs(0, 2), 1: seqs(100, 130), 2: seqs(200, 230)})
	produceTo(t, addr, "connect-me", map[int32][]string{0: {"x"}})
	for _, name := range internal {
		produceTo(t, addr, name, map[int32][]string{0: {"internal"}})
	}

	start := time.Now()
	got, err := kafka.SampleTopics(context.Background(), opts, 10)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 2500*time.Millisecond {
		t.Errorf("took %v: a cluster that answers is sampled without waiting for the time bound", took)
	}
	var names []string
	for name := range got {
		names = append(names, name)
	}
	slices.Sort(names)
	if want := []string{"busData", "connect-me", "empty", "spread"}; !slices.Equal(names, want) {
		t.Errorf("topics %q, want %q", names, want)
	}
	if want := seqs(21, 30); !slices.Equal(strs(got["busData"]), want) {
		t.Errorf("busData: %q, want the newest %q", strs(got["busData"]), want)
	}
	if len(got["empty"]) != 0 {
		t.Errorf("empty: %q", strs(got["empty"]))
	}
	spread := strs(got["spread"])
	if len(spread) != 10 {
		t.Errorf("spread: %d records %q, want 10", len(spread), spread)
	}
	for _, v := range spread {
		n, _ := strconv.Atoi(v)
		// Partition 0 gives its two; the rest come from the ends of 1 and 2.
		if n >= 2 && n < 126 || n >= 130 && n < 226 {
			t.Errorf("spread: %s is not among the newest of its partition (%q)", v, spread)
		}
	}
}

func TestSampleTopicsUnreachable(t *testing.T) {
	_, err := kafka.SampleTopics(context.Background(), kafka.Options{Brokers: []string{"127.0.0.1:1"}}, 10)
	if !errors.Is(err, kafka.ErrUnreachable) {
		t.Errorf("error %v, want one wrapping ErrUnreachable", err)
	}
	if _, err := kafka.SampleTopics(context.Background(), kafka.Options{Brokers: []string{"127.0.0.1:1"}}, 0); err == nil {
		t.Error("no error for 0 records a topic")
	}
}

// Against real Kafka, with the records written by kcat as another team's
// producer would, over plain text and over SASL/SCRAM (make kafka-up opens it
// on 9192 for user fleet).
func TestSampleTopicsRealKafka(t *testing.T) {
	addr := testutil.RealKafka(t)
	topic := fmt.Sprintf("sample%d.busData", time.Now().UnixNano())
	opts := kafka.Options{Brokers: []string{addr}}
	if err := kafka.EnsureTopics(opts, []string{topic}, 1, 1); err != nil {
		t.Fatal(err)
	}
	var data strings.Builder
	for i := range 25 {
		fmt.Fprintf(&data, "k%d|%d\n", i, i)
	}
	testutil.KcatProduce(t, addr, topic, data.String())
	// The cluster may hold many other tests' topics: a generous bound, so
	// that this one is read whatever else there is.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got, err := kafka.SampleTopics(ctx, opts, 5)
	if err != nil {
		t.Fatal(err)
	}
	if want := seqs(20, 25); !slices.Equal(strs(got[topic]), want) {
		t.Errorf("%s: %q, want %q", topic, strs(got[topic]), want)
	}
	for name := range got {
		if strings.HasPrefix(name, "__") {
			t.Errorf("internal topic %s sampled", name)
		}
	}

	scram := func(password string) kafka.Options {
		return kafka.Options{Brokers: []string{"127.0.0.1:9192"}, Props: map[string]string{"security.protocol": "SASL_PLAINTEXT",
			"sasl.mechanism": "SCRAM-SHA-512", "sasl.username": "fleet", "sasl.password": password}}
	}
	got, err = kafka.SampleTopics(ctx, scram("fleet-secret"), 5)
	if err != nil {
		t.Fatalf("over SCRAM: %v", err)
	}
	if want := seqs(20, 25); !slices.Equal(strs(got[topic]), want) {
		t.Errorf("over SCRAM: %s: %q, want %q", topic, strs(got[topic]), want)
	}
	if _, err := kafka.SampleTopics(ctx, scram("wrong"), 5); !errors.Is(err, kafka.ErrUnreachable) {
		t.Errorf("wrong password: error %v, want one wrapping ErrUnreachable", err)
	}
}

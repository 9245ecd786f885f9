package kafka_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/fleetwatch/fleetwatch/internal/ingest"
	"github.com/fleetwatch/fleetwatch/internal/kafka"
	"github.com/fleetwatch/fleetwatch/internal/model"
	"github.com/fleetwatch/fleetwatch/internal/testutil"
)

// The fault tests start their own real Apache Kafka (scripts/kafka-local.sh
// with a private port and directory), kill brokers with SIGKILL while
// fleetsim produces, and count what every reader gets. They take about a
// minute, so they run when FLEETWATCH_TEST_FAULTS=1 (.ci/run sets it).

// cluster is a private real Kafka cluster for one test.
type cluster struct {
	t       *testing.T
	env     []string
	brokers string
}

func startCluster(t *testing.T, nodes, port int) *cluster {
	t.Helper()
	if os.Getenv("FLEETWATCH_TEST_FAULTS") == "" {
		t.Skip("FLEETWATCH_TEST_FAULTS not set: the broker fault tests start their own Kafka (about a minute)")
	}
	testutil.Require(t, "java")
	testutil.Require(t, "mvn")
	c := &cluster{t: t, env: append(os.Environ(), "KAFKA_NODES="+strconv.Itoa(nodes), "KAFKA_PORT="+strconv.Itoa(port),
		"KAFKA_RUN="+t.TempDir(), "KAFKA_SECURE=0")}
	c.script("up")
	t.Cleanup(func() { c.script("down") })
	var addrs []string
	for n := range nodes {
		addrs = append(addrs, fmt.Sprintf("127.0.0.1:%d", port+n))
	}
	c.brokers = strings.Join(addrs, ",")
	return c
}

func (c *cluster) script(args ...string) {
	c.t.Helper()
	cmd := exec.Command(filepath.Join(testutil.RepoRoot(), "scripts", "kafka-local.sh"), args...)
	cmd.Env = c.env
	if out, err := cmd.CombinedOutput(); err != nil {
		c.t.Fatalf("kafka-local.sh %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// leader returns the node id leading a partition (node ids are 1..n).
func (c *cluster) leader(topic string, partition int32) int32 {
	c.t.Helper()
	client, err := sarama.NewClient(strings.Split(c.brokers, ","), sarama.NewConfig())
	if err != nil {
		c.t.Fatal(err)
	}
	defer client.Close()
	b, err := client.Leader(topic, partition)
	if err != nil {
		c.t.Fatalf("leader of %s/%d: %v", topic, partition, err)
	}
	return b.ID()
}

// simRun is fleetsim producing in the background.
type simRun struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer
}

func startSim(t *testing.T, args ...string) *simRun {
	t.Helper()
	s := &simRun{cmd: exec.Command(testutil.Binary(t, "./cmd/sim", "fleetsim"), args...)}
	s.cmd.Stderr = &s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.cmd.Process.Kill(); s.cmd.Wait() })
	return s
}

// wait returns fleetsim's closing summary: what it produced and what failed.
func (s *simRun) wait(t *testing.T) (produced map[string]int64, failed int64) {
	t.Helper()
	if err := s.cmd.Wait(); err != nil {
		t.Fatalf("fleetsim: %v\n%s", err, s.stderr.String())
	}
	var sum struct {
		Produced map[string]int64 `json:"produced"`
		Failed   int64            `json:"failed"`
	}
	lines := strings.Split(strings.TrimSpace(s.stderr.String()), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil {
		t.Fatalf("fleetsim summary %q: %v", s.stderr.String(), err)
	}
	return sum.Produced, sum.Failed
}

// liveReader is fleetwatch's consumer and state, as the live screen runs
// them, reading while the faults happen.
func liveReader(t *testing.T, brokers, topic string) func() int64 {
	t.Helper()
	store := ingest.NewStore(ingest.Options{})
	consumer := kafka.NewConsumer(kafka.ConsumerConfig{Options: kafka.Options{Brokers: strings.Split(brokers, ",")},
		Topics: []kafka.Topic{{Name: topic, Kind: model.KindVehicles}}, Start: kafka.Start{Mode: kafka.StartEarliest},
		Retry: true, Rediscover: 500 * time.Millisecond, Handler: store.Handle})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- consumer.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return func() int64 {
		c := store.Snapshot(time.Now()).Counters
		if c.Rejected[model.KindVehicles] != 0 {
			t.Errorf("%d records rejected", c.Rejected[model.KindVehicles])
		}
		return c.Consumed[model.KindVehicles]
	}
}

// readBack checks that kcat and `fleetwatch snapshot` each read exactly n
// vehicle records from the topic.
func readBack(t *testing.T, brokers, topic string, n int64) {
	t.Helper()
	kcat := testutil.Require(t, "kcat")
	out, err := exec.Command(kcat, "-C", "-b", brokers, "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%o\n").Output()
	if err != nil {
		t.Fatalf("kcat: %v", err)
	}
	if got := int64(strings.Count(string(out), "\n")); got != n {
		t.Errorf("kcat read %d records, fleetsim produced %d", got, n)
	}
	fw := testutil.Binary(t, "./cmd/tui", "fleetwatch")
	out, err = exec.Command(fw, "snapshot", "-b", brokers, "--vehicles-topic", topic, "--stations-topic", topic+".s",
		"--weather-topic", topic+".w", "--until-caught-up", "--json").Output()
	if err != nil {
		t.Fatalf("fleetwatch snapshot: %v", err)
	}
	var s struct {
		Stats struct {
			Consumed map[string]int64 `json:"consumed"`
		} `json:"stats"`
	}
	if err := json.Unmarshal(out, &s); err != nil {
		t.Fatal(err)
	}
	if got := s.Stats.Consumed["vehicles"]; got != n {
		t.Errorf("fleetwatch snapshot read %d records, fleetsim produced %d", got, n)
	}
}

// midStream starts a private cluster of the given size (replication as
// many as nodes), fleetsim producing to it and the live reader, and returns
// once records flow: the moment for a fault.
func midStream(t *testing.T, nodes, port int) (*cluster, *simRun, func() int64, string) {
	t.Helper()
	c := startCluster(t, nodes, port)
	prefix := fmt.Sprintf("fault%d.", nodes)
	topic := prefix + "vehicles"
	sim := startSim(t, simArgs(c.brokers, prefix, nodes)...)
	consumed := liveReader(t, c.brokers, topic)
	testutil.Eventually(t, 60*time.Second, "records flowing", func() bool { return consumed() > 1000 })
	return c, sim, consumed, topic
}

// everyRecordOnce waits for fleetsim to finish after a fault and checks
// that nothing failed, and that the live reader, kcat and `fleetwatch
// snapshot` each read exactly the vehicle records it produced.
func everyRecordOnce(t *testing.T, sim *simRun, consumed func() int64, brokers, topic string) {
	t.Helper()
	produced, failed := sim.wait(t)
	if failed != 0 {
		t.Fatalf("fleetsim: %d records failed; %s", failed, sim.stderr.String())
	}
	n := produced["vehicles"]
	if n < 10000 {
		t.Fatalf("fleetsim produced only %d vehicle records", n)
	}
	testutil.Eventually(t, 60*time.Second, fmt.Sprintf("the live reader to read %d", n), func() bool { return consumed() >= n })
	if got := consumed(); got != n {
		t.Errorf("live reader read %d, fleetsim produced %d", got, n)
	}
	readBack(t, brokers, topic, n)
}

func simArgs(brokers, prefix string, replication int) []string {
	return []string{"-b", brokers, "--vehicles-topic", prefix + "vehicles", "--stations-topic", prefix + "stations",
		"--weather-topic", prefix + "weather", "--partitions", "6", "--replication", strconv.Itoa(replication),
		"--speedup", "20", "--duration", "6m", "--vehicles", "40", "--seed", "11", "--progress", "0",
		"-X", "acks=all", "-X", "enable.idempotence=true"}
}

// Three nodes, replication 3: the leader of a partition dies (kill -9)
// while fleetsim produces with acks=all and idempotence. Nothing fails,
// nothing is lost, nothing is read twice.
func TestFaultLeaderKilled(t *testing.T) {
	c, sim, consumed, topic := midStream(t, 3, 29092)
	leader := c.leader(topic, 0)
	c.script("kill", strconv.Itoa(int(leader)))
	t.Logf("killed node %d, leader of %s/0, after %d records", leader, topic, consumed())

	everyRecordOnce(t, sim, consumed, c.brokers, topic)
}

// A single broker killed and started again mid-stream: fleetsim and the
// live reader carry on without a restart, and every record arrives once.
func TestFaultBrokerRestarted(t *testing.T) {
	c, sim, consumed, topic := midStream(t, 1, 29192)
	c.script("kill", "1")
	before := consumed()
	c.script("start", "1")
	t.Logf("broker restarted after %d records", before)

	everyRecordOnce(t, sim, consumed, c.brokers, topic)
}

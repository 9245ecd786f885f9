package kafka

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/fleetwatch/fleetwatch/internal/model"
	"github.com/fleetwatch/fleetwatch/internal/testutil"
)

// The GroupReader tests run against the embedded broker and, when
// FLEETWATCH_TEST_KAFKA names one, against a real Kafka too. The store is a
// test double of PostgreSQL (memStore): a map of records and offsets that
// checks what a real store's transaction and unique keys would.

// forGroupBrokers runs fn once per broker kind.
func forGroupBrokers(t *testing.T, fn func(t *testing.T, addr string)) {
	t.Run("embedded", func(t *testing.T) {
		b, err := StartEmbedded("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		fn(t, b.Addr())
	})
	t.Run("kafka", func(t *testing.T) { fn(t, testutil.RealKafka(t)) })
}

// grpName is a topic or group name no other test run uses, as a real
// cluster keeps them.
func grpName(t *testing.T, what string) string {
	clean := regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(t.Name(), "-")
	return fmt.Sprintf("grp.%s.%s.%s", clean, what, strconv.FormatInt(time.Now().UnixNano(), 36))
}

type grpKey struct {
	TopicPartition
	off int64
}

// grpProduce creates topic with parts partitions if needed and writes
// perPart records to each, numbered from first; it returns what each record
// must be stored as. Offsets are the record numbers: a fresh topic and one
// producer in order.
func grpProduce(t *testing.T, addr, topic string, parts, first, perPart int) map[grpKey]string {
	t.Helper()
	if err := EnsureTopics(Options{Brokers: []string{addr}}, []string{topic}, int32(parts), 1); err != nil {
		t.Fatal(err)
	}
	cfg := sarama.NewConfig()
	cfg.Producer.Return.Successes = true
	cfg.Producer.Partitioner = sarama.NewManualPartitioner
	p, err := sarama.NewSyncProducer([]string{addr}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	want := map[grpKey]string{}
	var msgs []*sarama.ProducerMessage
	for part := range int32(parts) {
		for i := first; i < first+perPart; i++ {
			v := fmt.Sprintf("%s/%d/%d", topic, part, i)
			msgs = append(msgs, &sarama.ProducerMessage{Topic: topic, Partition: part, Value: sarama.StringEncoder(v)})
			want[grpKey{TopicPartition{topic, part}, int64(i)}] = v
		}
	}
	if err := p.SendMessages(msgs); err != nil {
		t.Fatalf("produce to %s: %v", topic, err)
	}
	return want
}

// memStore stands in for PostgreSQL: records keyed by topic, partition and
// offset, the next offset of each partition, and a Write that applies a
// batch all or nothing after the check internal/history makes in its
// transaction (no stored offset past the batch's first record). What a
// real store's unique keys would refuse, and a From that does not match
// an accepted batch, are noted in bad.
type memStore struct {
	mu      sync.Mutex
	recs    map[grpKey]string
	next    map[TopicPartition]int64
	by      map[string]int // records stored per writer
	bad     []string
	failing int // fail this many writes
	// failed is, by partition, the batch that failed last, which must come
	// again before any other of the partition (writers write at once, each
	// of its own partitions).
	failed map[TopicPartition]string
	fenced int
	delay  time.Duration // each write takes this long, as a transaction would
}

func newMemStore() *memStore {
	return &memStore{recs: map[grpKey]string{}, next: map[TopicPartition]int64{}, by: map[string]int{},
		failed: map[TopicPartition]string{}}
}

func (s *memStore) resume(_ context.Context, parts []TopicPartition) (map[TopicPartition]int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[TopicPartition]int64{}
	for _, tp := range parts {
		if n, ok := s.next[tp]; ok {
			out[tp] = n
		}
	}
	return out, nil
}

func (s *memStore) writer(who string) func(context.Context, Batch) error {
	return func(_ context.Context, b Batch) error { return s.write(who, b) }
}

func batchSig(b Batch) string {
	var parts []string
	for tp, n := range b.Next {
		parts = append(parts, fmt.Sprintf("%s:%d-%d", tp, b.From[tp], n))
	}
	slices.Sort(parts)
	return fmt.Sprintf("%d %s", len(b.Records), strings.Join(parts, " "))
}

func (s *memStore) write(who string, b Batch) error {
	if s.delay > 0 {
		time.Sleep(s.delay)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sig := batchSig(b)
	for tp := range b.Next {
		if f, ok := s.failed[tp]; ok && f != sig {
			s.bad = append(s.bad, fmt.Sprintf("after a failed write of [%s] came [%s], not the same batch", f, sig))
		}
		delete(s.failed, tp)
	}
	if s.failing > 0 {
		s.failing--
		for tp := range b.Next {
			s.failed[tp] = sig
		}
		return errors.New("dial tcp 127.0.0.1:5432: connect: connection refused")
	}
	first := map[TopicPartition]int64{}
	for _, r := range b.Records {
		tp := TopicPartition{r.Topic, r.Partition}
		if _, ok := first[tp]; !ok {
			first[tp] = r.Offset
		}
	}
	for tp, off := range first {
		if cur, ok := s.next[tp]; ok && cur > off {
			s.fenced++
			return fmt.Errorf("%s: store at %d, batch from %d: %w", tp, cur, off, ErrFenced)
		}
	}
	for tp, from := range b.From {
		cur, ok := s.next[tp]
		if !ok {
			cur = NoOffset
		}
		if cur != from {
			s.bad = append(s.bad, fmt.Sprintf("%s: batch accepted with From %d, the store at %d", tp, from, cur))
		}
	}
	last := map[TopicPartition]int64{}
	for _, r := range b.Records {
		tp := TopicPartition{r.Topic, r.Partition}
		if _, ok := b.From[tp]; !ok {
			s.bad = append(s.bad, fmt.Sprintf("%s@%d: partition missing from From", tp, r.Offset))
		}
		if l, ok := last[tp]; ok && r.Offset <= l {
			s.bad = append(s.bad, fmt.Sprintf("%s: offset %d after %d", tp, r.Offset, l))
		}
		if n, ok := s.next[tp]; ok && r.Offset < n {
			s.bad = append(s.bad, fmt.Sprintf("%s@%d: below the store's offset %d", tp, r.Offset, n))
		}
		last[tp] = r.Offset
		k := grpKey{tp, r.Offset}
		if _, dup := s.recs[k]; dup {
			s.bad = append(s.bad, fmt.Sprintf("%s@%d: stored twice", tp, r.Offset))
		}
		s.recs[k] = string(r.Value)
	}
	if len(b.Next) != len(last) || len(b.From) != len(last) {
		s.bad = append(s.bad, fmt.Sprintf("batch of %d partitions with %d Next and %d From", len(last), len(b.Next), len(b.From)))
	}
	for tp, n := range b.Next {
		if n != last[tp]+1 {
			s.bad = append(s.bad, fmt.Sprintf("%s: Next %d after offset %d", tp, n, last[tp]))
		}
		s.next[tp] = n
	}
	s.by[who] += len(b.Records)
	return nil
}

func (s *memStore) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.recs)
}

func (s *memStore) countBy(who string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.by[who]
}

// check asserts that the store holds exactly want: every record once, at
// its place, and nothing else.
func (s *memStore) check(t *testing.T, want map[grpKey]string) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range s.bad {
		t.Error(b)
	}
	missing, wrong := 0, 0
	for k, v := range want {
		got, ok := s.recs[k]
		switch {
		case !ok:
			missing++
		case got != v:
			wrong++
		}
	}
	extra := 0
	for k := range s.recs {
		if _, ok := want[k]; !ok {
			extra++
		}
	}
	if missing+wrong+extra > 0 {
		t.Errorf("store has %d records, want %d: %d missing, %d different, %d unexpected", len(s.recs), len(want), missing, wrong, extra)
	}
}

// grpReader is NewGroupReader with a quicker pace for tests: the group
// notices rebalances within a second, a member that does not rejoin is
// dropped after 5 s, and the store is retried from 100 ms.
func grpReader(cfg GroupConfig) *GroupReader {
	r := NewGroupReader(cfg)
	r.backoffMin = 100 * time.Millisecond
	r.rediscover = 300 * time.Millisecond
	r.writeTimeout = 4 * time.Second
	r.tune = func(c *sarama.Config) {
		c.Consumer.Group.Heartbeat.Interval = time.Second
		c.Consumer.Group.Rebalance.Timeout = 5 * time.Second
		c.Consumer.Group.Rebalance.Retry.Backoff = 200 * time.Millisecond
	}
	return r
}

// grpRunning is a reader running in the background.
type grpRunning struct {
	*GroupReader
	cancel context.CancelFunc
	done   chan error
}

func startGrp(t *testing.T, cfg GroupConfig) *grpRunning {
	t.Helper()
	r := &grpRunning{GroupReader: grpReader(cfg), done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- r.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop cancels the reader and waits for Run to return.
func (r *grpRunning) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	select {
	case err, ok := <-r.done:
		if ok && err != nil {
			t.Errorf("Run: %v", err)
		}
		if ok {
			close(r.done)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return 30 s after its context ended")
	}
}

// runCaughtUp runs a reader with UntilCaughtUp and fails unless it returns
// by itself.
func runCaughtUp(t *testing.T, cfg GroupConfig) *GroupReader {
	t.Helper()
	cfg.UntilCaughtUp = true
	r := grpReader(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := r.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if ctx.Err() != nil {
		t.Fatalf("not caught up after 60 s: %+v", r.Progress())
	}
	return r
}

func grpTopics(name string, kind model.Kind) []Topic { return []Topic{{Name: name, Kind: kind}} }

// One reader, 3 000 records over 6 partitions and a re: pattern's topics:
// every record stored once, counted under its stream.
func TestGroupReaderStoresEveryRecordOnce(t *testing.T) {
	forGroupBrokers(t, func(t *testing.T, addr string) {
		topic := grpName(t, "vehicles")
		want := grpProduce(t, addr, topic, 6, 0, 500)
		prefix := grpName(t, "weather")
		maps.Copy(want, grpProduce(t, addr, prefix+".a", 2, 0, 25))
		maps.Copy(want, grpProduce(t, addr, prefix+".b", 2, 0, 25))
		weather, err := ParseTopic("re:^"+regexp.QuoteMeta(prefix)+`\.`, model.KindWeather)
		if err != nil {
			t.Fatal(err)
		}
		store := newMemStore()
		r := runCaughtUp(t, GroupConfig{Options: Options{Brokers: []string{addr}}, Group: grpName(t, "group"),
			Topics: append(grpTopics(topic, model.KindVehicles), weather), Resume: store.resume, Write: store.writer("a"),
			BatchMax: 400})
		store.check(t, want)
		p := r.Progress()
		if p.Written[model.KindVehicles] != 3000 || p.Written[model.KindWeather] != 100 || p.Lag != [3]int64{} {
			t.Errorf("progress %+v", p)
		}
	})
}

// With Prepare, each batch's Prepared holds, in order, what Prepare made of
// each of its chunks: together exactly the batch's records, however the
// chunks fell against BatchMax.
func TestGroupReaderPrepare(t *testing.T) {
	forGroupBrokers(t, func(t *testing.T, addr string) {
		topic := grpName(t, "vehicles")
		want := grpProduce(t, addr, topic, 3, 0, 1500)
		store := newMemStore()
		var (
			mu      sync.Mutex
			batches int
			bad     []string
		)
		write := store.writer("a")
		runCaughtUp(t, GroupConfig{Options: Options{Brokers: []string{addr}}, Group: grpName(t, "group"),
			Topics: grpTopics(topic, model.KindVehicles), Resume: store.resume, BatchMax: 700,
			Prepare: func(recs []model.Record) any {
				vals := make([]string, len(recs))
				for i, r := range recs {
					vals[i] = string(r.Value)
				}
				return vals
			},
			Write: func(ctx context.Context, b Batch) error {
				var got []string
				for _, p := range b.Prepared {
					got = append(got, p.([]string)...)
				}
				mu.Lock()
				batches++
				switch {
				case len(b.Records) > 700:
					bad = append(bad, fmt.Sprintf("a batch of %d records, over BatchMax", len(b.Records)))
				case len(got) != len(b.Records):
					bad = append(bad, fmt.Sprintf("%d prepared values for %d records", len(got), len(b.Records)))
				default:
					for i, r := range b.Records {
						if got[i] != string(r.Value) {
							bad = append(bad, fmt.Sprintf("prepared %q for record %q", got[i], r.Value))
							break
						}
					}
				}
				mu.Unlock()
				return write(ctx, b)
			}})
		store.check(t, want)
		if batches < 4500/700 {
			t.Errorf("%d batches for 4 500 records of at most 700", batches)
		}
		for _, b := range bad {
			t.Error(b)
		}
	})
}

// The store fails three writes: the same batch is retried until it goes
// through, OnState hears of the outage and the recovery once each, and
// nothing is lost or doubled.
func TestGroupReaderRetriesStore(t *testing.T) {
	forGroupBrokers(t, func(t *testing.T, addr string) {
		topic := grpName(t, "vehicles")
		want := grpProduce(t, addr, topic, 6, 0, 500)
		store := newMemStore()
		store.failing = 3
		var told stateLog
		r := runCaughtUp(t, GroupConfig{Options: Options{Brokers: []string{addr}}, Group: grpName(t, "group"),
			Topics: grpTopics(topic, model.KindVehicles), Resume: store.resume, Write: store.writer("a"), BatchMax: 700,
			OnState: told.tell})
		store.check(t, want)
		states := told.all()
		if len(states) != 2 || !strings.HasPrefix(states[0], "store unavailable: ") ||
			!strings.Contains(states[0], "connection refused") || states[1] != "store back" {
			t.Errorf("OnState told %q, want one outage with its reason and one recovery", states)
		}
		if p := r.Progress(); p.StoreDown || p.Written[model.KindVehicles] != 3000 {
			t.Errorf("progress %+v", p)
		}
	})
}

// grpStream produces to every partition of topic in the background, a few
// records every 20 ms, as a live feed does, until stopped.
type grpStream struct {
	stopc chan struct{}
	done  chan map[grpKey]string
}

func startStream(t *testing.T, addr, topic string, parts int) *grpStream {
	t.Helper()
	if err := EnsureTopics(Options{Brokers: []string{addr}}, []string{topic}, int32(parts), 1); err != nil {
		t.Fatal(err)
	}
	cfg := sarama.NewConfig()
	cfg.Producer.Return.Successes = true
	cfg.Producer.Partitioner = sarama.NewManualPartitioner
	p, err := sarama.NewSyncProducer([]string{addr}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := &grpStream{stopc: make(chan struct{}), done: make(chan map[grpKey]string, 1)}
	go func() {
		defer p.Close()
		want := map[grpKey]string{}
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i += 5 {
			var msgs []*sarama.ProducerMessage
			for part := range int32(parts) {
				for j := i; j < i+5; j++ {
					v := fmt.Sprintf("%s/%d/%d", topic, part, j)
					msgs = append(msgs, &sarama.ProducerMessage{Topic: topic, Partition: part, Value: sarama.StringEncoder(v)})
					want[grpKey{TopicPartition{topic, part}, int64(j)}] = v
				}
			}
			if err := p.SendMessages(msgs); err != nil {
				t.Errorf("produce to %s: %v", topic, err)
				s.done <- want
				return
			}
			select {
			case <-s.stopc:
				s.done <- want
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

// stop ends the stream and returns what each record must be stored as.
func (s *grpStream) stop() map[grpKey]string {
	close(s.stopc)
	return <-s.done
}

// Two readers share the partitions of a live stream; one is stopped
// mid-stream and the other takes its partitions over from the store's
// offsets.
func TestGroupReaderRebalance(t *testing.T) {
	forGroupBrokers(t, func(t *testing.T, addr string) {
		topic := grpName(t, "vehicles")
		stream := startStream(t, addr, topic, 6)
		store := newMemStore()
		store.delay = 5 * time.Millisecond
		cfg := GroupConfig{Options: Options{Brokers: []string{addr}}, Group: grpName(t, "group"),
			Topics: grpTopics(topic, model.KindVehicles), Resume: store.resume, BatchMax: 100}
		cfgA, cfgB := cfg, cfg
		cfgA.Write, cfgB.Write = store.writer("a"), store.writer("b")
		a := startGrp(t, cfgA)
		testutil.Eventually(t, 30*time.Second, "reader a writing", func() bool { return store.countBy("a") >= 300 })
		b := startGrp(t, cfgB)
		testutil.Eventually(t, 30*time.Second, "reader b given half the partitions and writing", func() bool {
			return store.countBy("b") > 0 && len(b.Progress().Assigned) == 3
		})
		testutil.Eventually(t, 30*time.Second, "reader a writing after the rebalance", func() bool {
			return len(a.Progress().Assigned) == 3 && store.countBy("a") > 0
		})
		a.stop(t)
		afterA := store.countBy("b")
		testutil.Eventually(t, 30*time.Second, "reader b given every partition and writing", func() bool {
			return len(b.Progress().Assigned) == 6 && store.countBy("b") > afterA+600
		})
		want := stream.stop()
		testutil.Eventually(t, 30*time.Second, "every record stored", func() bool { return store.count() >= len(want) })
		testutil.Eventually(t, 10*time.Second, "no lag", func() bool { return b.Progress().Lag == [3]int64{} })
		b.stop(t)
		store.check(t, want)
		t.Logf("%d records: a stored %d, b %d", len(want), store.countBy("a"), store.countBy("b"))
	})
}

// A member whose write hangs past the rebalance timeout is dropped from the
// group; its batch, landing after its successor wrote the partitions, is
// refused by the store's From check, and the member rejoins and carries on.
func TestGroupReaderFencesStaleMember(t *testing.T) {
	forGroupBrokers(t, func(t *testing.T, addr string) {
		topic := grpName(t, "vehicles")
		want := grpProduce(t, addr, topic, 6, 0, 500)
		store := newMemStore()
		store.delay = 10 * time.Millisecond
		gate := make(chan struct{})
		var hold sync.Once
		held := make(chan struct{})
		stuckWrite := func(_ context.Context, b Batch) error {
			if store.countBy("a") >= 200 {
				hold.Do(func() { close(held) })
				<-gate // as a commit stuck on the network that lands late
			}
			return store.write("a", b)
		}
		cfg := GroupConfig{Options: Options{Brokers: []string{addr}}, Group: grpName(t, "group"),
			Topics: grpTopics(topic, model.KindVehicles), Resume: store.resume, BatchMax: 50}
		cfgA, cfgB := cfg, cfg
		cfgA.Write, cfgB.Write = stuckWrite, store.writer("b")
		a := startGrp(t, cfgA)
		select {
		case <-held:
		case <-time.After(30 * time.Second):
			t.Fatal("reader a never wrote 200 records")
		}
		b := startGrp(t, cfgB)
		// b gets every partition once the group gives up on a, and
		// stores everything, a's held batch included.
		testutil.Eventually(t, 60*time.Second, "reader b storing everything", func() bool { return store.count() == len(want) })
		close(gate)
		testutil.Eventually(t, 30*time.Second, "reader a fenced and back in the group", func() bool {
			return a.Progress().Fenced > 0 && len(a.Progress().Assigned) > 0
		})
		maps.Copy(want, grpProduce(t, addr, topic, 6, 500, 50))
		testutil.Eventually(t, 30*time.Second, "the records produced after", func() bool { return store.count() == len(want) })
		a.stop(t)
		b.stop(t)
		store.check(t, want)
	})
}

// grpCommit commits offsets as a member of group, as an older run of the
// recorder would have left them: it joins, marks them and leaves.
func grpCommit(t *testing.T, addr, group, topic string, offsets map[int32]int64) {
	t.Helper()
	cfg := sarama.NewConfig()
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cg, err := sarama.NewConsumerGroup([]string{addr}, group, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer cg.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cg.Consume(ctx, []string{topic}, grpCommitter(offsets)); err != nil {
		t.Fatal(err)
	}
	if got := grpCommitted(t, addr, group, topic, 6); !maps.Equal(got, offsets) {
		t.Fatalf("committed %v, want %v", got, offsets)
	}
}

// grpCommitter marks its offsets and ends the session at once, which
// commits them.
type grpCommitter map[int32]int64

func (c grpCommitter) Setup(sess sarama.ConsumerGroupSession) error {
	for topic, parts := range sess.Claims() {
		for _, p := range parts {
			if off, ok := c[p]; ok {
				sess.MarkOffset(topic, p, off, "")
			}
		}
	}
	return nil
}

func (grpCommitter) Cleanup(sarama.ConsumerGroupSession) error { return nil }

func (grpCommitter) ConsumeClaim(sarama.ConsumerGroupSession, sarama.ConsumerGroupClaim) error {
	return nil
}

// grpCommitted reads a group's committed offsets; partitions without one are left out.
func grpCommitted(t *testing.T, addr, group, topic string, parts int32) map[int32]int64 {
	t.Helper()
	admin, err := sarama.NewClusterAdmin([]string{addr}, sarama.NewConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var ps []int32
	for p := range parts {
		ps = append(ps, p)
	}
	resp, err := admin.ListConsumerGroupOffsets(group, map[string][]int32{topic: ps})
	if err != nil {
		t.Fatal(err)
	}
	out := map[int32]int64{}
	for _, p := range ps {
		if b := resp.GetBlock(topic, p); b != nil && b.Offset >= 0 {
			out[p] = b.Offset
		}
	}
	return out
}

// A restarted recorder resumes from the store's offsets, not the group's:
// the store is ahead of the commits on some partitions and behind on
// others, and every record ends up stored once. The commits follow the
// store afterwards, and a second restart reads only what is new.
func TestGroupReaderResumesFromStore(t *testing.T) {
	forGroupBrokers(t, func(t *testing.T, addr string) {
		topic := grpName(t, "vehicles")
		group := grpName(t, "group")
		want := grpProduce(t, addr, topic, 6, 0, 500)
		store := newMemStore()
		// The store holds the first 100·p records of partition p (none of
		// partition 0); the group committed less on 1 and 2, more on 3
		// and 4, nothing on 0 and 5.
		for k, v := range want {
			if k.off < int64(k.Partition)*100 {
				store.recs[k] = v
				store.next[k.TopicPartition] = int64(k.Partition) * 100
			}
		}
		grpCommit(t, addr, group, topic, map[int32]int64{1: 10, 2: 50, 3: 400, 4: 500})
		cfg := GroupConfig{Options: Options{Brokers: []string{addr}}, Group: group,
			Topics: grpTopics(topic, model.KindVehicles), Resume: store.resume, Write: store.writer("a")}
		r := runCaughtUp(t, cfg)
		store.check(t, want)
		if n := r.Progress().Written[model.KindVehicles]; n != 3000-1500 {
			t.Errorf("wrote %d records, want the 1500 the store lacked", n)
		}
		wantCommits := map[int32]int64{0: 500, 1: 500, 2: 500, 3: 500, 4: 500, 5: 500}
		if got := grpCommitted(t, addr, group, topic, 6); !maps.Equal(got, wantCommits) {
			t.Errorf("committed %v after the run, want %v", got, wantCommits)
		}

		maps.Copy(want, grpProduce(t, addr, topic, 6, 500, 100))
		cfg.Write = store.writer("b")
		runCaughtUp(t, cfg)
		store.check(t, want)
		if n := store.countBy("b"); n != 600 {
			t.Errorf("second run stored %d records, want the 600 new ones", n)
		}
	})
}

// A topic created while running that a re: pattern matches is read too.
func TestGroupReaderFindsNewTopics(t *testing.T) {
	forGroupBrokers(t, func(t *testing.T, addr string) {
		prefix := grpName(t, "weather")
		want := grpProduce(t, addr, prefix+".a", 2, 0, 20)
		pattern, err := ParseTopic("re:^"+regexp.QuoteMeta(prefix)+`\.`, model.KindWeather)
		if err != nil {
			t.Fatal(err)
		}
		store := newMemStore()
		startGrp(t, GroupConfig{Options: Options{Brokers: []string{addr}}, Group: grpName(t, "group"),
			Topics: []Topic{pattern}, Resume: store.resume, Write: store.writer("a")})
		testutil.Eventually(t, 30*time.Second, "the first topic stored", func() bool { return store.count() == len(want) })
		maps.Copy(want, grpProduce(t, addr, prefix+".b", 3, 0, 20))
		testutil.Eventually(t, 30*time.Second, "the topic created later stored", func() bool { return store.count() == len(want) })
		store.check(t, want)
	})
}

// Wire format between TestGroupReaderMemberKilled and its helper process,
// whose store is the test's memStore: one JSON object a line each way.
type grpWireReq struct {
	Op      string          `json:"op"` // "resume" or "write"
	Records []grpWireRecord `json:"records,omitempty"`
	Parts   []grpWirePart   `json:"parts,omitempty"` // with From and Next for a write
}

type grpWireRecord struct {
	Topic     string     `json:"t"`
	Partition int32      `json:"p"`
	Offset    int64      `json:"o"`
	Kind      model.Kind `json:"k"`
	Value     string     `json:"v"`
}

type grpWirePart struct {
	Topic      string `json:"t"`
	Partition  int32  `json:"p"`
	From, Next int64
}

type grpWireResp struct {
	Parts  []grpWirePart `json:"parts,omitempty"` // the store's offsets, in Next
	Err    string        `json:"err,omitempty"`
	Fenced bool          `json:"fenced,omitempty"`
}

// TestGroupHelperProcess is the member TestGroupReaderMemberKilled kills:
// a GroupReader whose store is reached over fd 3 (requests) and fd 4
// (answers).
func TestGroupHelperProcess(t *testing.T) {
	if os.Getenv("FLEETWATCH_GROUP_HELPER") != "1" {
		t.Skip("the helper process of TestGroupReaderMemberKilled")
	}
	reqs, resps := os.NewFile(3, "requests"), bufio.NewScanner(os.NewFile(4, "answers"))
	resps.Buffer(make([]byte, 1<<20), 1<<20)
	var mu sync.Mutex
	call := func(req grpWireReq) (grpWireResp, error) {
		mu.Lock()
		defer mu.Unlock()
		line, err := json.Marshal(req)
		if err != nil {
			return grpWireResp{}, err
		}
		if _, err := reqs.Write(append(line, '\n')); err != nil {
			return grpWireResp{}, err
		}
		if !resps.Scan() {
			return grpWireResp{}, fmt.Errorf("store gone: %v", resps.Err())
		}
		var resp grpWireResp
		err = json.Unmarshal(resps.Bytes(), &resp)
		return resp, err
	}
	r := grpReader(GroupConfig{Options: Options{Brokers: []string{os.Getenv("GRP_BROKERS")}}, Group: os.Getenv("GRP_GROUP"),
		Topics: grpTopics(os.Getenv("GRP_TOPIC"), model.KindVehicles), BatchMax: 100,
		Resume: func(_ context.Context, parts []TopicPartition) (map[TopicPartition]int64, error) {
			req := grpWireReq{Op: "resume"}
			for _, tp := range parts {
				req.Parts = append(req.Parts, grpWirePart{Topic: tp.Topic, Partition: tp.Partition})
			}
			resp, err := call(req)
			if err != nil {
				return nil, err
			}
			out := map[TopicPartition]int64{}
			for _, p := range resp.Parts {
				out[TopicPartition{p.Topic, p.Partition}] = p.Next
			}
			return out, nil
		},
		Write: func(_ context.Context, b Batch) error {
			req := grpWireReq{Op: "write"}
			for _, r := range b.Records {
				req.Records = append(req.Records, grpWireRecord{r.Topic, r.Partition, r.Offset, r.Kind, string(r.Value)})
			}
			for tp, n := range b.Next {
				req.Parts = append(req.Parts, grpWirePart{tp.Topic, tp.Partition, b.From[tp], n})
			}
			resp, err := call(req)
			switch {
			case err != nil:
				return err
			case resp.Fenced:
				return fmt.Errorf("%s: %w", resp.Err, ErrFenced)
			case resp.Err != "":
				return errors.New(resp.Err)
			}
			return nil
		}})
	if err := r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// serveStore answers the helper process's requests from store until the
// process is gone.
func serveStore(store *memStore, reqs *os.File, resps *os.File) {
	in := bufio.NewScanner(reqs)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	for in.Scan() {
		var req grpWireReq
		var resp grpWireResp
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			resp.Err = err.Error()
		} else if req.Op == "resume" {
			var parts []TopicPartition
			for _, p := range req.Parts {
				parts = append(parts, TopicPartition{p.Topic, p.Partition})
			}
			stored, _ := store.resume(context.Background(), parts)
			for tp, n := range stored {
				resp.Parts = append(resp.Parts, grpWirePart{Topic: tp.Topic, Partition: tp.Partition, Next: n})
			}
		} else {
			b := Batch{Next: map[TopicPartition]int64{}, From: map[TopicPartition]int64{}}
			for _, r := range req.Records {
				b.Records = append(b.Records, model.Record{Kind: r.Kind, Value: []byte(r.Value), Topic: r.Topic,
					Partition: r.Partition, Offset: r.Offset})
			}
			for _, p := range req.Parts {
				tp := TopicPartition{p.Topic, p.Partition}
				b.From[tp], b.Next[tp] = p.From, p.Next
			}
			if err := store.write("killed", b); err != nil {
				resp.Err, resp.Fenced = err.Error(), errors.Is(err, ErrFenced)
			}
		}
		line, _ := json.Marshal(resp)
		if _, err := resps.Write(append(line, '\n')); err != nil {
			return
		}
	}
}

// A member killed with SIGKILL mid-stream leaves without a word; the other
// takes its partitions over once the session timeout (10 s) passes, from
// the store's offsets: every record stored once.
func TestGroupReaderMemberKilled(t *testing.T) {
	forGroupBrokers(t, func(t *testing.T, addr string) {
		topic := grpName(t, "vehicles")
		group := grpName(t, "group")
		want := grpProduce(t, addr, topic, 6, 0, 1500)
		store := newMemStore()
		store.delay = 20 * time.Millisecond

		reqR, reqW, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		respR, respW, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestGroupHelperProcess$")
		cmd.Env = append(os.Environ(), "FLEETWATCH_GROUP_HELPER=1", "GRP_BROKERS="+addr, "GRP_GROUP="+group, "GRP_TOPIC="+topic)
		cmd.ExtraFiles = []*os.File{reqW, respR}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		reqW.Close()
		respR.Close()
		served := make(chan struct{})
		go func() {
			defer close(served)
			serveStore(store, reqR, respW)
		}()
		killed := false
		defer func() {
			if !killed {
				cmd.Process.Kill()
				cmd.Wait()
			}
			reqR.Close()
			respW.Close()
			<-served
		}()

		testutil.Eventually(t, 30*time.Second, "the helper process writing", func() bool { return store.countBy("killed") >= 300 })
		b := startGrp(t, GroupConfig{Options: Options{Brokers: []string{addr}}, Group: group,
			Topics: grpTopics(topic, model.KindVehicles), Resume: store.resume, Write: store.writer("b"), BatchMax: 100})
		testutil.Eventually(t, 30*time.Second, "the partitions shared", func() bool {
			return store.countBy("b") > 0 && len(b.Progress().Assigned) == 3
		})
		before := store.countBy("killed")
		testutil.Eventually(t, 30*time.Second, "the helper process writing after the rebalance", func() bool {
			return store.countBy("killed") > before
		})
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		killed = true
		cmd.Wait()
		if n := store.count(); n >= len(want) {
			t.Fatalf("everything stored (%d) before the member was killed", n)
		}
		killedAt := time.Now()
		testutil.Eventually(t, 60*time.Second, "every record stored", func() bool { return store.count() >= len(want) })
		t.Logf("taken over and finished %v after the kill; killed member stored %d, b %d",
			time.Since(killedAt).Round(100*time.Millisecond), store.countBy("killed"), store.countBy("b"))
		b.stop(t)
		store.check(t, want)
		if t.Failed() {
			t.Logf("helper stderr:\n%s", stderr.String())
		}
	})
}

// Writers write at once, each of its own partitions, and nothing is lost,
// doubled or stored out of order; one writer writes one batch at a time.
func TestGroupReaderWritersWriteAtOnce(t *testing.T) {
	forGroupBrokers(t, func(t *testing.T, addr string) {
		topic := grpName(t, "vehicles")
		want := grpProduce(t, addr, topic, 6, 0, 600)
		for _, writers := range []int{1, 2} {
			store := newMemStore()
			var inFlight, peak atomic.Int32
			runCaughtUp(t, GroupConfig{Options: Options{Brokers: []string{addr}}, Group: grpName(t, fmt.Sprint("group", writers)),
				Topics: grpTopics(topic, model.KindVehicles), Resume: store.resume, BatchMax: 300, Writers: writers,
				Write: func(ctx context.Context, b Batch) error {
					n := inFlight.Add(1)
					defer inFlight.Add(-1)
					for m := peak.Load(); n > m && !peak.CompareAndSwap(m, n); m = peak.Load() {
					}
					time.Sleep(30 * time.Millisecond) // a transaction's length
					return store.write("a", b)
				}})
			store.check(t, want)
			if got := peak.Load(); got != int32(writers) {
				t.Errorf("%d writers: at most %d writes at once", writers, got)
			}
		}
	})
}

// One writer's partitions fail for a while as the other's succeed: the
// store is told down once and back once, when neither fails, not in turn
// as each writes; and nothing is lost or doubled.
func TestGroupReaderStoreStateWithWritersAtOnce(t *testing.T) {
	forGroupBrokers(t, func(t *testing.T, addr string) {
		topic := grpName(t, "vehicles")
		want := grpProduce(t, addr, topic, 2, 0, 3000)
		store := newMemStore()
		var (
			told  stateLog
			fails atomic.Int32
		)
		fails.Store(6)
		runCaughtUp(t, GroupConfig{Options: Options{Brokers: []string{addr}}, Group: grpName(t, "group"),
			Topics: grpTopics(topic, model.KindVehicles), Resume: store.resume, BatchMax: 100, Writers: 2,
			Write: func(ctx context.Context, b Batch) error {
				if _, ok := b.Next[TopicPartition{topic, 0}]; ok && fails.Add(-1) >= 0 {
					return errors.New("ERROR: statement timeout")
				}
				return store.write("a", b)
			},
			OnState: told.tell})
		store.check(t, want)
		if states := told.all(); len(states) != 2 {
			t.Errorf("OnState told %d messages: %q", len(states), strings.Join(states, " | "))
		}
	})
}

// stateLog keeps what a reader's OnState told, from any goroutine.
type stateLog struct {
	mu   sync.Mutex
	msgs []string
}

func (l *stateLog) tell(msg string) {
	l.mu.Lock()
	l.msgs = append(l.msgs, msg)
	l.mu.Unlock()
}

func (l *stateLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.msgs)
}

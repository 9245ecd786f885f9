package kafka

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/IBM/sarama"
)

// sampleTimeout bounds SampleTopics when its context has no deadline of its
// own: detection runs before the screen opens, and a user waits for it.
const sampleTimeout = 3 * time.Second

// SampleTopics reads the newest records of every topic of the cluster, up to
// about perTopic values a topic, spread over its partitions, so that their
// contents can tell which stream each topic carries. Internal topics (Kafka's
// own, Confluent's, Kafka Connect's) are left out; null values are skipped.
// Every topic listed is a key of the result, with no values when it is empty;
// each topic's values are in the order of their record timestamps.
//
// It takes at most until ctx ends, or 3 s when ctx has no deadline, and then
// returns what it has read so far. The error is non-nil only when the
// brokers could not be reached (wrapping ErrUnreachable) or the options are
// invalid.
func SampleTopics(ctx context.Context, opts Options, perTopic int) (map[string][][]byte, error) {
	if perTopic <= 0 {
		return nil, fmt.Errorf("sample topics: %d records a topic: want at least 1", perTopic)
	}
	scfg, err := opts.saramaConfig(func(c *sarama.Config) {
		// One look is all there is time for: a retry would outlast the bound.
		c.Metadata.Retry.Max = 0
		// A partition with nothing past its end offset must not hold the
		// fetch of the others on its broker for long.
		c.Consumer.MaxWaitTime = 100 * time.Millisecond
	})
	if err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, sampleTimeout)
		defer cancel()
	}
	s := &sampler{perTopic: perTopic, read: map[string][]sampled{}}
	done := make(chan error, 1)
	// sarama's calls do not take a context; run them aside, so that the bound
	// holds even while a broker is slow to answer. Once ctx ends (at the
	// latest when this function returns) the run stops at its next step and
	// closes its client.
	go func() { done <- s.run(ctx, opts.Brokers, scfg) }()
	select {
	case err = <-done:
	case <-ctx.Done():
		switch {
		case s.isConnected():
		case errors.Is(ctx.Err(), context.Canceled):
			return nil, fmt.Errorf("sample topics: %w", ctx.Err())
		default:
			err = fmt.Errorf("no answer within the time allowed: %w", ctx.Err())
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w at %s: %s", ErrUnreachable, opts.BrokerList(), oneLine(err))
	}
	return s.result(), nil
}

// sampled is one value read, with what orders it among its topic's others.
type sampled struct {
	value     []byte
	time      time.Time
	partition int32
	offset    int64
}

// sampler collects the values of a SampleTopics run; its goroutines add to
// it while the caller may already be taking the result.
type sampler struct {
	perTopic int

	mu        sync.Mutex
	connected bool
	read      map[string][]sampled
}

func (s *sampler) isConnected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connected
}

// result copies out the newest perTopic values of each topic, oldest first.
func (s *sampler) result() map[string][][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string][][]byte, len(s.read))
	for topic, recs := range s.read {
		recs = slices.Clone(recs)
		slices.SortFunc(recs, func(a, b sampled) int {
			return cmp.Or(a.time.Compare(b.time), cmp.Compare(a.partition, b.partition), cmp.Compare(a.offset, b.offset))
		})
		recs = recs[max(0, len(recs)-s.perTopic):]
		values := make([][]byte, len(recs))
		for i, r := range recs {
			values[i] = r.value
		}
		out[topic] = values
	}
	return out
}

func (s *sampler) add(topic string, m *sarama.ConsumerMessage) {
	s.mu.Lock()
	s.read[topic] = append(s.read[topic], sampled{m.Value, m.Timestamp, m.Partition, m.Offset})
	s.mu.Unlock()
}

// span is the part of a partition to read: [from, end).
type span struct {
	topic     string
	partition int32
	from, end int64
}

func (s *sampler) run(ctx context.Context, brokers []string, scfg *sarama.Config) error {
	client, err := sarama.NewClient(brokers, scfg)
	if err != nil {
		return err
	}
	defer client.Close()
	// NewClient has read the metadata of every topic.
	names, err := client.Topics()
	if err != nil {
		return fmt.Errorf("list topics: %w", err)
	}
	s.mu.Lock()
	s.connected = true
	for _, name := range names {
		if !internalTopic(name) {
			s.read[name] = nil
		}
	}
	s.mu.Unlock()
	if ctx.Err() != nil {
		return nil
	}

	spans := s.plan(ctx, client, names)
	consumer, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		return fmt.Errorf("start consumer: %w", err)
	}
	defer consumer.Close()
	var wg sync.WaitGroup
	for _, sp := range spans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.readSpan(ctx, consumer, sp)
		}()
	}
	wg.Wait()
	return nil
}

// plan finds each partition's offsets and picks the newest records to read
// so that a topic gives about perTopic of them in all.
func (s *sampler) plan(ctx context.Context, client sarama.Client, names []string) []span {
	// Offsets are asked of each partition's leader, every partition it leads
	// in one request: one round trip a broker, not one a partition.
	type leaderPart struct {
		broker *sarama.Broker
		parts  []span
	}
	byLeader := map[int32]*leaderPart{}
	for _, name := range names {
		if internalTopic(name) {
			continue
		}
		parts, err := client.Partitions(name)
		if err != nil {
			continue
		}
		for _, p := range parts {
			leader, err := client.Leader(name, p)
			if err != nil {
				continue // no leader now: the topic is sampled without it
			}
			lp := byLeader[leader.ID()]
			if lp == nil {
				lp = &leaderPart{broker: leader}
				byLeader[leader.ID()] = lp
			}
			lp.parts = append(lp.parts, span{topic: name, partition: p})
		}
	}
	var (
		mu      sync.Mutex
		wg      sync.WaitGroup
		byTopic = map[string][]span{}
	)
	for _, lp := range byLeader {
		wg.Add(1)
		go func() {
			defer wg.Done()
			newest, err := listOffsets(client.Config().Version, lp.broker, lp.parts, sarama.OffsetNewest)
			if err != nil || ctx.Err() != nil {
				return
			}
			oldest, err := listOffsets(client.Config().Version, lp.broker, lp.parts, sarama.OffsetOldest)
			if err != nil {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, sp := range lp.parts {
				key := partitionKey{sp.topic, sp.partition}
				end, ok1 := newest[key]
				from, ok2 := oldest[key]
				if ok1 && ok2 && from < end {
					sp.from, sp.end = from, end
					byTopic[sp.topic] = append(byTopic[sp.topic], sp)
				}
			}
		}()
	}
	wg.Wait()
	var out []span
	for _, parts := range byTopic {
		sizes := make([]int64, len(parts))
		for i, sp := range parts {
			sizes[i] = sp.end - sp.from
		}
		k := share(sizes, int64(s.perTopic))
		for _, sp := range parts {
			sp.from = max(sp.from, sp.end-k)
			out = append(out, sp)
		}
	}
	return out
}

// share returns the fewest records k to take from the end of each partition
// so that, a partition holding fewer giving all it has, the partitions give
// at least want records together (or all they have).
func share(sizes []int64, want int64) int64 {
	sorted := slices.Clone(sizes)
	slices.Sort(sorted)
	var taken int64 // from the partitions smaller than the current one
	for i, size := range sorted {
		rest := int64(len(sorted) - i)
		// Every partition from i on gives k: is k = size enough?
		if taken+rest*size >= want {
			return (want - taken + rest - 1) / rest // the k that just reaches want
		}
		taken += size
	}
	if len(sorted) == 0 {
		return 0
	}
	return sorted[len(sorted)-1]
}

// listOffsets asks a broker for one offset (newest or oldest) of each of the
// partitions it leads. A partition the broker could not answer for is left
// out.
func listOffsets(version sarama.KafkaVersion, broker *sarama.Broker, parts []span, which int64) (map[partitionKey]int64, error) {
	req := sarama.NewOffsetRequest(version)
	for _, sp := range parts {
		req.AddBlock(sp.topic, sp.partition, which, 1)
	}
	resp, err := broker.GetAvailableOffsets(req)
	if err != nil {
		return nil, fmt.Errorf("list offsets at broker %d: %w", broker.ID(), err)
	}
	out := make(map[partitionKey]int64, len(parts))
	for _, sp := range parts {
		b := resp.GetBlock(sp.topic, sp.partition)
		if b == nil || !errors.Is(b.Err, sarama.ErrNoError) || len(b.Offsets) != 1 {
			continue
		}
		out[partitionKey{sp.topic, sp.partition}] = b.Offsets[0]
	}
	return out, nil
}

// readSpan reads one partition from sp.from until its end offset, or until
// ctx ends.
func (s *sampler) readSpan(ctx context.Context, consumer sarama.Consumer, sp span) {
	pc, err := consumer.ConsumePartition(sp.topic, sp.partition, sp.from)
	if err != nil {
		return // retention deleted them meanwhile, or the leader moved: skip it
	}
	defer pc.Close()
	for {
		select {
		case <-ctx.Done():
			return
		case m, ok := <-pc.Messages():
			if !ok {
				return
			}
			if m.Value != nil {
				s.add(sp.topic, m)
			}
			// A partition whose last offset is a transaction marker, never
			// delivered, does not end here: the time bound ends it.
			if m.Offset >= sp.end-1 {
				return
			}
		}
	}
}

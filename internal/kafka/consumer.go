package kafka

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/IBM/sarama"

	"github.com/fleetwatch/fleetwatch/internal/model"
	"github.com/fleetwatch/fleetwatch/internal/moment"
)

// Topic is one topic to read, or with Pattern every topic whose name
// matches (including topics created later), and the stream its records
// belong to.
type Topic struct {
	Name    string
	Kind    model.Kind
	Pattern *regexp.Regexp
}

// ParseTopic reads a topic flag: a name, or re:PATTERN.
func ParseTopic(flag string, kind model.Kind) (Topic, error) {
	if pat, ok := strings.CutPrefix(flag, "re:"); ok {
		re, err := regexp.Compile(pat)
		if err != nil {
			return Topic{}, fmt.Errorf("topic pattern %q: %w", pat, err)
		}
		return Topic{Name: flag, Kind: kind, Pattern: re}, nil
	}
	if strings.TrimSpace(flag) == "" {
		return Topic{}, fmt.Errorf("empty topic name")
	}
	return Topic{Name: flag, Kind: kind}, nil
}

// StartMode says where reading begins in each partition.
type StartMode int

// Start modes of --from.
const (
	StartLatest StartMode = iota
	StartEarliest
	StartTime
)

// Start is a parsed --from position.
type Start struct {
	Mode StartMode
	Time time.Time // for StartTime
}

// ParseStart reads --from: latest, earliest, or a moment as every other
// time flag takes it (an RFC 3339 time, or an age back from now: 15m, 2d).
func ParseStart(s string, now time.Time) (Start, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "latest", "end", "newest":
		return Start{Mode: StartLatest}, nil
	case "earliest", "beginning", "oldest":
		return Start{Mode: StartEarliest}, nil
	}
	if t, err := moment.Parse(s, now); err == nil {
		return Start{Mode: StartTime, Time: t}, nil
	}
	return Start{}, fmt.Errorf("--from %q: want latest, earliest, an RFC 3339 time or a duration back from now such as 15m or 2d", s)
}

// Handler receives decoded-to-be records in batches. It is called from one
// goroutine per partition, concurrently, and must not keep the batch.
type Handler func(batch []model.Record)

// ConsumerConfig says what to read and where to deliver it.
type ConsumerConfig struct {
	Options
	Topics []Topic
	Start  Start
	// UntilCaughtUp stops once every partition has reached the end offset it
	// had when reading began; topics that do not exist then count as empty.
	UntilCaughtUp bool
	// Retry keeps trying to reach the brokers instead of failing.
	Retry bool
	// ConnectTimeout, when Retry is off, is how long to keep trying to reach
	// the brokers before failing: a broker that is restarting gets a moment.
	ConnectTimeout time.Duration
	// Rediscover is how often topic metadata is re-read to find topics and
	// partitions created later (default 2s).
	Rediscover time.Duration
	Handler    Handler
	// OnPartition, when set, hears of each partition before it is read:
	// from is where reading starts, end its end offset then. A reader that
	// keeps a low watermark must wait for partitions with records to come.
	OnPartition func(topic string, partition int32, from, end int64)
}

// Status describes the consumer's connection for the status bar.
type Status struct {
	Brokers    string
	Connected  bool
	Err        string // why the brokers are unreachable, one line
	Topics     int    // topics found
	Partitions int    // partitions being read
	// Ready is set once the first look at the topics is done: records
	// produced after it are read whatever --from says.
	Ready bool
	// Lag is, per stream, how many records the readers are behind the ends
	// of their partitions, as of the last fetch.
	Lag [3]int64
	// Missing lists the named topics (not re: patterns) that the cluster
	// did not have at the last look, with the existing names they may be a
	// typo of. They are still watched and read once created.
	Missing []MissingTopic
}

// Consumer reads every partition of its topics and hands records to the handler.
type Consumer struct {
	cfg ConsumerConfig

	mu     sync.Mutex
	status Status
	lag    map[partitionKey]partitionLag
}

// partitionLag is how far one partition's reader is behind its end.
type partitionLag struct {
	kind model.Kind
	lag  int64
}

// NewConsumer returns a consumer; Run starts it.
func NewConsumer(cfg ConsumerConfig) *Consumer {
	if cfg.Rediscover <= 0 {
		cfg.Rediscover = 2 * time.Second
	}
	return &Consumer{cfg: cfg, status: Status{Brokers: cfg.BrokerList()}}
}

// Status returns the current connection state.
func (c *Consumer) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.status
	for _, l := range c.lag {
		st.Lag[l.kind] += l.lag
	}
	return st
}

// setLag records a partition's lag after a delivered batch; records
// flowing again also clear an error a reader reported earlier.
func (c *Consumer) setLag(key partitionKey, kind model.Kind, lag int64) {
	c.mu.Lock()
	if c.lag == nil {
		c.lag = map[partitionKey]partitionLag{}
	}
	c.lag[key] = partitionLag{kind, max(lag, 0)}
	if c.status.Connected {
		c.status.Err = ""
	}
	c.mu.Unlock()
}

func (c *Consumer) clearLag(key partitionKey) {
	c.mu.Lock()
	delete(c.lag, key)
	c.mu.Unlock()
}

func (c *Consumer) setStatus(fn func(s *Status)) {
	c.mu.Lock()
	fn(&c.status)
	c.mu.Unlock()
}

// ErrUnreachable wraps failures to reach any broker.
var ErrUnreachable = errors.New("no broker reachable")

// Run consumes until ctx ends (nil), until caught up (nil), or until the
// brokers cannot be reached and Retry is off (an error wrapping ErrUnreachable).
func (c *Consumer) Run(ctx context.Context) error {
	scfg, err := c.cfg.saramaConfig(func(c *sarama.Config) {
		c.Consumer.Return.Errors = true
		// 256 KiB a partition per fetch: measured as fast as 4 MiB on a
		// catch-up read, at an eighth of the memory (BENCHMARKS.md); sarama
		// grows it by itself for a larger message.
		c.Consumer.Fetch.Default = 256 << 10
		c.Consumer.MaxWaitTime = 250 * time.Millisecond
		// A topic that does not exist yet is looked for again at the next
		// rediscovery; retrying inside one look only delays the others.
		c.Metadata.Retry.Max = 0
	})
	if err != nil {
		return err
	}
	backoff := 250 * time.Millisecond
	giveUp := time.Now().Add(c.cfg.ConnectTimeout)
	for {
		client, err := sarama.NewClient(c.cfg.Brokers, scfg)
		if err == nil {
			c.setStatus(func(s *Status) { s.Connected, s.Err = true, "" })
			err = c.session(ctx, client)
			client.Close()
			return err
		}
		reason := oneLine(err)
		c.setStatus(func(s *Status) { s.Connected, s.Err = false, reason })
		wait := backoff
		if !c.cfg.Retry {
			left := time.Until(giveUp)
			if left <= 0 || refused(err) {
				return fmt.Errorf("%w at %s: %s", ErrUnreachable, c.cfg.BrokerList(), reason)
			}
			wait = min(wait, left)
		}
		select {
		case <-ctx.Done():
			if !c.cfg.Retry && ctx.Err() == context.DeadlineExceeded {
				return fmt.Errorf("%w at %s: %s", ErrUnreachable, c.cfg.BrokerList(), reason)
			}
			return nil
		case <-time.After(wait):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

type partitionKey struct {
	topic     string
	partition int32
}

func (c *Consumer) session(ctx context.Context, client sarama.Client) error {
	consumer, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		return fmt.Errorf("start consumer: %w", err)
	}
	defer consumer.Close()
	// sarama fetches from each broker in one goroutine and waits for every
	// partition's records to be handed over before it fetches again; a
	// second client (its own connections) splits the partitions over two
	// such pipelines, so one fetches while the other is being read: a
	// catch-up read 10 % faster (BENCHMARKS.md). Without it, one is enough.
	consumers := []sarama.Consumer{consumer}
	for range fetchPipelines - 1 {
		cl, err := sarama.NewClient(c.cfg.Brokers, client.Config())
		if err != nil {
			break
		}
		defer cl.Close()
		extra, err := sarama.NewConsumerFromClient(cl)
		if err != nil {
			break
		}
		defer extra.Close()
		consumers = append(consumers, extra)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var wg sync.WaitGroup
	defer wg.Wait()
	started := map[partitionKey]bool{}
	// A reader that stops by itself (its offset went out of range because
	// the topic was deleted and created again, or truncated) reports here so
	// that the next look starts it again from the partition's beginning.
	ended := make(chan partitionKey, 16)
	first := true
	// discover starts a reader for every partition not yet read. Partitions
	// that appear after the first look are new since we started, so they are
	// read from their beginning whatever --from says.
	discover := func() {
		topics := 0
		list := topicLister(client)
		unseen := map[string]bool{}
		for _, t := range c.resolve(list) {
			if err := client.RefreshMetadata(t.Name); err != nil {
				unseen[t.Name] = true
				continue // not created yet: watched, read once it exists
			}
			parts, err := client.Partitions(t.Name)
			if err != nil || len(parts) == 0 {
				continue
			}
			topics++
			for _, p := range parts {
				key := partitionKey{t.Name, p}
				if started[key] {
					continue
				}
				from, end, err := c.offsets(client, key, first)
				if err != nil {
					continue // leader unknown for now: the next look retries
				}
				started[key] = true
				if c.cfg.OnPartition != nil {
					c.cfg.OnPartition(key.topic, key.partition, from, end)
				}
				if c.cfg.UntilCaughtUp && from >= end {
					continue
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					if c.readPartition(ctx, consumers[int(key.partition)%len(consumers)], key, t.Kind, from, end) || c.cfg.UntilCaughtUp {
						return
					}
					select {
					case ended <- key:
					case <-ctx.Done():
					}
				}()
			}
		}
		n := len(started)
		missing := c.missing(unseen, list)
		c.setStatus(func(s *Status) { s.Topics, s.Partitions, s.Ready, s.Missing = topics, n, true, missing })
		first = false
	}
	discover()
	if c.cfg.UntilCaughtUp {
		wg.Wait()
		return nil
	}
	tick := time.NewTicker(c.cfg.Rediscover)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			discover()
		case key := <-ended:
			delete(started, key)
			c.clearLag(key)
		}
	}
}

// topicLister returns a function listing the cluster's topics. It asks the
// brokers on its first call only, so that one look at the topics costs at
// most one full metadata request, and none when nothing needs the list;
// ok is false when the brokers could not say.
func topicLister(client sarama.Client) func() (topics []string, ok bool) {
	var (
		listed, ok bool
		all        []string
	)
	return func() ([]string, bool) {
		if !listed {
			listed = true
			if client.RefreshMetadata() == nil {
				var err error
				all, err = client.Topics()
				ok = err == nil
			}
		}
		return all, ok
	}
}

// missing works out Status.Missing after a look at the topics, given the
// named topics whose metadata could not be read. Such a topic counts as
// missing only when the cluster's list of topics lacks it: a failed look-up
// alone may be a broker that did not answer. When no list can be had, what
// was reported before stands for the topics still unseen.
func (c *Consumer) missing(unseen map[string]bool, list func() ([]string, bool)) []MissingTopic {
	var named []Topic
	for _, t := range c.cfg.Topics {
		if t.Pattern == nil && unseen[t.Name] {
			named = append(named, t)
		}
	}
	if len(named) == 0 {
		return nil
	}
	all, ok := list()
	if ok {
		return missingTopics(named, all)
	}
	var kept []MissingTopic
	for _, m := range c.Status().Missing {
		if unseen[m.Name] {
			kept = append(kept, m)
		}
	}
	return kept
}

// resolve lists the concrete topics to read now: the named ones, and every
// existing topic a pattern matches (internal topics aside).
func (c *Consumer) resolve(list func() ([]string, bool)) []Topic {
	var out []Topic
	seen := map[string]bool{}
	for _, t := range c.cfg.Topics {
		if t.Pattern == nil {
			if !seen[t.Name] {
				seen[t.Name] = true
				out = append(out, t)
			}
			continue
		}
		all, _ := list()
		for _, name := range all {
			if !strings.HasPrefix(name, "__") && t.Pattern.MatchString(name) && !seen[name] {
				seen[name] = true
				out = append(out, Topic{Name: name, Kind: t.Kind})
			}
		}
	}
	return out
}

// offsets resolves where to start reading a partition and, for catch-up
// reads, the end offset to stop at.
func (c *Consumer) offsets(client sarama.Client, key partitionKey, initial bool) (from, end int64, err error) {
	end, err = client.GetOffset(key.topic, key.partition, sarama.OffsetNewest)
	if err != nil {
		return 0, 0, err
	}
	oldest, err := client.GetOffset(key.topic, key.partition, sarama.OffsetOldest)
	if err != nil {
		return 0, 0, err
	}
	switch {
	case !initial:
		from = oldest
	case c.cfg.Start.Mode == StartLatest:
		from = end
	case c.cfg.Start.Mode == StartEarliest:
		from = oldest
	default:
		off, err := client.GetOffset(key.topic, key.partition, c.cfg.Start.Time.UnixMilli())
		if err != nil {
			return 0, 0, err
		}
		from = off
		if off < 0 { // nothing at or after that time
			from = end
		}
	}
	return from, end, nil
}

const maxBatch = 512

// readPartition reads one partition until ctx ends or, for a catch-up read,
// until its end; it reports whether it finished so, rather than stopping on
// its own (a partition that vanished, an offset out of range).
func (c *Consumer) readPartition(ctx context.Context, consumer sarama.Consumer, key partitionKey, kind model.Kind, from, end int64) (done bool) {
	pc, err := consumer.ConsumePartition(key.topic, key.partition, from)
	if errors.Is(err, sarama.ErrOffsetOutOfRange) {
		pc, err = consumer.ConsumePartition(key.topic, key.partition, sarama.OffsetOldest)
	}
	if err != nil {
		c.setStatus(func(s *Status) { s.Err = oneLine(err) })
		return ctx.Err() != nil
	}
	defer pc.Close()
	batch := make([]model.Record, 0, maxBatch)
	flush := func() {
		if len(batch) > 0 {
			// Once per batch, not per record: the status lock stays off the hot path.
			hw := pc.HighWaterMarkOffset()
			c.setLag(key, kind, hw-batch[len(batch)-1].Offset-1)
			batch[len(batch)-1].End = hw
			c.cfg.Handler(batch)
			batch = batch[:0]
		}
	}
	for {
		select {
		case <-ctx.Done():
			flush()
			return true
		case err, ok := <-pc.Errors():
			if ok {
				c.setStatus(func(s *Status) { s.Err = key.topic + ": " + oneLine(err) })
			}
		case m, ok := <-pc.Messages():
			// Take what else is waiting without going through the select
			// again (a non-blocking receive costs a fraction of it), and
			// deliver when the channel runs dry or the batch is full: a quiet
			// stream is shown at once, a busy one is applied in bulk.
			for ok {
				batch = append(batch, model.Record{Kind: kind, Key: m.Key, Value: m.Value, Time: m.Timestamp,
					Topic: m.Topic, Partition: m.Partition, Offset: m.Offset})
				if c.cfg.UntilCaughtUp && m.Offset >= end-1 {
					flush()
					return true
				}
				if len(batch) == maxBatch {
					break
				}
				select {
				case m, ok = <-pc.Messages():
					continue
				default:
				}
				break
			}
			flush()
			if !ok {
				return ctx.Err() != nil
			}
		}
	}
}

// refused tells a broker that answered and turned us away (credentials,
// certificates) from one that did not answer: asking again will not help.
func refused(err error) bool {
	var unknownCA x509.UnknownAuthorityError
	var badCert *tls.CertificateVerificationError
	var hostname x509.HostnameError
	return errors.Is(err, sarama.ErrSASLAuthenticationFailed) || errors.Is(err, sarama.ErrIllegalSASLState) ||
		errors.Is(err, sarama.ErrUnsupportedSASLMechanism) || errors.As(err, &unknownCA) ||
		errors.As(err, &badCert) || errors.As(err, &hostname)
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// fetchPipelines is how many sarama clients share a topic's partitions.
const fetchPipelines = 2

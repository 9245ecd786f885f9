package kafka

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"

	"github.com/fleetwatch/fleetwatch/internal/model"
)

// TopicPartition names one partition of a topic.
type TopicPartition struct {
	Topic     string
	Partition int32
}

func (tp TopicPartition) String() string { return fmt.Sprintf("%s/%d", tp.Topic, tp.Partition) }

// NoOffset in Batch.From says the store had no offset for the partition:
// Resume reported none.
const NoOffset int64 = -1

// ErrFenced is what GroupConfig.Write returns (wrapped) when the store
// already holds records of the batch (see Batch). The batch must then leave
// the store untouched; the reader drops it and rejoins the group, resuming
// every partition it is given from the store.
var ErrFenced = errors.New("records already stored")

// Batch is what GroupConfig.Write stores in one transaction.
type Batch struct {
	// Records of one or more partitions, in offset order within each
	// partition. The store may keep the slice.
	Records []model.Record
	// Next is, for each partition in Records, the offset to resume from
	// once the batch is stored (its last record's offset + 1).
	Next map[TopicPartition]int64
	// From is, for each partition in Next, the offset the store should
	// hold for it now: what Resume returned, or the Next of this member's
	// previous batch, or NoOffset when the store had none.
	//
	// The store must refuse the batch, with an error wrapping ErrFenced,
	// when it holds a partition's offset past the batch's first record of
	// that partition (or, stricter, any other value than From), in the
	// transaction that writes the batch. Only that check keeps a member
	// that lost a partition without hearing of it yet (a pause longer than
	// the session timeout) from storing records its successor has stored;
	// it also makes a retry of a batch whose commit did go through (the
	// connection lost during COMMIT) harmless.
	From map[TopicPartition]int64
	// Prepared holds what GroupConfig.Prepare made of the batch's records,
	// one value per chunk of consecutive records of one partition, in the
	// order of Records; nil without Prepare.
	Prepared []any
}

// GroupConfig configures a GroupReader.
type GroupConfig struct {
	Options
	// Group is the consumer group's id.
	Group string
	// Topics to read: names, or re: patterns matched against the cluster's
	// topics at every (re)join and every few seconds, so that a topic
	// created later joins in.
	Topics []Topic
	// Resume returns the store's next offsets for the partitions this
	// member has just been given (it may return more). It is called once
	// per rebalance. A partition it leaves out starts at the group's
	// committed offset, or at its oldest record when there is none. An
	// error counts as the store being unavailable: retried with backoff.
	Resume func(ctx context.Context, parts []TopicPartition) (map[TopicPartition]int64, error)
	// Write stores a batch and its offsets atomically (see Batch). It is
	// called from Writers goroutines at once, with batches of disjoint
	// partitions. While it fails, that writer retries the same batch with
	// backoff (1 s doubling to 30 s), and its partitions are read no
	// further. Its context ends 20 s after the call, not when Run's does: a
	// batch being written when Run is told to stop is finished.
	Write func(ctx context.Context, b Batch) error
	// Prepare, when set, is called with each chunk of records as its
	// partition's goroutine reads it, and what it returns reaches Write in
	// Batch.Prepared. Decoding there runs beside the write of the batch
	// before, instead of in a writer while the store waits. It is called
	// from several goroutines at once.
	Prepare func(recs []model.Record) any
	// OnState, when set, is told once per change that the store went down
	// ("store unavailable: why") or came back ("store back"), and of
	// records that Kafka deleted (retention) before they were stored.
	OnState func(msg string)
	// BatchMax is the most records a batch holds (default 5000).
	BatchMax int
	// BatchWait is how long a batch may wait to fill up (default 200 ms).
	BatchWait time.Duration
	// Writers is how many batches are written at once (default 2), each
	// of its own partitions, so that each partition's are written in order:
	// one COPY at a time kept one database backend busy and left the rest
	// of the machine idle (BENCHMARKS.md, history).
	Writers int
	// UntilCaughtUp makes Run return once every partition this member is
	// given has been stored up to the end it had when it was given.
	UntilCaughtUp bool
}

// GroupProgress is what a GroupReader has done so far.
type GroupProgress struct {
	// Written counts the records stored, per stream.
	Written [len(model.Kinds)]int64
	// Lag is, per stream, how many records of this member's partitions are
	// not stored yet, as of the last fetch.
	Lag [len(model.Kinds)]int64
	// Assigned lists this member's partitions, sorted.
	Assigned []TopicPartition
	// StoreDown is set while the store fails.
	StoreDown bool
	// Fenced counts the batches the store refused with ErrFenced.
	Fenced int
	// Err is the latest Kafka error, one line; cleared by the next stored batch.
	Err string
}

// GroupReader reads topics as a member of a consumer group and hands the
// records to a store that keeps the offsets itself, so that each record is
// stored exactly once across restarts, rebalances and store outages.
type GroupReader struct {
	cfg GroupConfig

	// Tests shorten these.
	tune                   func(c *sarama.Config)
	backoffMin, backoffMax time.Duration
	rediscover             time.Duration
	writeTimeout           time.Duration

	// stateMu serializes OnState calls and the store's state changes, so
	// that "down" and "back" are told once each and in order.
	stateMu   sync.Mutex
	storeDown atomic.Bool
	failing   map[int]bool // the writers whose latest write failed, this session

	mu       sync.Mutex
	written  [len(model.Kinds)]int64
	parts    map[TopicPartition]*partProgress
	fenced   int
	kafkaErr string
	stop     context.CancelFunc // ends Run once caught up
}

// partProgress is one assigned partition's state, for Progress and UntilCaughtUp.
type partProgress struct {
	kind  model.Kind
	known bool  // next and end are set: the claim has started
	next  int64 // stored up to here (or reading starts here)
	end   int64 // the end offset when the partition was given
	hwm   int64 // the end offset as of the last fetch
}

// NewGroupReader returns a reader; Run starts it.
func NewGroupReader(cfg GroupConfig) *GroupReader {
	if cfg.BatchMax <= 0 {
		cfg.BatchMax = 5000
	}
	if cfg.BatchWait <= 0 {
		cfg.BatchWait = 200 * time.Millisecond
	}
	if cfg.Writers <= 0 {
		cfg.Writers = 2
	}
	return &GroupReader{cfg: cfg, backoffMin: time.Second, backoffMax: 30 * time.Second,
		rediscover: 5 * time.Second, writeTimeout: 20 * time.Second, failing: map[int]bool{}}
}

// Progress returns what the reader has done so far.
func (g *GroupReader) Progress() GroupProgress {
	g.mu.Lock()
	defer g.mu.Unlock()
	p := GroupProgress{Written: g.written, Fenced: g.fenced, Err: g.kafkaErr, StoreDown: g.storeDown.Load()}
	for tp, pp := range g.parts {
		p.Assigned = append(p.Assigned, tp)
		if pp.known {
			p.Lag[pp.kind] += max(pp.hwm-pp.next, 0)
		}
	}
	slices.SortFunc(p.Assigned, cmpTopicPartition)
	return p
}

func cmpTopicPartition(a, b TopicPartition) int {
	return cmp.Or(strings.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
}

// Run reads until ctx ends or, with UntilCaughtUp, until caught up; either
// way it returns nil after finishing the batch being written and leaving the
// group. It returns an error for a configuration it cannot work with and
// (wrapping ErrUnreachable) when no broker answers at the start; once
// connected it keeps trying through Kafka failures (see Progress().Err).
func (g *GroupReader) Run(ctx context.Context) error {
	switch {
	case g.cfg.Group == "":
		return errors.New("consumer group: no group id")
	case g.cfg.Resume == nil || g.cfg.Write == nil:
		return errors.New("consumer group: Resume and Write are required")
	case len(g.cfg.Topics) == 0:
		return errors.New("consumer group: no topics")
	}
	scfg, err := g.cfg.saramaConfig(func(c *sarama.Config) {
		c.Consumer.Return.Errors = true
		// Only for partitions the store has nothing of and the group never
		// committed: a recording starts with everything Kafka still has.
		c.Consumer.Offsets.Initial = sarama.OffsetOldest
		c.Consumer.Fetch.Default = 256 << 10 // as the live consumer; BENCHMARKS.md
		c.Consumer.MaxWaitTime = 250 * time.Millisecond
		// A member that dies is replaced after 10 s.
		c.Consumer.Group.Session.Timeout = 10 * time.Second
		c.Consumer.Group.Heartbeat.Interval = 3 * time.Second
		// How long the group waits for members to rejoin in a rebalance;
		// ours rejoin once the batch being written is done, which Write's
		// 20 s limit bounds.
		c.Consumer.Group.Rebalance.Timeout = 30 * time.Second
		// An eager protocol: every rebalance ends the session and runs Setup
		// again, which is where partitions are moved to the store's offsets.
		// A cooperative one would start newly given partitions without it.
		c.Consumer.Group.Rebalance.GroupStrategies = []sarama.BalanceStrategy{sarama.NewBalanceStrategyRange()}
		if g.tune != nil {
			g.tune(c)
		}
	})
	if err != nil {
		return err
	}
	client, err := sarama.NewClient(g.cfg.Brokers, scfg)
	if err != nil {
		return fmt.Errorf("%w at %s: %s", ErrUnreachable, g.cfg.BrokerList(), oneLine(err))
	}
	defer client.Close()
	group, err := sarama.NewConsumerGroupFromClient(g.cfg.Group, client)
	if err != nil {
		return fmt.Errorf("consumer group %s: %w", g.cfg.Group, err)
	}
	errsDone := make(chan struct{})
	go func() {
		defer close(errsDone)
		for err := range group.Errors() {
			g.setKafkaErr(oneLine(err))
		}
	}()
	defer func() {
		// Leaves the group, so the others take the partitions over at once
		// rather than after the session timeout.
		group.Close()
		<-errsDone
	}()

	ctx, stop := context.WithCancel(ctx)
	defer stop()
	g.mu.Lock()
	g.stop = stop
	g.mu.Unlock()

	backoff := g.backoffMin
	for ctx.Err() == nil {
		topics, err := g.resolveTopics(client)
		if err != nil {
			g.setKafkaErr(oneLine(err))
		}
		if len(topics) == 0 {
			if err == nil && g.cfg.UntilCaughtUp {
				return nil // nothing to read is everything read
			}
			if err == nil {
				g.setKafkaErr("no topic to read exists yet: " + g.topicFlags())
			}
			sleep(ctx, g.rediscover)
			continue
		}
		joined, err := g.session(ctx, client, group, topics)
		if ctx.Err() != nil {
			break
		}
		if err == nil {
			backoff = g.backoffMin
			continue
		}
		g.setKafkaErr(oneLine(err))
		sleep(ctx, backoff)
		// Backing off further only helps while joining fails; a session
		// that ended in Setup (a rebalance while the store was down) must
		// rejoin before the group gives up on this member.
		if !joined {
			backoff = min(backoff*2, g.backoffMax)
		}
	}
	return nil
}

// session runs one membership of the group: from joining (or rejoining)
// until a rebalance, a change in the topics, a fenced batch or ctx ends it.
// joined says whether the group was joined (Setup ran).
func (g *GroupReader) session(ctx context.Context, client sarama.Client, group sarama.ConsumerGroup, topics map[string]topicInfo) (joined bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		g.watchTopics(ctx, client, topics, cancel)
	}()
	defer func() { cancel(); <-watched }()
	names := make([]string, 0, len(topics))
	kinds := make(map[string]model.Kind, len(topics))
	for name, t := range topics {
		names = append(names, name)
		kinds[name] = t.kind
	}
	slices.Sort(names)
	h := &groupSession{g: g, client: client, kinds: kinds}
	if err := group.Consume(ctx, names, h); err != nil {
		return h.sess != nil, fmt.Errorf("consumer group %s: %w", g.cfg.Group, err)
	}
	return true, nil
}

// topicInfo is a topic being read: its stream and how many partitions it had.
type topicInfo struct {
	kind       model.Kind
	partitions int
}

// resolveTopics lists the topics to read now with their partition counts:
// the named ones that exist and every topic a pattern matches.
func (g *GroupReader) resolveTopics(client sarama.Client) (map[string]topicInfo, error) {
	if err := client.RefreshMetadata(); err != nil {
		return nil, fmt.Errorf("list topics: %w", err)
	}
	all, err := client.Topics()
	if err != nil {
		return nil, fmt.Errorf("list topics: %w", err)
	}
	exists := make(map[string]bool, len(all))
	for _, name := range all {
		exists[name] = true
	}
	out := map[string]topicInfo{}
	add := func(name string, kind model.Kind) {
		if _, seen := out[name]; seen {
			return
		}
		parts, err := client.Partitions(name)
		if err != nil || len(parts) == 0 {
			return // being created or deleted: the next look decides
		}
		out[name] = topicInfo{kind, len(parts)}
	}
	for _, t := range g.cfg.Topics {
		if t.Pattern == nil {
			if exists[t.Name] {
				add(t.Name, t.Kind)
			}
			continue
		}
		for _, name := range all {
			if !strings.HasPrefix(name, "__") && t.Pattern.MatchString(name) {
				add(name, t.Kind)
			}
		}
	}
	return out, nil
}

func (g *GroupReader) topicFlags() string {
	var names []string
	for _, t := range g.cfg.Topics {
		names = append(names, t.Name)
	}
	return strings.Join(names, ", ")
}

// watchTopics ends the session (cancel) when the topics to read or their
// partition counts change, so that the group is joined again with them.
// sarama notices added partitions by itself only every
// Metadata.RefreshFrequency (10 min) and never notices new topics.
func (g *GroupReader) watchTopics(ctx context.Context, client sarama.Client, topics map[string]topicInfo, cancel context.CancelFunc) {
	tick := time.NewTicker(g.rediscover)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now, err := g.resolveTopics(client)
		if err != nil {
			continue // Kafka unreachable: the session notices that by itself
		}
		if !maps.Equal(now, topics) {
			cancel()
			return
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func (g *GroupReader) setKafkaErr(s string) {
	g.mu.Lock()
	g.kafkaErr = s
	g.mu.Unlock()
}

// say tells OnState. It is called from several goroutines (the writer,
// the claims), one at a time.
func (g *GroupReader) say(msg string) {
	g.stateMu.Lock()
	defer g.stateMu.Unlock()
	if g.cfg.OnState != nil {
		g.cfg.OnState(msg)
	}
}

// storeFailed and storeOK report the store's state once per change. who
// is a session's writer (resuming: resumer): the store is down from one's
// failure until none fails, so that writers at once, one failing while
// another succeeds, do not tell "down" and "back" in turn.
func (g *GroupReader) storeFailed(who int, err error) {
	g.stateMu.Lock()
	defer g.stateMu.Unlock()
	g.failing[who] = true
	if !g.storeDown.Swap(true) && g.cfg.OnState != nil {
		g.cfg.OnState("store unavailable: " + oneLine(err))
	}
}

func (g *GroupReader) storeOK(who int) {
	g.stateMu.Lock()
	defer g.stateMu.Unlock()
	delete(g.failing, who)
	if len(g.failing) == 0 && g.storeDown.Swap(false) && g.cfg.OnState != nil {
		g.cfg.OnState("store back")
	}
}

// failed reports whether who's latest write failed.
func (g *GroupReader) failed(who int) bool {
	g.stateMu.Lock()
	defer g.stateMu.Unlock()
	return g.failing[who]
}

// resumer is storeFailed's and storeOK's who for a session's reading of
// the store's offsets.
const resumer = -1

// checkCaughtUp ends Run when UntilCaughtUp holds for every assigned partition.
func (g *GroupReader) checkCaughtUp() {
	if !g.cfg.UntilCaughtUp {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.parts == nil {
		return // between sessions
	}
	for _, p := range g.parts {
		if !p.known || p.next < p.end {
			return
		}
	}
	g.stop()
}

// retry calls fn until it succeeds, the store refuses with ErrFenced, or
// ctx ends, with backoff and the store's state reported in between.
func (g *GroupReader) retry(ctx context.Context, who int, fn func() error) error {
	backoff := g.backoffMin
	for {
		err := fn()
		if err == nil || errors.Is(err, ErrFenced) {
			g.storeOK(who)
			return err
		}
		if ctx.Err() != nil {
			return err
		}
		g.storeFailed(who, err)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		backoff = min(backoff*2, g.backoffMax)
	}
}

// groupSession is the sarama handler of one session. Its claims hand
// records in chunks to writer goroutines (a partition to always the same
// one), which batch them, write them and mark the offsets. A claim returns
// only once the writers are done, so that nothing of a partition is
// written after this member has
// rejoined the group and the partition may have gone to another.
type groupSession struct {
	g      *GroupReader
	client sarama.Client
	kinds  map[string]model.Kind

	sess   sarama.ConsumerGroupSession
	ctx    context.Context // ends with the session, or earlier (fenced, a claim stopped)
	cancel context.CancelFunc
	// resume holds the store's offsets, for the partitions it had one of;
	// written in Setup, read-only afterwards.
	resume map[TopicPartition]int64
	// chunks holds a channel per writer; writerOf, each claimed
	// partition's writer. Both are set in Setup, read-only afterwards.
	chunks     []chan chunk
	writerOf   map[TopicPartition]int
	writerDone chan struct{} // closed once every writer has returned
}

// chunk is consecutive records of one partition, read together, and what
// GroupConfig.Prepare made of them.
type chunk struct {
	tp       TopicPartition
	kind     model.Kind
	recs     []model.Record
	prepared any
}

// Setup moves each claimed partition to the store's offset before sarama
// starts fetching. sarama starts a claim at the offset its offset manager
// holds, loaded from the group's commits; MarkOffset only ever raises that
// and ResetOffset only ever lowers it, so the two together set it to the
// store's offset whether the commit was behind or ahead.
func (h *groupSession) Setup(sess sarama.ConsumerGroupSession) error {
	h.sess = sess
	h.ctx, h.cancel = context.WithCancel(sess.Context())
	h.resume = map[TopicPartition]int64{}
	parts := map[TopicPartition]*partProgress{}
	var claimed []TopicPartition
	for topic, partitions := range sess.Claims() {
		for _, p := range partitions {
			tp := TopicPartition{topic, p}
			claimed = append(claimed, tp)
			parts[tp] = &partProgress{kind: h.kinds[topic]}
		}
	}
	slices.SortFunc(claimed, cmpTopicPartition)
	// A new session's writers start afresh; a store still down is told
	// back by the first success.
	h.g.stateMu.Lock()
	clear(h.g.failing)
	h.g.stateMu.Unlock()
	var stored map[TopicPartition]int64
	if len(claimed) > 0 {
		err := h.g.retry(h.ctx, resumer, func() error {
			ctx, cancel := context.WithTimeout(h.ctx, h.g.writeTimeout)
			defer cancel()
			var err error
			stored, err = h.g.cfg.Resume(ctx, claimed)
			return err
		})
		if err != nil {
			return fmt.Errorf("read the store's offsets: %w", err)
		}
	}
	for _, tp := range claimed {
		next, ok := stored[tp]
		if !ok {
			// The store holds nothing of this partition (a new database, a
			// group used before elsewhere): the group's committed offset is
			// only a hint, and the store's truth is "from the start".
			oldest, err := h.client.GetOffset(tp.Topic, tp.Partition, sarama.OffsetOldest)
			if err != nil {
				return fmt.Errorf("oldest offset of %s/%d: %w", tp.Topic, tp.Partition, err)
			}
			sess.ResetOffset(tp.Topic, tp.Partition, oldest, "")
			continue
		}
		h.resume[tp] = next
		sess.MarkOffset(tp.Topic, tp.Partition, next, "")
		sess.ResetOffset(tp.Topic, tp.Partition, next, "")
	}
	h.g.mu.Lock()
	h.g.parts = parts
	h.g.mu.Unlock()
	// The claims in order, topic by topic, dealt to the writers in turn:
	// each writer gets its share of the busiest topic.
	n := max(1, min(h.g.cfg.Writers, len(claimed)))
	h.chunks = make([]chan chunk, n)
	h.writerOf = make(map[TopicPartition]int, len(claimed))
	for i, tp := range claimed {
		h.writerOf[tp] = i % n
	}
	h.writerDone = make(chan struct{})
	var writers sync.WaitGroup
	for i := range h.chunks {
		h.chunks[i] = make(chan chunk, 8)
		writers.Go(func() { h.writer(i, h.chunks[i]) })
	}
	go func() {
		writers.Wait()
		close(h.writerDone)
	}()
	h.g.checkCaughtUp() // a member given no partition is caught up at once
	return nil
}

// Cleanup runs once every claim has returned, before sarama commits the
// marked offsets a last time.
func (h *groupSession) Cleanup(sarama.ConsumerGroupSession) error {
	if h.cancel != nil {
		h.cancel()
	}
	if h.writerDone != nil {
		<-h.writerDone
	}
	h.g.mu.Lock()
	h.g.parts = nil
	h.g.mu.Unlock()
	return nil
}

// ConsumeClaim reads one partition. Records below the store's offset are
// skipped: Setup makes the fetch start there, so this only matters when
// sarama started elsewhere (an offset out of range reset to the oldest).
func (h *groupSession) ConsumeClaim(_ sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	// Whatever ends this claim ends the session (sarama does so too), and
	// the writer must be finished before the partition is let go.
	defer func() {
		h.cancel()
		<-h.writerDone
	}()
	tp := TopicPartition{claim.Topic(), claim.Partition()}
	kind := h.kinds[tp.Topic]
	start := claim.InitialOffset()
	if start < 0 { // sarama's OffsetOldest: no offset in the store nor the group
		off, err := h.client.GetOffset(tp.Topic, tp.Partition, start)
		if err != nil {
			return fmt.Errorf("oldest offset of %s: %w", tp, err)
		}
		start = off
	}
	end, err := h.client.GetOffset(tp.Topic, tp.Partition, sarama.OffsetNewest)
	if err != nil {
		return fmt.Errorf("end offset of %s: %w", tp, err)
	}
	skipBelow := int64(-1)
	next := start
	if stored, ok := h.resume[tp]; ok {
		skipBelow = stored
		switch {
		case start > stored:
			h.g.say(fmt.Sprintf("%s: offsets %d to %d were deleted by Kafka before they were stored", tp, stored, start-1))
		case start < stored:
			h.g.say(fmt.Sprintf("%s: the store is at offset %d but Kafka reads from %d (topic recreated or truncated?); records below %d are skipped",
				tp, stored, start, stored))
		}
		next = max(stored, start)
	}
	h.g.mu.Lock()
	if p := h.g.parts[tp]; p != nil {
		p.known, p.next, p.end, p.hwm = true, next, end, end
	}
	h.g.mu.Unlock()
	h.g.checkCaughtUp()

	chunkMax := min(h.g.cfg.BatchMax, 512)
	msgs := claim.Messages()
	for {
		var (
			m  *sarama.ConsumerMessage
			ok bool
		)
		select {
		case <-h.ctx.Done():
			return nil
		case m, ok = <-msgs:
		}
		// Take what else is waiting without blocking: a busy partition
		// goes to the writer in chunks, a quiet one record by record.
		var recs []model.Record
		for ok {
			if m.Offset >= skipBelow {
				recs = append(recs, model.Record{Kind: kind, Key: m.Key, Value: m.Value, Time: m.Timestamp,
					Topic: m.Topic, Partition: m.Partition, Offset: m.Offset})
			}
			if len(recs) == chunkMax {
				break
			}
			select {
			case m, ok = <-msgs:
				continue
			default:
			}
			break
		}
		if len(recs) > 0 {
			hwm := claim.HighWaterMarkOffset()
			h.g.mu.Lock()
			if p := h.g.parts[tp]; p != nil {
				p.hwm = max(p.hwm, hwm)
			}
			h.g.mu.Unlock()
			c := chunk{tp: tp, kind: kind, recs: recs}
			if h.g.cfg.Prepare != nil {
				c.prepared = h.g.cfg.Prepare(recs)
			}
			select {
			case h.chunks[h.writerOf[tp]] <- c:
			case <-h.ctx.Done():
				return nil
			}
		}
		if !ok {
			return nil
		}
	}
}

// writer batches the chunks of its claims and writes them, one batch at a
// time. When the session ends it writes what it holds once more unless its
// own latest write failed (the store is likely down), and drops it
// otherwise: those records are read again by whoever gets the partition,
// from the store's offsets.
func (h *groupSession) writer(who int, chunks <-chan chunk) {
	from := map[TopicPartition]int64{} // the store's offsets, as this session left them
	var (
		b     Batch
		carry *chunk
		timer *time.Timer
	)
	reset := func() {
		b = Batch{Next: map[TopicPartition]int64{}, From: map[TopicPartition]int64{}}
		if timer != nil {
			timer.Stop()
			timer = nil
		}
	}
	// A chunk is never split, so that what Prepare made of it goes whole
	// into one batch; one that would not fit starts the next batch.
	add := func(c chunk) (full bool) {
		if len(b.Records) > 0 && len(b.Records)+len(c.recs) > h.g.cfg.BatchMax {
			carry = &c
			return true
		}
		if len(b.Records) == 0 {
			timer = time.NewTimer(h.g.cfg.BatchWait)
		}
		b.Records = append(b.Records, c.recs...)
		if h.g.cfg.Prepare != nil {
			b.Prepared = append(b.Prepared, c.prepared)
		}
		b.Next[c.tp] = c.recs[len(c.recs)-1].Offset + 1
		if _, ok := b.From[c.tp]; !ok {
			f, ok := from[c.tp]
			if !ok {
				f, ok = h.resume[c.tp]
			}
			if !ok {
				f = NoOffset
			}
			b.From[c.tp] = f
		}
		return len(b.Records) >= h.g.cfg.BatchMax
	}
	write := func(retry bool) bool {
		wctx := context.WithoutCancel(h.ctx)
		once := func() error {
			ctx, cancel := context.WithTimeout(wctx, h.g.writeTimeout)
			defer cancel()
			return h.g.cfg.Write(ctx, b)
		}
		var err error
		if retry {
			err = h.g.retry(h.ctx, who, once)
		} else if err = once(); err != nil && !errors.Is(err, ErrFenced) {
			h.g.storeFailed(who, err)
		}
		if errors.Is(err, ErrFenced) {
			h.g.mu.Lock()
			h.g.fenced++
			h.g.mu.Unlock()
			h.cancel() // rejoin: Setup reads the store's offsets again
			return false
		}
		if err != nil {
			return false
		}
		h.g.storeOK(who)
		h.stored(b)
		for tp, n := range b.Next {
			from[tp] = n
		}
		return true
	}
	reset()
	for {
		full := false
		if carry != nil {
			c := *carry
			carry = nil
			full = add(c)
		}
		for !full {
			var timeout <-chan time.Time
			if timer != nil {
				timeout = timer.C
			}
			select {
			case c := <-chunks:
				full = add(c)
			case <-timeout:
				full = true
			case <-h.ctx.Done():
				if len(b.Records) > 0 && !h.g.failed(who) {
					write(false)
				}
				return
			}
		}
		if !write(true) {
			return
		}
		reset()
	}
}

// stored records a written batch: the offsets as a hint for the group,
// the counts and lag, and whether that catches the reader up.
func (h *groupSession) stored(b Batch) {
	for tp, n := range b.Next {
		h.sess.MarkOffset(tp.Topic, tp.Partition, n, "")
	}
	var n [len(model.Kinds)]int64
	for _, r := range b.Records {
		n[r.Kind]++
	}
	h.g.mu.Lock()
	for k := range n {
		h.g.written[k] += n[k]
	}
	for tp, next := range b.Next {
		if p := h.g.parts[tp]; p != nil {
			p.next = next
		}
	}
	h.g.kafkaErr = ""
	h.g.mu.Unlock()
	h.g.checkCaughtUp()
}

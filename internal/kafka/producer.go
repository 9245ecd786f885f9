package kafka

import (
	"bytes"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"

	"github.com/fleetwatch/fleetwatch/internal/model"
)

// Producer sends the simulator's records asynchronously, in batches, and
// counts what the brokers acknowledged and what could not be delivered.
type Producer struct {
	ap       sarama.AsyncProducer
	topics   map[model.Kind]string
	produced [3]atomic.Int64
	failed   atomic.Int64
	sent     atomic.Int64 // records queued; Close waits for them all to be answered
	lastErr  atomic.Value // string
	wg       sync.WaitGroup
}

// NewProducer connects to the brokers. topics names the topic of each stream.
func NewProducer(opts Options, topics map[model.Kind]string) (*Producer, error) {
	c, err := opts.saramaConfig(func(c *sarama.Config) {
		if opts.ClientID == "" {
			c.ClientID = "fleetsim"
		}
		c.Metadata.AllowAutoTopicCreation = true
		c.Producer.Return.Successes = true
		c.Producer.Return.Errors = true
		c.Producer.RequiredAcks = sarama.WaitForAll
		c.Producer.Compression = sarama.CompressionLZ4
		c.Producer.Flush.Frequency = 5 * time.Millisecond
		c.Producer.Flush.Messages = 1000
		c.Producer.Flush.MaxMessages = 5000
		c.ChannelBufferSize = 4096
		// A broker that goes away is waited for (about half a minute)
		// before a record counts as failed. Both knobs are needed: sarama
		// retries a failed produce Retry.Max times, but each retry first
		// looks up the leader, and a failed look-up fails the record at once
		// (and three of them open a 10 s circuit breaker), so the look-up
		// itself must keep trying while a lone broker restarts. Callers check
		// that the brokers answer first (EnsureTopics), so a wrong address
		// still fails fast.
		c.Producer.Retry.Max = 60
		c.Producer.Retry.Backoff = 500 * time.Millisecond
		c.Metadata.Retry.Max = 120
		c.Metadata.Retry.Backoff = 250 * time.Millisecond
	})
	if err != nil {
		return nil, err
	}
	ap, err := sarama.NewAsyncProducer(opts.Brokers, c)
	if err != nil {
		return nil, fmt.Errorf("%w at %s: %s", ErrUnreachable, opts.BrokerList(), oneLine(err))
	}
	p := &Producer{ap: ap, topics: topics}
	p.wg.Add(2)
	go func() {
		defer p.wg.Done()
		for m := range ap.Successes() {
			if k, ok := m.Metadata.(model.Kind); ok {
				p.produced[k].Add(1)
			}
		}
	}()
	go func() {
		defer p.wg.Done()
		for e := range ap.Errors() {
			p.failed.Add(1)
			p.lastErr.Store(oneLine(e.Err))
		}
	}()
	return p, nil
}

// Send queues one record; it blocks only when the producer's buffer is full.
// A nil value is a tombstone.
func (p *Producer) Send(kind model.Kind, key string, value []byte) {
	msg := &sarama.ProducerMessage{Topic: p.topics[kind], Key: sarama.StringEncoder(key), Metadata: kind}
	if value != nil {
		// The caller may reuse value; the producer keeps it until acknowledged.
		msg.Value = sarama.ByteEncoder(bytes.Clone(value))
	}
	p.sent.Add(1)
	p.ap.Input() <- msg
}

// settled reports whether every queued record has been acknowledged or
// has failed.
func (p *Producer) settled() bool {
	n := p.failed.Load()
	for i := range p.produced {
		n += p.produced[i].Load()
	}
	return n >= p.sent.Load()
}

// Close flushes every queued record and waits for the brokers' answers.
// It returns an error when some records could not be delivered.
func (p *Producer) Close() error {
	// sarama fails the records it is still retrying when it is closed
	// ("in process of shutting down"), so wait for every answer first: a
	// broker that answers slowly (a leader moving, a busy machine) then
	// costs time, not records. The retries themselves give up after about
	// half a minute, which bounds the wait.
	for deadline := time.Now().Add(2 * time.Minute); !p.settled() && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	// Not ap.Close: it drains the Successes channel itself, and the records
	// it swallows would be missing from the produced counts.
	p.ap.AsyncClose()
	p.wg.Wait()
	if n := p.failed.Load(); n > 0 {
		return fmt.Errorf("%d records not delivered; last error: %s", n, p.LastError())
	}
	return nil
}

// Produced returns the acknowledged records per stream and the failed ones.
func (p *Producer) Produced() (perKind [3]int64, failed int64) {
	for i := range perKind {
		perKind[i] = p.produced[i].Load()
	}
	return perKind, p.failed.Load()
}

// LastError returns the most recent delivery error, or "".
func (p *Producer) LastError() string {
	s, _ := p.lastErr.Load().(string)
	return s
}

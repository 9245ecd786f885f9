// Package kafka holds all of fleetwatch's Kafka code: client configuration,
// the consumer that feeds the fleet state, the producer the simulator writes
// with, topic administration and the embedded broker.
package kafka

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/IBM/sarama"
)

// Options are the connection settings every command shares.
type Options struct {
	Brokers  []string
	ClientID string            // default client.id; -X client.id wins
	Props    map[string]string // -X properties, librdkafka/Java spelling
}

// ParseProps turns repeated "key=value" flags into a map.
func ParseProps(list []string) (map[string]string, error) {
	props := make(map[string]string, len(list))
	for _, kv := range list {
		k, v, ok := strings.Cut(kv, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("-X %q: want key=value", kv)
		}
		set, known := propSetters[k]
		if !known {
			return nil, fmt.Errorf("-X %s: unknown property; supported: %s", k, strings.Join(knownProps(), ", "))
		}
		// Check the value now, so a typo is a usage error before anything connects.
		if err := set(&clientConfig{Config: sarama.NewConfig()}, v); err != nil {
			return nil, fmt.Errorf("-X %s=%s: %w", k, v, err)
		}
		props[k] = v
	}
	if _, err := (Options{Props: props}).saramaConfig(nil); err != nil {
		return nil, err
	}
	return props, nil
}

// clientConfig is a sarama configuration being built from properties, with
// what must wait until every property is known.
type clientConfig struct {
	*sarama.Config
	certFile, keyFile string
}

// propSetters applies one -X property to a sarama configuration.
var propSetters = map[string]func(c *clientConfig, v string) error{
	"client.id": func(c *clientConfig, v string) error {
		if v == "" {
			return fmt.Errorf("must not be empty")
		}
		c.ClientID = v
		return nil
	},
	"socket.connection.setup.timeout.ms": func(c *clientConfig, v string) error {
		d, err := millis(v)
		c.Net.DialTimeout = d
		return err
	},
	"request.timeout.ms": func(c *clientConfig, v string) error {
		d, err := millis(v)
		c.Net.ReadTimeout, c.Net.WriteTimeout = d, d
		return err
	},
	"acks": func(c *clientConfig, v string) error {
		switch v {
		case "0":
			c.Producer.RequiredAcks = sarama.NoResponse
		case "1":
			c.Producer.RequiredAcks = sarama.WaitForLocal
		case "all", "-1":
			c.Producer.RequiredAcks = sarama.WaitForAll
		default:
			return fmt.Errorf("want 0, 1 or all")
		}
		return nil
	},
	"enable.idempotence": func(c *clientConfig, v string) error {
		on, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("want true or false")
		}
		c.Producer.Idempotent = on
		if on {
			// What idempotence needs: every in-sync replica acknowledges and
			// one request in flight per broker keeps the order on retry.
			c.Producer.RequiredAcks = sarama.WaitForAll
			c.Net.MaxOpenRequests = 1
		}
		return nil
	},
	"compression.type": func(c *clientConfig, v string) error {
		codecs := map[string]sarama.CompressionCodec{"none": sarama.CompressionNone, "gzip": sarama.CompressionGZIP,
			"snappy": sarama.CompressionSnappy, "lz4": sarama.CompressionLZ4, "zstd": sarama.CompressionZSTD}
		codec, ok := codecs[strings.ToLower(v)]
		if !ok {
			return fmt.Errorf("want none, gzip, snappy, lz4 or zstd")
		}
		c.Producer.Compression = codec
		return nil
	},
	"linger.ms": func(c *clientConfig, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("want a number of milliseconds")
		}
		c.Producer.Flush.Frequency = time.Duration(n) * time.Millisecond
		return nil
	},
}

func millis(v string) (time.Duration, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("want a positive number of milliseconds")
	}
	return time.Duration(n) * time.Millisecond, nil
}

func knownProps() []string {
	var ks []string
	for k := range propSetters {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// BrokerList returns the brokers as the user wrote them, for messages.
func (o Options) BrokerList() string { return strings.Join(o.Brokers, ",") }

// saramaConfig builds the client configuration shared by consumer, producer
// and admin. role sets the defaults of one kind of client; -X properties are
// applied last so that they win.
func (o Options) saramaConfig(role func(c *sarama.Config)) (*sarama.Config, error) {
	c := sarama.NewConfig()
	c.ClientID = "fleetwatch"
	if o.ClientID != "" {
		c.ClientID = o.ClientID
	}
	c.Net.DialTimeout = 5 * time.Second
	c.Metadata.Retry.Max = 2
	c.Metadata.Retry.Backoff = 200 * time.Millisecond
	// Watching must never create topics: a typo in a topic flag would
	// otherwise leave an empty topic behind on the cluster.
	c.Metadata.AllowAutoTopicCreation = false
	if role != nil {
		role(c)
	}
	cc := &clientConfig{Config: c}
	for _, k := range knownPropsIn(o.Props) {
		if err := propSetters[k](cc, o.Props[k]); err != nil {
			return nil, fmt.Errorf("-X %s=%s: %w", k, o.Props[k], err)
		}
	}
	if err := cc.finish(); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("kafka client configuration: %w", err)
	}
	return c, nil
}

func knownPropsIn(props map[string]string) []string {
	var ks []string
	for k := range props {
		if _, ok := propSetters[k]; ok {
			ks = append(ks, k)
		}
	}
	slices.Sort(ks)
	return ks
}

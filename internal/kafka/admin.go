package kafka

import (
	"errors"
	"fmt"

	"github.com/IBM/sarama"
)

// EnsureTopics creates the topics that do not exist yet.
func EnsureTopics(opts Options, names []string, partitions int32, replication int16) error {
	c, err := opts.saramaConfig(nil)
	if err != nil {
		return err
	}
	admin, err := sarama.NewClusterAdmin(opts.Brokers, c)
	if err != nil {
		return fmt.Errorf("%w at %s: %s", ErrUnreachable, opts.BrokerList(), oneLine(err))
	}
	defer admin.Close()
	for _, name := range names {
		err := admin.CreateTopic(name, &sarama.TopicDetail{NumPartitions: partitions, ReplicationFactor: replication}, false)
		if err != nil && !errors.Is(err, sarama.ErrTopicAlreadyExists) {
			return fmt.Errorf("create topic %s: %s", name, oneLine(err))
		}
	}
	return nil
}

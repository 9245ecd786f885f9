package kafka

import (
	"fmt"
	"net"
	"strconv"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Embedded is an in-process broker speaking the Kafka protocol, for the demo
// and fast tests. It creates topics on first use, as Kafka does by default.
type Embedded struct {
	cluster *kfake.Cluster
	addr    string
}

// DefaultPartitions is how many partitions the embedded broker gives a topic it creates.
const DefaultPartitions = 6

// StartEmbedded listens on addr (host:port; port 0 picks a free one).
func StartEmbedded(addr string) (*Embedded, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("embedded broker address %q: want host:port", addr)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return nil, fmt.Errorf("embedded broker address %q: bad port", addr)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	cluster, err := kfake.NewCluster(
		kfake.NumBrokers(1),
		kfake.Ports(port),
		// kfake listens on loopback; honour the host the user asked for.
		kfake.ListenFn(func(network, a string) (net.Listener, error) {
			_, p, _ := net.SplitHostPort(a)
			return net.Listen(network, net.JoinHostPort(host, p))
		}),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(DefaultPartitions),
		kfake.ClusterID("fleetwatch-embedded"),
	)
	if err != nil {
		return nil, fmt.Errorf("start embedded broker on %s: %w", addr, err)
	}
	return &Embedded{cluster: cluster, addr: cluster.ListenAddrs()[0]}, nil
}

// Addr returns the address clients connect to.
func (e *Embedded) Addr() string { return e.addr }

// Close stops the broker; its data is gone.
func (e *Embedded) Close() { e.cluster.Close() }

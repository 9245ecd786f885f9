// Package cli holds the command lines of fleetwatch and fleetsim: flag
// parsing, wiring of broker, consumer, simulator and screen, exit codes and
// one-line errors. cmd/ only calls into it.
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/fleetwatch/fleetwatch/internal/kafka"
	"github.com/fleetwatch/fleetwatch/internal/model"
	"github.com/fleetwatch/fleetwatch/internal/network"
)

// Exit codes of the contract.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// usageError marks errors that are the user's to fix in the command line.
type usageError struct{ error }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// report prints err as the contract's one-line error and returns the exit code.
func report(stderr io.Writer, prog string, err error) int {
	msg := strings.Join(strings.Fields(err.Error()), " ")
	fmt.Fprintf(stderr, "%s: %s\n", prog, msg)
	var u usageError
	if errors.As(err, &u) {
		return exitUsage
	}
	return exitFailure
}

// connFlags are the Kafka connection and topic flags both binaries share.
type connFlags struct {
	fs       *pflag.FlagSet
	config   string
	cluster  string
	brokers  string
	props    []string
	networks []string
	gtfs     string
	topics   [3]string
}

func (c *connFlags) register(fs *pflag.FlagSet) {
	c.fs = fs
	fs.StringVarP(&c.brokers, "brokers", "b", defaultBrokers, "bootstrap brokers, comma separated (env FLEETWATCH_BROKERS)")
	fs.StringVar(&c.config, "config", defaultConfigPath(), "config file with named clusters")
	fs.StringVar(&c.cluster, "cluster", "", "a cluster of the config file (default: the file's default)")
	fs.StringArrayVarP(&c.props, "property", "X", nil, "Kafka client property key=value, librdkafka/Java spelling (repeatable)")
	fs.StringArrayVar(&c.networks, "network", nil, "network GeoJSON file; repeatable, the files are merged")
	fs.StringVar(&c.gtfs, "gtfs", "", "static GTFS feed (.zip or directory) to use as the network instead")
	fs.StringVar(&c.topics[model.KindVehicles], "vehicles-topic", "fleet.vehicles", "vehicle positions topic")
	fs.StringVar(&c.topics[model.KindStations], "stations-topic", "fleet.stations", "station events topic")
	fs.StringVar(&c.topics[model.KindWeather], "weather-topic", "fleet.weather", "weather topic")
}

const defaultBrokers = "localhost:9092"

// options resolves the connection: -b wins, then FLEETWATCH_BROKERS, then
// the config file's cluster, then localhost; -X properties override the
// cluster's.
func (c *connFlags) options() (kafka.Options, error) {
	cl, err := loadCluster(c.config, c.cluster, c.fs != nil && c.fs.Changed("config"))
	if err != nil {
		return kafka.Options{}, err
	}
	list := c.brokers
	switch env := os.Getenv("FLEETWATCH_BROKERS"); {
	case c.fs != nil && c.fs.Changed("brokers"):
	case env != "":
		list = env
	case cl != nil:
		list = strings.Join(cl.Brokers, ",")
	}
	var brokers []string
	for _, b := range strings.Split(list, ",") {
		if b = strings.TrimSpace(b); b != "" {
			brokers = append(brokers, b)
		}
	}
	if len(brokers) == 0 {
		return kafka.Options{}, usagef("--brokers: no broker given")
	}
	propList := c.props
	if cl != nil {
		propList = append(cl.propsList(), c.props...) // later wins
	}
	props, err := kafka.ParseProps(propList)
	if err != nil {
		return kafka.Options{}, usageError{err}
	}
	return kafka.Options{Brokers: brokers, Props: props}, nil
}

// loadNetwork reads the network the flags name: a GTFS feed or GeoJSON
// files; with neither, the embedded Chicago network when embedded is set
// (the simulator, the demo), else an empty one that the data will fill.
func (c *connFlags) loadNetwork(embedded bool) (*network.Network, error) {
	switch {
	case c.gtfs != "" && len(c.networks) > 0:
		return nil, usagef("--network and --gtfs: give one of them")
	case c.gtfs != "":
		return network.LoadGTFS(c.gtfs)
	case len(c.networks) > 0:
		return network.LoadAll(c.networks)
	case embedded:
		return network.Load("")
	}
	return &network.Network{}, nil
}

func (c *connFlags) topicList() ([]kafka.Topic, error) {
	var out []kafka.Topic
	for _, k := range model.Kinds {
		t, err := kafka.ParseTopic(c.topics[k], k)
		if err != nil {
			return nil, usagef("--%s-topic: %v", k, err)
		}
		out = append(out, t)
	}
	return out, nil
}

// topicNames is for producing: every stream needs one named topic.
func (c *connFlags) topicNames(who string) error {
	for _, k := range model.Kinds {
		if strings.HasPrefix(c.topics[k], "re:") {
			return usagef("--%s-topic %s: %s writes to a named topic, not a pattern", k, c.topics[k], who)
		}
	}
	return nil
}

func (c *connFlags) topicMap() map[model.Kind]string {
	return map[model.Kind]string{
		model.KindVehicles: c.topics[model.KindVehicles],
		model.KindStations: c.topics[model.KindStations],
		model.KindWeather:  c.topics[model.KindWeather],
	}
}

// parse parses args, turning pflag's errors into usage errors; help is
// printed to stdout (see printHelp) and reported as errHelp.
func parse(fs *pflag.FlagSet, args []string, stdout io.Writer) error {
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	if errors.Is(err, pflag.ErrHelp) {
		printHelp(stdout, fs)
		return errHelp
	}
	if err != nil {
		return usagef("%v; see --help", err)
	}
	return nil
}

var errHelp = errors.New("help shown")

// connectHint says what to do about a failed connection: the fix for a
// refused login or certificate is not the fix for a missing broker.
func connectHint(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "SASL") || strings.Contains(msg, "uthentication"):
		return "check -X sasl.mechanism, sasl.username and sasl.password"
	case strings.Contains(msg, "x509") || strings.Contains(msg, "tls:") || strings.Contains(msg, "certificate"):
		return "check -X security.protocol and ssl.ca.location"
	}
	return "start a broker or use --demo"
}

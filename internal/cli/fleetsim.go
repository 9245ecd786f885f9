package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/fleetwatch/fleetwatch/internal/kafka"
	"github.com/fleetwatch/fleetwatch/internal/model"
	"github.com/fleetwatch/fleetwatch/internal/network"
	"github.com/fleetwatch/fleetwatch/internal/sim"
)

const simProg = "fleetsim"

// Fleetsim runs the fleetsim command line and returns its exit code.
func Fleetsim(args []string, stdout, stderr io.Writer) int {
	var err error
	switch {
	case len(args) > 0 && args[0] == "broker":
		err = runBroker(args[1:], stdout, stderr)
	case len(args) > 0 && args[0] == "run":
		err = runSim(args[1:], stdout, stderr)
	default:
		err = runSim(args, stdout, stderr)
	}
	if err == nil || errors.Is(err, errHelp) {
		return exitOK
	}
	return report(stderr, simProg, err)
}

func runBroker(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet(simProg+" broker", pflag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:9092", "address to listen on (host:port)")
	if err := parse(fs, args, stdout); err != nil {
		return err
	}
	b, err := kafka.StartEmbedded(*listen)
	if err != nil {
		return err
	}
	defer b.Close()
	fmt.Fprintf(stderr, "%s: embedded broker listening on %s; stop with Ctrl-C\n", simProg, b.Addr())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	return nil
}

// jsonlSink writes {"topic","key","value"} lines, the value embedded as JSON.
type jsonlSink struct {
	w        *bufio.Writer
	topics   map[model.Kind]string
	produced [3]atomic.Int64
	err      error
}

type jsonlLine struct {
	Topic string          `json:"topic"`
	Key   string          `json:"key"`
	Value json.RawMessage `json:"value"`
}

func (j *jsonlSink) Send(kind model.Kind, key string, value []byte) {
	if j.err != nil {
		return
	}
	b, err := json.Marshal(jsonlLine{Topic: j.topics[kind], Key: key, Value: value})
	if err == nil {
		b = append(b, '\n')
		_, err = j.w.Write(b)
	}
	if err != nil {
		j.err = err
		return
	}
	j.produced[kind].Add(1)
}

// simSummary is the one JSON line fleetsim prints on exit.
type simSummary struct {
	Produced map[string]int64 `json:"produced"`
	Failed   int64            `json:"failed"`
}

func printSummary(stderr io.Writer, produced [3]int64, failed int64) {
	s := simSummary{Produced: map[string]int64{}, Failed: failed}
	for _, k := range model.Kinds {
		s.Produced[k.String()] = produced[k]
	}
	b, _ := json.Marshal(s)
	fmt.Fprintf(stderr, "%s\n", b)
}

func parseSpeedup(s string) (float64, error) {
	if strings.EqualFold(s, "max") {
		return 0, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 {
		return 0, usagef("--speedup %q: want a positive number or max", s)
	}
	return f, nil
}

func runSim(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet(simProg+" run", pflag.ContinueOnError)
	var c connFlags
	c.register(fs)
	embedded := fs.String("embedded-broker", "", "start an embedded broker at ADDR and produce to it")
	output := fs.String("output", "kafka", "kafka, or jsonl to write records to stdout")
	vehicles := fs.Int("vehicles", 0, "vehicles in service, spread over the lines (default per line)")
	tick := fs.Duration("tick", time.Second, "simulated time between position reports of one vehicle")
	speedupStr := fs.String("speedup", "1", "simulated seconds per wall second, or max")
	startStr := fs.String("start", "", "simulated start time, RFC 3339 (default now)")
	duration := fs.Duration("duration", 0, "simulated time to run, then flush and exit (default until stopped)")
	seed := fs.Uint64("seed", 0, "random seed; same seed, start and flags give the same events (default random)")
	partitions := fs.Int32("partitions", 6, "partitions for topics it creates")
	replication := fs.Int16("replication", 1, "replication factor for topics it creates")
	if err := parse(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q; commands: run, broker", fs.Arg(0))
	}
	speedup, err := parseSpeedup(*speedupStr)
	if err != nil {
		return err
	}
	start := time.Now()
	if *startStr != "" {
		if start, err = time.Parse(time.RFC3339Nano, *startStr); err != nil {
			return usagef("--start %q: want an RFC 3339 time", *startStr)
		}
	}
	if !fs.Changed("seed") {
		*seed = uint64(time.Now().UnixNano())
	}
	switch {
	case *tick <= 0:
		return usagef("--tick must be positive")
	case *duration < 0:
		return usagef("--duration must not be negative")
	case *vehicles < 0:
		return usagef("--vehicles must not be negative")
	case *partitions < 1 || *replication < 1:
		return usagef("--partitions and --replication must be at least 1")
	case *output != "kafka" && *output != "jsonl":
		return usagef("--output %q: want kafka or jsonl", *output)
	}
	opts, err := c.options()
	if err != nil {
		return err
	}
	net, err := network.Load(c.network)
	if err != nil {
		return err
	}
	s, err := sim.New(sim.Config{Network: net, Vehicles: *vehicles, Tick: *tick, Speedup: speedup,
		Start: start, Duration: *duration, Seed: *seed})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if *output == "jsonl" {
		sink := &jsonlSink{w: bufio.NewWriterSize(stdout, 1<<16), topics: c.topicMap()}
		s.Run(ctx, sink)
		if err := sink.w.Flush(); err != nil && sink.err == nil {
			sink.err = err
		}
		var produced [3]int64
		for i := range produced {
			produced[i] = sink.produced[i].Load()
		}
		printSummary(stderr, produced, 0)
		if sink.err != nil {
			return fmt.Errorf("write jsonl: %w", sink.err)
		}
		return nil
	}

	if *embedded != "" {
		b, err := kafka.StartEmbedded(*embedded)
		if err != nil {
			return err
		}
		defer b.Close()
		opts.Brokers = []string{b.Addr()}
		fmt.Fprintf(stderr, "%s: embedded broker listening on %s\n", simProg, b.Addr())
	}
	topics := c.topicMap()
	names := []string{topics[model.KindVehicles], topics[model.KindStations], topics[model.KindWeather]}
	if err := kafka.EnsureTopics(opts, names, *partitions, *replication); err != nil {
		return fmt.Errorf("create topics: %w; check --brokers", err)
	}
	producer, err := kafka.NewProducer(opts, topics)
	if err != nil {
		return fmt.Errorf("connect: %w; check --brokers", err)
	}
	s.Run(ctx, producer)
	closeErr := producer.Close()
	produced, failed := producer.Produced()
	printSummary(stderr, produced, failed)
	if closeErr != nil && failed == 0 {
		return fmt.Errorf("flush: %w", closeErr)
	}
	return nil
}

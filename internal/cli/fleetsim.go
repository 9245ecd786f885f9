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
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/paulmach/orb"
	"github.com/spf13/pflag"

	"github.com/fleetwatch/fleetwatch/internal/jsonw"
	"github.com/fleetwatch/fleetwatch/internal/kafka"
	"github.com/fleetwatch/fleetwatch/internal/model"
	"github.com/fleetwatch/fleetwatch/internal/sim"
)

const simProg = "fleetsim"

// Fleetsim runs the fleetsim command line and returns its exit code.
func Fleetsim(args []string, stdout, stderr io.Writer) int {
	args, showVersion, err := simProgram.resolve(args)
	switch {
	case err != nil:
	case showVersion:
		err = printVersion(stdout, simProg)
	case len(args) > 0 && args[0] == "broker":
		err = runBroker(args[1:], stdout, stderr)
	case len(args) > 0 && args[0] == "stations":
		err = runStations(args[1:], stdout, stderr)
	case len(args) > 0 && args[0] == "run":
		err = runSim(simProg+" run", args[1:], stdout, stderr)
	default:
		// Named after the binary, its --help is the overview.
		err = runSim(simProg, args, stdout, stderr)
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

// jsonlSink writes {"topic","key","value"} lines, the value embedded as
// JSON. Lines are built by hand: this is the simulator's fastest output and
// re-encoding every value through encoding/json would halve its rate.
type jsonlSink struct {
	w        *bufio.Writer
	topics   map[model.Kind]string
	line     []byte
	produced [3]atomic.Int64
	err      error
}

func (j *jsonlSink) Send(kind model.Kind, key string, value []byte) {
	if j.err != nil {
		return
	}
	b := append(j.line[:0], `{"topic":`...)
	b = jsonw.AppendString(b, j.topics[kind])
	b = append(b, `,"key":`...)
	b = jsonw.AppendString(b, key)
	b = append(b, `,"value":`...)
	b = append(b, value...)
	b = append(b, "}\n"...)
	j.line = b
	if _, err := j.w.Write(b); err != nil {
		j.err = err
		return
	}
	j.produced[kind].Add(1)
}

// Produced returns the lines written per stream; writing stdout fails whole, not per record.
func (j *jsonlSink) Produced() (perKind [3]int64, failed int64) {
	for i := range perKind {
		perKind[i] = j.produced[i].Load()
	}
	return perKind, 0
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

// counter is an output that counts what it delivered.
type counter interface {
	sim.Sink
	Produced() (perKind [3]int64, failed int64)
}

// progress prints simulated time and rates on stderr every interval until ctx ends.
func progress(ctx context.Context, stderr io.Writer, every time.Duration, s *sim.Sim, out counter) {
	if every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	prev, _ := out.Produced()
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			cur, failed := out.Produced()
			el := now.Sub(last).Seconds()
			fmt.Fprintf(stderr, "%s: sim %s  vehicles %.0f/s  stations %.0f/s  weather %.0f/s  failed %d\n", simProg,
				s.Now().Format("2006-01-02 15:04:05"), float64(cur[0]-prev[0])/el, float64(cur[1]-prev[1])/el,
				float64(cur[2]-prev[2])/el, failed)
			prev, last = cur, now
		}
	}
}

func parseShard(v string) (int, int, error) {
	if v == "" {
		return 0, 1, nil
	}
	i, n, ok := strings.Cut(v, "/")
	si, err1 := strconv.Atoi(i)
	sn, err2 := strconv.Atoi(n)
	if !ok || err1 != nil || err2 != nil || sn < 1 || si < 0 || si >= sn {
		return 0, 0, usagef("--shard %q: want i/n with 0 ≤ i < n", v)
	}
	return si, sn, nil
}

// parseRoamArea reads --roam-area: a bounding box, or a GeoJSON file of
// polygons; "" leaves the simulator its default.
func parseRoamArea(v string) (orb.MultiPolygon, error) {
	if v == "" {
		return nil, nil
	}
	_, statErr := os.Stat(v)
	if statErr != nil && strings.Contains(v, ",") {
		return parseBBox(v)
	}
	if errors.Is(statErr, os.ErrNotExist) {
		return nil, usagef("--roam-area %q: no such file, nor minlon,minlat,maxlon,maxlat", v)
	}
	data, err := os.ReadFile(v)
	if err != nil {
		return nil, fmt.Errorf("--roam-area: %w", err)
	}
	area, err := sim.AreaFromGeoJSON(data)
	if err != nil {
		return nil, usagef("--roam-area %s: %v; want a GeoJSON Polygon or MultiPolygon", v, err)
	}
	return area, nil
}

func parseBBox(v string) (orb.MultiPolygon, error) {
	var c [4]float64
	parts := strings.Split(v, ",")
	if len(parts) != len(c) {
		return nil, usagef("--roam-area %q: want minlon,minlat,maxlon,maxlat or a GeoJSON file", v)
	}
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			return nil, usagef("--roam-area %q: %q is not a number; want minlon,minlat,maxlon,maxlat", v, p)
		}
		c[i] = f
	}
	b := orb.Bound{Min: orb.Point{c[0], c[1]}, Max: orb.Point{c[2], c[3]}}
	switch {
	case !(b.Min[0] >= -180 && b.Max[0] <= 180 && b.Min[1] >= -90 && b.Max[1] <= 90):
		return nil, usagef("--roam-area %q: longitudes go from -180 to 180, latitudes from -90 to 90", v)
	case b.Min[0] >= b.Max[0] || b.Min[1] >= b.Max[1]:
		return nil, usagef("--roam-area %q: min must be below max: minlon,minlat,maxlon,maxlat", v)
	}
	return orb.MultiPolygon{b.ToPolygon()}, nil
}

func runSim(name string, args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	var c connFlags
	c.register(fs)
	embedded := fs.String("embedded-broker", "", "start an embedded broker at ADDR and produce to it")
	output := fs.String("output", "kafka", "kafka, or jsonl to write records to stdout")
	vehicles := fs.Int("vehicles", 0, fmt.Sprintf("vehicles in service, spread over the lines by their round trips, so that they run at one headway (default %d a line on average); 0 runs no line service, for --roam only", sim.DefaultPerLine))
	roam := fs.Int("roam", 0, "add N free-roaming vehicles (ride-hailing drivers: no line, no stations) inside --roam-area")
	roamAreaArg := fs.String("roam-area", "", "where --roam vehicles drive: minlon,minlat,maxlon,maxlat or a GeoJSON polygon file (default the network's bounds)")
	tick := fs.Duration("tick", time.Second, "simulated time between position reports of one vehicle")
	speedupStr := fs.String("speedup", "1", "simulated seconds per wall second, or max")
	startStr := fs.String("start", "", "simulated start time, RFC 3339 (default now)")
	duration := fs.Duration("duration", 0, "simulated time to run, then flush and exit (default until stopped)")
	seed := fs.Uint64("seed", 0, "random seed; same seed, start and flags give the same events (default random)")
	shard := fs.String("shard", "", "i/n: produce only the i-th of n disjoint parts of the fleet (0-based)")
	partitions := fs.Int32("partitions", 6, "partitions for topics it creates")
	replication := fs.Int16("replication", 1, "replication factor for topics it creates")
	every := fs.Duration("progress", 5*time.Second, "interval of progress lines on stderr; 0 for none")
	incidentsArg := fs.String("incidents", "", "inject incidents in each simulated hour: kind:count,... (kinds "+
		"off_route, no_progress, bunched, late, early, feed_silent, stale), or default ("+sim.DefaultIncidents+")")
	truthPath := fs.String("truth", "", "write the ground truth, every condition an alert should report, as JSON lines to FILE")
	if err := parse(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q; commands: %s", fs.Arg(0), simProgram.names())
	}
	speedup, err := parseSpeedup(*speedupStr)
	if err != nil {
		return err
	}
	shardI, shardN, err := parseShard(*shard)
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
	case *vehicles < 0 || *roam < 0:
		return usagef("--vehicles and --roam must not be negative")
	case *roam == 0 && *roamAreaArg != "":
		return usagef("--roam-area needs --roam N")
	case *partitions < 1 || *replication < 1:
		return usagef("--partitions and --replication must be at least 1")
	case *output != "kafka" && *output != "jsonl":
		return usagef("--output %q: want kafka or jsonl", *output)
	case (*incidentsArg != "" || *truthPath != "") && shardN > 1:
		return usagef("--incidents and --truth need the whole fleet: run them without --shard")
	}
	var incidents map[sim.IncidentKind]int
	if *incidentsArg != "" {
		if incidents, err = sim.ParseIncidents(*incidentsArg); err != nil {
			return usagef("--incidents: %v", err)
		}
	}
	opts, err := c.options()
	if err != nil {
		return err
	}
	if err := c.topicNames("fleetsim"); err != nil {
		return err
	}
	roamArea, err := parseRoamArea(*roamAreaArg)
	if err != nil {
		return err
	}
	net, err := c.loadNetwork(true)
	if err != nil {
		return err
	}
	truth, err := createTruth(*truthPath)
	if err != nil {
		return err
	}
	defer truth.abort()
	s, err := sim.New(sim.Config{Network: net, Vehicles: *vehicles, Tick: *tick, Speedup: speedup,
		Start: start, Duration: *duration, Seed: *seed, Shard: shardI, Shards: shardN,
		NoLineVehicles: fs.Changed("vehicles") && *vehicles == 0, Roam: *roam, RoamArea: roamArea,
		Incidents: incidents, Truth: truth.sink()})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var out counter
	var finish func() error
	if *output == "jsonl" {
		sink := &jsonlSink{w: bufio.NewWriterSize(stdout, 1<<16), topics: c.topicMap()}
		out = sink
		finish = func() error {
			if err := sink.w.Flush(); err != nil && sink.err == nil {
				sink.err = err
			}
			if sink.err != nil {
				return fmt.Errorf("write jsonl: %w", sink.err)
			}
			return nil
		}
	} else {
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
			return fmt.Errorf("create topics: %w; %s", err, connectHint(err))
		}
		producer, err := kafka.NewProducer(opts, topics)
		if err != nil {
			return fmt.Errorf("connect: %w; %s", err, connectHint(err))
		}
		out = producer
		finish = producer.Close
	}
	pctx, stopProgress := context.WithCancel(ctx)
	go progress(pctx, stderr, *every, s, out)
	s.Run(ctx, out)
	stopProgress()
	finishErr := finish()
	if err := truth.commit(); err != nil && finishErr == nil {
		finishErr = err
	}
	produced, failed := out.Produced()
	printSummary(stderr, produced, failed)
	return finishErr
}

// truthFile writes --truth: JSON lines into a temporary file beside it,
// renamed into place when the run has ended, so that a failed run leaves
// no partial file behind.
type truthFile struct {
	path string
	f    *os.File
	w    *bufio.Writer
	err  error
	done bool
}

// createTruth opens the truth file's temporary; nil for no path.
func createTruth(path string) (*truthFile, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("--truth %s: cannot create it: %w; give a file in a writable directory", path, err)
	}
	return &truthFile{path: path, f: f, w: bufio.NewWriter(f)}, nil
}

// sink is the simulator's Truth callback; nil without a file.
func (t *truthFile) sink() func(sim.Truth) {
	if t == nil {
		return nil
	}
	return func(tr sim.Truth) {
		if t.err != nil {
			return
		}
		b, err := json.Marshal(tr)
		if err == nil {
			_, err = t.w.Write(append(b, '\n'))
		}
		t.err = err
	}
}

func (t *truthFile) commit() error {
	if t == nil {
		return nil
	}
	err := t.err
	if e := t.w.Flush(); err == nil {
		err = e
	}
	if e := t.f.Close(); err == nil {
		err = e
	}
	if err == nil {
		err = os.Rename(t.f.Name(), t.path)
	}
	if err != nil {
		return fmt.Errorf("write --truth %s: %w", t.path, err)
	}
	t.done = true
	return nil
}

// abort removes the temporary of a run that did not commit.
func (t *truthFile) abort() {
	if t == nil || t.done {
		return
	}
	t.f.Close()
	os.Remove(t.f.Name())
}

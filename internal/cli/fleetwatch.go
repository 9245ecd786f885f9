package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
	"github.com/spf13/pflag"

	"github.com/fleetwatch/fleetwatch/internal/alert"
	"github.com/fleetwatch/fleetwatch/internal/basemap"
	"github.com/fleetwatch/fleetwatch/internal/codec"
	"github.com/fleetwatch/fleetwatch/internal/detect"
	"github.com/fleetwatch/fleetwatch/internal/ingest"
	"github.com/fleetwatch/fleetwatch/internal/kafka"
	"github.com/fleetwatch/fleetwatch/internal/model"
	"github.com/fleetwatch/fleetwatch/internal/moment"
	"github.com/fleetwatch/fleetwatch/internal/network"
	"github.com/fleetwatch/fleetwatch/internal/schemareg"
	"github.com/fleetwatch/fleetwatch/internal/ui"
	"github.com/fleetwatch/fleetwatch/internal/view"
)

const prog = "fleetwatch"

// watchFlags are the flags of every fleetwatch command.
type watchFlags struct {
	connFlags
	demo        bool
	demoSpeedup float64
	from        string
	stale       time.Duration
	expire      time.Duration
	window      time.Duration
	fields      []string
	valueFormat string
	registry    string
	tempUnit    string
	weatherArea string
	basemaps    []string
	zones       []string
}

func (w *watchFlags) register(fs *pflag.FlagSet, defaultFrom string) {
	w.connFlags.register(fs)
	fs.BoolVar(&w.demo, "demo", false, "start an embedded broker and the simulator in-process, and watch them")
	fs.Float64Var(&w.demoSpeedup, "demo-speedup", 10, "simulated seconds per second in --demo")
	fs.StringVar(&w.from, "from", defaultFrom, "start position: latest, earliest, an RFC 3339 time, or a duration back from now (15m)")
	fs.DurationVar(&w.stale, "stale", time.Minute, "draw vehicles not heard from for this long dimmed")
	fs.DurationVar(&w.expire, "expire", 10*time.Minute, "forget vehicles not heard from for this long; 0 keeps them")
	fs.DurationVar(&w.window, "window", model.DefaultWindow, "the station board's rolling window (1m to 1h)")
	fs.StringArrayVar(&w.fields, "field", nil, "read a field from a path of the message: name=path, dotted for nested members (vehicle_id=payload.unit.code); repeatable")
	fs.StringVar(&w.valueFormat, "value-format", "auto", "message value format: json, avro, gtfs-rt, or auto to detect each message's")
	fs.StringVar(&w.registry, "schema-registry", "", "Confluent-compatible schema registry URL, to read Avro messages")
	fs.StringVar(&w.tempUnit, "temp-unit", "C", "unit of temperatures that do not say theirs: C or F (temp_c, temp_f always do)")
	fs.StringVar(&w.weatherArea, "weather-area", "", "area of weather readings that name none (default: the topic's name)")
	fs.StringArrayVar(&w.basemaps, "basemap", nil, "GeoJSON outlines drawn dim under the map (roads, water, districts); repeatable; none hides the built-in world map")
	fs.StringArrayVar(&w.zones, "zones", nil, "GeoJSON polygons: the zones vehicles without a line are counted by; repeatable")
}

// loadBasemap returns the outlines to draw under the map: the embedded
// world map unless --basemap none, then the files given, on top.
func (w *watchFlags) loadBasemap() (*basemap.Basemap, error) {
	maps := []*basemap.Basemap{}
	if !slices.Contains(w.basemaps, "none") {
		world, err := basemap.Embedded()
		if err != nil {
			return nil, err
		}
		maps = append(maps, world)
	}
	for _, path := range w.basemaps {
		if path == "none" {
			continue
		}
		b, err := basemap.LoadGeoJSON(path)
		if err != nil {
			return nil, usageError{err}
		}
		maps = append(maps, b)
	}
	return basemap.Merge(maps...), nil
}

// addZones adds the polygons of the --zones files to the network's zones.
func (w *watchFlags) addZones(net *network.Network) (*network.Network, error) {
	if len(w.zones) == 0 {
		return net, nil
	}
	zn, err := network.LoadAll(w.zones)
	if err != nil {
		return nil, usageError{err}
	}
	if len(zn.Zones) == 0 {
		return nil, usagef("--zones %s: no polygons in it", strings.Join(w.zones, ", "))
	}
	out := *net
	out.Zones = append(slices.Clip(net.Zones), zn.Zones...)
	return &out, nil
}

// detectTopics looks for the streams among the cluster's topics when the
// user named none and none of the contract's default topics exists: a new
// user's cluster has topics of its own names. It sets the topics it picks
// and says what it did, or returns "" when it did not look. An unreachable
// cluster is not its error to report: the consumer says so.
func (w *watchFlags) detectTopics(opts kafka.Options, dec *codec.Decoder) string {
	for _, k := range model.Kinds {
		if w.fs.Changed(k.String() + "-topic") {
			return ""
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), detectFor)
	defer cancel()
	samples, err := kafka.SampleTopics(ctx, opts, detectSample)
	if err != nil {
		return ""
	}
	for _, k := range model.Kinds {
		if _, ok := samples[w.topics[k]]; ok {
			return ""
		}
	}
	c := detect.Classify(samples, dec)
	for _, k := range model.Kinds {
		if c.Topics[k] != "" {
			w.topics[k] = c.Topics[k]
		}
	}
	return c.Describe()
}

// How long and how deep topic detection looks: the newest records of each
// topic tell its shape, and a person is waiting for the screen.
const (
	detectFor    = 5 * time.Second
	detectSample = 20
)

// title names what the screen shows when no demo does: the topics the user
// chose and the cluster they come from.
func (w *watchFlags) title(opts kafka.Options) string {
	var topics []string
	for _, k := range model.Kinds {
		if w.fs.Changed(k.String() + "-topic") {
			topics = append(topics, w.topics[k])
		}
	}
	if len(topics) == 0 {
		topics = []string{w.topics[model.KindVehicles]}
	}
	where := w.cluster
	if where == "" {
		where = opts.Brokers[0]
		if n := len(opts.Brokers); n > 1 {
			where += fmt.Sprintf(" +%d", n-1)
		}
	}
	return strings.Join(topics, ", ") + " @ " + where
}

// decoder builds the record decoder the flags ask for.
func (w *watchFlags) decoder() (*codec.Decoder, error) {
	fields, err := codec.ParseFieldMap(w.fields)
	if err != nil {
		return nil, usagef("--field %v", err)
	}
	format, err := codec.ParseValueFormat(w.valueFormat)
	if err != nil {
		return nil, usagef("--value-format: %v", err)
	}
	unit, err := codec.ParseTempUnit(w.tempUnit)
	if err != nil {
		return nil, usagef("--temp-unit: %v", err)
	}
	d := &codec.Decoder{Fields: fields, Format: format, TempUnit: unit, WeatherArea: strings.TrimSpace(w.weatherArea)}
	switch {
	case w.registry != "":
		reg, err := schemareg.New(w.registry)
		if err != nil {
			return nil, usagef("--schema-registry: %v", err)
		}
		d.Schemas = reg
	case format == codec.FormatAvro:
		// In auto mode an Avro record without a registry is one rejected
		// record; asking for Avro only cannot work at all.
		return nil, usagef("--value-format avro needs --schema-registry URL")
	}
	return d, nil
}

// watch is what a command needs to consume: the network, the consumer
// configuration and, with --demo, the running demo.
type watch struct {
	net    *network.Network
	base   *basemap.Basemap
	title  string         // "" to name the network, as the demo does
	zones  []network.Zone // --zones: the detector's geofences
	expire time.Duration  // --expire: when the screen and the detector forget a vehicle
	// notice says which topics were picked for the user, and how to pin them.
	notice string
	// named marks the streams whose topic the user gave: only those are
	// reported missing, not the defaults of a cluster that has no weather.
	named [3]bool
	cfg   kafka.ConsumerConfig
	store *ingest.Store
	demo  *demo
}

// setup prepares consuming. dataClock measures vehicle ages from the newest
// report read (snapshot) instead of the wall clock (the live screen).
func (w *watchFlags) setup(dataClock bool) (*watch, error) { return w.setupWith(dataClock, nil) }

// setupWith is setup with a last say on the store's options (a detector,
// say), given what was set up.
func (w *watchFlags) setupWith(dataClock bool, hook func(*ingest.Options, *watch)) (*watch, error) {
	opts, err := w.options()
	if err != nil {
		return nil, err
	}
	topics, err := w.topicList()
	if err != nil {
		return nil, err
	}
	start, err := kafka.ParseStart(w.from, time.Now())
	if err != nil {
		return nil, usageError{err}
	}
	if w.demoSpeedup <= 0 {
		return nil, usagef("--demo-speedup must be positive")
	}
	if w.stale <= 0 || w.expire < 0 {
		return nil, usagef("--stale must be positive and --expire not negative")
	}
	if w.window < time.Minute || w.window > model.MaxWindow {
		return nil, usagef("--window %v: want 1m to %v", w.window, model.MaxWindow)
	}
	dec, err := w.decoder()
	if err != nil {
		return nil, err
	}
	net, err := w.loadNetwork(w.demo)
	if err != nil {
		return nil, err
	}
	fileZones := len(net.Zones)
	if net, err = w.addZones(net); err != nil {
		return nil, err
	}
	base, err := w.loadBasemap()
	if err != nil {
		return nil, err
	}
	// Geofences are the --zones the user drew, not a network file's areas
	// (the demo's are weather areas: every vehicle crosses them).
	out := &watch{net: net, base: base, zones: net.Zones[fileZones:], expire: w.expire}
	if !w.demo {
		if out.notice = w.detectTopics(opts, dec); out.notice != "" {
			if topics, err = w.topicList(); err != nil {
				return nil, err
			}
		}
		out.title = w.title(opts)
	}
	for _, k := range model.Kinds {
		out.named[k] = w.fs.Changed(k.String() + "-topic")
	}
	if w.demo {
		if err := w.topicNames("--demo"); err != nil {
			return nil, err
		}
		d, err := startDemo(net, w.topicMap(), w.demoSpeedup)
		if err != nil {
			return nil, err
		}
		out.demo = d
		opts.Brokers = []string{d.Addr()}
		// The embedded broker is new: everything in it is worth showing.
		start = kafka.Start{Mode: kafka.StartEarliest}
	}
	opt := ingest.Options{Decoder: dec, Expire: w.expire, DataClock: dataClock, Window: w.window, MaxAhead: ingest.DefaultMaxAhead}
	if w.demo {
		// The simulated clock runs --demo-speedup times faster than the
		// wall clock: its times are right, and the screen follows them.
		opt.MaxAhead, opt.DataClock = 0, true
	} else {
		// Whatever the files gave, the data may show more: lines the files
		// do not draw, stations they do not place.
		opt.Learn, opt.Base, opt.Name = true, net, out.title
	}
	opt.Base = net
	if hook != nil {
		hook(&opt, out)
	}
	out.store = ingest.NewStore(opt)
	out.cfg = kafka.ConsumerConfig{Options: opts, Topics: topics, Start: start, Handler: out.store.Handle,
		OnPartition: out.store.ExpectPartition}
	return out, nil
}

func (w *watch) close() {
	if w.demo != nil {
		w.demo.Stop()
	}
}

// Fleetwatch runs the fleetwatch command line and returns its exit code.
func Fleetwatch(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	defer startProfile(stderr)()
	args, showVersion, err := watchProgram.resolve(args)
	switch {
	case err != nil:
	case showVersion:
		err = printVersion(stdout, prog)
	case len(args) > 0 && args[0] == "snapshot":
		err = runSnapshot(args[1:], stdout, stderr)
	case len(args) > 0 && args[0] == "serve":
		err = runServe(args[1:], stdout, stderr)
	case len(args) > 0 && args[0] == "record":
		err = runRecord(args[1:], stdout, stderr)
	case len(args) > 0 && args[0] == "replay":
		err = runReplay(args[1:], stdin, stdout)
	case len(args) > 0 && args[0] == "history":
		err = runHistory(args[1:], stdout)
	case len(args) > 0 && args[0] == "alerts":
		err = runAlerts(args[1:], stdout, stderr)
	default:
		err = runTUI(args, stdin, stdout)
	}
	if err == nil || errors.Is(err, errHelp) {
		return exitOK
	}
	return report(stderr, prog, err)
}

// liveSource is the screen's view of the store and the consumer.
type liveSource struct {
	store    *ingest.Store
	consumer *kafka.Consumer
	demo     bool
	notice   string
	named    [3]bool
}

// Snapshot is the state at wall time now; it also lets the detector's clock
// move on while nothing arrives.
func (l liveSource) Snapshot(now time.Time) model.Snapshot {
	l.store.TickAlerts(now)
	return l.store.Snapshot(now)
}

// Alerts are the open alerts, newest first.
func (l liveSource) Alerts() []alert.Alert { return l.store.Alerts() }

// AlertLines is each line's headway as the detector judges it.
func (l liveSource) AlertLines() []alert.LineHeadway { return l.store.AlertLines() }

// VehicleETAs predicts the vehicle's next stops.
func (l liveSource) VehicleETAs(id string) []model.ETA { return l.store.VehicleETAs(id) }

// StationETAs predicts the next arrivals at the station.
func (l liveSource) StationETAs(id string, now time.Time) []model.ETA {
	return l.store.StationETAs(id, now)
}

// withAlerts has the store judge the fleet with the default thresholds and
// the network's zones, for the screen.
func withAlerts(o *ingest.Options, w *watch) {
	cfg := alert.DefaultConfig()
	cfg.Zones = w.zones
	cfg.Forget = w.expire // the detector forgets a vehicle when the screen does
	o.Alerts = &cfg
}

// Network is the network learned from the data, when no file gives one.
func (l liveSource) Network(now time.Time) (*network.Network, uint64) { return l.store.Network(now) }

func (l liveSource) Rejects() []view.Reject {
	var out []view.Reject
	for _, r := range l.store.Rejects() {
		out = append(out, view.Reject{Where: fmt.Sprintf("%s/%d@%d", r.Topic, r.Partition, r.Offset),
			Reason: string(r.Category) + ": " + r.Reason, Excerpt: r.Excerpt})
	}
	return out
}

func (l liveSource) Status() view.Status {
	st := l.consumer.Status()
	return view.Status{Brokers: st.Brokers, Connected: st.Connected, Err: st.Err, Topics: st.Topics,
		Partitions: st.Partitions, Demo: l.demo, LastReject: l.store.LastReject(), Lag: st.Lag,
		Missing: missingLines(st.Missing, l.named), Notice: l.notice}
}

// missingLines says, per topic the user named that the cluster lacks, what
// it may be a typo of.
func missingLines(ms []kafka.MissingTopic, named [3]bool) []string {
	var out []string
	for _, m := range ms {
		if named[m.Kind] {
			out = append(out, m.String())
		}
	}
	return out
}

func runTUI(args []string, stdin io.Reader, stdout io.Writer) error {
	fs := pflag.NewFlagSet(prog, pflag.ContinueOnError)
	var f watchFlags
	f.register(fs, "latest")
	if err := parse(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unknown command %q; commands: %s", fs.Arg(0), watchProgram.names())
	}
	w, err := f.setupWith(false, withAlerts)
	if err != nil {
		return err
	}
	defer w.close()
	defer paceHeap()()
	w.cfg.Retry = true // the screen waits for the brokers and says why they are missing
	consumer := kafka.NewConsumer(w.cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		consumer.Run(ctx) // with Retry it only returns once ctx ends
	}()
	src := liveSource{store: w.store, consumer: consumer, demo: w.demo != nil, notice: w.notice, named: w.named}
	p := tea.NewProgram(ui.New(src, w.net, lipgloss.ColorProfile(), f.stale).WithWindow(f.window).WithBasemap(w.base, w.title),
		tea.WithAltScreen(), tea.WithMouseCellMotion(), tea.WithInput(stdin), tea.WithOutput(stdout))
	_, runErr := p.Run()
	cancel()
	select {
	case <-done:
	case <-time.After(3 * time.Second): // never hang on exit for a slow broker
	}
	if runErr != nil {
		return fmt.Errorf("terminal: %w", runErr)
	}
	return nil
}

func runSnapshot(args []string, stdout, stderr io.Writer) error {
	defer capHeap()()
	fs := pflag.NewFlagSet(prog+" snapshot", pflag.ContinueOnError)
	var f watchFlags
	f.register(fs, "earliest")
	after := fs.Duration("after", 0, "consume for this long, then print")
	caughtUp := fs.Bool("until-caught-up", false, "consume until every partition reaches the end offset it had at start, then print")
	asJSON := fs.Bool("json", false, "print the JSON summary instead of a text frame")
	connectTimeout := fs.Duration("connect-timeout", 10*time.Second, "how long to keep trying to reach the brokers before failing")
	db := dbFlag(fs)
	at := fs.String("at", "", "with --db: the fleet as it was at this time (RFC 3339, or a duration back from now)")
	width := fs.Int("width", 120, "text frame width")
	height := fs.Int("height", 40, "text frame height")
	if err := parse(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("snapshot: unexpected argument %q", fs.Arg(0))
	}
	if *after < 0 || *connectTimeout < 0 {
		return usagef("--after and --connect-timeout must not be negative")
	}
	if *width < 20 || *height < 5 {
		return usagef("--width/--height: a frame needs at least 20×5 cells")
	}
	if *after == 0 {
		*caughtUp = true // with no time given, read what is there
	}
	if *at != "" || *db != "" {
		if *at == "" || *after > 0 {
			return usagef("snapshot from history: give --db and --at, without --after")
		}
		return snapshotAt(&f, *db, *at, *asJSON, *width, *height, stdout)
	}
	w, err := f.setup(true)
	if err != nil {
		return err
	}
	defer w.close()
	w.cfg.UntilCaughtUp = *caughtUp
	w.cfg.ConnectTimeout = *connectTimeout
	if os.Getenv("GOGC") == "" {
		// A snapshot is a batch job that exits: collecting half as often
		// reads 1 M records 13 % faster for about 25 MB more (BENCHMARKS.md).
		debug.SetGCPercent(200)
	}
	if w.demo != nil {
		w.cfg.Rediscover = 200 * time.Millisecond
	}
	consumer := kafka.NewConsumer(w.cfg)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *after > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *after)
		defer cancel()
	}
	if err := consumer.Run(ctx); err != nil {
		if errors.Is(err, kafka.ErrUnreachable) {
			return fmt.Errorf("snapshot: %w; %s", err, connectHint(err))
		}
		return fmt.Errorf("snapshot: %w", err)
	}
	// On stderr, so that scripts reading stdout get the frame or JSON alone.
	if w.notice != "" {
		fmt.Fprintf(stderr, "%s: %s\n", prog, w.notice)
	}
	missing := missingLines(consumer.Status().Missing, w.named)
	for _, m := range missing {
		fmt.Fprintf(stderr, "%s: %s\n", prog, m)
	}
	snap := w.store.Snapshot(time.Now())
	if *asJSON {
		return writeSummary(stdout, snap, consumer.Status().Lag)
	}
	st := consumer.Status()
	learned, _ := w.store.Network(time.Now())
	status := view.Status{Brokers: st.Brokers, Connected: st.Connected, Err: st.Err,
		Topics: st.Topics, Partitions: st.Partitions, Demo: w.demo != nil, Lag: st.Lag, Missing: missing, Notice: w.notice}
	return printFrame(stdout, &f, w.net, learned, w.base, w.title, snap, status, *width, *height)
}

// writeSummary prints the JSON summary as it is built, vehicle by vehicle.
func writeSummary(stdout io.Writer, snap model.Snapshot, lag [3]int64) error {
	if err := view.WriteSummaryJSON(stdout, snap, lag); err != nil {
		return fmt.Errorf("snapshot: write JSON: %w", err)
	}
	_, err := fmt.Fprintln(stdout)
	return err
}

// printFrame prints one plain-text frame of the snapshot: net is what the
// flags gave, learned (nil for none) what the data added to it.
func printFrame(stdout io.Writer, f *watchFlags, net, learned *network.Network, base *basemap.Basemap, title string,
	snap model.Snapshot, status view.Status, width, height int) error {
	screen := view.NewScreen(net, termenv.Ascii, nil)
	screen.SetBasemap(base)
	screen.SetTitle(title)
	if learned != nil {
		screen.SetNetwork(learned)
	}
	frame := view.Frame{Snap: snap, Stale: f.stale, Window: f.window, Status: status}
	_, err := fmt.Fprintln(stdout, screen.Render(frame, width, height))
	return err
}

// snapshotAt prints the fleet as the history database held it at a moment:
// the same frame or JSON as a live snapshot.
func snapshotAt(f *watchFlags, db, atFlag string, asJSON bool, width, height int, stdout io.Writer) error {
	at, err := moment.Parse(atFlag, time.Now())
	if err != nil {
		return usagef("--at: %v", err)
	}
	net, err := f.loadNetwork(false)
	if err != nil {
		return err
	}
	ctx := context.Background()
	store, err := openDB(ctx, db, false)
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	defer store.Close()
	snap, err := stateAt(ctx, store, at, f.expire, f.window)
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	if asJSON {
		return writeSummary(stdout, snap, [3]int64{})
	}
	base, err := f.loadBasemap()
	if err != nil {
		return err
	}
	status := view.Status{Brokers: "history " + store.Addr(), Connected: true}
	return printFrame(stdout, f, net, nil, base, "history at "+at.Format(time.RFC3339), snap, status, width, height)
}

package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/spf13/pflag"

	"github.com/fleetwatch/fleetwatch/internal/history"
	"github.com/fleetwatch/fleetwatch/internal/model"
	"github.com/fleetwatch/fleetwatch/internal/moment"
	"github.com/fleetwatch/fleetwatch/internal/replay"
	"github.com/fleetwatch/fleetwatch/internal/ui"
	"github.com/fleetwatch/fleetwatch/internal/view"
)

// stateAt is the fleet as the database holds it at a moment, shaped as a
// live snapshot: each vehicle's last report within expire, the stations'
// counts (all-time and in the window before at), the weather, and the
// headways the arrivals of the window measure.
func stateAt(ctx context.Context, store *history.Store, at time.Time, expire, window time.Duration) (model.Snapshot, error) {
	f := model.NewFleet()
	f.SetWindow(window)
	vehicles, err := store.FleetAt(ctx, at, expire)
	if err != nil {
		return model.Snapshot{}, err
	}
	for _, v := range vehicles {
		f.Apply(v)
	}
	weather, err := store.WeatherAt(ctx, at)
	if err != nil {
		return model.Snapshot{}, err
	}
	for _, w := range weather {
		f.Apply(w)
	}
	// Headway is measured between consecutive arrivals: those of the
	// window give each stop's latest, as live.
	arrivals, err := store.ArrivalsBetween(ctx, at.Add(-window), at)
	if err != nil {
		return model.Snapshot{}, err
	}
	for _, e := range arrivals {
		f.Apply(e.Event())
	}
	snap := f.Snapshot()
	stations, err := store.StationsAt(ctx, at, window)
	if err != nil {
		return model.Snapshot{}, err
	}
	if err := withReference(ctx, store, stations); err != nil {
		return model.Snapshot{}, err
	}
	snap.Stations = stations
	snap.AsOf, snap.Latest = at, at
	return snap, nil
}

// withReference names the stations whose reference record is stamped
// after the moment asked for from the newest one: a replay of a simulated
// morning, or reference data loaded after the fact, must still show names.
func withReference(ctx context.Context, store *history.Store, states []model.StationState) error {
	ref, err := store.Stations(ctx)
	if err != nil {
		return err
	}
	byID := make(map[string]model.StationInfo, len(ref))
	for _, r := range ref {
		byID[r.StationID] = r.StationInfo
	}
	for i := range states {
		st := &states[i]
		if r, ok := byID[st.StationID]; ok && st.Name == "" && !st.HasPos && len(st.Lines) == 0 {
			st.StationInfo = r
		}
	}
	return nil
}

// dbSource plays recorded history for the replay screen.
type dbSource struct {
	*replay.Player
	store *history.Store
}

func (d dbSource) Status() view.Status {
	return view.Status{Brokers: "history " + d.store.Addr(), Connected: true}
}

func (d dbSource) Rejects() []view.Reject { return nil }

// storeSource adapts the database to what the player reads.
type storeSource struct {
	store *history.Store
}

func (s storeSource) FleetAt(ctx context.Context, at time.Time, expire time.Duration) ([]model.VehiclePosition, error) {
	return s.store.FleetAt(ctx, at, expire)
}

func (s storeSource) WeatherAt(ctx context.Context, at time.Time) ([]model.Weather, error) {
	return s.store.WeatherAt(ctx, at)
}

// Stations gives every station's newest reference record: reference data
// is loaded once and rarely changes, and a station whose record is stamped
// after the replay's start must still have its name.
func (s storeSource) Stations(ctx context.Context, _ time.Time) ([]model.StationInfo, error) {
	ref, err := s.store.Stations(ctx)
	out := make([]model.StationInfo, 0, len(ref))
	for _, r := range ref {
		out = append(out, r.StationInfo)
	}
	return out, err
}

// Events reads (from, to]: the store's ranges are [from, to), and times are
// stored to the microsecond.
func (s storeSource) Events(ctx context.Context, from, to time.Time, fn func(model.Event) error) error {
	return s.store.Events(ctx, from.Add(time.Microsecond), to.Add(time.Microsecond), fn)
}

func runReplay(args []string, stdin io.Reader, stdout io.Writer) error {
	fs := pflag.NewFlagSet(prog+" replay", pflag.ContinueOnError)
	var f watchFlags
	f.register(fs, "")
	db := dbFlag(fs)
	to := fs.String("to", "", "end of the replay: RFC 3339 or a duration back from now (default: the newest data)")
	speed := fs.Float64("speed", 1, "data seconds per wall second")
	if err := parse(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("replay: unexpected argument %q", fs.Arg(0))
	}
	if *speed <= 0 {
		return usagef("--speed must be positive")
	}
	now := time.Now()
	ctx := context.Background()
	store, err := openDB(ctx, *db, false)
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	defer store.Close()
	first, last, err := store.Span(ctx)
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	if first.IsZero() {
		return fmt.Errorf("replay: the database holds no history yet; record some with %s record", prog)
	}
	opts := replay.Options{From: first, Speed: *speed, Expire: f.expire, Window: f.window}
	if f.from != "" {
		if opts.From, err = moment.Parse(f.from, now); err != nil {
			return usagef("--from: %v", err)
		}
	}
	if *to != "" {
		if opts.To, err = moment.Parse(*to, now); err != nil {
			return usagef("--to: %v", err)
		}
	} else if !last.IsZero() {
		opts.To = last
	}
	if !opts.To.IsZero() && !opts.To.After(opts.From) {
		return usagef("--to must be after --from")
	}
	net, err := f.loadNetwork(false)
	if err != nil {
		return err
	}
	base, err := f.loadBasemap()
	if err != nil {
		return err
	}
	title := "replay of " + store.Addr()
	opts.Learn, opts.Base, opts.Name = true, net, title
	player := replay.New(storeSource{store: store}, opts)
	defer player.Close()
	src := dbSource{Player: player, store: store}
	m := ui.New(src, net, lipgloss.ColorProfile(), f.stale).WithWindow(f.window).WithBasemap(base, title)
	p := tea.NewProgram(m, tea.WithAltScreen(), tea.WithMouseCellMotion(), tea.WithInput(stdin), tea.WithOutput(stdout))
	if _, err := p.Run(); err != nil {
		return fmt.Errorf("terminal: %w", err)
	}
	return nil
}

func runHistory(args []string, stdout io.Writer) error {
	fs := pflag.NewFlagSet(prog+" history", pflag.ContinueOnError)
	db := dbFlag(fs)
	since := fs.String("since", "1h", "from when: RFC 3339 or a duration back from now")
	format := fs.String("format", "table", "table, csv or json")
	if err := parse(fs, args, stdout); err != nil {
		return err
	}
	what := fs.Args()
	if len(what) == 0 || !slices.Contains([]string{"weather", "stations", "vehicle"}, what[0]) {
		return usagef("history: say what: weather [AREA], stations [STATION], or vehicle ID")
	}
	if what[0] == "vehicle" && len(what) != 2 || len(what) > 2 {
		return usagef("history %s: one argument at most (vehicle needs its id)", what[0])
	}
	if !slices.Contains([]string{"table", "csv", "json"}, *format) {
		return usagef("--format %q: want table, csv or json", *format)
	}
	from, err := moment.Parse(*since, time.Now())
	if err != nil {
		return usagef("--since: %v", err)
	}
	arg := ""
	if len(what) == 2 {
		arg = what[1]
	}
	ctx := context.Background()
	store, err := openDB(ctx, *db, false)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	defer store.Close()
	var t table
	switch what[0] {
	case "weather":
		rows, err := store.WeatherSince(ctx, arg, from)
		if err != nil {
			return err
		}
		t.head = []string{"ts", "area", "temp_c", "wind_kmh", "humidity", "condition"}
		for _, w := range rows {
			t.add(w.TS, w.Area, w.TempC, w.WindKmh, w.Humidity, w.Condition)
		}
	case "stations":
		rows, err := store.StationEventsSince(ctx, arg, from)
		if err != nil {
			return err
		}
		t.head = []string{"ts", "station_id", "type", "vehicle_id", "line", "direction", "entries", "name"}
		for _, e := range rows {
			t.add(e.TS, e.StationID, e.Type, e.VehicleID, e.Line, e.Direction, e.Entries, e.Name)
		}
	case "vehicle":
		rows, err := store.VehicleTrack(ctx, arg, from)
		if err != nil {
			return err
		}
		t.head = []string{"ts", "vehicle_id", "line", "lat", "lon", "speed_kmh", "status", "stop_id", "delay_s"}
		for _, v := range rows {
			t.add(v.TS, v.VehicleID, v.Line, v.Lat, v.Lon, v.SpeedKmh, string(v.Status), v.StopID, v.DelayS)
		}
	}
	return t.write(stdout, *format)
}

// table is rows of typed cells, written as aligned text, CSV or JSON.
type table struct {
	head []string
	rows [][]any
}

func (t *table) add(cells ...any) { t.rows = append(t.rows, cells) }

func cellText(v any) string {
	switch x := v.(type) {
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int64:
		return strconv.FormatInt(x, 10)
	case string:
		return x
	}
	return fmt.Sprint(v)
}

func (t *table) write(w io.Writer, format string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		for _, r := range t.rows {
			obj := make(map[string]any, len(r))
			for i, c := range r {
				obj[t.head[i]] = c
			}
			if err := enc.Encode(obj); err != nil {
				return err
			}
		}
		return nil
	case "csv":
		cw := csv.NewWriter(w)
		cw.Write(t.head)
		for _, r := range t.rows {
			rec := make([]string, len(r))
			for i, c := range r {
				rec[i] = cellText(c)
			}
			cw.Write(rec)
		}
		cw.Flush()
		return cw.Error()
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.ToUpper(strings.Join(t.head, "\t")))
	for _, r := range t.rows {
		rec := make([]string, len(r))
		for i, c := range r {
			rec[i] = safeCell(cellText(c))
		}
		fmt.Fprintln(tw, strings.Join(rec, "\t"))
	}
	return tw.Flush()
}

// safeCell keeps a stored value from moving the terminal's cursor.
func safeCell(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}

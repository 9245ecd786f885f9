package view

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"
	"github.com/paulmach/orb"

	"github.com/fleetwatch/fleetwatch/internal/alert"
	"github.com/fleetwatch/fleetwatch/internal/basemap"
	"github.com/fleetwatch/fleetwatch/internal/model"
	"github.com/fleetwatch/fleetwatch/internal/network"
)

// Status is what the status bar tells about the data source.
type Status struct {
	Brokers    string
	Connected  bool
	Err        string // why the brokers cannot be reached
	Topics     int
	Partitions int
	Rate       float64 // events per second, all streams
	Live       bool    // a running screen: show the rate
	Lag        [3]int64
	// Rates holds each stream's recent events per second, oldest first,
	// one point per frame.
	Rates      [3][]float64
	Demo       bool
	LastReject string
	// Missing says, per configured topic the cluster lacks, what it may be
	// a typo of ("busDta not found; did you mean busData?").
	Missing []string
	// Notice is what fleetwatch chose for the user (detected topics).
	Notice string
}

// Reject is a refused record as the rejects pane lists it.
type Reject struct {
	Where   string // topic/partition@offset
	Reason  string
	Excerpt string
}

// Frame is everything one screen shows.
type Frame struct {
	Snap    model.Snapshot
	Status  Status
	Help    bool
	Rejects []Reject  // shown instead of the side panel when not nil
	Now     time.Time // shown in the header; zero hides the clock
	// Stale is the silence after which a vehicle is drawn dimmed (default 1 min).
	Stale time.Duration
	// Pane is what the side panel shows; Selected is the picked vehicle
	// (drawn ◉ on the map) and SelectedStation the board's cursor.
	Pane            Pane
	Selected        string
	SelectedStation string
	Sort            SortKey
	// History holds the selected vehicle's recent reports, oldest first.
	History []model.VehiclePosition
	// Gone says the selected vehicle is not in the fleet (the caller looked
	// for it): the map and the details pane do not search every vehicle.
	Gone bool
	// Window is the station board's rolling window, for its heading.
	Window time.Duration
	// Prompt, when set, is the search line being typed, shown in place of
	// the status bar; Message is a short notice shown there instead.
	Prompt  string
	Message string
	// Replay, when set, is the replay clock shown instead of the status bar.
	Replay *TimeBar
	// Alerts are the open alerts, newest first; SelectedAlert the alerts
	// pane's cursor (AlertID). The list is read only, and must not change
	// once drawn: what screens derive from it is kept, for all of them, for
	// as long as the list is in use (ingest.Store.Alerts gives such lists).
	Alerts        []alert.Alert
	SelectedAlert string
	// LineHealth is each line's headway as the detector judges it.
	LineHealth map[string]alert.LineHeadway
	// ETAs are predicted arrivals: the selected vehicle's next stops on
	// the details pane, the vehicles due at the selected station on the board.
	ETAs []model.ETA
}

// HelpLine is a key and what it does, for the help pane.
type HelpLine struct{ Key, Desc string }

// Screen renders frames. It keeps the map's cached static layer between
// frames, so one Screen serves one viewer.
type Screen struct {
	net   *network.Network
	m     *Map
	plain bool
	keys  []HelpLine

	title, dim, bold, warn, ok lipgloss.Style
	swatch                     map[string]lipgloss.Style
	stationNames               map[string]string
	stationLines               map[string][]string
	lineNames                  map[string]string
	r                          *lipgloss.Renderer
	profile                    termenv.Profile
	titleText                  string
	zones                      *zoneSet    // the network's, ready for point tests
	zoneProbe                  vehiclesKey // scratch: the key of the frame's vehicles

	// boxes and tags are each line's swatch "■" and initial as drawn in
	// its colour, rendered once: every frame shows them in many rows.
	boxes, tags map[string]string
	divider     string // the panel's left edge, "│" dimmed
	// okOpen and okClose are what s.ok.Render puts around one line of
	// text without tabs or carriage returns: the streams' sparklines are
	// drawn every frame, and lipgloss's Render was a third of the panel.
	okOpen, okClose string
	// status is the last status bar drawn and what it was drawn from: it
	// changes a few times a second, with the state and the rate, not with
	// every frame.
	status struct {
		key  statusKey
		line string
	}
}

// termColor is a hex colour as the terminal's profile shows it, converted
// once, when a style is made: lipgloss converts a hex colour on every
// Render, and for a 256- or 16-colour terminal that is a search for the
// nearest colour by a perceptual distance, for every styled cell of every
// frame (13 % of serve's CPU with 100 xterm-256color viewers). A colour
// index is taken as it is, so the sequences written are the same. True
// colour and plain text keep the hex, as does a string that is no colour
// (lipgloss then draws no colour, as before).
func termColor(p termenv.Profile, hex string) lipgloss.Color {
	switch c := p.Color(hex).(type) {
	case termenv.ANSI256Color:
		return lipgloss.Color(strconv.Itoa(int(c)))
	case termenv.ANSIColor:
		return lipgloss.Color(strconv.Itoa(int(c)))
	}
	return lipgloss.Color(hex)
}

// lineTags marks a station with its lines' initials in their colours, so
// two stations of one name ("47th" on the Red and on the Green) differ.
func (s *Screen) lineTags(st model.StationState) string {
	lines := st.Lines
	if len(lines) == 0 {
		lines = s.stationLines[st.StationID]
	}
	var b strings.Builder
	for _, l := range lines[:min(len(lines), 2)] {
		tag, ok := s.tags[l]
		if !ok {
			tag = lineTag(l)
		}
		b.WriteString(tag)
	}
	return b.String()
}

// lineTag is a line's initial, as lineTags shows it.
func lineTag(line string) string {
	return strings.ToUpper(string([]rune(safe(line) + "?")[:1]))
}

// NewScreen returns a renderer for a terminal with the given colour profile;
// termenv.Ascii renders plain text with no escape sequences.
func NewScreen(net *network.Network, profile termenv.Profile, keys []HelpLine) *Screen {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(profile)
	c := func(hex string) lipgloss.Color { return termColor(profile, hex) }
	s := &Screen{m: NewMap(net, profile), plain: profile == termenv.Ascii, keys: keys, r: r, profile: profile,
		title: r.NewStyle().Bold(true).Foreground(c("#ffffff")).Background(c("#30475e")),
		dim:   r.NewStyle().Foreground(c("#8a8a8a")),
		bold:  r.NewStyle().Bold(true),
		warn:  r.NewStyle().Bold(true).Foreground(c("#ff5f5f")),
		ok:    r.NewStyle().Foreground(c("#5fd75f")),
	}
	s.divider = s.dim.Render("│")
	s.okOpen, s.okClose, _ = strings.Cut(s.ok.Render("x"), "x") // no sequence holds an x
	s.setNet(net)
	return s
}

// SetNetwork replaces the network shown: a network learned from the data
// grows as it arrives. The view (zoom, pan) stays.
func (s *Screen) SetNetwork(net *network.Network) {
	s.setNet(net)
	s.m.SetNetwork(net)
}

func (s *Screen) setNet(net *network.Network) {
	s.net = net
	s.zones = newZoneSet(net.Zones)
	s.swatch = make(map[string]lipgloss.Style, len(net.Lines))
	s.boxes = make(map[string]string, len(net.Lines))
	s.tags = make(map[string]string, len(net.Lines))
	s.stationNames = make(map[string]string, len(net.Stations))
	s.stationLines = make(map[string][]string, len(net.Stations))
	for _, st := range net.Stations {
		s.stationNames[st.ID] = st.Name
		s.stationLines[st.ID] = st.Lines
	}
	s.lineNames = make(map[string]string, len(net.Lines))
	for _, l := range net.Lines {
		s.lineNames[l.ID] = l.Name
		s.swatch[l.ID] = s.r.NewStyle().Foreground(termColor(s.profile, lineColorOf(l))).Bold(true)
		s.boxes[l.ID] = s.swatch[l.ID].Render("■")
		s.tags[l.ID] = s.swatch[l.ID].Render(lineTag(l.ID))
	}
}

// SetBasemap sets the outlines drawn under the map (nil for none).
func (s *Screen) SetBasemap(b *basemap.Basemap) { s.m.SetBasemap(b) }

// SetTitle names what the screen shows in its header (the topics and the
// cluster, when no network file names it).
func (s *Screen) SetTitle(t string) { s.titleText = t }

// Map returns the screen's map, to zoom and pan it.
func (s *Screen) Map() *Map { return s.m }

// sideWidth is the width of the right-hand panel for a terminal width, 0
// when the terminal is too narrow to give the map room beside it. The
// tables get more room than the overview.
func sideWidth(w int, p Pane) int {
	if w < 60 {
		return 0
	}
	if p == PaneVehicles || p == PaneStations || p == PaneDetails || p == PaneAlerts {
		return min(max(w/2, 30), 72)
	}
	return min(max(w*36/100, 30), 48)
}

// MapWidth is how many columns the map takes on a w-column terminal with
// the given pane beside it, to tell a click on the map from one on the panel.
func (s *Screen) MapWidth(w int, p Pane) int {
	if side := sideWidth(w, p); side > 0 {
		return w - side - 1
	}
	return w
}

// Render draws the frame at exactly w×h cells: h lines, none wider than w.
func (s *Screen) Render(f Frame, w, h int) string {
	if w <= 0 || h <= 0 {
		return ""
	}
	lines := make([]string, 0, h)
	lines = append(lines, "") // the header, once the map has said what it left out
	bodyH := max(h-2, 0)
	side := sideWidth(w, f.Pane)
	mapW := w
	if side > 0 {
		mapW = w - side - 1
	}
	stale := f.Stale
	if stale <= 0 {
		stale = time.Minute
	}
	s.m.SetAlerts(f.Alerts)
	selected := f.Selected
	if f.Gone {
		selected = ""
	}
	mapRows := s.m.Render(f.Snap.Vehicles, f.Snap.AsOf, stale, selected, mapW, bodyH)
	if banner := feedBanner(f.Alerts, f.Snap.AsOf); banner != "" && len(mapRows) > 0 {
		mapRows[0] = fit(s.warn.Render(" "+safe(banner)), mapW)
	}
	lines[0] = s.header(f, w)
	var panel []string
	fitted := false // the panel's rows are side wide as the loop below would fit them
	if side > 0 {
		switch {
		case f.Help:
			panel = s.helpPanel(side)
		case f.Rejects != nil:
			panel = s.rejectsPanel(f.Rejects, side, bodyH)
		case f.Pane == PaneVehicles:
			panel = s.vehiclesPanel(f, side, bodyH)
		case f.Pane == PaneStations:
			panel = s.stationsPanel(f, side, bodyH)
		case f.Pane == PaneDetails:
			panel = s.detailsPanel(f, side, bodyH)
		case f.Pane == PaneAlerts:
			panel = s.alertsPanel(f, side, bodyH)
		default:
			panel, fitted = s.sidePanel(f.Snap, f.Status, side, bodyH), true
		}
	}
	for i := range bodyH {
		row := mapRows[i]
		if side > 0 {
			var p string
			switch {
			case i >= len(panel):
				p = fit("", side)
			case fitted:
				p = panel[i]
			default:
				p = fit(panel[i], side)
			}
			row += s.divider + p
		}
		lines = append(lines, row)
	}
	if h >= 2 {
		switch {
		case f.Prompt != "":
			lines = append(lines, fit(" "+s.bold.Render(safe(f.Prompt))+"█"+s.dim.Render("  enter find · esc cancel"), w))
		case f.Message != "":
			lines = append(lines, fit(" "+s.warn.Render(safe(f.Message)), w))
		case f.Replay != nil:
			lines = append(lines, s.timeBar(*f.Replay, w))
		default:
			lines = append(lines, s.statusBar(f.Status, f.Snap, f.Alerts, w))
		}
	}
	return strings.Join(lines[:h], "\n")
}

// fit pads or truncates an (ANSI-styled) string to exactly w cells.
func fit(s string, w int) string {
	n := ansi.StringWidth(s)
	if n > w {
		return ansi.Truncate(s, w, "…")
	}
	return s + strings.Repeat(" ", w-n)
}

// headerKey is what the header depends on: the title, the snapshot's
// lines (by their array, as panelKey), how many vehicles and how many
// the map left out, the clock's second, the width and the colours.
type headerKey struct {
	title    string
	lines    *model.LineStats
	nLines   int
	vehicles int
	outside  int
	clock    bool
	second   int64
	w        int
	profile  termenv.Profile // the title's style is made from it alone
}

// headerMemo shares the header between screens: every viewer of a state
// shows the same one in the same second.
var headerMemo = memo[headerKey, string]{size: 8, same: func(a, b headerKey) bool { return a == b }}

func (s *Screen) header(f Frame, w int) string {
	k := headerKey{title: cmp.Or(s.titleText, s.net.Name, "network"), lines: first(f.Snap.Lines), nLines: len(f.Snap.Lines),
		vehicles: f.Snap.Vehicles.Len(), outside: s.m.Outside(), clock: !f.Now.IsZero(), second: f.Now.Unix(), w: w,
		profile: s.profile}
	if !k.clock {
		k.second = 0
	}
	return headerMemo.get(k, func(k headerKey) headerKey { return k }, func() string { return s.drawHeader(f, w) })
}

func (s *Screen) drawHeader(f Frame, w int) string {
	name := safe(cmp.Or(s.titleText, s.net.Name, "network"))
	lineCount := 0
	for _, l := range f.Snap.Lines {
		if l.Vehicles > 0 {
			lineCount++
		}
	}
	left := fmt.Sprintf(" fleetwatch · %s · %s", name, plural(f.Snap.Vehicles.Len(), "vehicle"))
	if lineCount > 0 {
		left += " on " + plural(lineCount, "line")
	}
	if out := s.m.Outside(); out > 0 && f.Snap.Vehicles.Len() > 0 {
		left += fmt.Sprintf(" · %d outside the view", out)
	}
	right := ""
	if !f.Now.IsZero() {
		right = f.Now.UTC().Format("15:04:05Z") + " "
	}
	pad := max(w-ansi.StringWidth(left)-len(right), 0)
	return s.title.Render(fit(left+strings.Repeat(" ", pad)+right, w))
}

// panelKey is what the overview panel depends on but the streams' rows:
// the snapshot's lines, stations and weather (by their arrays: a
// snapshot's are made for it and read only, and the store hands one
// snapshot to every screen until the state changes), the zone table's
// vehicles and view (as zoneKey), the network and the terminal's colours
// (names, swatches and styles), and the panel's size.
type panelKey struct {
	lines    *model.LineStats
	stations *model.StationState
	weather  *model.Weather
	nLines   int
	nStation int
	nWeather int
	vehicles uint64 // publication
	view     orb.Bound
	net      *network.Network
	profile  termenv.Profile
	w, h     int
}

// sharedPanel is the overview panel, its rows fitted to the panel, with
// the streams' rows left to each screen: those show its own rates.
type sharedPanel struct {
	rows    []string
	streams int // the index of the first stream's row
}

// panelMemo shares the overview panel between screens: it was 18 % of
// serve's CPU with 100 viewers, the same rows formatted and measured for
// each of them, every frame.
var panelMemo = memo[panelKey, *sharedPanel]{size: 8, same: func(a, b panelKey) bool { return a == b }}

// first is the address of a slice's first element, nil for none.
func first[T any](s []T) *T {
	if len(s) == 0 {
		return nil
	}
	return &s[0]
}

// sidePanel is the overview panel, its rows fitted as Render fits the
// other panels' rows.
func (s *Screen) sidePanel(snap model.Snapshot, st Status, w, h int) []string {
	k := panelKey{lines: first(snap.Lines), stations: first(snap.Stations), weather: first(snap.Weather),
		nLines: len(snap.Lines), nStation: len(snap.Stations), nWeather: len(snap.Weather),
		vehicles: snap.Vehicles.Publication(), net: s.net, profile: s.profile, w: w, h: h}
	if len(s.zones.zones) == 0 {
		k.view = s.m.View() // the compass grid's areas are the view's
	}
	p := panelMemo.get(k, func(k panelKey) panelKey { return k }, func() *sharedPanel { return s.overview(snap, w, h) })
	out := slices.Clone(p.rows)
	spark := w - 26
	for i, k := range model.Kinds {
		rates := st.Rates[k]
		now := 0.0
		if len(rates) > 0 {
			now = rates[len(rates)-1]
		}
		// sparkline's runes and spaces are one line, as okOpen needs.
		row := fmt.Sprintf("%-8s %s%s%s %6.0f %7d", k, s.okOpen, sparkline(rates, spark), s.okClose, now, st.Lag[k])
		out[p.streams+i] = fit(fit(" "+row, w), w)
	}
	return out
}

// overview makes the overview panel but for its streams' rows.
func (s *Screen) overview(snap model.Snapshot, w, h int) *sharedPanel {
	var out []string
	zones := s.zoneTable(snap)
	if len(snap.Lines) > 0 || len(zones) == 0 {
		out = append(out, s.bold.Render("LINE            VEH  KM/H HEADWAY"))
	}
	for _, l := range snap.Lines {
		label := s.swatchFor(l.Line) + " " + fit(s.lineName(l.Line), 13)
		out = append(out, fmt.Sprintf("%s %4d %5.1f %7s", label, l.Vehicles, l.AvgSpeedKmh, duration(l.HeadwayS)))
	}
	if len(zones) > 0 {
		if len(out) > 0 {
			out = append(out, "")
		}
		out = append(out, zones...)
	}
	spark := w - 26 // the sparkline takes what the figures leave
	out = append(out, "", s.bold.Render(fmt.Sprintf("%-8s %-*s %6s %7s", "STREAM", spark, "", "EV/S", "LAG")))
	p := &sharedPanel{streams: len(out)}
	for range model.Kinds {
		out = append(out, "") // each screen's own (sidePanel)
	}
	out = append(out, "")
	out = append(out, s.bold.Render("WEATHER"))
	if len(snap.Weather) == 0 {
		out = append(out, s.dim.Render("no readings yet"))
	}
	for _, wx := range snap.Weather {
		out = append(out, fmt.Sprintf("%s %5.1f°C %3.0f km/h %s", fit(safe(wx.Area), 8), wx.TempC, wx.WindKmh, safe(wx.Condition)))
	}
	if rest := h - len(out) - 2; rest > 0 && len(snap.Stations) > 0 {
		out = append(out, "")
		out = append(out, s.bold.Render("STATION (window)   ARRIV ENTRIES"))
		st := StationOrder(snap.Stations)
		for _, x := range st[:min(rest, len(st))] {
			// A screen started at the latest offset never sees the reference
			// records written before it: the network file names the station.
			name := safe(cmp.Or(x.Name, s.stationNames[x.StationID], x.StationID))
			out = append(out, fmt.Sprintf("%s %s %5d %7d", fit(name, 15), fit(s.lineTags(x), 2), x.ArrivalsWindow, x.EntriesWindow))
		}
	}
	for i := range out {
		// Fitted twice, as the screen's other panels are (once by the
		// panel, once by Render): a row truncated before a wide rune is a
		// cell short after the first. Render does not fit these again.
		out[i] = fit(fit(" "+out[i], w), w)
	}
	p.rows = out
	return p
}

// plural writes a count with its noun: "1 vehicle", "3 vehicles".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// sparkBlocks are the eight heights of a sparkline cell.
var sparkBlocks = []rune("▁▂▃▄▅▆▇█")

// sparkline draws the last width values scaled to their maximum; a quiet
// stream is a flat line, not an empty space.
func sparkline(vals []float64, width int) string {
	if width <= 0 {
		return ""
	}
	if len(vals) > width {
		vals = vals[len(vals)-width:]
	}
	top := 0.0
	for _, v := range vals {
		top = math.Max(top, v)
	}
	out := make([]rune, 0, width)
	for range width - len(vals) {
		out = append(out, ' ')
	}
	for _, v := range vals {
		i := 0
		if top > 0 {
			i = int(math.Round(v / top * float64(len(sparkBlocks)-1)))
		}
		out = append(out, sparkBlocks[max(0, min(i, len(sparkBlocks)-1))])
	}
	return string(out)
}

// rejectsPanel lists the last refused records, newest first, each with where
// it was read, why it was refused and how it began (made harmless).
func (s *Screen) rejectsPanel(rejects []Reject, w, h int) []string {
	out := []string{" " + s.bold.Render("LAST REJECTED") + s.dim.Render("  (r closes)")}
	if len(rejects) == 0 {
		out = append(out, " "+s.dim.Render("none"))
	}
	for i := len(rejects) - 1; i >= 0 && len(out)+3 <= h; i-- {
		r := rejects[i]
		out = append(out, " "+s.warn.Render(safe(r.Where)), "  "+safe(r.Reason), "  "+s.dim.Render(safe(r.Excerpt)))
	}
	for i := range out {
		out[i] = fit(out[i], w)
	}
	return out
}

func (s *Screen) helpPanel(w int) []string {
	out := []string{" " + s.bold.Render("KEYS")}
	for _, k := range s.keys {
		out = append(out, fmt.Sprintf(" %-8s %s", k.Key, k.Desc))
	}
	out = append(out, "", " "+s.bold.Render("MARKERS"),
		fmt.Sprintf(" %c moving %c stop %c late %c early", markMoving, markStopped, markLate, markEarly),
		fmt.Sprintf(" %c stale  %c off duty  %c picked", markStale, markOff, markSelected),
		fmt.Sprintf(" %c off route %c stuck %c bunched", markOffRoute, markNoProgress, markBunched))
	for i := range out {
		out[i] = fit(out[i], w)
	}
	return out
}

func duration(sec float64) string {
	if sec <= 0 || math.IsNaN(sec) {
		return "—"
	}
	d := time.Duration(math.Round(sec)) * time.Second
	if d >= time.Hour {
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
}

// statusKey is what the status bar depends on.
type statusKey struct {
	brokers, err, lastReject, notice string
	connected, live, demo            bool
	topics, partitions               int
	rate                             float64
	missing                          *string // Status.Missing by its array: made anew when there is one
	nMissing                         int
	consumed, rejected               int64
	alerts                           *alertIndex
	w                                int
}

func (s *Screen) statusBar(st Status, snap model.Snapshot, open []alert.Alert, w int) string {
	consumed, rejected := snap.Counters.Total()
	k := statusKey{brokers: st.Brokers, err: st.Err, lastReject: st.LastReject, notice: st.Notice,
		connected: st.Connected, live: st.Live, demo: st.Demo, topics: st.Topics, partitions: st.Partitions,
		rate: st.Rate, missing: first(st.Missing), nMissing: len(st.Missing), consumed: consumed, rejected: rejected,
		alerts: indexAlerts(open), w: w}
	if s.status.line == "" || s.status.key != k {
		s.status.key, s.status.line = k, s.drawStatusBar(st, snap, open, w)
	}
	return s.status.line
}

func (s *Screen) drawStatusBar(st Status, snap model.Snapshot, open []alert.Alert, w int) string {
	st.Brokers, st.Err, st.LastReject = safe(st.Brokers), safe(st.Err), safe(st.LastReject)
	consumed, rejected := snap.Counters.Total()
	var conn string
	switch {
	case st.Connected:
		conn = s.ok.Render("●") + " " + st.Brokers
	case st.Err != "":
		conn = s.warn.Render("no broker reachable at " + st.Brokers + " (" + shortReason(st.Err) + "); retrying; try --demo")
	default:
		conn = s.dim.Render("… connecting to " + st.Brokers)
	}
	if st.Demo {
		conn += s.dim.Render(" (demo)")
	}
	rej := fmt.Sprintf("rejected %d", rejected)
	if rejected > 0 {
		if st.LastReject != "" {
			rej += " (last: " + st.LastReject + ")"
		}
		rej = s.warn.Render(rej)
	}
	if !st.Connected && st.Err != "" {
		return fit(" "+conn+s.dim.Render(" · q quit"), w)
	}
	// Parts in display order, each with a rank: on a narrow terminal the
	// highest ranks are dropped first, so the keys hint always shows.
	type part struct {
		text string
		rank int
	}
	parts := []part{{conn, 0}}
	if len(st.Missing) > 0 {
		// What a typo costs is nothing on screen: say it before anything else.
		parts = append(parts, part{s.warn.Render("⚠ " + safe(strings.Join(st.Missing, "; "))), 0})
	} else if st.Notice != "" {
		parts = append(parts, part{s.dim.Render(safe(st.Notice)), 1})
	}
	if counts := s.alertCounts(open); counts != "" {
		parts = append(parts, part{counts, 1})
	}
	parts = append(parts, part{fmt.Sprintf("%d topics/%d partitions", st.Topics, st.Partitions), 4})
	if st.Live {
		parts = append(parts, part{fmt.Sprintf("%.0f ev/s", st.Rate), 2})
	}
	parts = append(parts, part{fmt.Sprintf("%d events", consumed), 3}, part{s.dim.Render("? help · q quit"), 0},
		part{rej, 1}) // last: a long rejection reason is what gets cut
	for keep := 4; ; keep-- {
		var texts []string
		for _, p := range parts {
			if p.rank <= keep {
				texts = append(texts, p.text)
			}
		}
		line := " " + strings.Join(texts, s.dim.Render(" · "))
		if keep == 1 || ansi.StringWidth(line) <= w {
			return fit(line, w)
		}
	}
}

// shortReason keeps the last clause of a wrapped network error ("dial tcp
// ...: connect: connection refused" → "connection refused"), which is the
// part a person acts on.
func shortReason(err string) string {
	if i := strings.LastIndex(err, ": "); i >= 0 && i+2 < len(err) {
		return err[i+2:]
	}
	return err
}

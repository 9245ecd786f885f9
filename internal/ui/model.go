// Package ui is the Bubble Tea program of the live screen. It reads the
// latest fleet state once per frame and draws it with the view package; Kafka
// events never reach Update, so the redraw rate is capped whatever the load.
package ui

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/muesli/termenv"

	"github.com/fleetwatch/fleetwatch/internal/alert"
	"github.com/fleetwatch/fleetwatch/internal/basemap"
	"github.com/fleetwatch/fleetwatch/internal/model"
	"github.com/fleetwatch/fleetwatch/internal/network"
	"github.com/fleetwatch/fleetwatch/internal/replay"
	"github.com/fleetwatch/fleetwatch/internal/view"
)

// Source is where the screen reads the fleet from: an in-memory store fed
// by the consumer. Both calls are cheap reads under a lock, not IO.
type Source interface {
	Snapshot(now time.Time) model.Snapshot
	Status() view.Status
	Rejects() []view.Reject // the last refused records, newest last
}

// Player is a Source that plays recorded history back: the screen shows its
// clock in a time bar and its keys pause, seek and change the speed.
type Player interface {
	Clock() replay.Clock
	TogglePause()
	Faster()
	Slower()
	Seek(d time.Duration)
}

// AlertSource is a Source that judges the fleet: the screen shows its open
// alerts, newest first, on the map, the status bar and the alerts pane.
type AlertSource interface {
	Alerts() []alert.Alert
	// AlertLines is each line's headway as the detector judges it.
	AlertLines() []alert.LineHeadway
}

// ETASource is a Source that predicts arrivals from observed running times:
// the details pane lists the vehicle's next stops, the station board the
// vehicles due at the selected station.
type ETASource interface {
	VehicleETAs(id string) []model.ETA
	StationETAs(id string, now time.Time) []model.ETA
}

// NetworkSource is a Source that learns the network from the data: the
// screen redraws the map's lines and stations when the version changes.
type NetworkSource interface {
	Network(now time.Time) (*network.Network, uint64)
}

// DefaultFPS caps redraws per second.
const DefaultFPS = 15

// keyMap lists the keys; the help pane is built from it.
type keyMap struct {
	ZoomIn, ZoomOut, Fit  key.Binding
	Left, Right, Up, Down key.Binding
	Tab, BackTab, Enter   key.Binding
	Back, Search, Follow  key.Binding
	Sort, Density, Base   key.Binding
	Alerts                key.Binding
	Rejects, Help, Quit   key.Binding
	// Replay's keys, active when the source is a Player.
	Pause, Back1, Fwd1, Back10, Fwd10, Slower, Faster key.Binding
}

func defaultKeys() keyMap {
	return keyMap{
		ZoomIn:  key.NewBinding(key.WithKeys("+", "=", "a"), key.WithHelp("+ a", "zoom in")),
		ZoomOut: key.NewBinding(key.WithKeys("-", "z"), key.WithHelp("- z", "zoom out")),
		Fit:     key.NewBinding(key.WithKeys("0"), key.WithHelp("0", "fit the view")),
		Left:    key.NewBinding(key.WithKeys("left", "h"), key.WithHelp("← h", "pan left")),
		Right:   key.NewBinding(key.WithKeys("right", "l"), key.WithHelp("→ l", "pan right")),
		Up:      key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑ k", "pan up")),
		Down:    key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓ j", "pan down")),
		Tab:     key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next pane")),
		BackTab: key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("S-tab", "previous pane")),
		Enter:   key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "details / show")),
		Back:    key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Search:  key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "find by id or name")),
		Follow:  key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "follow selection")),
		Sort:    key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "sort vehicles")),
		Density: key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "density view")),
		Base:    key.NewBinding(key.WithKeys("b"), key.WithHelp("b", "basemap on/off")),
		Alerts:  key.NewBinding(key.WithKeys("!"), key.WithHelp("!", "open alerts")),
		Rejects: key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "rejected messages")),
		Help:    key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "toggle this help")),
		Quit:    key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		Pause:   key.NewBinding(key.WithKeys(" "), key.WithHelp("space", "pause replay")),
		Back1:   key.NewBinding(key.WithKeys("["), key.WithHelp("[ ]", "back/on 1 min")),
		Fwd1:    key.NewBinding(key.WithKeys("]")),
		Back10:  key.NewBinding(key.WithKeys("{"), key.WithHelp("{ }", "back/on 10 min")),
		Fwd10:   key.NewBinding(key.WithKeys("}")),
		Slower:  key.NewBinding(key.WithKeys("<", ","), key.WithHelp("< >", "slower/faster")),
		Faster:  key.NewBinding(key.WithKeys(">", ".")),
	}
}

// zoomStep and panStep are one key press: half again the scale, a fifth of the view.
const (
	zoomStep = 1.5
	panStep  = 0.2
)

func (k keyMap) helpLines() []view.HelpLine {
	var out []view.HelpLine
	add := func(bs ...key.Binding) {
		for _, b := range bs {
			h := b.Help()
			out = append(out, view.HelpLine{Key: h.Key, Desc: h.Desc})
		}
	}
	add(k.ZoomIn, k.ZoomOut, k.Fit)
	// One line for the four pan keys keeps the help within 80×24.
	out = append(out, view.HelpLine{Key: "hjkl", Desc: "pan (arrows too)"})
	add(k.Tab, k.Enter, k.Back, k.Search, k.Follow, k.Sort, k.Density, k.Base, k.Alerts, k.Rejects)
	out = append(out, view.HelpLine{Key: "? q", Desc: "this help, quit"})
	out = append(out, view.HelpLine{Key: "mouse", Desc: "zoom; click picks"})
	return out
}

// frameMsg asks for the next frame.
type frameMsg time.Time

// Model is the live screen.
type Model struct {
	src    Source
	screen *view.Screen
	keys   keyMap
	frame  time.Duration
	stale  time.Duration
	idle   time.Duration // log out after this long without a key; 0 never

	w, h    int
	help    bool
	rejects bool
	window  time.Duration

	pane     view.Pane
	sort     view.SortKey
	selected string // vehicle id
	selSlot  int    // where the selected vehicle was last found (model.Vehicles.At): a hint
	// gone is set while the selected vehicle is not in the fleet (expired
	// or removed), lookedAt when it was last looked for: finding an id
	// that is not there visits every vehicle, so a gone one is looked for
	// again once a second, not on every frame, and not at all by the map
	// and the details pane.
	gone      bool
	lookedAt  time.Time
	station   string // station board cursor
	following bool
	history   []model.VehiclePosition // the selected vehicle's reports, oldest first
	search    textinput.Model
	searching bool
	message   string
	msgUntil  time.Time
	snap      model.Snapshot
	stat      view.Status
	now       time.Time
	rate      rateMeter
	// Per-stream rate history, one point per frame (15 a second).
	hist       [3][]float64
	prevCounts [3]int64
	prevFrame  time.Time
	prevTotal  int64
	// lastKey is the frame time of the last key press, for the idle timeout.
	lastKey time.Time
	// netVersion is the learned network's version the map draws.
	netVersion uint64
	// alerts are the open alerts of the last frame, newest first; alert
	// the alerts pane's cursor (view.AlertID).
	alerts     []alert.Alert
	alert      string
	lineHealth map[string]alert.LineHeadway // for the vehicles pane's line rows
	etas       []model.ETA                  // the details pane's next stops, or the board's due vehicles
}

// WithIdleTimeout returns the model set to quit when no key is pressed for d.
func (m Model) WithIdleTimeout(d time.Duration) Model {
	m.idle = d
	return m
}

// WithBasemap returns the model drawing the outlines under the map, and
// titled: both are the command line's to choose.
func (m Model) WithBasemap(b *basemap.Basemap, title string) Model {
	m.screen.SetBasemap(b)
	m.screen.SetTitle(title)
	return m
}

// WithWindow returns the model with the station board's rolling window, for
// the board's heading.
func (m Model) WithWindow(d time.Duration) Model {
	m.window = d
	return m
}

// New returns the live screen for a terminal of the given colour profile;
// vehicles silent for stale are drawn dimmed.
func New(src Source, net *network.Network, profile termenv.Profile, stale time.Duration) Model {
	keys := defaultKeys()
	in := textinput.New()
	in.Prompt = "/"
	in.CharLimit = 64
	return Model{src: src, keys: keys, frame: time.Second / DefaultFPS, stale: stale, selSlot: -1,
		screen: view.NewScreen(net, profile, keys.helpLines()), w: 80, h: 24, search: in}
}

// idleFrame is the frame interval while no data arrives and no key is pressed.
const idleFrame = 500 * time.Millisecond

// historyKeep is how many reports of the selected vehicle are kept.
const historyKeep = 60

// messageFor is how long a notice stays in the status bar.
const messageFor = 3 * time.Second

func (m *Model) say(msg string) {
	m.message, m.msgUntil = msg, m.now.Add(messageFor)
}

// selectVehicle picks a vehicle; its history starts over.
func (m *Model) selectVehicle(id string) {
	if id != m.selected {
		m.history = nil
	}
	m.selected, m.gone = id, false
	if id == "" {
		m.following = false
	}
}

// goneRecheck is how often a selected vehicle that left the fleet is
// looked for again, in case it comes back.
const goneRecheck = time.Second

// vehicle returns the selected vehicle in the current snapshot: where it
// was last found, else by a search of every vehicle.
func (m *Model) vehicle() (model.VehiclePosition, bool) {
	var v model.VehiclePosition
	if m.selected == "" {
		return v, false
	}
	vs := m.snap.Vehicles
	if vs.ID(m.selSlot) != m.selected {
		m.selSlot = vs.Slot(m.selected)
	}
	return v, vs.At(m.selSlot, &v)
}

// move moves the cursor of the vehicles or stations pane by delta rows.
func (m *Model) move(delta int) {
	switch m.pane {
	case view.PaneVehicles:
		order := view.VehicleOrder(m.snap.Vehicles, m.sort)
		if i, ok := stepCursor(order, func(v model.VehiclePosition) bool { return v.VehicleID == m.selected }, delta); ok {
			m.selectVehicle(order[i].VehicleID)
		}
	case view.PaneStations:
		order := view.StationOrder(m.snap.Stations)
		if i, ok := stepCursor(order, func(st model.StationState) bool { return st.StationID == m.station }, delta); ok {
			m.station = order[i].StationID
		}
	case view.PaneAlerts:
		if i, ok := stepCursor(m.alerts, func(a alert.Alert) bool { return view.AlertID(a) == m.alert }, delta); ok {
			m.alert = view.AlertID(m.alerts[i])
		}
	}
}

// showAlert selects the vehicle of the alert under the cursor and shows it
// on the map; a line's alert shows the line.
func (m *Model) showAlert() {
	i := slices.IndexFunc(m.alerts, func(a alert.Alert) bool { return view.AlertID(a) == m.alert })
	if i < 0 {
		m.say("no alert selected: ↑ ↓ pick one")
		return
	}
	a := m.alerts[i]
	switch {
	case a.VehicleID != "":
		m.selectVehicle(a.VehicleID)
		if v, ok := m.vehicle(); ok {
			m.screen.Map().CenterOn(v.Lon, v.Lat)
		}
		m.pane = view.PaneDetails
	case a.Line != "":
		m.find(a.Line)
	}
}

// stepCursor returns the row delta rows from the current one (the row
// current reports), kept within the table; with no current row, the first.
// ok is false for an empty table.
func stepCursor[T any](rows []T, current func(T) bool, delta int) (int, bool) {
	if len(rows) == 0 {
		return 0, false
	}
	i := slices.IndexFunc(rows, current)
	if i < 0 {
		return 0, true
	}
	return max(0, min(len(rows)-1, i+delta)), true
}

// find runs a search typed after /.
func (m *Model) find(q string) {
	match, ok := m.screen.Find(m.snap, q)
	if !ok {
		m.say(fmt.Sprintf("nothing matches %q", q))
		return
	}
	switch match.Kind {
	case "vehicle":
		m.selectVehicle(match.ID)
		m.screen.Map().CenterOn(match.Bound.Min[0], match.Bound.Min[1])
		m.pane = view.PaneDetails
	case "line":
		m.screen.Map().Show(match.Bound)
		m.pane = view.PaneVehicles
		for _, v := range view.VehicleOrder(m.snap.Vehicles, m.sort) {
			if v.Line == match.ID {
				m.selectVehicle(v.VehicleID)
				break
			}
		}
	case "station":
		m.station = match.ID
		m.pane = view.PaneStations
		m.screen.Map().Show(match.Bound)
	}
	m.following = false
	m.say(fmt.Sprintf("%s %s", match.Kind, match.Name))
}

func (m Model) nextFrame() tea.Cmd {
	return tea.Tick(m.frame, func(t time.Time) tea.Msg { return frameMsg(t) })
}

// Init starts the frame clock.
func (m Model) Init() tea.Cmd { return m.nextFrame() }

// Update handles keys, resizes and the frame clock.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.w, m.h = msg.Width, msg.Height
	case tea.MouseMsg:
		m.lastKey = m.now
		return m.mouse(msg), nil
	case tea.KeyMsg:
		m.lastKey = m.now
		if m.searching {
			return m.searchKey(msg)
		}
		if msg.Type == tea.KeyRunes && len(msg.Runes) > 1 && !msg.Paste {
			// Keys typed faster than a frame arrive together ("+++"):
			// each one counts.
			var cmds []tea.Cmd
			var next tea.Model = m
			for _, r := range msg.Runes {
				var cmd tea.Cmd
				next, cmd = next.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: msg.Alt})
				cmds = append(cmds, cmd)
			}
			return next, tea.Batch(cmds...)
		}
		if pl, ok := m.src.(Player); ok && m.replayKey(pl, msg) {
			return m, nil
		}
		switch {
		case key.Matches(msg, m.keys.Quit):
			return m, tea.Quit
		case key.Matches(msg, m.keys.Help):
			m.help, m.rejects = !m.help, false
		case key.Matches(msg, m.keys.Rejects):
			m.rejects, m.help = !m.rejects, false
		case key.Matches(msg, m.keys.ZoomIn):
			m.screen.Map().ZoomBy(zoomStep)
		case key.Matches(msg, m.keys.ZoomOut):
			m.screen.Map().ZoomBy(1 / zoomStep)
		case key.Matches(msg, m.keys.Fit):
			m.screen.Map().Fit()
			m.following = false
		case key.Matches(msg, m.keys.Left):
			m.screen.Map().Pan(-panStep, 0)
			m.following = false
		case key.Matches(msg, m.keys.Right):
			m.screen.Map().Pan(panStep, 0)
			m.following = false
		case key.Matches(msg, m.keys.Up) && (m.pane == view.PaneVehicles || m.pane == view.PaneStations || m.pane == view.PaneAlerts):
			m.move(-1)
		case key.Matches(msg, m.keys.Down) && (m.pane == view.PaneVehicles || m.pane == view.PaneStations || m.pane == view.PaneAlerts):
			m.move(1)
		case key.Matches(msg, m.keys.Alerts):
			if m.pane == view.PaneAlerts {
				m.pane = view.PaneOverview
			} else {
				m.pane = view.PaneAlerts
				m.help, m.rejects = false, false
				m.move(0)
			}
		case key.Matches(msg, m.keys.Up):
			m.screen.Map().Pan(0, -panStep)
			m.following = false
		case key.Matches(msg, m.keys.Down):
			m.screen.Map().Pan(0, panStep)
			m.following = false
		case key.Matches(msg, m.keys.Tab):
			m.pane = [...]view.Pane{view.PaneVehicles, view.PaneStations, view.PaneOverview, view.PaneVehicles, view.PaneOverview}[m.pane]
			m.help, m.rejects = false, false
			m.move(0)
		case key.Matches(msg, m.keys.BackTab):
			m.pane = [...]view.Pane{view.PaneStations, view.PaneOverview, view.PaneVehicles, view.PaneVehicles, view.PaneOverview}[m.pane]
			m.help, m.rejects = false, false
			m.move(0)
		case key.Matches(msg, m.keys.Enter):
			switch {
			case m.pane == view.PaneAlerts:
				m.showAlert()
			case m.pane == view.PaneStations:
				// By id, not through the search: a vehicle or line of the
				// same name must not win.
				m.screen.Map().ShowStation(m.station)
			case m.selected != "":
				m.pane = view.PaneDetails
				m.help, m.rejects = false, false
			default:
				m.say("nothing selected: tab to the vehicles, / to search, or click a vehicle")
			}
		case key.Matches(msg, m.keys.Back):
			switch {
			case m.help || m.rejects:
				m.help, m.rejects = false, false
			case m.pane == view.PaneDetails:
				m.pane = view.PaneVehicles
			default:
				m.pane = view.PaneOverview
			}
		case key.Matches(msg, m.keys.Search):
			m.searching = true
			m.search.SetValue("")
			return m, m.search.Focus()
		case key.Matches(msg, m.keys.Follow):
			switch {
			case m.following:
				m.following = false
				m.say("stopped following")
			case m.selected == "":
				m.say("nothing to follow: select a vehicle first (tab, / or a click)")
			default:
				v, ok := m.vehicle()
				if !ok {
					m.say(m.selected + " is not in the fleet: nothing to follow")
					break
				}
				m.following = true
				m.screen.Map().CenterOn(v.Lon, v.Lat)
				m.say("following " + m.selected + " (f stops)")
			}
		case key.Matches(msg, m.keys.Density):
			d := m.screen.Map().DensityMode().Next()
			m.screen.Map().SetDensity(d)
			m.say(d.String() + " (d switches)")
		case key.Matches(msg, m.keys.Base):
			if m.screen.Map().ToggleBasemap() {
				m.say("basemap on (b hides it)")
			} else {
				m.say("basemap off (b shows it)")
			}
		case key.Matches(msg, m.keys.Sort):
			m.sort = m.sort.Next()
			if m.pane != view.PaneVehicles {
				m.pane = view.PaneVehicles
				m.move(0)
			}
		}
	case frameMsg:
		m.now = time.Time(msg)
		if m.lastKey.IsZero() {
			m.lastKey = m.now
		}
		if m.idle > 0 && m.now.Sub(m.lastKey) > m.idle {
			return m, tea.Quit
		}
		m.snap = m.src.Snapshot(m.now)
		m.stat = m.src.Status()
		m.etas = nil
		if es, ok := m.src.(ETASource); ok {
			switch {
			case m.pane == view.PaneDetails && m.selected != "" && !m.gone:
				m.etas = es.VehicleETAs(m.selected)
			case m.pane == view.PaneStations && m.station != "":
				m.etas = es.StationETAs(m.station, m.snap.AsOf)
			}
		}
		if as, ok := m.src.(AlertSource); ok {
			m.alerts = as.Alerts()
			if m.pane == view.PaneVehicles {
				m.lineHealth = map[string]alert.LineHeadway{}
				for _, lh := range as.AlertLines() {
					m.lineHealth[lh.Line] = lh
				}
			}
		}
		if ns, ok := m.src.(NetworkSource); ok {
			if net, v := ns.Network(m.now); net != nil && v != m.netVersion {
				m.screen.SetNetwork(net)
				m.netVersion = v
			}
		}
		m.track()
		if !m.msgUntil.IsZero() && m.now.After(m.msgUntil) {
			m.message, m.msgUntil = "", time.Time{}
		}
		consumed, _ := m.snap.Counters.Total()
		m.rate = m.rate.observe(m.now, consumed)
		idle := consumed == m.prevTotal && m.rate.perSec == 0 && m.now.Sub(m.lastKey) > time.Second && !m.playing()
		m.prevTotal = consumed
		m.recordRates()
		m.stat.Rate, m.stat.Live, m.stat.Rates = m.rate.perSec, true, m.hist
		if idle {
			// Nothing arrives and nobody types: two frames a second keep the
			// clock and the stale marks right at a seventh of the cost. Keys
			// redraw at once anyway; data brings the full rate back within
			// half a second.
			return m, tea.Tick(idleFrame, func(t time.Time) tea.Msg { return frameMsg(t) })
		}
		return m, m.nextFrame()
	}
	return m, nil
}

// View draws the current frame. A bug in drawing costs one frame, not the
// operator's terminal: it shows as one line and the next frame tries again.
func (m Model) View() (out string) {
	defer func() {
		if r := recover(); r != nil {
			out = fmt.Sprintf("fleetwatch: drawing the screen failed: %v; q quits", r)
		}
	}()
	clock := m.now
	if !m.snap.AsOf.IsZero() {
		clock = m.snap.AsOf // the data's clock where the store uses it (the demo)
	}
	f := view.Frame{Snap: m.snap, Status: m.stat, Help: m.help, Now: clock, Stale: m.stale,
		Pane: m.pane, Selected: m.selected, Gone: m.gone, SelectedStation: m.station, Sort: m.sort, History: m.history,
		Window: m.window, Message: m.message, Alerts: m.alerts, SelectedAlert: m.alert,
		LineHealth: m.lineHealth, ETAs: m.etas}
	if m.searching {
		f.Prompt = m.search.Prompt + m.search.Value()
	}
	if pl, ok := m.src.(Player); ok {
		c := pl.Clock()
		f.Replay = &view.TimeBar{Pos: c.Pos, From: c.From, To: c.To, Speed: c.Speed, Paused: c.Paused, Seeking: c.Seeking}
		if c.Err != nil {
			f.Replay.Err = c.Err.Error()
		}
	}
	if m.rejects {
		f.Rejects = append([]view.Reject{}, m.src.Rejects()...)
	}
	return m.screen.Render(f, m.w, m.h)
}

// playing reports whether a replay's clock is running: its frames move
// vehicles though no record arrives.
func (m *Model) playing() bool {
	pl, ok := m.src.(Player)
	return ok && !pl.Clock().Paused
}

// replayKey handles the replay's keys; false for any other key.
func (m *Model) replayKey(pl Player, msg tea.KeyMsg) bool {
	switch {
	case key.Matches(msg, m.keys.Pause):
		pl.TogglePause()
	case key.Matches(msg, m.keys.Back1):
		pl.Seek(-time.Minute)
	case key.Matches(msg, m.keys.Fwd1):
		pl.Seek(time.Minute)
	case key.Matches(msg, m.keys.Back10):
		pl.Seek(-10 * time.Minute)
	case key.Matches(msg, m.keys.Fwd10):
		pl.Seek(10 * time.Minute)
	case key.Matches(msg, m.keys.Slower):
		pl.Slower()
	case key.Matches(msg, m.keys.Faster):
		pl.Faster()
	default:
		return false
	}
	return true
}

// track follows the selected vehicle: its new reports go to its history,
// and the map moves with it when following. When it leaves the fleet the
// status bar says so and following stops; the selection stays, with its
// history, and the vehicle is picked up again if it comes back.
func (m *Model) track() {
	if m.selected == "" || m.gone && m.now.Sub(m.lookedAt) < goneRecheck && !m.now.Before(m.lookedAt) {
		return
	}
	v, ok := m.vehicle()
	if !ok {
		if !m.gone {
			msg := m.selected + " left the fleet"
			if n := len(m.history); n > 0 {
				msg += " (last report " + m.history[n-1].TS.UTC().Format("15:04:05Z") + ")"
			}
			if m.following {
				msg += "; stopped following"
			}
			m.say(msg)
		}
		m.gone, m.lookedAt, m.following = true, m.now, false
		return
	}
	if m.gone {
		m.gone = false
		m.say(m.selected + " is back in the fleet")
	}
	if n := len(m.history); n == 0 || !m.history[n-1].TS.Equal(v.TS) {
		m.history = append(m.history, v)
		if len(m.history) > historyKeep {
			m.history = m.history[len(m.history)-historyKeep:]
		}
	}
	if m.following {
		m.screen.Map().CenterOn(v.Lon, v.Lat)
	}
}

// searchKey handles a key while the search line is open.
func (m Model) searchKey(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	switch msg.Type {
	case tea.KeyCtrlC:
		return m, tea.Quit
	case tea.KeyEsc:
		m.searching = false
		m.search.Blur()
		return m, nil
	case tea.KeyEnter:
		m.searching = false
		m.search.Blur()
		if q := m.search.Value(); q != "" {
			m.find(q)
		}
		return m, nil
	}
	var cmd tea.Cmd
	m.search, cmd = m.search.Update(msg)
	return m, cmd
}

// mouse zooms with the wheel and picks the vehicle under a click on the map.
func (m Model) mouse(msg tea.MouseMsg) Model {
	switch {
	case msg.Button == tea.MouseButtonWheelUp:
		m.screen.Map().ZoomBy(zoomStep)
	case msg.Button == tea.MouseButtonWheelDown:
		m.screen.Map().ZoomBy(1 / zoomStep)
	case msg.Button == tea.MouseButtonLeft && msg.Action == tea.MouseActionPress:
		col, row := msg.X, msg.Y-1 // the header is row 0
		if row < 0 || col >= m.screen.MapWidth(m.w, m.pane) {
			return m
		}
		if id, ok := m.screen.Map().VehicleAt(col, row, m.snap.Vehicles); ok {
			m.selectVehicle(id)
			m.pane = view.PaneDetails
			m.help, m.rejects = false, false
		}
	}
	return m
}

// historyLen is how many frames of per-stream rates are kept: enough for the
// widest sparkline.
const historyLen = 120

func (m *Model) recordRates() {
	counts := m.snap.Counters.Consumed
	if !m.prevFrame.IsZero() {
		if dt := m.now.Sub(m.prevFrame).Seconds(); dt > 0 {
			// One point per 1/DefaultFPS s, also across a slow idle frame, so
			// the sparkline's time scale stays the same.
			points := max(1, min(int(math.Round(dt*DefaultFPS)), historyLen))
			for k := range m.hist {
				h := m.hist[k]
				rate := float64(counts[k]-m.prevCounts[k]) / dt
				for range points {
					h = append(h, rate)
				}
				if len(h) > historyLen {
					h = h[len(h)-historyLen:]
				}
				m.hist[k] = h
			}
		}
	}
	m.prevCounts, m.prevFrame = counts, m.now
}

// rateMeter turns a growing counter into a per-second rate, re-measured
// about once a second so the figure is steady enough to read.
type rateMeter struct {
	since  time.Time
	count  int64
	perSec float64
}

func (r rateMeter) observe(now time.Time, count int64) rateMeter {
	if r.since.IsZero() {
		return rateMeter{since: now, count: count}
	}
	if el := now.Sub(r.since); el >= time.Second {
		r.perSec = float64(count-r.count) / el.Seconds()
		r.since, r.count = now, count
	}
	return r
}

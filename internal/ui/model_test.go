package ui

import (
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/muesli/termenv"

	"github.com/fleetwatch/fleetwatch/internal/model"
	"github.com/fleetwatch/fleetwatch/internal/network"
	"github.com/fleetwatch/fleetwatch/internal/view"
)

// fakeSource stands in for the store: the model only reads snapshots.
type fakeSource struct {
	snaps int
	fleet *model.Fleet
}

func (f *fakeSource) Snapshot(time.Time) model.Snapshot { f.snaps++; return f.fleet.Snapshot() }
func (f *fakeSource) Rejects() []view.Reject {
	return []view.Reject{{Where: "fleet.vehicles/2@17", Reason: "lat: out of range [-90,90]", Excerpt: `{"lat":91}`}}
}

func (f *fakeSource) Status() view.Status {
	return view.Status{Brokers: "b:9092", Connected: true, Topics: 3, Partitions: 18}
}

func TestModelRedrawsOnFramesOnlyAndHandlesKeys(t *testing.T) {
	src := &fakeSource{fleet: model.NewFleet()}
	src.fleet.Apply(model.VehiclePosition{VehicleID: "red-01", Line: "red", Lat: 41.9, Lon: -87.65, TS: time.Now()})
	var m tea.Model = New(src, network.Default(), termenv.Ascii, time.Minute)
	m, _ = m.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	if src.snaps != 0 {
		t.Fatal("a resize read the state; only frames should")
	}
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	m, cmd := m.Update(frameMsg(t0))
	if cmd == nil || src.snaps != 1 {
		t.Fatalf("frame: cmd %v, %d snapshots", cmd, src.snaps)
	}
	screen := m.View()
	if rows := strings.Split(screen, "\n"); len(rows) != 30 || !strings.Contains(rows[0], "1 vehicle on 1 line") {
		t.Fatalf("screen:\n%s", screen)
	}
	m, _ = m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{'?'}})
	if !strings.Contains(m.View(), "KEYS") {
		t.Fatal("? did not open the help")
	}
	m, _ = m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{'?'}})
	if strings.Contains(m.View(), "KEYS") {
		t.Fatal("? did not close the help")
	}
	m, _ = m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{'r'}})
	if v := m.View(); !strings.Contains(v, "LAST REJECTED") || !strings.Contains(v, "fleet.vehicles/2@17") {
		t.Fatalf("r did not show the rejects:\n%s", v)
	}
	m, _ = m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{'r'}})
	if strings.Contains(m.View(), "LAST REJECTED") {
		t.Fatal("r did not close the rejects")
	}
	// Keys typed faster than a frame arrive as one message; each counts.
	before := m.View()
	m, _ = m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{'+', '+', '+'}})
	zoomed := m.View()
	if zoomed == before {
		t.Fatal("+++ did not zoom")
	}
	m, _ = m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{'0'}})
	if m.View() != before {
		t.Fatal("0 did not restore the whole network")
	}
	_, cmd = m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{'x', 'q'}})
	if cmd == nil {
		t.Fatal("q after another key gave no command")
	}
	_, cmd = m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{'q'}})
	if cmd == nil {
		t.Fatal("q gave no command")
	}
	if _, ok := cmd().(tea.QuitMsg); !ok {
		t.Fatal("q did not quit")
	}
}

func TestRateMeter(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	var r rateMeter
	r = r.observe(t0, 100)
	r = r.observe(t0.Add(500*time.Millisecond), 400) // under a second: not yet measured
	if r.perSec != 0 {
		t.Fatalf("rate after 0.5 s: %v", r.perSec)
	}
	r = r.observe(t0.Add(2*time.Second), 700)
	if r.perSec != 300 {
		t.Fatalf("rate %v, want 300", r.perSec)
	}
}

func TestViewSurvivesAPanic(t *testing.T) {
	m := Model{w: 80, h: 24} // no screen: drawing panics
	if got := m.View(); !strings.Contains(got, "drawing the screen failed") {
		t.Fatalf("View after a panic: %q", got)
	}
}

func TestIdleTimeoutQuits(t *testing.T) {
	src := &fakeSource{fleet: model.NewFleet()}
	var m tea.Model = New(src, network.Default(), termenv.Ascii, time.Minute).WithIdleTimeout(time.Minute)
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	m, cmd := m.Update(frameMsg(t0))
	if isQuit(cmd) {
		t.Fatal("quit at once")
	}
	m, _ = m.Update(frameMsg(t0.Add(50 * time.Second)))
	m, _ = m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{'+'}}) // a key resets the clock
	if _, cmd = m.Update(frameMsg(t0.Add(100 * time.Second))); isQuit(cmd) {
		t.Fatal("quit although a key was pressed 50 s ago")
	}
	if _, cmd = m.Update(frameMsg(t0.Add(111 * time.Second))); !isQuit(cmd) {
		t.Fatal("no quit after a minute without keys")
	}
}

func isQuit(cmd tea.Cmd) bool {
	if cmd == nil {
		return false
	}
	_, ok := cmd().(tea.QuitMsg)
	return ok
}

func key1(s string) tea.KeyMsg {
	switch s {
	case "tab":
		return tea.KeyMsg{Type: tea.KeyTab}
	case "shift+tab":
		return tea.KeyMsg{Type: tea.KeyShiftTab}
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	case "up":
		return tea.KeyMsg{Type: tea.KeyUp}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
}

// The panes: tab moves overview → vehicles → stations → overview, the
// cursor keys move the selection in a table, enter opens a vehicle's
// details, s sorts, / finds, f follows, esc goes back; the mouse wheel
// zooms and a click picks a vehicle.
func TestPanesSearchFollowAndMouse(t *testing.T) {
	src := &fakeSource{fleet: model.NewFleet()}
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	for _, v := range []model.VehiclePosition{
		{VehicleID: "red-01", Line: "red", Lat: 42.0, Lon: -87.66, DelayS: 30, Has: model.HasDelay, TS: now},
		{VehicleID: "red-02", Line: "red", Lat: 41.95, Lon: -87.65, DelayS: 400, Has: model.HasDelay, TS: now},
		{VehicleID: "blue-01", Line: "blue", Lat: 41.88, Lon: -87.63, TS: now},
	} {
		src.fleet.Apply(v)
	}
	src.fleet.Apply(model.Turnstile{StationID: "clark-lake", Entries: 40, TS: now})
	var m tea.Model = New(src, network.Default(), termenv.Ascii, time.Minute)
	m, _ = m.Update(tea.WindowSizeMsg{Width: 120, Height: 30})
	m, _ = m.Update(frameMsg(now))
	press := func(keys ...string) string {
		t.Helper()
		for _, k := range keys {
			m, _ = m.Update(key1(k))
		}
		m, _ = m.Update(frameMsg(now))
		return m.View()
	}
	sel := func() string { return m.(Model).selected }

	if v := press("tab"); !strings.Contains(v, "VEHICLES 3") || sel() != "blue-01" {
		t.Fatalf("tab: selected %q\n%s", sel(), v)
	}
	press("down")
	if sel() != "red-01" {
		t.Fatalf("down: selected %q, want red-01 (by line, then id)", sel())
	}
	if v := press("s"); !strings.Contains(v, "sort: delay") {
		t.Fatalf("s did not sort by delay:\n%s", v)
	}
	press("up")
	if sel() != "red-02" { // by delay, red-02 (+6m40s) comes before red-01 (+30s)
		t.Fatalf("after sorting by delay, up selected %q", sel())
	}
	if v := press("enter"); !strings.Contains(v, "VEHICLE red-02") || !strings.Contains(v, "LAST REPORTS") {
		t.Fatalf("enter did not open the details:\n%s", v)
	}
	if v := press("esc"); !strings.Contains(v, "VEHICLES 3") {
		t.Fatalf("esc from details did not go back to the vehicles:\n%s", v)
	}
	if v := press("tab"); !strings.Contains(v, "STATIONS") || !strings.Contains(v, "Clark/Lake") {
		t.Fatalf("second tab did not show the station board:\n%s", v)
	}
	if board, shown := m.View(), press("enter"); shown == board || !strings.Contains(shown, "Clark/Lake") {
		t.Fatalf("enter on the station board did not show the station on the map:\n%s", shown)
	}
	if v := press("tab"); !strings.Contains(v, "WEATHER") {
		t.Fatalf("third tab did not come back to the overview:\n%s", v)
	}

	// Search: a vehicle by part of its id opens its details.
	press("/")
	if v := press("r", "e", "d", "-", "0", "2"); !strings.Contains(v, "/red-02") {
		t.Fatalf("the search line does not show what is typed:\n%s", v)
	}
	if v := press("enter"); sel() != "red-02" || !strings.Contains(v, "VEHICLE red-02") || !strings.Contains(v, "late") {
		t.Fatalf("search for red-02: selected %q\n%s", sel(), v)
	}
	press("/", "n", "o", "p", "e", "enter")
	if v := m.View(); !strings.Contains(v, `nothing matches "nope"`) {
		t.Fatalf("a search with no match says nothing:\n%s", v)
	}

	// Follow keeps the selected vehicle in the middle of the map as it moves.
	press("f")
	if !m.(Model).following {
		t.Fatal("f did not start following")
	}
	src.fleet.Apply(model.VehiclePosition{VehicleID: "red-02", Line: "red", Lat: 41.80, Lon: -87.70, TS: now.Add(time.Second)})
	v := press()
	rows := strings.Split(v, "\n")
	mid := rows[1+(30-2)/2]
	if !strings.Contains(string([]rune(mid)[:m.(Model).screen.MapWidth(120, view.PaneDetails)]), "◉") {
		t.Errorf("the followed vehicle is not on the middle row of the map:\n%s", v)
	}
	press("h")
	if m.(Model).following {
		t.Fatal("panning did not stop following")
	}

	// Mouse: a click on a vehicle's cell selects it; the wheel zooms.
	press("0", "esc", "esc")
	mp := m.(Model).screen.Map()
	var hitCol, hitRow int
	found := false
	for row := 0; row < 28 && !found; row++ {
		for col := 0; col < mp.Cols(); col++ {
			if id, ok := mp.VehicleAt(col, row, src.fleet.Snapshot().Vehicles); ok && id == "blue-01" {
				hitCol, hitRow, found = col, row, true
				break
			}
		}
	}
	if !found {
		t.Fatal("blue-01 is nowhere on the map")
	}
	m, _ = m.Update(tea.MouseMsg{X: hitCol, Y: hitRow + 1, Button: tea.MouseButtonLeft, Action: tea.MouseActionPress})
	if sel() != "blue-01" || m.(Model).pane != view.PaneDetails {
		t.Fatalf("click selected %q in pane %v", sel(), m.(Model).pane)
	}
	before := m.View()
	m, _ = m.Update(tea.MouseMsg{Button: tea.MouseButtonWheelUp, Action: tea.MouseActionPress})
	if m.View() == before {
		t.Error("the mouse wheel did not zoom")
	}
}

// Across a slow idle frame the sparkline still gains one point per 1/15 s,
// so its time scale does not depend on how often the screen was drawn.
func TestIdleFramesKeepTheSparklineTimeScale(t *testing.T) {
	src := &fakeSource{fleet: model.NewFleet()}
	var m tea.Model = New(src, network.Default(), termenv.Ascii, time.Minute)
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	m, _ = m.Update(frameMsg(t0))
	m, _ = m.Update(frameMsg(t0.Add(time.Second / 15)))
	before := len(m.(Model).hist[0])
	m, _ = m.Update(frameMsg(t0.Add(time.Second/15 + idleFrame)))
	if got := len(m.(Model).hist[0]) - before; got != int(idleFrame*DefaultFPS/time.Second) && got != int(idleFrame*DefaultFPS/time.Second)+1 {
		t.Fatalf("an idle frame of %v added %d points, want about %d", idleFrame, got, idleFrame*DefaultFPS/time.Second)
	}
}

// A selected vehicle that leaves the fleet (expired or removed): the
// status bar says so, following stops, the details pane says where it was
// last; the selection stays. It is looked for again once a second, not
// every frame (each look visits every vehicle), and found when it comes back.
func TestSelectedVehicleLeavesTheFleetAndComesBack(t *testing.T) {
	src := &fakeSource{fleet: model.NewFleet()}
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	src.fleet.Apply(model.VehiclePosition{VehicleID: "red-01", Line: "red", Lat: 42.0, Lon: -87.66, TS: now})
	src.fleet.Apply(model.VehiclePosition{VehicleID: "blue-01", Line: "blue", Lat: 41.88, Lon: -87.63, TS: now})
	var m tea.Model = New(src, network.Default(), termenv.Ascii, time.Minute)
	m, _ = m.Update(tea.WindowSizeMsg{Width: 120, Height: 30})
	at := now
	frame := func(d time.Duration) string {
		t.Helper()
		at = at.Add(d)
		m, _ = m.Update(frameMsg(at))
		return m.View()
	}
	frame(0)
	for _, k := range []string{"/", "r", "e", "d", "-", "0", "1", "enter", "f"} {
		m, _ = m.Update(key1(k))
	}
	if v := frame(time.Second / 15); !strings.Contains(v, "◉") || !m.(Model).following {
		t.Fatalf("red-01 not selected and followed:\n%s", v)
	}

	src.fleet.Apply(model.VehicleRemoved{VehicleID: "red-01"})
	v := frame(time.Second / 15)
	gone := m.(Model)
	if !gone.gone || gone.following || gone.selected != "red-01" {
		t.Fatalf("after it left: gone %v, following %v, selected %q", gone.gone, gone.following, gone.selected)
	}
	for _, want := range []string{"red-01 left the fleet (last report 10:00:00Z); stopped following",
		"not in the fleet any more", "last seen  10:00:00Z at 42.00000, -87.66000"} {
		if !strings.Contains(v, want) {
			t.Errorf("no %q on the screen:\n%s", want, v)
		}
	}
	if strings.Contains(v, "◉") {
		t.Errorf("a vehicle drawn as selected:\n%s", v)
	}

	// Back within the second: not looked for yet.
	src.fleet.Apply(model.VehiclePosition{VehicleID: "red-01", Line: "red", Lat: 42.0, Lon: -87.66, TS: now.Add(time.Minute)})
	for range 10 {
		if v := frame(time.Second / 15); !m.(Model).gone || strings.Contains(v, "◉") {
			t.Fatalf("looked for again within a second of leaving:\n%s", v)
		}
	}
	v = frame(time.Second / 2) // over a second after it was last looked for
	if m.(Model).gone || !strings.Contains(v, "red-01 is back in the fleet") || !strings.Contains(v, "◉") {
		t.Fatalf("back in the fleet, not found a second later:\n%s", v)
	}
	// f on a vehicle that is gone does not pretend to follow it.
	src.fleet.Apply(model.VehicleRemoved{VehicleID: "red-01"})
	frame(time.Second / 15)
	m, _ = m.Update(key1("f"))
	if v := frame(time.Second / 15); m.(Model).following || !strings.Contains(v, "red-01 is not in the fleet: nothing to follow") {
		t.Fatalf("f on a vehicle that left:\n%s", v)
	}
}

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
	if rows := strings.Split(screen, "\n"); len(rows) != 30 || !strings.Contains(rows[0], "1 vehicles on 1 lines") {
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

package view

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/muesli/termenv"
	"github.com/paulmach/orb"

	"github.com/fleetwatch/fleetwatch/internal/alert"
	"github.com/fleetwatch/fleetwatch/internal/model"
	"github.com/fleetwatch/fleetwatch/internal/network"
)

// Screens asking for one key at once get one computation between them.
func TestMemoComputesOncePerKey(t *testing.T) {
	m := memo[int, int]{size: 2, same: func(a, b int) bool { return a == b }}
	var calls atomic.Int32
	release := make(chan struct{})
	var wg sync.WaitGroup
	got := make([]int, 50)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = m.get(7, func(k int) int { return k }, func() int {
				calls.Add(1)
				<-release // the others ask while it computes
				return 49
			})
		}()
	}
	close(release)
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Fatalf("computed %d times", n)
	}
	for _, v := range got {
		if v != 49 {
			t.Fatalf("got %v", got)
		}
	}
	// Beyond its size the oldest key is forgotten.
	m.get(8, func(k int) int { return k }, func() int { return 64 })
	m.get(9, func(k int) int { return k }, func() int { return 81 })
	m.get(7, func(k int) int { return k }, func() int { calls.Add(1); return 49 })
	if n := calls.Load(); n != 2 {
		t.Fatalf("key 7 after two others in a memo of 2: computed %d times in all, want 2", n)
	}
}

// A computation that panics leaves no entry behind: the next caller
// computes again.
func TestMemoForgetsAFailedComputation(t *testing.T) {
	m := memo[int, int]{size: 2, same: func(a, b int) bool { return a == b }}
	func() {
		defer func() { _ = recover() }()
		m.get(1, func(k int) int { return k }, func() int { panic("drawing bug") })
	}()
	if v := m.get(1, func(k int) int { return k }, func() int { return 2 }); v != 2 {
		t.Fatalf("got %d after a failed computation", v)
	}
}

// Screens drawing one state share its zone table, which is ZoneCounts'; a
// change to any vehicle's field that the table reads (speed, line), to
// its position, or to who is in the fleet, gives a new table.
func TestZoneTableSharedPerState(t *testing.T) {
	zones, err := network.LoadAll([]string{filepath.Join("testdata", "nyc-zones.geojson")})
	if err != nil {
		t.Fatal(err)
	}
	net := &network.Network{Zones: zones.Zones}
	f := model.NewFleet()
	for i := range 40 {
		f.Apply(model.VehiclePosition{VehicleID: fmt.Sprint("d", i), Lat: 40.70 + float64(i)*0.002, Lon: -73.99,
			SpeedKmh: 20, Has: model.HasSpeed, Status: model.StatusInTransit, TS: fixedTime})
	}
	a, b := NewScreen(net, termenv.Ascii, nil), NewScreen(net, termenv.Ascii, nil)
	a.Render(Frame{Snap: f.Snapshot()}, 120, 40) // sizes the map: its view
	b.Render(Frame{Snap: f.Snapshot()}, 120, 40)
	check := func(what string, vehicles model.Vehicles, shareWith []ZoneCount) []ZoneCount {
		t.Helper()
		got := a.sharedCounts(vehicles, a.m.View())
		want := ZoneCounts(vehicles, zones.Zones, a.m.View())
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s: shared %+v, counted %+v", what, got, want)
		}
		if other := b.sharedCounts(vehicles, b.m.View()); &other[0] != &got[0] {
			t.Errorf("%s: two screens of one state computed two tables", what)
		}
		if shareWith != nil && &shareWith[0] == &got[0] {
			t.Errorf("%s: the table of an earlier state", what)
		}
		return got
	}
	snap := f.Snapshot()
	prev := check("first", snap.Vehicles, nil)
	if again := a.sharedCounts(f.Snapshot().Vehicles, a.m.View()); &again[0] != &prev[0] {
		t.Error("an unchanged fleet's next view: the table was computed again")
	}
	steps := []struct {
		name string
		ev   model.VehiclePosition
	}{
		{"speed only", model.VehiclePosition{VehicleID: "d3", Lat: 40.706, Lon: -73.99, SpeedKmh: 0, Has: model.HasSpeed, TS: fixedTime}},
		{"line only", model.VehiclePosition{VehicleID: "d4", Line: "M15", Lat: 40.708, Lon: -73.99, SpeedKmh: 20, Has: model.HasSpeed, TS: fixedTime}},
		{"position", model.VehiclePosition{VehicleID: "d5", Lat: 10, Lon: 10, SpeedKmh: 20, Has: model.HasSpeed, TS: fixedTime}},
	}
	for _, st := range steps {
		f.Apply(st.ev)
		prev = check(st.name, f.Snapshot().Vehicles, prev)
	}
	// Another vehicle in the slot of one gone, at the same place, idle.
	f.Apply(model.VehicleRemoved{VehicleID: "d6"})
	f.Apply(model.VehiclePosition{VehicleID: "x6", Lat: 40.712, Lon: -73.99, SpeedKmh: 0, Has: model.HasSpeed, TS: fixedTime})
	check("a vehicle replaced", f.Snapshot().Vehicles, prev)
}

// The compass grid depends on the view: screens zoomed differently get
// their own table.
func TestCompassTableFollowsTheView(t *testing.T) {
	snap := roamingNYC(500)
	s := NewScreen(&network.Network{}, termenv.Ascii, nil)
	whole := orb.Bound{Min: orb.Point{-74.1, 40.5}, Max: orb.Point{-73.8, 40.9}}
	part := orb.Bound{Min: orb.Point{-74.0, 40.7}, Max: orb.Point{-73.9, 40.8}}
	for _, view := range []orb.Bound{whole, part, whole} {
		got, want := s.sharedCounts(snap.Vehicles, view), ZoneCounts(snap.Vehicles, nil, view)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("view %v: shared %+v, counted %+v", view, got, want)
		}
	}
}

// hasAlertID is AlertID(a) == id, also where fields hold the separator.
func TestHasAlertID(t *testing.T) {
	as := []alert.Alert{{Kind: alert.Late, VehicleID: "v1", Line: "red"}, {Kind: alert.FeedSilent, Stream: "vehicles"},
		{Kind: alert.ZoneEnter, VehicleID: "a|b", Zone: "z"}, {Kind: alert.Late, VehicleID: "a", Line: "b|"}, {}}
	ids := []string{"", "late", "late|v1|red||", "late|v1|red|", "late|v1|red|||", "feed_silent||||vehicles",
		"zone_enter|a|b||z|", "zone_enter|a|b|z|", "late|a|b|||", "late|a||b||", "||||"}
	for _, a := range as {
		ids = append(ids, AlertID(a))
	}
	for _, a := range as {
		for _, id := range ids {
			if got, want := hasAlertID(a, id), AlertID(a) == id; got != want {
				t.Errorf("hasAlertID(%+v, %q) = %v", a, id, got)
			}
		}
	}
}

// Each frame draws the open alerts, newest first, through the shared
// index: the same as indexing them anew, also after the list changes.
func TestAlertIndexPerList(t *testing.T) {
	first := []alert.Alert{{Kind: alert.Late, VehicleID: "v1", Line: "red"}, {Kind: alert.OffRoute, VehicleID: "v1", Line: "red"},
		{Kind: alert.FeedSilent, Line: "blue"}}
	second := append(slices.Clone(first[:1]), alert.Alert{Kind: alert.Early, VehicleID: "v2"})
	for _, open := range [][]alert.Alert{first, second, first} {
		got, want := indexAlerts(open), newAlertIndex(open)
		if fmt.Sprint(*got) != fmt.Sprint(*want) {
			t.Fatalf("shared %+v, new %+v", *got, *want)
		}
		if again := indexAlerts(open); again != got {
			t.Error("one list indexed twice")
		}
	}
	if x := indexAlerts(second); x.states["v1"] != alert.Late || x.states["v2"] != alert.Early || len(x.silent) != 0 {
		t.Errorf("second list: %+v", *x)
	}
}

// The alerts pane writes only the rows that fit, scrolled to its cursor:
// the same lines as writing them all.
func TestAlertsPaneScrollsToItsCursor(t *testing.T) {
	var open []alert.Alert
	for i := range 500 {
		open = append(open, alert.Alert{Kind: alert.Late, VehicleID: fmt.Sprintf("v%03d", i), Line: "red", At: fixedTime.Add(-time.Duration(i) * time.Second)})
	}
	s := NewScreen(network.Default(), termenv.Ascii, nil)
	for _, sel := range []string{"", AlertID(open[0]), AlertID(open[250]), AlertID(open[499]), "nothing"} {
		f := Frame{Alerts: open, SelectedAlert: sel, Snap: model.Snapshot{AsOf: fixedTime}}
		got, want := s.alertsPanel(f, 60, 30), allAlertRows(s, f, 60, 30)
		if !slices.Equal(got, want) {
			t.Fatalf("cursor %q:\n%s\nwant\n%s", sel, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

// allAlertRows is the alerts pane as it was written before: every row,
// then the part that fits.
func allAlertRows(s *Screen, f Frame, w, h int) []string {
	head := s.bold.Render(fmt.Sprintf("%-5s %-11s %-10s %s", "AGE", "ALERT", "VEHICLE", "LINE / DETAIL"))
	var rows []string
	sel := -1
	for i, a := range f.Alerts {
		row := fmt.Sprintf("%-5s %-11s %-10s %s", shortDur(max(f.Snap.AsOf.Sub(a.At), 0)), a.Kind, fit(safe(a.VehicleID), 10), safe(a.Line))
		if AlertID(a) == f.SelectedAlert {
			sel = i
			row = s.bold.Render("▸" + row)
		} else {
			row = " " + row
		}
		rows = append(rows, row)
	}
	return scrolled([]string{" " + head}, rows, sel, w, h)
}

package view

import (
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/muesli/termenv"
	"github.com/paulmach/orb"

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

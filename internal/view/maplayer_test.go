package view

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/muesli/termenv"

	"github.com/fleetwatch/fleetwatch/internal/alert"
	"github.com/fleetwatch/fleetwatch/internal/basemap"
	"github.com/fleetwatch/fleetwatch/internal/model"
	"github.com/fleetwatch/fleetwatch/internal/network"
)

// forgetLayers empties the shared map layers and panels, so that the next
// frame is drawn as a screen alone draws it.
// drawsAsAlone draws the screens named, by draw, each after every other
// (sharing what they may) and checks that each draws what it draws alone;
// and that none draws as the first does, else the test shows nothing.
func drawsAsAlone(t *testing.T, names []string, draw func(i int) string) {
	t.Helper()
	want := make([]string, len(names))
	for i := range names {
		forgetLayers()
		want[i] = draw(i)
	}
	for i := 1; i < len(names); i++ {
		if want[i] == want[0] {
			t.Fatalf("%s: draws as %s; the test shows nothing", names[i], names[0])
		}
	}
	for i := range names {
		forgetLayers()
		for j := range names {
			k := (i + j) % len(names)
			if got := draw(k); got != want[k] {
				t.Errorf("%s after %s: not what it draws alone", names[k], names[i])
			}
		}
	}
}

func forgetLayers() {
	layerMemo.mu.Lock()
	layerMemo.entries = nil
	layerMemo.mu.Unlock()
	rowsMemo.mu.Lock()
	rowsMemo.entries = nil
	rowsMemo.mu.Unlock()
	panelMemo.mu.Lock()
	panelMemo.entries = nil
	panelMemo.mu.Unlock()
	headerMemo.mu.Lock()
	headerMemo.entries = nil
	headerMemo.mu.Unlock()
}

// layerFleet is a few vehicles on each line, not crowded (markers, not
// density), the first of each line reporting age seconds before the others.
func layerFleet(net *network.Network, age time.Duration) *model.Fleet {
	f := model.NewFleet()
	for i, l := range net.Lines {
		path := l.Paths[0]
		for j, frac := range []float64{0.2, 0.5, 0.8} {
			p := path[int(frac*float64(len(path)-1))]
			ts := fixedTime
			if j == 0 {
				ts = ts.Add(-age)
			}
			f.Apply(model.VehiclePosition{VehicleID: fmt.Sprintf("%s-%d", l.ID, j), Line: l.ID, Lat: p[1], Lon: p[0],
				Status: model.StatusInTransit, TS: ts, DelayS: float64(100 * i), Has: model.HasDelay})
		}
	}
	return f
}

// A screen drawing a state another screen drew shares its layer, but only
// while the same vehicles are stale: a layer made when a vehicle was fresh
// is not what a later frame, when it is stale, draws.
func TestMapLayerSharedWhileStaleIsTheSame(t *testing.T) {
	net := network.Default()
	snap := layerFleet(net, 50*time.Second).Snapshot()
	at := func(d time.Duration) Frame {
		s := snap
		s.AsOf = fixedTime.Add(d)
		return Frame{Snap: s, Now: fixedTime} // the header's clock the same
	}
	alone := func(f Frame) string {
		forgetLayers()
		return NewScreen(net, termenv.ANSI256, nil).Render(f, 120, 40)
	}
	fresh, stale := alone(at(5*time.Second)), alone(at(15*time.Second)) // the first of each line: 55 s old, 65 s
	if fresh == stale {
		t.Fatal("the test draws no vehicle turning stale")
	}

	forgetLayers()
	a, b := NewScreen(net, termenv.ANSI256, nil), NewScreen(net, termenv.ANSI256, nil)
	if got := a.Render(at(5*time.Second), 120, 40); got != fresh {
		t.Fatal("first screen: not what a screen alone draws")
	}
	if got := b.Render(at(9*time.Second), 120, 40); got != fresh {
		t.Fatal("second screen, the same vehicles stale: not what a screen alone draws")
	}
	if la, lb := a.m.sharedLayer(snap.Vehicles, fixedTime.Add(5*time.Second), time.Minute, ""),
		b.m.sharedLayer(snap.Vehicles, fixedTime.Add(9*time.Second), time.Minute, ""); la != lb {
		t.Error("two screens of one state at one view: two layers")
	}
	if got := b.Render(at(15*time.Second), 120, 40); got != stale {
		t.Fatal("a vehicle turned stale since the shared layer was made, but the frame shows it fresh")
	}
	if got := a.Render(at(5*time.Second), 120, 40); got != fresh {
		t.Fatal("back to the earlier time: the later layer was taken")
	}
}

// Screens of one state that differ in what the layer depends on (the
// selection, the view, the map's size, the density mode, the open alerts)
// or in what lies under it or colours it (the basemap, the terminal's
// colours) each draw what they would alone, whoever drew first.
func TestMapLayerKeyedByWhatItDependsOn(t *testing.T) {
	net := network.Default()
	world, err := basemap.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	snap := layerFleet(net, 0).Snapshot()
	open := []alert.Alert{{Kind: alert.OffRoute, VehicleID: net.Lines[0].ID + "-1", Line: net.Lines[0].ID, At: fixedTime}}
	type viewer struct {
		name  string
		w, h  int
		f     Frame
		setup func(*Screen)
	}
	base := Frame{Snap: snap, Now: fixedTime}
	withSel, withAlerts, details := base, base, base
	withSel.Selected = net.Lines[1].ID + "-2"
	withAlerts.Alerts = open
	details.Pane = PaneDetails
	viewers := []viewer{
		{"default", 120, 40, base, nil},
		{"selected", 120, 40, withSel, nil},
		{"alerts", 120, 40, withAlerts, nil},
		{"zoomed", 120, 40, base, func(s *Screen) { s.Map().ZoomBy(2) }},
		{"panned", 120, 40, base, func(s *Screen) { p := net.Lines[0].Paths[0][0]; s.Map().CenterOn(p[0], p[1]) }},
		{"density", 120, 40, base, func(s *Screen) { s.Map().SetDensity(DensityOn) }},
		{"details pane", 120, 40, details, nil},
		{"smaller", 100, 30, base, nil},
		{"true colour", 120, 40, base, nil},
		{"basemap", 120, 40, base, func(s *Screen) { s.SetBasemap(world) }},
	}
	draw := func(v viewer) string {
		profile := termenv.ANSI256
		if v.name == "true colour" {
			profile = termenv.TrueColor
		}
		s := NewScreen(net, profile, nil)
		if v.setup != nil {
			v.setup(s)
		}
		return s.Render(v.f, v.w, v.h)
	}
	names := make([]string, len(viewers))
	for i, v := range viewers {
		names[i] = v.name
	}
	drawsAsAlone(t, names, func(i int) string { return draw(viewers[i]) })
}

// Many screens drawing a changing fleet at once, at their own times, draw
// what each would alone (run with -race: the shared layers are read by
// many screens while others are made).
func TestMapLayerConcurrentScreens(t *testing.T) {
	net := network.Default()
	f := layerFleet(net, 30*time.Second)
	var snaps []model.Snapshot
	for k := range 6 {
		l := net.Lines[k%len(net.Lines)]
		p := l.Paths[0][k*3%len(l.Paths[0])]
		f.Apply(model.VehiclePosition{VehicleID: fmt.Sprintf("%s-1", l.ID), Line: l.ID, Lat: p[1], Lon: p[0],
			Status: model.StatusStoppedAt, TS: fixedTime})
		snaps = append(snaps, f.Snapshot())
	}
	frame := func(i, viewer int) Frame {
		s := snaps[i]
		s.AsOf = fixedTime.Add(time.Duration(viewer%5) * 10 * time.Second) // the 30 s old turn stale from 40 s
		st := fixedStatus()
		st.Rates[model.KindVehicles] = []float64{float64(viewer), 100, float64(10 * viewer)} // each its own
		st.Lag[model.KindVehicles] = int64(viewer)
		fr := Frame{Snap: s, Now: fixedTime, Status: st}
		if viewer%7 == 3 {
			fr.Selected = net.Lines[0].ID + "-2"
		}
		return fr
	}
	const viewers = 24
	want := make([][]string, len(snaps))
	for i := range snaps {
		for v := range viewers {
			forgetLayers()
			want[i] = append(want[i], NewScreen(net, termenv.ANSI256, nil).Render(frame(i, v), 120, 40))
		}
	}
	forgetLayers()
	var wg sync.WaitGroup
	errs := make(chan string, viewers)
	for v := range viewers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := NewScreen(net, termenv.ANSI256, nil)
			for i := range snaps {
				for range 3 {
					if got := s.Render(frame(i, v), 120, 40); got != want[i][v] {
						errs <- fmt.Sprintf("viewer %d, state %d: not what it draws alone", v, i)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// Screens of one state share the overview panel but for the streams' rows,
// which show each screen's own rates; a panel of other lines, stations or
// weather, another size, or other colours, is another panel.
func TestOverviewPanelShared(t *testing.T) {
	net := network.Default()
	snap := fixedSnapshot(net)
	fewer := snap
	fewer.Lines = slices.Clone(snap.Lines)
	fewer.Lines[0].Vehicles++ // the same vehicles, other line figures
	fewer.Stations = snap.Stations[1:]
	otherWx := snap
	otherWx.Weather = slices.Clone(snap.Weather)
	otherWx.Weather[0].TempC = 30
	slow := fixedStatus()
	slow.Rates[model.KindVehicles] = []float64{1, 2, 3}
	slow.Lag = [3]int64{99, 98, 97}
	type viewer struct {
		name    string
		profile termenv.Profile
		w, h    int
		f       Frame
	}
	viewers := []viewer{
		{"base", termenv.ANSI256, 120, 40, Frame{Snap: snap, Status: fixedStatus(), Now: fixedTime}},
		{"own rates", termenv.ANSI256, 120, 40, Frame{Snap: snap, Status: slow, Now: fixedTime}},
		{"other lines and stations", termenv.ANSI256, 120, 40, Frame{Snap: fewer, Status: fixedStatus(), Now: fixedTime}},
		{"other weather", termenv.ANSI256, 120, 40, Frame{Snap: otherWx, Status: fixedStatus(), Now: fixedTime}},
		{"true colour", termenv.TrueColor, 120, 40, Frame{Snap: snap, Status: fixedStatus(), Now: fixedTime}},
		{"plain", termenv.Ascii, 120, 40, Frame{Snap: snap, Status: fixedStatus(), Now: fixedTime}},
		{"shorter", termenv.ANSI256, 120, 30, Frame{Snap: snap, Status: fixedStatus(), Now: fixedTime}},
		{"narrower", termenv.ANSI256, 110, 40, Frame{Snap: snap, Status: fixedStatus(), Now: fixedTime}},
	}
	draw := func(v viewer) string { return NewScreen(net, v.profile, nil).Render(v.f, v.w, v.h) }
	names := make([]string, len(viewers))
	for i, v := range viewers {
		names[i] = v.name
	}
	drawsAsAlone(t, names, func(i int) string { return draw(viewers[i]) })
}

// Render does not fit the overview panel's rows again: they must be what
// fitting them again gives, also where a wide rune was cut at the edge.
func TestOverviewRowsFitted(t *testing.T) {
	net := network.Default()
	f := model.NewFleet()
	f.Apply(model.Weather{Area: "東京都心部の北側", TempC: 3, Condition: "雪のち晴れ、ところにより一時雨で風が強い", TS: fixedTime})
	f.Apply(model.StationInfo{StationID: "s1", Name: "新宿三丁目駅前の広場", Lines: []string{net.Lines[0].ID}})
	f.Apply(model.Turnstile{StationID: "s1", Entries: 5, TS: fixedTime})
	snap := f.Snapshot()
	for _, profile := range []termenv.Profile{termenv.ANSI256, termenv.Ascii} {
		for _, w := range []int{30, 31, 43, 48} {
			forgetLayers()
			s := NewScreen(net, profile, nil)
			rows := s.sidePanel(snap, fixedStatus(), w, 38)
			cut := false
			for i, r := range rows {
				if again := fit(r, w); again != r {
					t.Fatalf("profile %v, width %d, row %d: %q fitted again is %q", profile, w, i, r, again)
				}
				cut = cut || strings.Contains(r, "…")
			}
			if !cut {
				t.Fatalf("width %d: no row cut; the test shows nothing", w)
			}
		}
	}
}

// okOpen and okClose put around a sparkline what s.ok.Render does.
func TestOKStyleAroundSparkline(t *testing.T) {
	for _, profile := range []termenv.Profile{termenv.TrueColor, termenv.ANSI256, termenv.ANSI, termenv.Ascii} {
		s := NewScreen(network.Default(), profile, nil)
		for _, vals := range [][]float64{nil, {0}, {1, 5, 3}, {0, 0, 0, 100, 7}} {
			for _, w := range []int{1, 4, 22} {
				line := sparkline(vals, w)
				if got, want := s.okOpen+line+s.okClose, s.ok.Render(line); got != want {
					t.Errorf("profile %v, %v in %d: %q, Render gives %q", profile, vals, w, got, want)
				}
			}
		}
	}
}

// A screen drawing frame after frame shows each frame's header and status
// bar, as a new screen would: whatever changes between them (the clock's
// second, the state, what the map leaves out, the rate, the connection,
// the alerts, a missing topic, the width), nothing is kept too long.
func TestHeaderAndStatusBarFollowTheFrame(t *testing.T) {
	net := network.Default()
	f := layerFleet(net, 0)
	f.AddCounters(model.KindVehicles, 7, false)
	f.AddCounters(model.KindVehicles, 1, true) // a rejection: the status bar shows the last
	snap := f.Snapshot()
	f.AddCounters(model.KindVehicles, 7, false)
	counted := f.Snapshot()
	base := Frame{Snap: snap, Status: fixedStatus(), Now: fixedTime}
	frames := map[string]Frame{"base": base}
	add := func(name string, change func(*Frame)) {
		fr := base
		fr.Status.Missing = slices.Clone(base.Status.Missing)
		change(&fr)
		frames[name] = fr
	}
	add("next second", func(fr *Frame) { fr.Now = fr.Now.Add(time.Second) })
	add("no clock", func(fr *Frame) { fr.Now = time.Time{} })
	add("counted", func(fr *Frame) { fr.Snap = counted })
	add("rate", func(fr *Frame) { fr.Status.Rate++ })
	add("conn 1 connecting", func(fr *Frame) { fr.Status.Connected = false })
	add("conn 2 unreachable", func(fr *Frame) { fr.Status.Connected, fr.Status.Err = false, "dial tcp: connection refused" })
	add("alerts", func(fr *Frame) {
		fr.Alerts = []alert.Alert{{Kind: alert.Late, VehicleID: net.Lines[0].ID + "-1", Line: net.Lines[0].ID, At: fixedTime}}
	})
	add("missing", func(fr *Frame) { fr.Status.Missing = []string{"busDta not found"} })
	add("rejected", func(fr *Frame) { fr.Status.LastReject = "bad json" })
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range frames {
			if !yield(n) {
				return
			}
		}
	})
	type size struct{ w, h int }
	sizes := []size{{120, 40}, {100, 30}}
	zoom := func(s *Screen) { s.Map().ZoomBy(8) } // most vehicles outside
	want := map[string]string{}
	for _, n := range names {
		for _, sz := range sizes {
			for zi, z := range []func(*Screen){nil, zoom} {
				forgetLayers()
				s := NewScreen(net, termenv.ANSI256, nil)
				if z != nil {
					z(s)
				}
				want[fmt.Sprint(n, sz, zi)] = s.Render(frames[n], sz.w, sz.h)
			}
		}
	}
	for _, n := range names {
		if n != "base" && want[fmt.Sprint(n, sizes[0], 0)] == want[fmt.Sprint("base", sizes[0], 0)] {
			t.Fatalf("%s: drawn as the base; the test shows nothing", n)
		}
	}
	if want[fmt.Sprint("base", sizes[0], 1)] == want[fmt.Sprint("base", sizes[0], 0)] {
		t.Fatal("zoomed: drawn as the base")
	}
	forgetLayers()
	for zi, z := range []func(*Screen){nil, zoom} {
		s := NewScreen(net, termenv.ANSI256, nil)
		if z != nil {
			z(s)
		}
		// Each change alone, after the base frame; each size begun and
		// ended with the base frame, so that the width alone changes.
		var seq []string
		for _, n := range names {
			seq = append(seq, "base", n)
		}
		seq = append(seq, "base")
		seq = append(seq, names...) // and one after another
		seq = append(seq, "base")
		for range 2 {
			for _, sz := range sizes {
				for _, n := range seq {
					if got := s.Render(frames[n], sz.w, sz.h); got != want[fmt.Sprint(n, sz, zi)] {
						t.Errorf("%s at %v (zoomed %v): not what a new screen draws", n, sz, zi == 1)
					}
				}
			}
		}
	}
}

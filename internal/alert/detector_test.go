package alert

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/fleetwatch/fleetwatch/internal/model"
	"github.com/fleetwatch/fleetwatch/internal/network"
)

// The test network: line "east", straight along latitude 41.9 for 8 km,
// stations w (west terminal), m (middle) and e (east terminal).
const (
	lat0 = 41.9
	lon0 = -87.7
)

var t0 = time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)

// at is the point x metres east and y metres north of the line's start.
func at(x, y float64) (lon, lat float64) {
	return lon0 + x/(math.Cos(lat0*math.Pi/180)*metresPerDegLon), lat0 + y/metresPerDegLat
}

func testNet() *network.Network {
	pt := func(x float64) orb.Point { lon, lat := at(x, 0); return orb.Point{lon, lat} }
	return &network.Network{
		Lines: []network.Line{{ID: "east", Paths: []orb.LineString{{pt(0), pt(4000), pt(8000)}}}},
		Stations: []network.Station{
			{ID: "w", Lines: []string{"east"}, Pos: pt(0)},
			{ID: "m", Lines: []string{"east"}, Pos: pt(4000)},
			{ID: "e", Lines: []string{"east"}, Pos: pt(8000)},
		},
	}
}

// pos is a report of vehicle id on line at (x, y) metres, s seconds after t0.
func pos(id, line string, s, x, y float64) model.VehiclePosition {
	lon, lat := at(x, y)
	return model.VehiclePosition{VehicleID: id, Line: line, Lat: lat, Lon: lon, Status: model.StatusInTransit,
		TS: t0.Add(time.Duration(s * float64(time.Second)))}
}

func delayed(p model.VehiclePosition, d float64) model.VehiclePosition {
	p.DelayS, p.Has = d, p.Has|model.HasDelay
	return p
}

// got is what one event or tick did, as "kind state vehicle" strings.
func got(alerts []Alert) []string {
	var out []string
	for _, a := range alerts {
		who := a.VehicleID
		if who == "" {
			who = a.Line + a.Stream
		}
		if a.Zone != "" {
			who += "@" + a.Zone
		}
		out = append(out, string(a.Kind)+" "+a.State+" "+who)
	}
	return out
}

func expect(t *testing.T, step string, alerts []Alert, want ...string) {
	t.Helper()
	if g := got(alerts); !slices.Equal(g, want) {
		t.Fatalf("%s: got %q, want %q", step, g, want)
	}
}

func TestOffRoute(t *testing.T) {
	d := New(DefaultConfig(), testNet())
	steps := []struct {
		x, y float64
		want []string
	}{
		{1000, 0, nil},
		{1010, 80, nil}, // one report off the line is GPS noise
		{1020, 0, nil},
		{1030, 70, nil},
		{1040, 120, nil},
		{1050, 200, []string{"off_route open v1"}}, // the third in a row
		{1060, 300, nil},
		{1070, 30, nil},
		{1080, 0, nil},
		{1090, 0, []string{"off_route closed v1"}},
	}
	for i, s := range steps {
		expect(t, "report "+string(rune('0'+i)), d.Apply(pos("v1", "east", float64(i), s.x, s.y)), s.want...)
	}
	// The same reports on a line with no geometry, or none, are no alert.
	for _, line := range []string{"learned", ""} {
		for i := range 10 {
			expect(t, "line "+line, d.Apply(pos("v2-"+line, line, float64(i), 1000, 500)))
		}
	}
}

func TestOffRouteDetail(t *testing.T) {
	d := New(DefaultConfig(), testNet())
	var last []Alert
	for i := range 3 {
		last = d.Apply(pos("v", "east", float64(i), 2000, 412))
	}
	if len(last) != 1 || last[0].Detail != "412 m from the east line" || last[0].Line != "east" || last[0].Lat == 0 {
		t.Fatalf("got %+v", last)
	}
}

// Positions scattered by GPS noise around the line raise nothing, and the
// grid answers as a test of every segment would.
func TestOffRouteNoiseAndGrid(t *testing.T) {
	net := network.Default()
	d := New(DefaultConfig(), net)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, l := range net.Lines {
		g := d.lines[l.ID].geom
		for i := range 2000 {
			p := l.Paths[0][rng.IntN(len(l.Paths[0]))]
			lon := p[0] + (rng.Float64()-0.5)*0.004
			lat := p[1] + (rng.Float64()-0.5)*0.003
			_, on := g.near(lon, lat, -1, &guard{})
			if want := g.distance(lon, lat) <= 60; on != want {
				t.Fatalf("%s point %d (%f, %f): grid says near=%v, brute force %.2f m", l.ID, i, lon, lat, on, g.distance(lon, lat))
			}
		}
	}
	// Walks about a point of the line, some 60 m from it, in and out of
	// reach: a report inside the guard of the reports before gets the
	// answer a test of the segment would.
	for _, l := range net.Lines {
		g := d.lines[l.ID].geom
		p := l.Paths[0][rng.IntN(len(l.Paths[0]))]
		kx := math.Cos(p[1]*math.Pi/180) * metresPerDegLon
		var x, y float64 // metres from p
		seg, gd, guarded := int32(-1), guard{}, 0
		for i := range 5000 {
			x += rng.NormFloat64()*8 - x/64
			y += rng.NormFloat64()*8 - y/64
			lon, lat := p[0]+x/kx, p[1]+y/metresPerDegLat
			if seg >= 0 && gd.holds(&g.segs[seg], lon, lat) {
				guarded++
			}
			want, wantOn := g.near(lon, lat, seg, &guard{})
			got, on := g.near(lon, lat, seg, &gd)
			if got != want || on != wantOn {
				t.Fatalf("%s step %d: guarded near gives %d %v, unguarded %d %v", l.ID, i, got, on, want, wantOn)
			}
			if on != (g.distance(lon, lat) <= 60) {
				t.Fatalf("%s step %d: near=%v at %.3f m", l.ID, i, on, g.distance(lon, lat))
			}
			if on {
				seg = got
			}
		}
		if guarded == 0 {
			t.Errorf("%s: no report fell in a guard", l.ID)
		}
	}
	// A vehicle riding the blue line with 15 m of noise on every report.
	blue := net.Lines[slices.IndexFunc(net.Lines, func(l network.Line) bool { return l.ID == "blue" })].Paths[0]
	for i := range 3000 {
		a, b := blue[i%(len(blue)-1)], blue[i%(len(blue)-1)+1]
		f := rng.Float64()
		lon := a[0] + f*(b[0]-a[0]) + rng.NormFloat64()*15/(math.Cos(a[1]*math.Pi/180)*metresPerDegLon)
		lat := a[1] + f*(b[1]-a[1]) + rng.NormFloat64()*15/metresPerDegLat
		ev := model.VehiclePosition{VehicleID: "noisy", Line: "blue", Lat: lat, Lon: lon, TS: t0.Add(time.Duration(i) * time.Second)}
		if out := d.Apply(ev); len(out) > 0 {
			t.Fatalf("report %d: %v", i, got(out))
		}
	}
}

func TestNoProgress(t *testing.T) {
	tests := []struct {
		name   string
		x      float64
		status model.Status
		stop   string
		want   bool
	}{
		{"between stations", 2500, model.StatusInTransit, "m", true},
		{"at a terminal, laying over", 7950, model.StatusStoppedAt, "e", false},
		{"near a terminal", 120, model.StatusInTransit, "m", false},
		{"out of service", 2500, model.StatusOutOfService, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := New(DefaultConfig(), testNet())
			// It approaches at 10 m/s, then stands.
			for s := range 60 {
				d.Apply(pos("v", "east", float64(s), tt.x-605+10*float64(s), 0))
			}
			opened := -1.0
			for s := 60.0; s <= 60+9*60; s++ {
				p := pos("v", "east", s, tt.x, 0)
				p.Status, p.StopID = tt.status, tt.stop
				if out := d.Apply(p); len(out) > 0 {
					expect(t, "stands", out, "no_progress open v")
					opened = s
				}
			}
			// Within 60 m since second 55 (x-55): eight minutes later.
			if tt.want != (opened >= 0) || (tt.want && opened != 55+480) {
				t.Fatalf("opened at %v s", opened)
			}
			if tt.want {
				expect(t, "moves", d.Apply(pos("v", "east", 700, tt.x+100, 0)), "no_progress closed v")
			}
		})
	}
}

func TestDelayBands(t *testing.T) {
	tests := []struct {
		name   string
		delays []float64
		want   map[int]string // report index → alert
	}{
		{"on time", []float64{0, 30, -50, 350, 60}, nil},
		{"one late report is not late", []float64{0, 400, 0, 400, 0}, nil},
		{"late, then back", []float64{0, 361, 370, 380, 340, 320, 320, 300},
			map[int]string{2: "late open v", 6: "late closed v"}},
		{"hovering at the edge is one alert", []float64{361, 362, 359, 361, 358, 362, 300, 300},
			map[int]string{1: "late open v", 7: "late closed v"}},
		{"early, then back", []float64{-61, -90, -120, -20, -10},
			map[int]string{1: "early open v", 4: "early closed v"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := New(DefaultConfig(), testNet())
			for i, dl := range tt.delays {
				var want []string
				if w, ok := tt.want[i]; ok {
					want = []string{w}
				}
				expect(t, "report", d.Apply(delayed(pos("v", "east", float64(i), 3000+10*float64(i), 0), dl)), want...)
			}
		})
	}
	// Holding at a terminal for its departure time is neither.
	d := New(DefaultConfig(), testNet())
	for i := range 10 {
		p := delayed(pos("v", "east", float64(i), 8000, 0), -200)
		p.Status, p.StopID = model.StatusStoppedAt, "e"
		expect(t, "terminal", d.Apply(p))
	}
}

// arrive applies vehicle id arriving at station st (direction "a") s
// seconds after t0, and ticks: headways are judged by the tick.
func arrive(d *Detector, id, st string, s float64) []Alert {
	ts := t0.Add(time.Duration(s * float64(time.Second)))
	out := d.Apply(model.Arrival{StationID: st, VehicleID: id, Line: "east", Direction: "a", TS: ts})
	return append(out, d.Tick(ts)...)
}

func TestHeadways(t *testing.T) {
	d := New(DefaultConfig(), testNet())
	// Vehicles every 600 s at m: the first headways are the stop's history.
	s := 0.0
	for i := range 5 {
		expect(t, "regular", arrive(d, string(rune('a'+i)), "m", s))
		s += 600
	}
	// f comes 120 s after e: 0.2 of the 600 s target.
	s -= 600
	out := arrive(d, "f", "m", s+120)
	expect(t, "bunched", out, "bunched open f")
	if out[0].Ahead != "e" || !strings.Contains(out[0].Detail, "0.20 of the 10m00s headway") {
		t.Fatalf("got %+v", out[0])
	}
	// g comes 1000 s after f: gapped; f's next stop is regular again.
	expect(t, "gapped", arrive(d, "g", "m", s+1120), "gapped open g")
	expect(t, "f recovers", arrive(d, "f", "e", s+200))
	arrive(d, "e", "e", s-400)
	// At e the history is short: the target is the line's, the mean of
	// the latest headway at each stop; e's own first headway is judged
	// once three stops have one.
	arrive(d, "x", "w", 0)
	arrive(d, "y", "w", 600)
	expect(t, "f at e", arrive(d, "f", "e", s+760))
}

func TestLines(t *testing.T) {
	d := New(DefaultConfig(), testNet())
	for _, st := range []string{"w", "m", "e"} {
		for i := range 5 {
			arrive(d, string(rune('a'+i)), st, float64(i*600))
		}
	}
	arrive(d, "f", "m", 2700) // 300 s after e: half the headway
	lines := d.Lines()
	if len(lines) != 1 {
		t.Fatalf("lines %+v", lines)
	}
	l := lines[0]
	// Latest headways 600, 300, 600: mean 500, σ 141; at m, 300 s of a
	// mean of 540 (four 600 s and the 300 s).
	if l.Line != "east" || l.TargetS != 500 || math.Abs(l.MinRatio-300.0/540) > 1e-9 || l.MaxRatio != 1 ||
		math.Abs(l.CV-0.2828) > 0.001 || l.Bunched != 1 {
		t.Fatalf("got %+v", l)
	}
}

func TestHeadwayClosesAtNextStop(t *testing.T) {
	d := New(DefaultConfig(), testNet())
	for _, st := range []string{"w", "m", "e"} {
		for i := range 5 {
			arrive(d, string(rune('a'+i)), st, float64(i*600))
		}
	}
	// f runs 100 s behind e at w, then 500 s at m.
	expect(t, "w", arrive(d, "f", "w", 2500), "bunched open f")
	expect(t, "m", arrive(d, "f", "m", 2900), "bunched closed f")
}

func TestStaleAndFeedSilent(t *testing.T) {
	cfg := DefaultConfig()
	d := New(cfg, testNet())
	report := func(s float64, ids ...string) {
		for i, id := range ids {
			if out := d.Apply(pos(id, "east", s, 1000+100*float64(i), 0)); len(out) > 0 && !strings.HasSuffix(id, "quiet") {
				for _, a := range out {
					if a.State != Closed {
						t.Fatalf("%v", got(out))
					}
				}
			}
		}
	}
	all := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}
	// j falls silent at 10 s; the others report every second.
	for s := 0.0; s <= 10; s++ {
		report(s, all...)
	}
	var seen []string
	for s := 11.0; s <= 200; s++ {
		report(s, all[:9]...)
		seen = append(seen, got(d.Tick(t0.Add(time.Duration(s)*time.Second)))...)
		if s == 129 && len(seen) != 0 {
			t.Fatalf("before 120 s of silence: %v", seen)
		}
	}
	if !slices.Equal(seen, []string{"stale open j"}) {
		t.Fatalf("one silent vehicle: %v", seen)
	}
	expect(t, "j reports", d.Apply(pos("j", "east", 201, 1000, 0)), "stale closed j")
	report(201, all[:9]...)

	// Three of ten silent: the line's feed (a banner), not three alerts.
	for s := 202.0; s <= 400; s++ {
		report(s, all[:7]...)
		if out := d.Tick(t0.Add(time.Duration(s) * time.Second)); len(out) > 0 {
			expect(t, "three silent", out, "feed_silent open east")
			if s != 201+120 {
				t.Fatalf("opened at %v s", s)
			}
		}
	}
	if k := d.State("h"); k != Stale {
		t.Fatalf("state of a vehicle of a silent feed: %q", k)
	}
	report(401, all...)
	expect(t, "back", d.Tick(t0.Add(401*time.Second)), "feed_silent closed east")

	// The whole line silent, another still reporting: after FeedSilent,
	// before any of its vehicles is stale.
	var out []string
	for s := 402.0; s <= 600; s++ {
		d.Apply(pos("z", "north", s, 0, 3000))
		alerts := d.Tick(t0.Add(time.Duration(s) * time.Second))
		for _, a := range alerts {
			// Judged second by second: stamped within a second of the
			// threshold, found within two.
			if at := a.At.Sub(t0).Seconds(); at < 401+60 || at > 401+61 || s > 401+62 {
				t.Fatalf("line silent since 401 s: %v stamped %v s, found at %v s", got(alerts), at, s)
			}
		}
		out = append(out, got(alerts)...)
	}
	if !slices.Equal(out, []string{"feed_silent open east"}) {
		t.Fatalf("line silent: %v", out)
	}
	// Then the whole vehicles stream, once silent for FeedSilent and three
	// of its usual gaps: its alert, and no vehicle's.
	out = nil
	for s := 601.0; s <= 900; s++ {
		out = append(out, got(d.Tick(t0.Add(time.Duration(s)*time.Second)))...)
	}
	if !slices.Equal(out, []string{"feed_silent open vehicles"}) {
		t.Fatalf("stream silent: %v", out)
	}
}

func TestZones(t *testing.T) {
	lonA, latA := at(1000, -500)
	lonB, latB := at(2000, 500)
	cfg := DefaultConfig()
	cfg.Stale = time.Hour // the vehicles stand reporting nothing while the notices age
	cfg.Zones = []network.Zone{{ID: "depot", Geometry: orb.Bound{Min: orb.Point{lonA, latA}, Max: orb.Point{lonB, latB}}.ToPolygon()}}
	d := New(cfg, testNet())
	expect(t, "first seen inside", d.Apply(pos("v", "east", 0, 1500, 0)))
	expect(t, "leaves", d.Apply(pos("v", "east", 1, 2500, 0)), "zone_leave open v@depot")
	expect(t, "enters", d.Apply(pos("v", "east", 2, 1900, 0)), "zone_leave closed v@depot", "zone_enter open v@depot")
	expect(t, "stays", d.Apply(pos("v", "east", 3, 1800, 0)))
	expect(t, "notice held", d.Tick(t0.Add(4*time.Minute)))
	expect(t, "notice expires", d.Tick(t0.Add(5*time.Minute+2*time.Second)), "zone_enter closed v@depot")
	expect(t, "a vehicle without a line", d.Apply(pos("car", "", 0, 5000, 0)))
	expect(t, "car enters", d.Apply(pos("car", "", 1, 1500, 0)), "zone_enter open car@depot")
}

// Past 64 zones a vehicle's zones take more than a word, and a vehicle
// forgotten leaves nothing of them to the newcomer that reuses its state.
func TestManyZonesAndReuse(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Stale = time.Hour
	for i := range 70 {
		// Zone i spans x from 100·i to 100·i + 90 metres.
		lonA, latA := at(float64(100*i), -500)
		lonB, latB := at(float64(100*i+90), 500)
		cfg.Zones = append(cfg.Zones, network.Zone{ID: fmt.Sprintf("z%d", i),
			Geometry: orb.Bound{Min: orb.Point{lonA, latA}, Max: orb.Point{lonB, latB}}.ToPolygon()})
	}
	d := New(cfg, testNet())
	expect(t, "first seen in z66", d.Apply(pos("v", "", 0, 6650, 0)))
	expect(t, "to z67", d.Apply(pos("v", "", 1, 6750, 0)), "zone_leave open v@z66", "zone_enter open v@z67")
	d.Apply(model.VehicleRemoved{VehicleID: "v"})
	expect(t, "newcomer first seen in z3", d.Apply(pos("w", "", 2, 350, 0)))
	expect(t, "newcomer to z67", d.Apply(pos("w", "", 3, 6750, 0)), "zone_leave open w@z3", "zone_enter open w@z67")
	expect(t, "newcomer between zones", d.Apply(pos("w", "", 4, 6795, 0)), "zone_enter closed w@z67", "zone_leave open w@z67")
}

func TestRemovedAndForgotten(t *testing.T) {
	d := New(DefaultConfig(), testNet())
	for i := range 3 {
		d.Apply(pos("v", "east", float64(i), 1000, 500))
	}
	expect(t, "removed", d.Apply(model.VehicleRemoved{VehicleID: "v"}), "off_route closed v")
	if len(d.Open()) != 0 || d.State("v") != "" {
		t.Fatalf("open: %v", d.Open())
	}
	d.Apply(pos("w", "", 0, 0, 0))
	expect(t, "stale", d.Tick(t0.Add(3*time.Minute)), "stale open w")
	expect(t, "forgotten", d.Tick(t0.Add(16*time.Minute)), "stale closed w")
}

func TestOpenAndState(t *testing.T) {
	d := New(DefaultConfig(), testNet())
	for i := range 3 {
		d.Apply(delayed(pos("v", "east", float64(i), 1000, 500), 400))
	}
	open := d.Open()
	if len(open) != 2 || open[0].At.Before(open[1].At) {
		t.Fatalf("open, newest first: %+v", open)
	}
	if k := d.State("v"); k != OffRoute {
		t.Fatalf("state %q, want off_route (before late)", k)
	}
	c := map[Kind]int{}
	for _, a := range open {
		c[a.Kind]++
	}
	if c[OffRoute] != 1 || c[Late] != 1 {
		t.Fatalf("counts %v", c)
	}
}

// The alert lines are the contract's.
func TestAlertJSON(t *testing.T) {
	open := Alert{Kind: OffRoute, State: Opened, VehicleID: "blue-07", Line: "blue", At: time.Date(2026, 11, 22, 10, 3, 0, 0, time.UTC),
		Lat: 41.9, Lon: -87.7, Detail: "412 m from the blue line"}
	closed := Alert{Kind: OffRoute, State: Closed, VehicleID: "blue-07", Line: "blue", At: time.Date(2026, 11, 22, 10, 9, 0, 0, time.UTC)}
	for _, tt := range []struct {
		a    Alert
		want string
	}{
		{open, `{"kind":"off_route","state":"open","vehicle_id":"blue-07","line":"blue","at":"2026-11-22T10:03:00Z","lat":41.9,"lon":-87.7,"detail":"412 m from the blue line"}`},
		{closed, `{"kind":"off_route","state":"closed","vehicle_id":"blue-07","line":"blue","at":"2026-11-22T10:09:00Z"}`},
		{Alert{Kind: ZoneEnter, State: Opened, VehicleID: "c\"1", Zone: "dépôt", At: open.At}, `{"kind":"zone_enter","state":"open","vehicle_id":"c\"1","line":"","zone":"dépôt","at":"2026-11-22T10:03:00Z"}`},
	} {
		b, err := json.Marshal(tt.a)
		if err != nil || string(b) != tt.want {
			t.Fatalf("got %s, %v\nwant %s", b, err, tt.want)
		}
		var back Alert
		if err := json.Unmarshal(b, &back); err != nil || back != tt.a {
			t.Fatalf("round trip: %+v, %v", back, err)
		}
	}
}

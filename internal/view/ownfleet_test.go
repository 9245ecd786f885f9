package view

import (
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/muesli/termenv"

	"github.com/fleetwatch/fleetwatch/internal/basemap"
	"github.com/fleetwatch/fleetwatch/internal/learn"
	"github.com/fleetwatch/fleetwatch/internal/model"
	"github.com/fleetwatch/fleetwatch/internal/network"
)

// londonBuses folds the busData topic of a small pykafka project: three
// buses, one per bus_line, three reports each along Oxford Street and on.
func londonBuses(extra ...model.VehiclePosition) (model.Snapshot, *network.Network) {
	tracks := map[string][][2]float64{
		"00001": {{51.5154, -0.1410}, {51.5150, -0.1380}, {51.5147, -0.1350}},
		"00002": {{51.5142, -0.1290}, {51.5130, -0.1240}, {51.5120, -0.1200}},
		"00003": {{51.5170, -0.0870}, {51.5160, -0.0840}, {51.5150, -0.0810}},
	}
	f := model.NewFleet()
	tr := learn.New()
	for i := range 3 {
		for _, line := range []string{"00001", "00002", "00003"} {
			p := tracks[line][i]
			ev := model.VehiclePosition{VehicleID: line, Line: line, Lat: p[0], Lon: p[1], Status: model.StatusInTransit,
				TS: fixedTime.Add(time.Duration(i) * time.Second)}
			f.Apply(ev)
			tr.Observe(ev)
		}
	}
	for _, ev := range extra {
		f.Apply(ev)
		tr.Observe(ev)
	}
	snap := f.Snapshot()
	snap.AsOf = fixedTime.Add(3 * time.Second)
	return snap, tr.Build(nil, "busData @ kafka:9092")
}

// ownScreen is the screen of a user's own cluster: no network file, the
// world basemap, titled by topic and cluster.
func ownScreen(t *testing.T, net *network.Network) *Screen {
	t.Helper()
	s := NewScreen(&network.Network{}, termenv.Ascii, nil)
	world, err := basemap.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	s.SetBasemap(world)
	s.SetTitle("busData @ kafka:9092")
	if net != nil {
		s.SetNetwork(net)
	}
	return s
}

// mapPart is the map's side of a frame: the body rows left of the panel.
func mapPart(frame string) string {
	var b strings.Builder
	rows := strings.Split(frame, "\n")
	for _, r := range rows[1 : len(rows)-1] {
		left, _, _ := strings.Cut(r, "│")
		b.WriteString(left + "\n")
	}
	return b.String()
}

func TestOwnFleetLondonBusesWithoutNetwork(t *testing.T) {
	snap, learned := londonBuses()
	got := ownScreen(t, learned).Render(Frame{Snap: snap, Status: fixedStatus(), Now: fixedTime}, 100, 30)
	checkFits(t, got, 100, 30)
	head := strings.SplitN(got, "\n", 2)[0]
	if !strings.Contains(head, "busData @ kafka:9092 · 3 vehicles on 3 lines") || strings.Contains(got, "Chicago") {
		t.Errorf("header %q: want the topic and cluster, no demo", head)
	}
	if n := strings.Count(mapPart(got), string(markMoving)); n != 3 {
		t.Errorf("%d markers on the map, want the 3 buses apart:\n%s", n, got)
	}
	if strings.Contains(got, "outside the view") {
		t.Error("a fitted view left buses out")
	}
	golden(t, "own_london_100x30.golden", got+"\n")
}

func TestOwnFleetLondonBusesWithDrawnRoute(t *testing.T) {
	route, err := network.LoadAll([]string{filepath.Join("testdata", "route-25.geojson")})
	if err != nil {
		t.Fatalf("a route drawn on geojson.io: %v", err)
	}
	snap, _ := londonBuses()
	s := NewScreen(route, termenv.Ascii, nil)
	s.SetTitle("busData @ kafka:9092")
	got := s.Render(Frame{Snap: snap, Status: fixedStatus(), Now: fixedTime}, 100, 30)
	checkFits(t, got, 100, 30)
	if n := strings.Count(mapPart(got), string(markMoving)); n != 3 {
		t.Errorf("%d markers on the map, want the 3 buses:\n%s", n, got)
	}
	if !strings.ContainsAny(mapPart(got), "⠁⠂⠄⡀⠈⠐⠠⢀⠉⠒⠤⣀") {
		t.Errorf("the route is not drawn:\n%s", got)
	}
	golden(t, "own_london_route_100x30.golden", got+"\n")
}

func TestOwnFleetOutlierAtNullIsland(t *testing.T) {
	snap, learned := londonBuses(model.VehiclePosition{VehicleID: "gps-glitch", Line: "00004", Lat: 0, Lon: 0, TS: fixedTime})
	got := ownScreen(t, learned).Render(Frame{Snap: snap, Status: fixedStatus(), Now: fixedTime}, 100, 30)
	checkFits(t, got, 100, 30)
	if n := strings.Count(mapPart(got), string(markMoving)); n != 3 {
		t.Errorf("%d markers on the map, want the 3 buses still apart (the outlier must not shrink them to a dot):\n%s", n, got)
	}
	if head := strings.SplitN(got, "\n", 2)[0]; !strings.Contains(head, "4 vehicles on 4 lines · 1 outside the view") {
		t.Errorf("header %q: want the outlier counted outside the view", head)
	}
	golden(t, "own_outlier_100x30.golden", got+"\n")
}

// roamingNYC is a ride-hailing fleet: drivers with numeric ids and no
// line, spread over New York, some idle.
func roamingNYC(n int) model.Snapshot {
	rng := rand.New(rand.NewPCG(7, 11))
	f := model.NewFleet()
	for i := range n {
		// Denser in Midtown, as such fleets are.
		lat, lon := 40.58+rng.Float64()*0.24, -74.03+rng.Float64()*0.17
		if i%3 == 0 {
			lat, lon = 40.75+rng.NormFloat64()*0.01, -73.985+rng.NormFloat64()*0.01
		}
		speed := 0.0
		if i%4 != 0 {
			speed = 10 + rng.Float64()*30
		}
		f.Apply(model.VehiclePosition{VehicleID: strconvI(1000 + i), Lat: lat, Lon: lon, SpeedKmh: speed, Has: model.HasSpeed,
			Status: model.StatusInTransit, TS: fixedTime})
	}
	snap := f.Snapshot()
	snap.AsOf = fixedTime
	return snap
}

func strconvI(i int) string {
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

func TestOwnFleetRoamingDensityAndZones(t *testing.T) {
	snap := roamingNYC(3000)
	zones, err := network.LoadAll([]string{filepath.Join("testdata", "nyc-zones.geojson")})
	if err != nil {
		t.Fatal(err)
	}
	s := ownScreen(t, nil)
	s.SetNetwork(&network.Network{Zones: zones.Zones})
	got := s.Render(Frame{Snap: snap, Status: fixedStatus(), Now: fixedTime}, 120, 40)
	checkFits(t, got, 120, 40)
	if !s.Map().Dense() {
		t.Error("3 000 drivers on a 120×40 screen: the density view did not switch on")
	}
	for _, want := range []string{"ZONE", "Manhattan", "Brooklyn", "elsewhere", "MOVING"} {
		if !strings.Contains(got, want) {
			t.Errorf("no %q in the zone table:\n%s", want, got)
		}
	}
	if strings.Contains(got, "LINE ") {
		t.Error("a fleet without lines shows an empty line table")
	}
	golden(t, "own_roaming_zones_120x40.golden", got+"\n")

	// Without zones, a grid the user can read: directions from the view's centre.
	plain := ownScreen(t, nil)
	got = plain.Render(Frame{Snap: snap, Status: fixedStatus(), Now: fixedTime}, 120, 40)
	for _, want := range []string{"AREA OF VIEW", "centre", "NW", "SE"} {
		if !strings.Contains(got, want) {
			t.Errorf("no %q in the grid table:\n%s", want, got)
		}
	}
	golden(t, "own_roaming_grid_120x40.golden", got+"\n")

	// d forces markers; the density view is the automatic choice only.
	plain.Map().SetDensity(DensityOff)
	plain.Render(Frame{Snap: snap, Status: fixedStatus(), Now: fixedTime}, 120, 40)
	if plain.Map().Dense() {
		t.Error("markers asked for, density drawn")
	}
}

func TestZoneCountsMovingAndIdle(t *testing.T) {
	vs := []model.VehiclePosition{
		{VehicleID: "a", Lat: 40.75, Lon: -73.99, SpeedKmh: 30, Has: model.HasSpeed},
		{VehicleID: "b", Lat: 40.75, Lon: -73.99, SpeedKmh: 1, Has: model.HasSpeed}, // GPS drift: idle
		{VehicleID: "c", Lat: 40.75, Lon: -73.99, Status: model.StatusInTransit},    // no speed: by status
		{VehicleID: "d", Lat: 10, Lon: 10},
		{VehicleID: "e", Line: "red", Lat: 40.75, Lon: -73.99}, // on a line: the line table's
	}
	zones, err := network.LoadAll([]string{filepath.Join("testdata", "nyc-zones.geojson")})
	if err != nil {
		t.Fatal(err)
	}
	got := ZoneCounts(model.VehiclesOf(vs), zones.Zones, zones.Bound)
	want := []ZoneCount{{"Manhattan", 2, 1}, {"elsewhere", 0, 1}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

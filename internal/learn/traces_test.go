package learn

import (
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"

	"github.com/fleetwatch/fleetwatch/internal/model"
	"github.com/fleetwatch/fleetwatch/internal/network"
)

// drive reports a vehicle every step along a straight street, east from lon0.
func drive(tr *Traces, id, line string, lon0, lat float64, steps int) {
	t0 := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	for i := range steps {
		tr.Observe(model.VehiclePosition{VehicleID: id, Line: line, Lon: lon0 + float64(i)*0.0005, Lat: lat, TS: t0.Add(time.Duration(i) * time.Second)})
	}
}

func TestTracesDrawLinesFromVehicles(t *testing.T) {
	tr := New()
	drive(tr, "bus-1", "25", -0.15, 51.515, 100)
	drive(tr, "bus-2", "25", -0.15, 51.515, 50)
	tr.Observe(model.VehiclePosition{VehicleID: "cab-9", Lon: -0.1, Lat: 51.5}) // no line: no trace
	tr.Observe(model.StationInfo{StationID: "oxford-circus", Name: "Oxford Circus", Lines: []string{"25"}, Lat: 51.515, Lon: -0.1415, HasPos: true})
	tr.Observe(model.StationInfo{StationID: "nowhere", Name: "No position"})

	n := tr.Build(nil, "busData @ localhost:9092")
	if len(n.Lines) != 1 || n.Lines[0].ID != "25" {
		t.Fatalf("lines %+v, want one line 25", n.Lines)
	}
	l := n.Lines[0]
	if l.Color != network.ColorFor("25") {
		t.Errorf("colour %q, want the stable %q", l.Color, network.ColorFor("25"))
	}
	points := 0
	for _, p := range l.Paths {
		points += len(p)
		// A straight street simplifies to its two ends.
		if d := planar.DistanceFrom(p, orb.Point{-0.15 + 40*0.0005, 51.515}); d > 1e-6 {
			t.Errorf("path %v misses the street by %v", p, d)
		}
	}
	if len(l.Paths) == 0 || points > 8 {
		t.Errorf("paths %v: want the street, simplified", l.Paths)
	}
	if len(n.Stations) != 1 || n.Stations[0].Name != "Oxford Circus" {
		t.Errorf("stations %+v, want Oxford Circus only", n.Stations)
	}
	if !n.Bound.Contains(orb.Point{-0.1415, 51.515}) || !n.Bound.Contains(orb.Point{-0.15, 51.515}) {
		t.Errorf("bound %v misses the data", n.Bound)
	}
}

func TestTracesBreakAtJumpsAndStayBounded(t *testing.T) {
	tr := New()
	drive(tr, "v", "1", -87.7, 41.8, 20)
	drive(tr, "v", "1", -87.5, 41.9, 20) // reappears 17 km away: a new trace, no line across town
	n := tr.Build(nil, "")
	if got := len(n.Lines[0].Paths); got != 2 {
		t.Fatalf("%d paths, want 2 (the jump starts a new trace)", got)
	}
	for _, p := range n.Lines[0].Paths {
		if p.Bound().Max[0]-p.Bound().Min[0] > 0.05 {
			t.Errorf("a path spans the jump: %v", p.Bound())
		}
	}

	// A vehicle wandering for hours keeps a bounded trace.
	big := New()
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for i := range 200_000 {
		lon := -87.7 + 0.01*float64(i%97)/97
		lat := 41.8 + 0.01*float64((i*31)%89)/89
		big.Observe(model.VehiclePosition{VehicleID: "w", Line: "x", Lon: lon, Lat: lat, TS: t0.Add(time.Duration(i) * time.Second)})
	}
	total := 0
	for _, p := range big.Build(nil, "").Lines[0].Paths {
		total += len(p)
	}
	if total > maxPointsPerLine+simplifyAt {
		t.Errorf("%d points kept, want at most about %d", total, maxPointsPerLine)
	}
}

func TestTracesTakeBaseLines(t *testing.T) {
	base := &network.Network{Name: "route.geojson", Lines: []network.Line{{ID: "25", Name: "Route 25", Color: "#ff0000",
		Paths: []orb.LineString{{{-0.2, 51.5}, {-0.1, 51.5}}}}}}
	tr := New()
	drive(tr, "bus-1", "25", -0.15, 51.515, 10)
	drive(tr, "bus-7", "7", -0.15, 51.52, 10)
	n := tr.Build(base, "ignored")
	if n.Name != "route.geojson" || len(n.Lines) != 2 {
		t.Fatalf("%q %+v: want the base's name and lines 25 and 7", n.Name, n.Lines)
	}
	if len(n.Lines[0].Paths) != 1 || n.Lines[0].Color != "#ff0000" {
		t.Errorf("base line changed: %+v", n.Lines[0])
	}
	v := tr.Version()
	tr.Observe(model.VehiclePosition{VehicleID: "bus-1", Line: "25", Lon: -0.15 + 9*0.0005, Lat: 51.515}) // no move
	if tr.Version() != v {
		t.Error("a report that adds nothing changed the version")
	}
}

// A deleted station record takes its station off the learned map.
func TestTracesForgetRemovedStations(t *testing.T) {
	tr := New()
	tr.Observe(model.StationInfo{StationID: "2", Name: "Hauptbahnhof", Lat: 52.5251, Lon: 13.3694, HasPos: true})
	tr.Observe(model.StationInfo{StationID: "3", Name: "Zoo", Lat: 52.507, Lon: 13.332, HasPos: true})
	v := tr.Version()
	tr.Observe(model.StationRemoved{StationID: "2"})
	if tr.Version() == v {
		t.Error("a removal left the version as it was")
	}
	if n := tr.Build(nil, "stations"); len(n.Stations) != 1 || n.Stations[0].Name != "Zoo" {
		t.Errorf("stations %+v, want Zoo only", n.Stations)
	}
}

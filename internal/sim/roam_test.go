package sim

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"
	"github.com/paulmach/orb/planar"

	"github.com/fleetwatch/fleetwatch/internal/codec"
	"github.com/fleetwatch/fleetwatch/internal/model"
	"github.com/fleetwatch/fleetwatch/internal/network"
)

// lArea is an L-shaped area over the Loop: concave, so a straight drive
// between two of its points may leave it.
const lArea = `{"type":"FeatureCollection","features":[
 {"type":"Feature","properties":{"name":"road"},"geometry":{"type":"LineString","coordinates":[[-87.7,41.8],[-87.6,41.9]]}},
 {"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[
  [-87.68,41.84],[-87.60,41.84],[-87.60,41.86],[-87.66,41.86],[-87.66,41.92],[-87.68,41.92],[-87.68,41.84]]]}}]}`

func roamRun(t *testing.T, cfg Config, d time.Duration) []sent {
	t.Helper()
	cfg.Network, cfg.Start, cfg.Duration = network.Default(), simStart, d
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sink := &memSink{}
	for !s.Done() {
		s.Step(sink)
	}
	return sink.recs
}

// Roamers stay in their (concave) area, drive at city speeds, wait with
// speed 0, and carry no line.
func TestRoamersStayInsideMoveAndIdle(t *testing.T) {
	area, err := AreaFromGeoJSON([]byte(lArea))
	if err != nil {
		t.Fatal(err)
	}
	recs := roamRun(t, Config{Seed: 4, NoLineVehicles: true, Roam: 30, RoamArea: area}, 3*time.Hour)
	type track struct {
		last              model.VehiclePosition
		moved, idled      bool
		idleSince, longer time.Time
	}
	tracks := map[string]*track{}
	longIdle := 0
	for _, r := range recs {
		if r.kind != model.KindVehicles {
			continue
		}
		if bytes.Contains(r.value, []byte(`"line"`)) || bytes.Contains(r.value, []byte(`"stop_id"`)) {
			t.Fatalf("roamer with a line or stop: %s", r.value)
		}
		ev, err := codec.Decode(model.Record{Kind: r.kind, Key: []byte(r.key), Value: r.value})
		if err != nil {
			t.Fatalf("rejected: %v: %s", err, r.value)
		}
		v := ev.(model.VehiclePosition)
		if !strings.HasPrefix(v.VehicleID, "drv-") || r.key != v.VehicleID {
			t.Fatalf("key %q for vehicle %q", r.key, v.VehicleID)
		}
		if !planar.MultiPolygonContains(area, orb.Point{v.Lon, v.Lat}) {
			t.Fatalf("%s outside its area at %v,%v", v.VehicleID, v.Lon, v.Lat)
		}
		if v.SpeedKmh > MaxRoamKmh || v.Heading < 0 || v.Heading > 360 {
			t.Fatalf("%s at %.1f km/h heading %v", v.VehicleID, v.SpeedKmh, v.Heading)
		}
		tr, ok := tracks[v.VehicleID]
		if !ok {
			tr = &track{}
			tracks[v.VehicleID] = tr
		}
		switch v.Status {
		case model.StatusInTransit:
			tr.moved = tr.moved || v.SpeedKmh > MinRoamKmh
		case model.StatusOutOfService:
			if v.SpeedKmh != 0 {
				t.Fatalf("%s idle at %.1f km/h", v.VehicleID, v.SpeedKmh)
			}
			tr.idled = true
			if tr.last.Status != model.StatusOutOfService {
				tr.idleSince = v.TS
			}
			if d := v.TS.Sub(tr.idleSince).Seconds(); d > MaxLongIdle+1 {
				t.Fatalf("%s idle for %.0f s", v.VehicleID, d)
			} else if d > MaxIdle+1 && tr.longer != tr.idleSince {
				tr.longer = tr.idleSince
				longIdle++
			}
		default:
			t.Fatalf("roamer status %q", v.Status)
		}
		if ok {
			dt := v.TS.Sub(tr.last.TS).Seconds()
			moved := geo.Distance(orb.Point{tr.last.Lon, tr.last.Lat}, orb.Point{v.Lon, v.Lat})
			if dt != 1 || moved > MaxRoamKmh/3.6*dt+1 {
				t.Fatalf("%s moved %.0f m in %.1f s", v.VehicleID, moved, dt)
			}
		}
		tr.last = v
	}
	if len(tracks) != 30 {
		t.Fatalf("%d roamers reported, want 30", len(tracks))
	}
	for id, tr := range tracks {
		if !tr.moved || !tr.idled {
			t.Errorf("%s: moved %v, idled %v", id, tr.moved, tr.idled)
		}
	}
	if longIdle == 0 {
		t.Error("no driver took a break longer than a wait for a ride")
	}
}

// Same seed, same roamers; and roamers leave the line vehicles' own events
// exactly as they are without them.
func TestRoamDeterministic(t *testing.T) {
	a := roamRun(t, Config{Seed: 7, Roam: 12}, 10*time.Minute)
	b := roamRun(t, Config{Seed: 7, Roam: 12}, 10*time.Minute)
	if !slices.EqualFunc(a, b, func(x, y sent) bool { return x.key == y.key && bytes.Equal(x.value, y.value) }) {
		t.Fatal("same seed gave different runs")
	}
	c := roamRun(t, Config{Seed: 8, Roam: 12}, 10*time.Minute)
	roamers := func(recs []sent) (out []string) {
		for _, r := range recs {
			if strings.HasPrefix(r.key, "drv-") {
				out = append(out, string(r.value))
			}
		}
		return out
	}
	if len(roamers(a)) == 0 || slices.Equal(roamers(a), roamers(c)) {
		t.Fatal("another seed gave the same roamers")
	}
	withoutRoam := roamRun(t, Config{Seed: 7}, 10*time.Minute)
	lineOnly := slices.DeleteFunc(slices.Clone(a), func(r sent) bool { return strings.HasPrefix(r.key, "drv-") })
	if !slices.EqualFunc(lineOnly, withoutRoam, func(x, y sent) bool { return x.key == y.key && bytes.Equal(x.value, y.value) }) {
		t.Fatal("adding roamers changed the line vehicles' events")
	}
}

// Without an area, roamers keep to the network's bounds; shards split them
// like the line vehicles.
func TestRoamDefaultAreaAndShards(t *testing.T) {
	net := network.Default()
	for _, r := range roamRun(t, Config{Seed: 2, Roam: 5, Vehicles: 3}, 5*time.Minute) {
		if !strings.HasPrefix(r.key, "drv-") {
			continue
		}
		var p struct{ Lat, Lon float64 }
		if err := json.Unmarshal(r.value, &p); err != nil {
			t.Fatal(err)
		}
		if !net.Bound.Contains(orb.Point{p.Lon, p.Lat}) {
			t.Fatalf("%s outside the network's bounds: %s", r.key, r.value)
		}
	}
	seen := map[string]int{}
	for i := range 3 {
		s, err := New(Config{Network: net, Vehicles: 4, Roam: 5, Seed: 1, Shard: i, Shards: 3})
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range s.VehicleIDs() {
			seen[id]++
		}
	}
	if len(seen) != 9 || seen["drv-0005"] != 1 {
		t.Fatalf("vehicles over the shards: %v", seen)
	}
}

func TestAreaFromGeoJSON(t *testing.T) {
	const ring = `[[[-74,40.7],[-73.9,40.7],[-73.9,40.8],[-74,40.7]]]`
	tests := []struct {
		name, doc string
		polygons  int
		err       string
	}{
		{"collection", lArea, 1, ""},
		{"feature", `{"type":"Feature","properties":null,"geometry":{"type":"Polygon","coordinates":` + ring + `}}`, 1, ""},
		{"bare polygon", `{"type":"Polygon","coordinates":` + ring + `}`, 1, ""},
		{"multipolygon", `{"type":"MultiPolygon","coordinates":[` + ring + `,` + ring + `]}`, 2, ""},
		{"lines only", `{"type":"LineString","coordinates":[[-74,40.7],[-73.9,40.8]]}`, 0, "no Polygon"},
		{"not JSON", `lon,lat`, 0, "not GeoJSON"},
		{"not degrees", `{"type":"Polygon","coordinates":[[[0,0],[500000,0],[0,500000],[0,0]]]}`, 0, "longitude"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mp, err := AreaFromGeoJSON([]byte(tt.doc))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || len(mp) != tt.polygons {
				t.Fatalf("%d polygons, %v; want %d", len(mp), err, tt.polygons)
			}
		})
	}
}

package sim

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"

	"github.com/fleetwatch/fleetwatch/internal/model"
	"github.com/fleetwatch/fleetwatch/internal/network"
)

type memSink struct {
	recs []sent
}

type sent struct {
	kind  model.Kind
	key   string
	value []byte
}

func (m *memSink) Send(kind model.Kind, key string, value []byte) {
	m.recs = append(m.recs, sent{kind, key, slices.Clone(value)})
}

var simStart = time.Date(2026, 11, 23, 7, 45, 0, 0, time.UTC) // a Monday morning peak

func runSim(t *testing.T, seed uint64, d time.Duration) (*Sim, *memSink) {
	t.Helper()
	s, err := New(Config{Network: network.Default(), Start: simStart, Duration: d, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	sink := &memSink{}
	for !s.Done() {
		s.Step(sink)
	}
	return s, sink
}

func TestDeterministic(t *testing.T) {
	_, a := runSim(t, 11, 20*time.Minute)
	_, b := runSim(t, 11, 20*time.Minute)
	if len(a.recs) != len(b.recs) {
		t.Fatalf("%d vs %d records", len(a.recs), len(b.recs))
	}
	for i := range a.recs {
		if a.recs[i].key != b.recs[i].key || !bytes.Equal(a.recs[i].value, b.recs[i].value) {
			t.Fatalf("record %d differs:\n%s\n%s", i, a.recs[i].value, b.recs[i].value)
		}
	}
	_, c := runSim(t, 12, 20*time.Minute)
	if len(c.recs) == len(a.recs) && bytes.Equal(c.recs[len(c.recs)-1].value, a.recs[len(a.recs)-1].value) {
		t.Fatal("another seed gave the same run")
	}
}

// Everything the simulator writes decodes under the contract, and moves
// the way vehicles can.
func TestPlausible(t *testing.T) {
	net := network.Default()
	s, sink := runSim(t, 3, 90*time.Minute)
	stationLines := map[string][]string{}
	for _, st := range net.Stations {
		stationLines[st.ID] = st.Lines
	}
	type track struct {
		last      model.VehiclePosition
		stoppedAt time.Time
	}
	tracks := map[string]*track{}
	arrivals, turnstiles, weather := 0, 0, 0
	const maxKmh = MaxSpeedKmh
	for i, r := range sink.recs {
		ev, err := model.Decode(model.Record{Kind: r.kind, Key: []byte(r.key), Value: r.value})
		if err != nil {
			t.Fatalf("record %d rejected: %v: %s", i, err, r.value)
		}
		switch e := ev.(type) {
		case model.VehiclePosition:
			if r.key != e.VehicleID {
				t.Fatalf("key %q for vehicle %q", r.key, e.VehicleID)
			}
			if e.SpeedKmh > maxKmh {
				t.Fatalf("%s at %.1f km/h", e.VehicleID, e.SpeedKmh)
			}
			tr, ok := tracks[e.VehicleID]
			if ok {
				dt := e.TS.Sub(tr.last.TS).Seconds()
				moved := geo.Distance(orb.Point{tr.last.Lon, tr.last.Lat}, orb.Point{e.Lon, e.Lat})
				if dt != 1 || moved > maxKmh/3.6*dt+1 {
					t.Fatalf("%s moved %.0f m in %.1f s", e.VehicleID, moved, dt)
				}
			} else {
				tr = &track{}
				tracks[e.VehicleID] = tr
			}
			if e.Status == model.StatusStoppedAt {
				if e.SpeedKmh != 0 {
					t.Fatalf("%s stopped at %s moving at %.1f km/h", e.VehicleID, e.StopID, e.SpeedKmh)
				}
				if tr.last.Status != model.StatusStoppedAt || tr.last.StopID != e.StopID {
					tr.stoppedAt = e.TS
				}
				if d := e.TS.Sub(tr.stoppedAt).Seconds(); d > MaxDwell+MaxHold+Layover+1 {
					t.Fatalf("%s dwelled %.0f s at %s", e.VehicleID, d, e.StopID)
				}
			}
			if !slices.Contains(stationLines[e.StopID], e.Line) {
				t.Fatalf("%s of line %s heads to %s, not on its line", e.VehicleID, e.Line, e.StopID)
			}
			tr.last = e
		case model.Arrival:
			arrivals++
			if !slices.Contains(stationLines[e.StationID], e.Line) {
				t.Fatalf("arrival of %s (%s) at %s, not on its line", e.VehicleID, e.Line, e.StationID)
			}
			if e.PrevStationID != "" && !slices.Contains(stationLines[e.PrevStationID], e.Line) {
				t.Fatalf("arrival from %s, not on line %s", e.PrevStationID, e.Line)
			}
		case model.Turnstile:
			turnstiles++
		case model.Weather:
			weather++
		}
	}
	if len(tracks) != len(s.VehicleIDs()) || arrivals == 0 || turnstiles == 0 || weather == 0 {
		t.Fatalf("%d vehicles reported of %d; %d arrivals, %d turnstile, %d weather",
			len(tracks), len(s.VehicleIDs()), arrivals, turnstiles, weather)
	}
	// Over 90 minutes every vehicle has stopped somewhere.
	for id, tr := range tracks {
		if tr.stoppedAt.IsZero() {
			t.Errorf("%s never stopped", id)
		}
	}
}

func TestVehicleCountSpreadOverLines(t *testing.T) {
	net := network.Default()
	s, err := New(Config{Network: net, Vehicles: 23, Seed: 1, Start: simStart})
	if err != nil {
		t.Fatal(err)
	}
	per := map[string]int{}
	for _, v := range s.vehicles {
		per[v.route.line]++
	}
	if len(s.vehicles) != 23 || len(per) != len(s.routes) {
		t.Fatalf("%d vehicles over %v", len(s.vehicles), per)
	}
	for line, n := range per {
		if n < 23/len(s.routes) || n > 23/len(s.routes)+1 {
			t.Errorf("line %s has %d vehicles", line, n)
		}
	}
}

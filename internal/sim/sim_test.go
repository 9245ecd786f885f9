package sim

import (
	"bytes"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"

	"github.com/fleetwatch/fleetwatch/internal/codec"
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
		ev, err := codec.Decode(model.Record{Kind: r.kind, Key: []byte(r.key), Value: r.value})
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
	// By the round trips: the headways come out alike, within one
	// vehicle's share of the line's round trip.
	total := 0.0
	for _, r := range s.routes {
		total += r.loopTimetable(simStart).length()
	}
	for _, r := range s.routes {
		share := 23 * r.loopTimetable(simStart).length() / total
		if math.Abs(float64(per[r.line])-share) > 1 {
			t.Errorf("line %s has %d vehicles, want %.1f", r.line, per[r.line], share)
		}
	}
}

func TestApportion(t *testing.T) {
	for _, tt := range []struct {
		n      int
		rounds []float64
		want   []int
	}{
		{8, []float64{1, 1, 1, 1}, []int{2, 2, 2, 2}},
		{10, []float64{5, 3, 2}, []int{5, 3, 2}},
		{9, []float64{1, 1, 1, 1}, []int{3, 2, 2, 2}},  // the odd one to the first of a tie
		{10, []float64{6.5, 2.6, 0.9}, []int{6, 3, 1}}, // 6.5, 2.6, 0.9: the largest remainders
		{4, []float64{20, 1, 1, 1}, []int{1, 1, 1, 1}}, // 4, 0, 0, 0, then one each
		{5, []float64{10, 6, 1, 1}, []int{2, 1, 1, 1}}, // 3, 2, 0, 0; the most frequent gives one up
		{2, []float64{1, 5, 3}, []int{0, 1, 1}},        // too few for one each: the longest
		{0, []float64{1, 2}, []int{0, 0}},
	} {
		if got := apportion(tt.n, tt.rounds); !slices.Equal(got, tt.want) {
			t.Errorf("apportion(%d, %v) = %v, want %v", tt.n, tt.rounds, got, tt.want)
		}
	}
}

// Shards split the output without overlap, and together give exactly the
// whole run, record for record.
func TestShardsPartitionTheOutput(t *testing.T) {
	run := func(shard, shards int) []sent {
		s, err := New(Config{Network: network.Default(), Start: simStart, Duration: 10 * time.Minute, Seed: 9,
			Vehicles: 31, Shard: shard, Shards: shards})
		if err != nil {
			t.Fatal(err)
		}
		sink := &memSink{}
		for !s.Done() {
			s.Step(sink)
		}
		return sink.recs
	}
	key := func(r sent) string { return r.kind.String() + "|" + r.key + "|" + string(r.value) }
	whole := map[string]int{}
	for _, r := range run(0, 1) {
		whole[key(r)]++
	}
	union := map[string]int{}
	vehiclesOf := map[string]int{} // vehicle id → shard
	for i := range 3 {
		for _, r := range run(i, 3) {
			union[key(r)]++
			if r.kind == model.KindVehicles {
				if other, ok := vehiclesOf[r.key]; ok && other != i {
					t.Fatalf("vehicle %s in shards %d and %d", r.key, other, i)
				}
				vehiclesOf[r.key] = i
			}
		}
	}
	if len(vehiclesOf) != 31 {
		t.Fatalf("%d vehicles over the shards, want 31", len(vehiclesOf))
	}
	if len(union) != len(whole) {
		t.Fatalf("union of shards has %d distinct records, whole run %d", len(union), len(whole))
	}
	for k, n := range whole {
		if union[k] != n {
			t.Fatalf("record seen %d times in the shards, %d in the whole run: %s", union[k], n, k)
		}
	}
	if _, err := New(Config{Network: network.Default(), Shard: 3, Shards: 3}); err == nil {
		t.Fatal("shard 3/3 accepted")
	}
}

// Headways at each stop stay near the line's target: keeping to the
// timetable keeps vehicles from bunching.
func TestHeadwayWithinBounds(t *testing.T) {
	s, sink := runSim(t, 5, 3*time.Hour)
	type stopDir struct{ station, line, dir string }
	last := map[stopDir]time.Time{}
	perLine := map[string][]float64{}
	for _, r := range sink.recs {
		ev, _ := codec.Decode(model.Record{Kind: r.kind, Key: []byte(r.key), Value: r.value})
		a, ok := ev.(model.Arrival)
		if !ok {
			continue
		}
		k := stopDir{a.StationID, a.Line, a.Direction}
		if prev, ok := last[k]; ok {
			hw := a.TS.Sub(prev).Seconds()
			perLine[a.Line] = append(perLine[a.Line], hw)
		}
		last[k] = a.TS
	}
	for _, r := range s.routes {
		target := r.loopTimetable(simStart).length() / float64(len(r.vehicles))
		h := perLine[r.line]
		slices.Sort(h)
		if len(h) < 20 {
			t.Fatalf("line %s: only %d headways", r.line, len(h))
		}
		p10, p50, p90 := h[len(h)/10], h[len(h)/2], h[len(h)*9/10]
		t.Logf("line %s target %.0f s: headway p10 %.0f p50 %.0f p90 %.0f", r.line, target, p10, p50, p90)
		// Vehicles keeping to the timetable keep to their headway; the
		// peak's longer dwells stretch it a little.
		if p50 < 0.9*target || p50 > 1.15*target || p10 < 0.8*target || p90 > 1.3*target {
			t.Errorf("line %s: headways p10/p50/p90 %.0f/%.0f/%.0f s for a target of %.0f s", r.line, p10, p50, p90, target)
		}
	}
}

// A GTFS feed is a network like any other: vehicles run on its routes and
// stop at its stations.
func TestRunsOnGTFSFeed(t *testing.T) {
	net, err := network.LoadGTFS("../network/testdata/gtfs/small")
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Network: net, Start: simStart, Duration: 30 * time.Minute, Seed: 1, Vehicles: 6})
	if err != nil {
		t.Fatal(err)
	}
	sink := &memSink{}
	for !s.Done() {
		s.Step(sink)
	}
	arrivals := map[string]bool{}
	for _, r := range sink.recs {
		ev, err := codec.Decode(model.Record{Kind: r.kind, Key: []byte(r.key), Value: r.value})
		if err != nil {
			t.Fatalf("%v: %s", err, r.value)
		}
		if a, ok := ev.(model.Arrival); ok {
			arrivals[a.Line+"@"+a.StationID] = true
		}
	}
	for _, want := range []string{"R1@P1", "R1@C", "R2@B", "R3@G"} {
		if !arrivals[want] {
			t.Errorf("no arrival %s; got %v", want, arrivals)
		}
	}
}

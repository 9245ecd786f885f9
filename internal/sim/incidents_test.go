package sim

import (
	"bytes"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/fleetwatch/fleetwatch/internal/codec"
	"github.com/fleetwatch/fleetwatch/internal/model"
	"github.com/fleetwatch/fleetwatch/internal/network"
)

func TestParseIncidents(t *testing.T) {
	tests := []struct {
		in      string
		want    map[IncidentKind]int
		wantErr bool
	}{
		{"off_route:3, late:1", map[IncidentKind]int{OffRoute: 3, Late: 1}, false},
		{"default", map[IncidentKind]int{OffRoute: 3, NoProgress: 2, Bunched: 2, Late: 3, Early: 2, FeedSilent: 1, Stale: 2}, false},
		{"stale:1,stale:2", map[IncidentKind]int{Stale: 3}, false},
		{"gapped:1", nil, true}, // an alert, not an incident: bunching causes it
		{"late", nil, true},
		{"late:-1", nil, true},
		{"", nil, true},
	}
	for _, tt := range tests {
		got, err := ParseIncidents(tt.in)
		if (err != nil) != tt.wantErr || (!tt.wantErr && !mapsEqual(got, tt.want)) {
			t.Errorf("ParseIncidents(%q) = %v, %v", tt.in, got, err)
		}
	}
}

func mapsEqual(a, b map[IncidentKind]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// run simulates from start for d with the incidents, collecting records and
// truth.
func run(t *testing.T, seed uint64, start time.Time, d time.Duration, incidents string, truth bool) (*memSink, []Truth) {
	t.Helper()
	cfg := Config{Network: network.Default(), Start: start, Duration: d, Seed: seed, Roam: 10}
	if incidents != "" {
		inc, err := ParseIncidents(incidents)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Incidents = inc
	}
	var out []Truth
	if truth {
		cfg.Truth = func(tr Truth) { out = append(out, tr) }
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sink := &memSink{}
	for !s.Done() {
		s.Step(sink)
	}
	s.Finish()
	return sink, out
}

func sameRecords(a, b *memSink) bool {
	return slices.EqualFunc(a.recs, b.recs, func(x, y sent) bool {
		return x.kind == y.kind && x.key == y.key && bytes.Equal(x.value, y.value)
	})
}

// Incidents are part of the seed's run: the same seed gives the same
// records and the same truth.
func TestIncidentsDeterministic(t *testing.T) {
	a, ta := run(t, 4, simStart, time.Hour, "default", true)
	b, tb := run(t, 4, simStart, time.Hour, "default", true)
	if !sameRecords(a, b) || !slices.Equal(ta, tb) {
		t.Fatal("same seed and incidents, different runs")
	}
	c, _ := run(t, 4, simStart, time.Hour, "", false)
	if sameRecords(a, c) {
		t.Fatal("incidents changed nothing")
	}
}

// Following the truth observes and changes nothing: the records are those
// of a run without it.
func TestTruthChangesNothing(t *testing.T) {
	a, _ := run(t, 6, simStart, 30*time.Minute, "", false)
	b, truth := run(t, 6, simStart, 30*time.Minute, "", true)
	if !sameRecords(a, b) {
		t.Fatal("tracking the truth changed the records")
	}
	if len(truth) != 0 {
		t.Fatalf("a run without incidents has truth: %v", truth)
	}
}

// Without incidents the fleet keeps its timetable at every hour: its
// delay_s stays inside the early and late bands and nothing holds that a
// dispatcher should be told of. Every alert on such a run is a false alarm.
func TestNormalFleetKeepsTime(t *testing.T) {
	for i, hour := range []int{5, 7, 16} {
		start := time.Date(2026, 11, 23, hour, 30, 0, 0, time.UTC)
		sink, truth := run(t, uint64(10+i), start, 2*time.Hour, "", true)
		if len(truth) != 0 {
			t.Fatalf("from %02d:30: %d conditions, first %+v", hour, len(truth), truth[0])
		}
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, r := range sink.recs {
			if r.kind != model.KindVehicles {
				continue
			}
			ev, err := codec.Decode(model.Record{Kind: r.kind, Key: []byte(r.key), Value: r.value})
			if err != nil {
				t.Fatal(err)
			}
			if p := ev.(model.VehiclePosition); p.Has&model.HasDelay != 0 {
				lo, hi = min(lo, p.DelayS), max(hi, p.DelayS)
			}
		}
		t.Logf("from %02d:30: delay_s from %+.0f to %+.0f s", hour, lo, hi)
		if lo < -60 || hi > 360 {
			t.Errorf("from %02d:30: delay_s from %+.0f to %+.0f s, outside the bands", hour, lo, hi)
		}
	}
}

// Each incident happens and is in the truth; a silenced line sends no
// position while its silence holds.
func TestIncidentsHappen(t *testing.T) {
	sink, truth := run(t, 2, simStart, 3*time.Hour, "default", true)
	kinds := map[string]int{}
	for _, tr := range truth {
		kinds[tr.Kind]++
		if !tr.End.After(tr.Start) {
			t.Errorf("empty condition %+v", tr)
		}
	}
	for _, k := range IncidentKinds {
		if kinds[string(k)] == 0 {
			t.Errorf("no %s in the truth: %v", k, kinds)
		}
	}
	t.Logf("truth of 3 hours of default incidents: %v", kinds)
	for _, tr := range truth {
		if tr.Kind != string(FeedSilent) {
			continue
		}
		for _, r := range sink.recs {
			if r.kind != model.KindVehicles {
				continue
			}
			ev, _ := codec.Decode(model.Record{Kind: r.kind, Key: []byte(r.key), Value: r.value})
			if p := ev.(model.VehiclePosition); p.Line == tr.Line && p.TS.After(tr.Start.Add(-60*time.Second)) && p.TS.Before(tr.End) {
				t.Fatalf("%s reported at %v, inside its line's silence %v–%v", p.VehicleID, p.TS, tr.Start, tr.End)
			}
		}
	}
}

func TestIncidentsNeedTheWholeFleet(t *testing.T) {
	_, err := New(Config{Network: network.Default(), Shards: 2, Truth: func(Truth) {}})
	if err == nil {
		t.Fatal("truth of one shard accepted")
	}
}

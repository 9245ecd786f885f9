package ingest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/MobilityData/gtfs-realtime-bindings/golang/gtfs"
	"google.golang.org/protobuf/proto"

	"github.com/fleetwatch/fleetwatch/internal/alert"
	"github.com/fleetwatch/fleetwatch/internal/model"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func vehicle(id string, ts time.Time) model.Record {
	return model.Record{Kind: model.KindVehicles, Key: []byte(id),
		Value: []byte(`{"vehicle_id":"` + id + `","lat":41.9,"lon":-87.6,"ts":"` + ts.Format(time.RFC3339) + `"}`)}
}

func TestHandleCountsAndRejects(t *testing.T) {
	s := NewStore(Options{})
	s.Handle([]model.Record{vehicle("a", t0), {Kind: model.KindVehicles, Value: []byte(`{"vehicle_id":"b","lat":91,"lon":0}`)},
		{Kind: model.KindWeather, Value: []byte(`{"area":"x"}`)}})
	snap := s.Snapshot(t0)
	if snap.Counters.Consumed != [3]int64{2, 0, 1} || snap.Counters.Rejected != [3]int64{1, 0, 0} {
		t.Fatalf("counters %+v", snap.Counters)
	}
	if got := s.LastReject(); got != "vehicles: lat: out of range [-90,90]" {
		t.Fatalf("last reject %q", got)
	}
}

// The live screen ages vehicles by the wall clock, so a feed that falls
// silent shows; a snapshot of an old topic ages them by the newest report.
func TestExpireByWallClockOrDataClock(t *testing.T) {
	recs := []model.Record{vehicle("old", t0), vehicle("new", t0.Add(9*time.Minute))}
	wall := t0.Add(24 * time.Hour)

	live := NewStore(Options{Expire: 10 * time.Minute})
	live.Handle(recs)
	if n := live.Snapshot(t0.Add(15 * time.Minute)).Vehicles.Len(); n != 1 {
		t.Fatalf("wall clock 15 min on: %d vehicles, want 1 (old expired)", n)
	}
	if snap := live.Snapshot(wall); snap.Vehicles.Len() != 0 || !snap.AsOf.Equal(wall) {
		t.Fatalf("a day later: %d vehicles as of %v", snap.Vehicles.Len(), snap.AsOf)
	}

	replay := NewStore(Options{Expire: 10 * time.Minute, DataClock: true})
	replay.Handle(recs)
	snap := replay.Snapshot(wall)
	if snap.Vehicles.Len() != 2 || !snap.AsOf.Equal(t0.Add(9*time.Minute)) {
		t.Fatalf("data clock: %d vehicles as of %v", snap.Vehicles.Len(), snap.AsOf)
	}
	replay.Handle([]model.Record{vehicle("newer", t0.Add(11*time.Minute))})
	if n := replay.Snapshot(wall).Vehicles.Len(); n != 2 {
		t.Fatalf("data clock after a newer report: %d vehicles, want 2 (old expired)", n)
	}

	keep := NewStore(Options{})
	keep.Handle(recs)
	if n := keep.Snapshot(wall).Vehicles.Len(); n != 2 {
		t.Fatalf("expire 0 dropped vehicles: %d left", n)
	}
}

// A report stamped far in the future is clamped to the wall clock and
// counted: it ages like any other, and on the data clock it does not make
// every other vehicle look stale.
func TestFarFutureReportIsClamped(t *testing.T) {
	now := time.Now()
	for _, dataClock := range []bool{false, true} {
		s := NewStore(Options{MaxAhead: DefaultMaxAhead, Expire: 10 * time.Minute, DataClock: dataClock})
		s.Handle([]model.Record{vehicle("ok", now.Add(-time.Minute)), vehicle("liar", now.AddDate(50, 0, 0)),
			vehicle("near", now.Add(time.Minute))})
		snap := s.Snapshot(now)
		if snap.Vehicles.Len() != 3 {
			t.Fatalf("dataClock %v: %d vehicles kept, want 3", dataClock, snap.Vehicles.Len())
		}
		for _, v := range snap.Vehicles.Rows() {
			if v.VehicleID == "liar" && v.TS.After(now.Add(time.Second)) {
				t.Errorf("far-future time kept: %v", v.TS)
			}
			if v.VehicleID == "near" && !v.TS.After(now) {
				t.Errorf("a minute ahead is within the tolerance, but was clamped")
			}
		}
		if snap.Counters.Future[model.KindVehicles] != 1 {
			t.Errorf("future count %v, want 1", snap.Counters.Future)
		}
	}
}

// A GTFS-realtime feed is one record of many vehicles: it counts once, and
// each of its vehicles is applied. A feed with a bad entity is not counted
// as rejected; the reason the entity was skipped is kept all the same.
func TestHandleFeedOfManyVehicles(t *testing.T) {
	feed := func(entities ...*gtfs.FeedEntity) model.Record {
		b, err := proto.Marshal(&gtfs.FeedMessage{Header: &gtfs.FeedHeader{GtfsRealtimeVersion: proto.String("2.0")}, Entity: entities})
		if err != nil {
			t.Fatal(err)
		}
		return model.Record{Kind: model.KindVehicles, Value: b, Time: t0, Topic: "gtfs", Offset: 3}
	}
	at := func(id string, lat float32) *gtfs.FeedEntity {
		return &gtfs.FeedEntity{Id: proto.String(id), Vehicle: &gtfs.VehiclePosition{
			Position: &gtfs.Position{Latitude: proto.Float32(lat), Longitude: proto.Float32(-87.6)}}}
	}
	s := NewStore(Options{})
	s.Handle([]model.Record{feed(at("a", 41.9), at("b", 41.8), at("c", 41.7)), feed(at("d", 41.6), at("bad", 91)), feed(at("worse", 99))})
	snap := s.Snapshot(t0)
	if snap.Vehicles.Len() != 4 {
		t.Fatalf("%d vehicles, want 4", snap.Vehicles.Len())
	}
	if snap.Counters.Consumed != [3]int64{3, 0, 0} || snap.Counters.Rejected != [3]int64{1, 0, 0} {
		t.Fatalf("counters %+v", snap.Counters)
	}
	rejects := s.Rejects()
	if len(rejects) != 2 || rejects[0].Reason != "entity bad lat: out of range [-90,90]" || rejects[1].Category != model.CatOutOfRange {
		t.Fatalf("rejects %+v", rejects)
	}
}

func TestLatencyPercentiles(t *testing.T) {
	var h latencyHist
	ages := make([]time.Duration, 0, 100)
	for i := range 100 {
		ages = append(ages, time.Duration(i+1)*time.Millisecond) // 1..100 ms
	}
	h.add(ages)
	h.add([]time.Duration{time.Hour}) // an old record: counted in the top bucket
	got := h.stats()
	if got.Count != 101 || got.P50Ms != 51 || got.P99Ms != 100 || got.MaxMs != float64(time.Hour/time.Millisecond) {
		t.Fatalf("latency %+v", got)
	}
}

// A record with no time of its own from a producer using the old message
// format (no record timestamp) is stamped when read, not at year 1.
func TestRecordWithoutAnyTimeIsStampedWhenRead(t *testing.T) {
	s := NewStore(Options{Expire: 10 * time.Minute})
	before := time.Now()
	s.Handle([]model.Record{{Kind: model.KindVehicles, Value: []byte(`{"train_id":"X1","lat":52.0,"lon":21.0}`), Time: time.UnixMilli(-1)},
		{Kind: model.KindStations, Value: []byte(`{"train_id":"X1","station_id":"s","timestamp":"2026-11-25T10:00:00Z"}`)}})
	snap := s.Snapshot(time.Now())
	if snap.Vehicles.Len() != 1 || snap.Vehicles.Rows()[0].TS.Before(before) {
		t.Fatalf("vehicles %+v", snap.Vehicles)
	}
	if len(snap.Stations) != 1 || snap.Stations[0].Arrivals != 1 || !snap.Stations[0].LastArrival.Equal(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)) {
		t.Fatalf("station arrival time not read from timestamp: %+v", snap.Stations)
	}
}

// Readers between two changes share one view of the fleet (many viewers of
// serve cost one); a change, or an expiry, makes the next reader's view new.
func TestReadersShareAViewUntilTheStateChanges(t *testing.T) {
	s := NewStore(Options{Expire: 10 * time.Minute, DataClock: true})
	s.Handle([]model.Record{vehicle("a", t0), vehicle("b", t0.Add(time.Minute))})
	first, second := s.Snapshot(t0), s.Snapshot(t0.Add(time.Second))
	if first.Vehicles.Len() != 2 || !sameView(first.Vehicles, second.Vehicles) {
		t.Fatalf("two readers of an unchanged state got different views: %d vehicles", first.Vehicles.Len())
	}
	s.Handle([]model.Record{vehicle("a", t0.Add(2*time.Minute))})
	third := s.Snapshot(t0)
	if p, ok := third.Vehicles.Find("a"); !ok || !p.TS.Equal(t0.Add(2*time.Minute)) || sameView(first.Vehicles, third.Vehicles) {
		t.Fatalf("after a change: %+v", p)
	}
	if p, ok := first.Vehicles.Find("a"); !ok || !p.TS.Equal(t0) {
		t.Fatalf("an earlier view changed: %+v", p)
	}
	s.Handle([]model.Record{vehicle("c", t0.Add(12*time.Minute))}) // "b" expires on the data clock
	if _, ok := s.Snapshot(t0).Vehicles.Find("b"); ok || s.Snapshot(t0).Vehicles.Len() != 2 {
		n := s.Snapshot(t0).Vehicles.Len()
		t.Fatalf("after expiry: %d vehicles", n)
	}
}

// sameView reports whether two views share their position column: one
// publication of the fleet, not two.
func sameView(a, b model.Vehicles) bool {
	var pa, pb *model.PointChunk
	for _, pc := range a.PointChunks() {
		pa = pc
		break
	}
	for _, pc := range b.PointChunks() {
		pb = pc
		break
	}
	return pa != nil && pa == pb
}

// Readers between two changes of the open alerts share one list of them
// (serve's viewers cost one copy per change, not one each a frame); when an
// alert opens or closes the next reader gets a new list, and a list handed
// out before does not change.
func TestReadersShareTheOpenAlertsUntilTheyChange(t *testing.T) {
	cfg := alert.DefaultConfig()
	s := NewStore(Options{Alerts: &cfg})
	now := time.Now()
	var batch []model.Record
	for i := range 30 { // the stream is judged once it has been heard enough
		batch = append(batch, vehicle(fmt.Sprint("v", i), now.Add(time.Duration(i-30)*time.Second)))
	}
	s.Handle(batch)
	if got := s.Alerts(); len(got) != 0 {
		t.Fatalf("alerts before any silence: %+v", got)
	}
	s.TickAlerts(now.Add(time.Second))
	s.TickAlerts(now.Add(20 * time.Minute)) // the vehicles, and the feed, fall silent
	first := s.Alerts()
	if len(first) == 0 {
		t.Fatal("no alert after 20 minutes of silence")
	}
	kept := slices.Clone(first)
	if second := s.Alerts(); &second[0] != &first[0] || len(second) != len(first) {
		t.Fatal("two readers of unchanged alerts got two lists")
	}
	s.Handle([]model.Record{vehicle("v1", now.Add(20*time.Minute))}) // the feed speaks again
	s.TickAlerts(now.Add(20*time.Minute + 2*time.Second))
	third := s.Alerts()
	if slices.Equal(third, first) {
		t.Fatalf("alerts unchanged after a report: %+v", third)
	}
	if !slices.Equal(first, kept) {
		t.Fatal("a list handed out earlier changed")
	}
	if again := s.Alerts(); &again[0] != &third[0] {
		t.Fatal("no change, yet a new list")
	}
}

// The latency figures a frame shows follow every record applied, though
// they are worked out again only after one was.
func TestLatencyStatsFollowRecords(t *testing.T) {
	var h latencyHist
	if got := h.stats(); got.Count != 0 || got.P50Ms != 0 {
		t.Fatalf("empty: %+v", got)
	}
	h.add([]time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 30 * time.Millisecond})
	if got := h.stats(); got.Count != 3 || got.P50Ms != 20 || got.P99Ms != 30 || got.MaxMs != 30 {
		t.Fatalf("after three: %+v", got)
	}
	h.add(nil)
	if got := h.stats(); got.Count != 3 || got.P50Ms != 20 {
		t.Fatalf("after none more: %+v", got)
	}
	h.add([]time.Duration{40 * time.Millisecond, 50 * time.Millisecond})
	if got := h.stats(); got.Count != 5 || got.P50Ms != 30 || got.P99Ms != 50 || got.MaxMs != 50 {
		t.Fatalf("after five: %+v", got)
	}
}

// A station board's predictions serve every screen for a second of their
// clock (less the arrivals that passed), then are worked out again.
func TestStationETAsServeASecond(t *testing.T) {
	s := NewStore(Options{})
	arrive := func(v, station, prev string, at time.Time) {
		s.Handle([]model.Record{{Kind: model.KindStations, Value: []byte(fmt.Sprintf(
			`{"type":"arrival","station_id":%q,"vehicle_id":%q,"line":"blue","direction":"a","prev_station_id":%q,"ts":%q}`,
			station, v, prev, at.Format(time.RFC3339Nano)))}})
	}
	// v1 teaches a→b 60 s; v2 arrives at a and is due at b 60 s later.
	arrive("v1", "a", "", t0)
	arrive("v1", "b", "a", t0.Add(60*time.Second))
	arrive("v2", "a", "", t0.Add(100*time.Second))
	ids := func(es []model.ETA) []string {
		var out []string
		for _, e := range es {
			out = append(out, e.VehicleID+"@"+e.At.Format("15:04:05"))
		}
		return out
	}
	now := t0.Add(101 * time.Second)
	if got := ids(s.StationETAs("b", now)); !slices.Equal(got, []string{"v2@10:02:40"}) {
		t.Fatalf("at b: %v", got)
	}
	// v3 arrives at a: within the second the board stands, after it v3 shows.
	arrive("v3", "a", "", t0.Add(101*time.Second))
	if got := ids(s.StationETAs("b", now.Add(500*time.Millisecond))); !slices.Equal(got, []string{"v2@10:02:40"}) {
		t.Fatalf("at b within the second: %v", got)
	}
	if got := ids(s.StationETAs("b", now.Add(time.Second))); !slices.Equal(got, []string{"v2@10:02:40", "v3@10:02:41"}) {
		t.Fatalf("at b a second on: %v", got)
	}
	// An arrival whose time passes leaves the board at once, within the
	// second too.
	if got := ids(s.StationETAs("b", t0.Add(159600*time.Millisecond))); !slices.Equal(got, []string{"v2@10:02:40", "v3@10:02:41"}) {
		t.Fatalf("at b just before v2's time: %v", got)
	}
	if got := ids(s.StationETAs("b", t0.Add(160200*time.Millisecond))); !slices.Equal(got, []string{"v3@10:02:41"}) {
		t.Fatalf("at b just after v2's time: %v", got)
	}
}

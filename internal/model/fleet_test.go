package model

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func at(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }

func pos(id, line string, lat float64, sec int) VehiclePosition {
	return VehiclePosition{VehicleID: id, Line: line, Lat: lat, Lon: -87.6, Status: StatusInTransit, TS: at(sec)}
}

func TestOlderReportNeverOverwritesNewer(t *testing.T) {
	f := NewFleet()
	f.Apply(pos("v1", "blue", 41.90, 10))
	f.Apply(pos("v1", "blue", 41.80, 5)) // late, older
	s := f.Snapshot()
	if s.Vehicles.Len() != 1 || s.Vehicles.Rows()[0].Lat != 41.90 {
		t.Fatalf("older report overwrote newer: %+v", s.Vehicles)
	}
	f.Apply(pos("v1", "blue", 41.95, 10)) // same time: the later message wins
	f.Apply(pos("v1", "blue", 41.99, 11))
	if got := f.Snapshot().Vehicles.Rows()[0].Lat; got != 41.99 {
		t.Fatalf("newer report not applied: lat %v", got)
	}
}

func TestTombstoneRemovesVehicle(t *testing.T) {
	f := NewFleet()
	f.Apply(pos("v1", "blue", 41.9, 1))
	f.Apply(pos("v2", "blue", 41.8, 1))
	f.Apply(VehicleRemoved{VehicleID: "v1"})
	s := f.Snapshot()
	if s.Vehicles.Len() != 1 || s.Vehicles.Rows()[0].VehicleID != "v2" {
		t.Fatalf("after tombstone: %+v", s.Vehicles)
	}
	f.Apply(VehicleRemoved{VehicleID: "never-seen"}) // harmless
	if n := f.Snapshot().Vehicles.Len(); n != 1 {
		t.Fatalf("%d vehicles after removing an unknown one", n)
	}
	if s.Lines[0].Vehicles != 1 {
		t.Fatalf("line count after tombstone: %+v", s.Lines)
	}
}

func TestStationsCountArrivalsAndEntries(t *testing.T) {
	f := NewFleet()
	f.Apply(Turnstile{StationID: "a", Entries: 5, TS: at(1)}) // before its reference record
	f.Apply(StationInfo{StationID: "a", Name: "Alpha", Lines: []string{"red"}})
	f.Apply(Turnstile{StationID: "a", Entries: 7, TS: at(2)})
	f.Apply(Arrival{StationID: "a", VehicleID: "r1", Line: "red", TS: at(3)})
	f.Apply(Arrival{StationID: "b", VehicleID: "r1", Line: "red", TS: at(4)})
	s := f.Snapshot()
	if len(s.Stations) != 2 {
		t.Fatalf("stations: %+v", s.Stations)
	}
	a := s.Stations[0]
	if a.Name != "Alpha" || a.Entries != 12 || a.Arrivals != 1 || !a.LastArrival.Equal(at(3)) {
		t.Fatalf("station a: %+v", a)
	}
	if b := s.Stations[1]; b.StationID != "b" || b.Arrivals != 1 || b.Name != "" {
		t.Fatalf("station b: %+v", b)
	}
}

func TestLatestWeatherPerArea(t *testing.T) {
	f := NewFleet()
	f.Apply(Weather{Area: "north", TempC: 1, TS: at(10)})
	f.Apply(Weather{Area: "north", TempC: 2, TS: at(5)}) // older
	f.Apply(Weather{Area: "south", TempC: 3, TS: at(1)})
	s := f.Snapshot()
	if len(s.Weather) != 2 || s.Weather[0].TempC != 1 || s.Weather[1].Area != "south" {
		t.Fatalf("weather: %+v", s.Weather)
	}
}

// A hand-made fleet: three blue vehicles, two red (one without a speed),
// and arrivals that give known headways.
func TestLineAggregates(t *testing.T) {
	f := NewFleet()
	speed := func(v VehiclePosition, kmh float64) VehiclePosition {
		v.SpeedKmh, v.Has = kmh, v.Has|HasSpeed
		return v
	}
	f.Apply(speed(pos("b1", "blue", 41.1, 1), 30))
	f.Apply(speed(pos("b2", "blue", 41.2, 1), 40))
	f.Apply(speed(pos("b3", "blue", 41.3, 1), 0))
	f.Apply(speed(pos("r1", "red", 41.1, 1), 50))
	f.Apply(pos("r2", "red", 41.2, 1)) // no speed reported: not counted as standing
	f.Apply(pos("x1", "", 41.2, 1))    // no line: in no line's figures

	// Blue at station s1 direction a: b1 at 0, b2 at 240 → 240 s.
	// Blue at s2 direction a: b1 at 100, b2 at 400, b3 at 760 → latest 360 s.
	// Mean over stops = (240 + 360) / 2 = 300 s.
	for _, a := range []Arrival{
		{StationID: "s1", VehicleID: "b1", Line: "blue", Direction: "a", TS: at(0)},
		{StationID: "s1", VehicleID: "b2", Line: "blue", Direction: "a", TS: at(240)},
		{StationID: "s2", VehicleID: "b1", Line: "blue", Direction: "a", TS: at(100)},
		{StationID: "s2", VehicleID: "b2", Line: "blue", Direction: "a", TS: at(400)},
		{StationID: "s2", VehicleID: "b3", Line: "blue", Direction: "a", TS: at(760)},
		// The other direction at s1 has one vehicle only: no headway yet.
		{StationID: "s1", VehicleID: "b3", Line: "blue", Direction: "b", TS: at(50)},
		// The same vehicle twice is no headway; an older replay is ignored.
		{StationID: "s1", VehicleID: "r1", Direction: "a", TS: at(10)}, // line taken from the vehicle
		{StationID: "s1", VehicleID: "r1", Direction: "a", TS: at(20)},
		{StationID: "s1", VehicleID: "r2", Line: "red", Direction: "a", TS: at(5)},
		{StationID: "s1", VehicleID: "r2", Line: "red", Direction: "a", TS: at(200)},
	} {
		f.Apply(a)
	}
	want := []LineStats{
		{Line: "blue", Vehicles: 3, AvgSpeedKmh: 70.0 / 3, HeadwayS: 300},
		{Line: "red", Vehicles: 2, AvgSpeedKmh: 50, HeadwayS: 180},
	}
	got := f.Snapshot().Lines
	if len(got) != len(want) {
		t.Fatalf("lines: got %+v", got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Line != w.Line || g.Vehicles != w.Vehicles || !near(g.AvgSpeedKmh, w.AvgSpeedKmh) || !near(g.HeadwayS, w.HeadwayS) {
			t.Errorf("line %d: got %+v, want %+v", i, g, w)
		}
	}
}

func near(a, b float64) bool { d := a - b; return d < 1e-9 && d > -1e-9 }

func TestCounters(t *testing.T) {
	f := NewFleet()
	f.AddCounters(KindVehicles, 1, false)
	f.Reject(KindVehicles, CatOutOfRange)
	f.AddCounters(KindWeather, 3, false)
	c := f.Snapshot().Counters
	if c.Consumed[KindVehicles] != 2 || c.Rejected[KindVehicles] != 1 || c.Consumed[KindWeather] != 3 || c.Rejected[KindStations] != 0 {
		t.Fatalf("counters: %+v", c)
	}
	if c.ByReason[KindVehicles][2] != 1 {
		t.Fatalf("by reason: %+v", c.ByReason)
	}
	if consumed, rejected := c.Total(); consumed != 5 || rejected != 1 {
		t.Fatalf("total: %d %d", consumed, rejected)
	}
}

func TestSnapshotIsACopy(t *testing.T) {
	f := NewFleet()
	f.Apply(pos("v1", "blue", 41.9, 1))
	s := f.Snapshot()
	f.Apply(pos("v1", "blue", 42.0, 2))
	if s.Vehicles.Rows()[0].Lat != 41.9 {
		t.Fatal("snapshot changed after a later Apply")
	}
}

func TestOutOfOrderReportsAreCounted(t *testing.T) {
	f := NewFleet()
	f.Apply(pos("v1", "blue", 41.90, 10))
	f.Apply(pos("v1", "blue", 41.80, 5))
	f.Apply(Weather{Area: "a", TS: at(10)})
	f.Apply(Weather{Area: "a", TS: at(9)})
	c := f.Snapshot().Counters
	if c.Stale[KindVehicles] != 1 || c.Stale[KindWeather] != 1 {
		t.Fatalf("stale counts %v, want one vehicle and one weather report", c.Stale)
	}
}

// The board's window counts only the last minutes of event time; the totals
// keep everything.
func TestStationRollingWindow(t *testing.T) {
	f := NewFleet()
	f.SetWindow(15 * time.Minute)
	f.Apply(Turnstile{StationID: "s", Entries: 100, TS: at(0)})
	f.Apply(Arrival{StationID: "s", VehicleID: "v1", TS: at(60)})
	f.Apply(Turnstile{StationID: "s", Entries: 7, TS: at(20 * 60)})
	f.Apply(Arrival{StationID: "s", VehicleID: "v2", TS: at(25 * 60)})
	f.Apply(Arrival{StationID: "s", VehicleID: "v3", TS: at(26 * 60)})
	st := f.Snapshot().Stations[0]
	if st.Entries != 107 || st.Arrivals != 3 {
		t.Fatalf("totals %d entries %d arrivals", st.Entries, st.Arrivals)
	}
	if st.EntriesWindow != 7 || st.ArrivalsWindow != 2 {
		t.Fatalf("window: %d entries %d arrivals, want 7 and 2", st.EntriesWindow, st.ArrivalsWindow)
	}
	// An hour later the buckets of the first minutes are reused, not added.
	f.Apply(Turnstile{StationID: "s", Entries: 1, TS: at(60 * 60)})
	st = f.Snapshot().Stations[0]
	if st.EntriesWindow != 1 || st.ArrivalsWindow != 0 {
		t.Fatalf("an hour later: %d entries %d arrivals, want 1 and 0", st.EntriesWindow, st.ArrivalsWindow)
	}
}

// Two trains a minute apart on a line whose trains are 10 minutes apart
// elsewhere are one bunched pair, however many stops see them together.
func TestHeadwayWorstAndBunching(t *testing.T) {
	f := NewFleet()
	arrive := func(station, vehicle string, sec int) {
		f.Apply(Arrival{StationID: station, VehicleID: vehicle, Line: "red", Direction: "n", TS: at(sec)})
	}
	for i, st := range []string{"a", "b", "c", "d", "e", "f"} {
		base := i * 120
		arrive(st, "r1", base)
		arrive(st, "r2", base+600)
		if i < 2 {
			arrive(st, "r3", base+660) // r3 runs a minute behind r2 at two stops
		}
	}
	ls := f.Snapshot().Lines[0]
	if ls.Bunched != 1 {
		t.Fatalf("bunched %d, want 1 (r2 and r3)", ls.Bunched)
	}
	if ls.HeadwayMaxS != 600 {
		t.Fatalf("worst headway %v, want 600", ls.HeadwayMaxS)
	}
}

// An arrival delivered twice (a producer retry, a replayed partition) counts
// once; a different vehicle or time at the same station counts.
func TestArrivalSeenTwiceCountsOnce(t *testing.T) {
	f := NewFleet()
	t0 := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	a := Arrival{StationID: "clark-lake", VehicleID: "blue-07", Line: "blue", Direction: "a", TS: t0}
	for _, ev := range []Arrival{a, a, {StationID: "clark-lake", VehicleID: "blue-08", Line: "blue", Direction: "a", TS: t0.Add(time.Minute)}, a,
		{StationID: "clark-lake", VehicleID: "blue-07", Line: "blue", Direction: "a", TS: t0.Add(20 * time.Minute)}} {
		f.Apply(ev)
	}
	s := f.Snapshot()
	if got := s.Stations[0].Arrivals; got != 3 {
		t.Errorf("arrivals %d, want 3 (the duplicates counted once)", got)
	}
	if got := s.Counters.Duplicate[KindStations]; got != 2 {
		t.Errorf("duplicates %d, want 2", got)
	}
	if got := s.Lines[0].HeadwayS; got != 19*60 {
		t.Errorf("headway %v s, want 1140 (blue-08 then blue-07 19 min later)", got)
	}
}

// A deleted station record removes the station; a station described stop
// by stop has the lines of all its stops and goes with its last one; a
// turnstile count names a station no reference record named.
func TestStationRemovedAndStops(t *testing.T) {
	f := NewFleet()
	station := func(id string) (StationState, bool) {
		for _, st := range f.Snapshot().Stations {
			if st.StationID == id {
				return st, true
			}
		}
		return StationState{}, false
	}
	f.Apply(StationInfo{StationID: "2", Name: "Hauptbahnhof", Lines: []string{"S3"}, Lat: 52.5, Lon: 13.4, HasPos: true})
	f.Apply(Turnstile{StationID: "2", Entries: 3, TS: at(1), Name: "Hbf"})
	if st, _ := station("2"); st.Name != "Hauptbahnhof" || st.Entries != 3 {
		t.Fatalf("a turnstile's name replaced the reference's: %+v", st)
	}
	f.Apply(StationRemoved{StationID: "2"})
	if _, ok := station("2"); ok {
		t.Fatal("removed station still there")
	}
	f.Apply(StationRemoved{StationID: "nowhere"}) // nothing to remove: no harm

	f.Apply(Turnstile{StationID: "40380", Entries: 1, TS: at(2), Name: "Clark/Lake"})
	f.Apply(StationInfo{StationID: "40380", Stop: "30374", Lines: []string{"blue"}, Lat: 41.88, Lon: -87.63, HasPos: true})
	f.Apply(StationInfo{StationID: "40380", Stop: "30074", Name: "Clark/Lake", Lines: []string{"green", "blue"}})
	st, _ := station("40380")
	if st.Name != "Clark/Lake" || !st.HasPos || len(st.Lines) != 2 || st.Lines[0] != "green" || st.Lines[1] != "blue" || st.Entries != 1 {
		t.Fatalf("two stops: %+v", st)
	}
	f.Apply(StationRemoved{StationID: "40380", Stop: "30074"})
	if st, _ := station("40380"); len(st.Lines) != 1 || st.Lines[0] != "blue" {
		t.Fatalf("one stop left: %+v", st)
	}
	f.Apply(StationRemoved{StationID: "30374"}) // a stops table's key names the stop alone
	if _, ok := station("40380"); ok {
		t.Fatal("station outlived its last stop")
	}
	// A record of the whole station replaces what its stops said.
	f.Apply(StationInfo{StationID: "s", Stop: "a", Lines: []string{"red"}})
	f.Apply(StationInfo{StationID: "s", Lines: []string{"blue"}})
	f.Apply(StationRemoved{StationID: "s", Stop: "a"})
	if _, ok := station("s"); ok {
		t.Fatal("a stop's delete kept a station described whole")
	}
}

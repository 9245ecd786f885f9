package model

import (
	"slices"
	"strings"
	"time"
)

// StationState is what is known of one station: its reference record (if
// one arrived) and the counts folded from arrivals and turnstile reports.
type StationState struct {
	StationInfo
	Arrivals    int64
	Entries     int64
	LastArrival time.Time
}

// LineStats aggregates the vehicles of one line.
type LineStats struct {
	Line        string
	Vehicles    int
	AvgSpeedKmh float64 // mean over the vehicles that report a speed
	// HeadwayS is the mean, over the line's stops and directions, of the
	// latest time between two different vehicles arriving there; 0 when no
	// stop has seen two vehicles yet.
	HeadwayS float64
}

// Counters counts records per stream: every record read, and those of them
// that could not be used.
type Counters struct {
	Consumed [numKinds]int64
	Rejected [numKinds]int64
	// ByReason splits Rejected by category, in the order of Categories.
	ByReason [numKinds][6]int64
}

// Total returns the records consumed over all streams.
func (c Counters) Total() (consumed, rejected int64) {
	for i := range c.Consumed {
		consumed += c.Consumed[i]
		rejected += c.Rejected[i]
	}
	return consumed, rejected
}

// Snapshot is a consistent copy of the fleet state, sorted for display.
// It shares no mutable memory with the Fleet it came from.
type Snapshot struct {
	Vehicles []VehiclePosition // by vehicle id
	Lines    []LineStats       // by line id
	Stations []StationState    // by station id
	Weather  []Weather         // by area
	Counters Counters
	// Latest is the newest vehicle report time seen: the clock of the data,
	// which for a replay or a fast simulation is not the wall clock.
	Latest time.Time
	// AsOf is the time ages are measured from (set by the reader).
	AsOf time.Time
}

// stopKey identifies where headway is measured: one stop, one line, one direction.
type stopKey struct{ station, line, direction string }

type arrivalMark struct {
	vehicle string
	ts      time.Time
}

// Fleet is the state folded from every event. It is not safe for concurrent
// use: one writer applies events and takes snapshots for readers.
type Fleet struct {
	vehicles    map[string]VehiclePosition
	stations    map[string]*StationState
	weather     map[string]Weather
	lastArrival map[stopKey]arrivalMark
	headway     map[stopKey]float64
	counters    Counters
	latest      time.Time
}

// NewFleet returns an empty fleet.
func NewFleet() *Fleet {
	return &Fleet{
		vehicles:    make(map[string]VehiclePosition),
		stations:    make(map[string]*StationState),
		weather:     make(map[string]Weather),
		lastArrival: make(map[stopKey]arrivalMark),
		headway:     make(map[stopKey]float64),
	}
}

// Reject records that one record of the stream was read and refused, and why.
func (f *Fleet) Reject(kind Kind, cat Category) {
	f.AddCounters(kind, 1, true)
	if kind >= 0 && kind < numKinds {
		f.counters.ByReason[kind][cat.index()]++
	}
}

// AddCounters adds n consumed records of the stream (all rejected, or none).
func (f *Fleet) AddCounters(kind Kind, n int64, rejected bool) {
	if kind < 0 || kind >= numKinds {
		return
	}
	f.counters.Consumed[kind] += n
	if rejected {
		f.counters.Rejected[kind] += n
	}
}

// Apply folds one event into the state. A report older than the one held
// for its vehicle is ignored, so replays and out-of-order partitions never
// move a vehicle back in time.
func (f *Fleet) Apply(ev Event) {
	switch e := ev.(type) {
	case VehiclePosition:
		if old, ok := f.vehicles[e.VehicleID]; ok && old.TS.After(e.TS) {
			return
		}
		f.vehicles[e.VehicleID] = e
		if e.TS.After(f.latest) {
			f.latest = e.TS
		}
	case VehicleRemoved:
		delete(f.vehicles, e.VehicleID)
	case StationInfo:
		st := f.station(e.StationID)
		st.StationInfo = e
	case Arrival:
		st := f.station(e.StationID)
		st.Arrivals++
		if e.TS.After(st.LastArrival) {
			st.LastArrival = e.TS
		}
		f.measureHeadway(e)
	case Turnstile:
		f.station(e.StationID).Entries += e.Entries
	case Weather:
		if old, ok := f.weather[e.Area]; ok && old.TS.After(e.TS) {
			return
		}
		f.weather[e.Area] = e
	}
}

func (f *Fleet) station(id string) *StationState {
	st, ok := f.stations[id]
	if !ok {
		st = &StationState{StationInfo: StationInfo{StationID: id}}
		f.stations[id] = st
	}
	return st
}

func (f *Fleet) measureHeadway(a Arrival) {
	line := a.Line
	if line == "" {
		line = f.vehicles[a.VehicleID].Line
	}
	if line == "" || a.VehicleID == "" {
		return
	}
	key := stopKey{a.StationID, line, a.Direction}
	prev, ok := f.lastArrival[key]
	if ok && prev.ts.After(a.TS) {
		return // a late duplicate or replay: the newer mark stands
	}
	if ok && prev.vehicle != a.VehicleID {
		f.headway[key] = a.TS.Sub(prev.ts).Seconds()
	}
	f.lastArrival[key] = arrivalMark{vehicle: a.VehicleID, ts: a.TS}
}

// Latest returns the newest vehicle report time applied.
func (f *Fleet) Latest() time.Time { return f.latest }

// Expire forgets the vehicles whose last report is older than before, as
// dispatch systems drop a vehicle not heard from for many minutes.
func (f *Fleet) Expire(before time.Time) {
	for id, v := range f.vehicles {
		if v.TS.Before(before) {
			delete(f.vehicles, id)
		}
	}
}

// Snapshot copies the state for a reader.
func (f *Fleet) Snapshot() Snapshot {
	s := Snapshot{
		Vehicles: make([]VehiclePosition, 0, len(f.vehicles)),
		Stations: make([]StationState, 0, len(f.stations)),
		Weather:  make([]Weather, 0, len(f.weather)),
		Counters: f.counters,
		Latest:   f.latest,
	}
	type acc struct {
		n, speedN       int
		speedSum, hwSum float64
		hwN             int
	}
	lines := map[string]*acc{}
	get := func(line string) *acc {
		a, ok := lines[line]
		if !ok {
			a = &acc{}
			lines[line] = a
		}
		return a
	}
	for _, v := range f.vehicles {
		s.Vehicles = append(s.Vehicles, v)
		if v.Line == "" {
			continue
		}
		a := get(v.Line)
		a.n++
		if v.Has&HasSpeed != 0 {
			a.speedN++
			a.speedSum += v.SpeedKmh
		}
	}
	for k, hw := range f.headway {
		a := get(k.line)
		a.hwN++
		a.hwSum += hw
	}
	for _, st := range f.stations {
		s.Stations = append(s.Stations, *st)
	}
	for _, w := range f.weather {
		s.Weather = append(s.Weather, w)
	}
	for line, a := range lines {
		ls := LineStats{Line: line, Vehicles: a.n}
		if a.speedN > 0 {
			ls.AvgSpeedKmh = a.speedSum / float64(a.speedN)
		}
		if a.hwN > 0 {
			ls.HeadwayS = a.hwSum / float64(a.hwN)
		}
		s.Lines = append(s.Lines, ls)
	}
	slices.SortFunc(s.Vehicles, func(a, b VehiclePosition) int { return strings.Compare(a.VehicleID, b.VehicleID) })
	slices.SortFunc(s.Stations, func(a, b StationState) int { return strings.Compare(a.StationID, b.StationID) })
	slices.SortFunc(s.Weather, func(a, b Weather) int { return strings.Compare(a.Area, b.Area) })
	slices.SortFunc(s.Lines, func(a, b LineStats) int { return strings.Compare(a.Line, b.Line) })
	return s
}

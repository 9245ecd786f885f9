package model

import (
	"slices"
	"time"
)

// ETA is a predicted arrival of a vehicle at a station.
type ETA struct {
	VehicleID string
	Line      string
	Direction string
	StationID string
	At        time.Time
}

// Predictions come from running times observed between consecutive
// stations (arrival to arrival, dwell included): the rolling median of the
// last few per segment, line and direction, as dispatch tools predict
// without a timetable. Each vehicle's next stops follow the order the
// arrivals showed (prev_station_id → station).
const (
	segSamples = 9  // running times kept per segment: the median of 9 shrugs off a breakdown
	etaHops    = 12 // how many stops ahead are predicted
)

type segKey struct{ line, direction, from, to string }

type lineDirStop struct{ line, direction, station string }

// lastStop is a vehicle's latest arrival.
type lastStop struct {
	station, line, direction string
	ts                       time.Time
}

// etaModel learns segment running times and stop order from arrivals.
type etaModel struct {
	last map[string]lastStop             // by vehicle
	segs map[segKey]*[segSamples]float64 // running times in seconds, 0 unused
	fill map[segKey]int                  // samples written per segment (mod segSamples is the next slot)
	next map[lineDirStop]string          // the station after, by line and direction
}

func newETAModel() *etaModel {
	return &etaModel{last: map[string]lastStop{}, segs: map[segKey]*[segSamples]float64{},
		fill: map[segKey]int{}, next: map[lineDirStop]string{}}
}

// arrival learns from one arrival; line is the arrival's or its vehicle's.
func (m *etaModel) arrival(a Arrival, line string) {
	if a.VehicleID == "" || line == "" || a.TS.IsZero() {
		return
	}
	if a.PrevStationID != "" && a.PrevStationID != a.StationID {
		m.next[lineDirStop{line, a.Direction, a.PrevStationID}] = a.StationID
	}
	if prev, ok := m.last[a.VehicleID]; ok && prev.station == a.PrevStationID && prev.line == line &&
		prev.direction == a.Direction && a.TS.After(prev.ts) {
		k := segKey{line, a.Direction, prev.station, a.StationID}
		s, ok := m.segs[k]
		if !ok {
			s = new([segSamples]float64)
			m.segs[k] = s
		}
		s[m.fill[k]%segSamples] = a.TS.Sub(prev.ts).Seconds()
		m.fill[k]++
	}
	if prev, ok := m.last[a.VehicleID]; !ok || !a.TS.Before(prev.ts) {
		m.last[a.VehicleID] = lastStop{a.StationID, line, a.Direction, a.TS}
	}
}

// median is a segment's typical running time; false before any sample.
func (m *etaModel) median(k segKey) (time.Duration, bool) {
	s, ok := m.segs[k]
	if !ok {
		return 0, false
	}
	n := min(m.fill[k], segSamples)
	v := make([]float64, n)
	copy(v, s[:n])
	slices.Sort(v)
	return time.Duration(v[n/2] * float64(time.Second)), true
}

// ahead predicts a vehicle's next stops, nearest first, as far as running
// times are known.
func (m *etaModel) ahead(vehicle string) []ETA {
	at, ok := m.last[vehicle]
	if !ok {
		return nil
	}
	var out []ETA
	from, t := at.station, at.ts
	for range etaHops {
		to, ok := m.next[lineDirStop{at.line, at.direction, from}]
		if !ok {
			break
		}
		d, ok := m.median(segKey{at.line, at.direction, from, to})
		if !ok {
			break
		}
		t = t.Add(d)
		out = append(out, ETA{VehicleID: vehicle, Line: at.line, Direction: at.direction, StationID: to, At: t})
		from = to
	}
	return out
}

// VehicleETAs predicts the vehicle's next stops, nearest first.
func (f *Fleet) VehicleETAs(vehicle string) []ETA { return f.eta.ahead(vehicle) }

// StationETAs predicts the next arrivals at the station after now: up to
// perDirection vehicles in each direction, soonest first, directions in
// order.
func (f *Fleet) StationETAs(station string, now time.Time, perDirection int) []ETA {
	var out []ETA
	for v := range f.eta.last {
		for _, e := range f.eta.ahead(v) {
			if e.StationID == station {
				if !e.At.Before(now) {
					out = append(out, e)
				}
				break
			}
		}
	}
	slices.SortFunc(out, func(a, b ETA) int {
		if a.Direction != b.Direction {
			if a.Direction < b.Direction {
				return -1
			}
			return 1
		}
		return a.At.Compare(b.At)
	})
	var kept []ETA
	n, dir := 0, ""
	for i, e := range out {
		if i == 0 || e.Direction != dir {
			n, dir = 0, e.Direction
		}
		if n < perDirection {
			kept = append(kept, e)
		}
		n++
	}
	return kept
}

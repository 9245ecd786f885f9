package model

import (
	"iter"
	"slices"
	"time"

	"github.com/fleetwatch/fleetwatch/internal/idtab"
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

// etaRow is how the model keeps a vehicle's latest arrival: without
// pointers, since a national fleet has a million (as Go strings in maps
// they took 278 B a vehicle and five pointers for the collector).
type etaRow struct {
	ts   int64 // Unix ns
	slot int32 // the vehicle's, in the fleet's ids
	stop int32 // in etaModel.stopList
	// prev and next are the rows + 1 of the vehicles before and after it
	// in its stop's list; 0: none.
	prev, next int32
}

// stopNode is a stop (line, direction, station) the model has seen an
// arrival at, with the list of vehicles whose latest arrival was there.
type stopNode struct {
	key  lineDirStop
	head int32 // row + 1 of the first; 0: none
}

// etaModel learns segment running times and stop order from arrivals.
//
// A station board asks, every frame and under the store's lock, which
// vehicles are due at one station: the vehicles to predict are found from
// the station upstream (prev, at), not by predicting every vehicle of the
// fleet (48 ms a frame at 10 000 vehicles, BenchmarkStationETAs), and each
// segment's median is kept, not sorted again for each prediction.
type etaModel struct {
	// The vehicles with an arrival: their rows, found by slot of the
	// fleet's ids through rowOf (row + 1; 0: none). Rows are only for the
	// vehicles with an arrival, which in a fleet's first minutes are few;
	// rowOf costs 4 B for every slot up to the last one given the model.
	ids      *idtab.Table
	holder   idtab.Holder
	rowOf    []int32
	rows     []etaRow
	freeRows []int32

	stops    map[lineDirStop]int32 // in stopList
	stopList []stopNode
	segs     map[segKey]*[segSamples]float64 // running times in seconds, 0 unused
	fill     map[segKey]int                  // samples written per segment (mod segSamples is the next slot)
	median   map[segKey]time.Duration        // of each segment's samples
	next     map[lineDirStop]string          // the station after, by line and direction
	prev     map[lineDirStop][]string        // the stations next leads from to this one
}

func newETAModel(ids *idtab.Table) *etaModel {
	return &etaModel{ids: ids, holder: ids.NewHolder(), stops: map[lineDirStop]int32{}, segs: map[segKey]*[segSamples]float64{},
		fill: map[segKey]int{}, median: map[segKey]time.Duration{}, next: map[lineDirStop]string{},
		prev: map[lineDirStop][]string{}}
}

// last is a vehicle's latest arrival; false if it has none.
func (m *etaModel) last(vehicle string) (lastStop, bool) {
	slot, ok := m.ids.Get(vehicle, m.holder)
	if !ok {
		return lastStop{}, false
	}
	r := m.rows[m.rowOf[slot]-1]
	k := m.stopList[r.stop].key
	return lastStop{k.station, k.line, k.direction, time.Unix(0, r.ts).UTC()}, true
}

// eachAt calls yield with the id and arrival time (Unix ns) of each vehicle
// whose latest arrival was at stop u. The id shares the arena's memory.
func (m *etaModel) eachAt(u lineDirStop, yield func(vehicle string, ts int64)) {
	n, ok := m.stops[u]
	if !ok {
		return
	}
	for i := m.stopList[n].head; i != 0; i = m.rows[i-1].next {
		yield(m.ids.ID(m.rows[i-1].slot), m.rows[i-1].ts)
	}
}

// unlink takes row i out of its stop's list.
func (m *etaModel) unlink(i int32) {
	r := &m.rows[i]
	if r.prev != 0 {
		m.rows[r.prev-1].next = r.next
	} else {
		m.stopList[r.stop].head = r.next
	}
	if r.next != 0 {
		m.rows[r.next-1].prev = r.prev
	}
	r.prev, r.next = 0, 0
}

// setNext learns that on line and direction the station after from is to.
func (m *etaModel) setNext(line, direction, from, to string) {
	k := lineDirStop{line, direction, from}
	old, ok := m.next[k]
	if ok && old == to {
		return
	}
	if ok {
		ko := lineDirStop{line, direction, old}
		if m.prev[ko] = slices.DeleteFunc(m.prev[ko], func(s string) bool { return s == from }); len(m.prev[ko]) == 0 {
			delete(m.prev, ko)
		}
	}
	m.next[k] = to
	kt := lineDirStop{line, direction, to}
	m.prev[kt] = append(m.prev[kt], from)
}

// setLast files a vehicle's latest arrival: at stop k, at ts.
func (m *etaModel) setLast(vehicle string, k lineDirStop, ts time.Time) {
	var i int32
	slot, ok := m.ids.Get(vehicle, m.holder)
	if ok {
		i = m.rowOf[slot] - 1
		m.unlink(i)
	} else {
		slot = m.ids.Hold(vehicle, m.holder)
		for int(slot) >= len(m.rowOf) {
			m.rowOf = append(m.rowOf, 0)
		}
		if n := len(m.freeRows); n > 0 {
			i, m.freeRows = m.freeRows[n-1], m.freeRows[:n-1]
		} else {
			i = int32(len(m.rows))
			m.rows = append(m.rows, etaRow{})
		}
		m.rowOf[slot] = i + 1
	}
	n, ok := m.stops[k]
	if !ok {
		n = int32(len(m.stopList))
		m.stopList = append(m.stopList, stopNode{key: k})
		m.stops[k] = n
	}
	head := m.stopList[n].head
	m.rows[i] = etaRow{ts: ts.UnixNano(), slot: slot, stop: n, next: head}
	if head != 0 {
		m.rows[head-1].prev = i + 1
	}
	m.stopList[n].head = i + 1
}

// forget drops a vehicle's latest arrival.
func (m *etaModel) forget(vehicle string) {
	slot, ok := m.ids.Get(vehicle, m.holder)
	if !ok {
		return
	}
	i := m.rowOf[slot] - 1
	m.unlink(i)
	m.rows[i], m.rowOf[slot] = etaRow{}, 0
	m.freeRows = append(m.freeRows, i)
	m.ids.Release(slot, m.holder)
}

// arrival learns from one arrival; line is the arrival's or its vehicle's.
func (m *etaModel) arrival(a Arrival, line string) {
	if a.VehicleID == "" || line == "" || a.TS.IsZero() {
		return
	}
	if a.PrevStationID != "" && a.PrevStationID != a.StationID {
		m.setNext(line, a.Direction, a.PrevStationID, a.StationID)
	}
	prev, known := m.last(a.VehicleID)
	if known && prev.station == a.PrevStationID && prev.line == line &&
		prev.direction == a.Direction && a.TS.After(prev.ts) {
		k := segKey{line, a.Direction, prev.station, a.StationID}
		s, ok := m.segs[k]
		if !ok {
			s = new([segSamples]float64)
			m.segs[k] = s
		}
		s[m.fill[k]%segSamples] = a.TS.Sub(prev.ts).Seconds()
		m.fill[k]++
		n := min(m.fill[k], segSamples)
		v := make([]float64, n)
		copy(v, s[:n])
		slices.Sort(v)
		m.median[k] = time.Duration(v[n/2] * float64(time.Second))
	}
	if !known || !a.TS.Before(prev.ts) {
		m.setLast(a.VehicleID, lineDirStop{line, a.Direction, a.StationID}, a.TS)
	}
}

// ahead predicts a vehicle's next stops, nearest first, as far as running
// times are known.
func (m *etaModel) ahead(vehicle string) []ETA {
	at, ok := m.last(vehicle)
	if !ok {
		return nil
	}
	var out []ETA
	for to, run := range m.route(lineDirStop{at.line, at.direction, at.station}) {
		out = append(out, ETA{VehicleID: vehicle, Line: at.line, Direction: at.direction, StationID: to, At: at.ts.Add(run)})
	}
	return out
}

// route yields the stops after u, nearest first, each with the running
// time from u to it: as far as etaHops, the stop order learned and the
// running times known reach.
func (m *etaModel) route(u lineDirStop) iter.Seq2[string, time.Duration] {
	return func(yield func(string, time.Duration) bool) {
		from, run := u.station, time.Duration(0)
		for range etaHops {
			to, ok := m.next[lineDirStop{u.line, u.direction, from}]
			if !ok {
				return
			}
			d, ok := m.median[segKey{u.line, u.direction, from, to}]
			if !ok {
				return
			}
			run += d
			if !yield(to, run) {
				return
			}
			from = to
		}
	}
}

// upstream lists the stops (line, direction and station) at most etaHops
// before station, by the order learned: the vehicles whose latest arrival
// was at one are those whose next stops, as ahead predicts them, may
// include it. Each is listed once, in no particular order.
func (m *etaModel) upstream(station string) []lineDirStop {
	var ends []lineDirStop
	for k, to := range m.next {
		if to == station {
			ends = append(ends, lineDirStop{k.line, k.direction, station})
		}
	}
	seen, ended := map[lineDirStop]bool{}, map[lineDirStop]bool{}
	var out []lineDirStop
	for _, end := range ends {
		if ended[end] {
			continue // another segment into the station on the same line and direction
		}
		ended[end] = true
		level := []lineDirStop{end}
		for range etaHops {
			var up []lineDirStop
			for _, k := range level {
				for _, from := range m.prev[k] {
					if u := (lineDirStop{k.line, k.direction, from}); !seen[u] {
						seen[u] = true
						up = append(up, u)
						out = append(out, u)
					}
				}
			}
			level = up
		}
	}
	return out
}

// VehicleETAs predicts the vehicle's next stops, nearest first.
func (f *Fleet) VehicleETAs(vehicle string) []ETA { return f.eta.ahead(vehicle) }

// StationETAs predicts the next arrivals at the station after now: up to
// perDirection vehicles in each direction, soonest first, directions in
// order.
func (f *Fleet) StationETAs(station string, now time.Time, perDirection int) []ETA {
	m := f.eta
	var out []ETA
	for _, u := range m.upstream(station) {
		// Every vehicle whose latest arrival was at u is predicted along
		// the same stops: the running time to the station is walked once.
		run, reaches := time.Duration(0), false
		for to, r := range m.route(u) {
			if to == station {
				run, reaches = r, true
				break
			}
		}
		if !reaches {
			continue
		}
		m.eachAt(u, func(v string, ts int64) {
			if at := time.Unix(0, ts).UTC().Add(run); !at.Before(now) {
				out = append(out, ETA{VehicleID: v, Line: u.line, Direction: u.direction, StationID: station, At: at})
			}
		})
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

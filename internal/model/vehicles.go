package model

import (
	"cmp"
	"iter"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/fleetwatch/fleetwatch/internal/idtab"
)

// The vehicle table keeps a fleet of a million vehicles in little memory
// that the collector need not scan, and hands readers views of it without
// copying it:
//
//   - Rows hold no pointers: text (line, stop, status) is an index into
//     the table's strings, time is Unix nanoseconds. The collector skips
//     such memory, so collecting a large fleet costs little and can be
//     done often.
//   - Rows are small: a position in ten-millionths of a degree (a
//     centimetre), speed, heading, delay and occupancy as float32 (seven
//     digits: what GTFS-realtime carries), read back as the shortest
//     decimal that stands for them, so that 32.7 stays 32.7. A row is 48 B
//     instead of a VehiclePosition's 144 B.
//   - Ids are kept apart, by slot, in the vehicle numbering the fleet
//     shares with its ETA model and the alert detector (idtab.Table), and
//     change only when a vehicle comes or goes; their bytes lie in an
//     arena, so they hold no pointers either. A view reads them through an
//     idtab.View, copied on write as the rows are.
//   - Positions are kept apart too, in a compact column of pages: a frame
//     of a million vehicles reads 8 B of each from consecutive memory
//     (memory, not arithmetic, is what such a frame waits for).
//
// A write to a chunk or page that a published view still shares copies it
// first: a report after a frame can cost a row chunk (8 × 48 B) and a page
// (16 × 66 B), and a view costs the lists of them. Smaller chunks copy
// less per report but make the lists longer; these sizes were the fastest
// of those tried (BenchmarkApplyWhileDrawing, BENCHMARKS.md).
const (
	chunkSize  = 8
	pageChunks = 16
)

// row is a vehicle's report as the table keeps it.
type row struct {
	ts                               int64 // Unix ns; noTime for none
	lat, lon                         int32 // 1e-7 degrees (E7)
	heading, speed, delay, occupancy float32
	line, stop, status               uint32
	has                              Fields
}

// E7 is a latitude or longitude in ten-millionths of a degree (a
// centimetre), for state kept per vehicle of a large fleet: any position
// given with up to seven decimals reads back as given (FromE7).
func E7(deg float64) int32 {
	if deg != deg {
		return 0
	}
	return int32(math.Round(max(-180, min(180, deg)) * 1e7))
}

// FromE7 is the float64 nearest to an E7 position's decimal.
func FromE7(v int32) float64 { return float64(v) / 1e7 }

// widen is the float64 nearest to the shortest decimal that f stands for,
// what the float64 it was made from was when that had up to seven
// digits: a speed of 32.7 is kept as 32.70000076 and read as 32.7. The
// decimals of up to four places are tried first, which is what feeds send
// and costs a few nanoseconds; strconv finds the others.
func widen(f float32) float64 {
	d := float64(f)
	if math.IsInf(d, 0) || d != d {
		return d
	}
	if math.Abs(d) < 1<<24 { // beyond, a float32 is a whole number, rarely the shortest
		if d == math.Trunc(d) {
			return d
		}
		for _, p := range [...]float64{10, 100, 1000, 10000} {
			if x := math.RoundToEven(d*p) / p; float32(x) == f {
				return x
			}
		}
	}
	v, _ := strconv.ParseFloat(strconv.FormatFloat(d, 'g', -1, 32), 64)
	return v
}

// narrow is f as a row keeps it: a float32, the largest one for a number
// beyond its range (which would be infinite, and then poison a line's sum
// of speeds with NaN).
func narrow(f float64) float32 { return float32(max(-math.MaxFloat32, min(math.MaxFloat32, f))) }

// speedKmh is the speed r holds, as readers get it.
func (r *row) speedKmh() float64 { return widen(r.speed) }

// noTime stands for the zero time.Time, whose Unix nanoseconds overflow.
const noTime = math.MinInt64

type rowChunk [chunkSize]row

// PointChunk is the position column of a chunk of the table: which of its
// rows hold a vehicle (bit i for row i) and their positions.
type PointChunk struct {
	Used uint8
	Pos  [chunkSize]LonLat
}

// pointPage is pageChunks chunks' position columns, together in memory.
type pointPage [pageChunks]PointChunk

// LonLat is a vehicle's position as the table's position column keeps it:
// to a metre or two, which no screen shows.
type LonLat [2]float32

// Vehicles is an immutable view of a fleet's vehicles at one moment: what a
// frame reads. Views share what did not change between them, so taking
// one costs lists of pointers, not a copy of the fleet, and ingest goes on
// while readers hold it. It is safe for concurrent use.
type Vehicles struct {
	rows []*rowChunk
	ids  idtab.View
	pts  []*pointPage
	strs []string // the table's strings as of the view; they only grow
	n    int
	pub  uint64 // publications' number for this view; 0 for the zero Vehicles
}

// publications numbers the views published by all tables of the process,
// so that a number names one view (Publication).
var publications atomic.Uint64

// Publication identifies the view: two views with the same number are one
// publication of one table and hold the same vehicles, and a number is
// never given to another view. Each publication gets a new number, even
// when nothing changed since the last. The zero Vehicles (no vehicles) is
// 0. Readers that derive something from a view, the same for every reader
// of it (what serve's viewers draw), key it by this number: a plain value
// that keeps nothing alive.
func (v Vehicles) Publication() uint64 { return v.pub }

// VehiclesOf returns a view of rows (copied, with distinct ids), in their
// order.
func VehiclesOf(rows []VehiclePosition) Vehicles {
	t := newVehicleTable(idtab.NewTable())
	for _, r := range rows {
		t.set(t.add(r.VehicleID), r)
	}
	return t.publish()
}

// Len returns the number of vehicles.
func (v Vehicles) Len() int { return v.n }

// PointChunks yields the position column chunk by chunk, with the slot of
// each chunk's first row: for loops over a million vehicles, which cannot
// afford a call per vehicle.
func (v Vehicles) PointChunks() iter.Seq2[int, *PointChunk] {
	return func(yield func(int, *PointChunk) bool) {
		for p, page := range v.pts {
			for j := range page {
				if page[j].Used != 0 && !yield((p*pageChunks+j)*chunkSize, &page[j]) {
					return
				}
			}
		}
	}
}

// Points yields every vehicle's slot and position, reading only the
// position column; At gives the rest of a slot's vehicle.
func (v Vehicles) Points() iter.Seq2[int, LonLat] {
	return func(yield func(int, LonLat) bool) {
		for base, pc := range v.PointChunks() {
			for u := pc.Used; u != 0; u &= u - 1 {
				i := bits.TrailingZeros8(u)
				if !yield(base+i, pc.Pos[i]) {
					return
				}
			}
		}
	}
}

// All yields every vehicle, in no particular order (the order of the
// fleet's slots, stable for a vehicle while it stays). The vehicle yielded
// is rewritten at each step: copy it to keep it.
func (v Vehicles) All() iter.Seq[*VehiclePosition] {
	return func(yield func(*VehiclePosition) bool) {
		var vp VehiclePosition
		for slot := range v.Points() {
			v.At(slot, &vp)
			if !yield(&vp) {
				return
			}
		}
	}
}

// At sets *dst to the vehicle in a slot that Points yielded and reports
// whether the slot holds one. A vehicle keeps its slot while it stays in
// the fleet, so a slot is also a hint for finding it again in a later view.
func (v Vehicles) At(slot int, dst *VehiclePosition) bool {
	if !v.holds(slot) {
		return false
	}
	k, i := slot/chunkSize, slot%chunkSize
	r := &v.rows[k][i]
	*dst = VehiclePosition{VehicleID: v.ids.ID(int32(slot)), Line: v.strs[r.line], Lat: FromE7(r.lat), Lon: FromE7(r.lon),
		Heading: widen(r.heading), SpeedKmh: r.speedKmh(), Status: Status(v.strs[r.status]), StopID: v.strs[r.stop],
		DelayS: widen(r.delay), Occupancy: widen(r.occupancy), Has: r.has}
	if r.ts != noTime {
		dst.TS = time.Unix(0, r.ts).UTC()
	}
	return true
}

// ID returns the id of the vehicle in a slot, or "".
func (v Vehicles) ID(slot int) string {
	if !v.holds(slot) {
		return ""
	}
	return v.ids.ID(int32(slot))
}

// holds reports whether a slot holds a vehicle.
func (v Vehicles) holds(slot int) bool {
	k := slot / chunkSize
	return slot >= 0 && k < len(v.rows) && v.pts[k/pageChunks][k%pageChunks].Used&(1<<(slot%chunkSize)) != 0
}

// Slot returns the slot of the vehicle with the id, or -1. It looks at
// every vehicle: for one selected vehicle a frame, not for many.
func (v Vehicles) Slot(id string) int {
	if id == "" {
		return -1
	}
	for slot := range v.Points() {
		if v.ids.ID(int32(slot)) == id {
			return slot
		}
	}
	return -1
}

// Find returns the vehicle with the id, as Slot finds it.
func (v Vehicles) Find(id string) (VehiclePosition, bool) {
	var vp VehiclePosition
	ok := v.At(v.Slot(id), &vp)
	return vp, ok
}

// Sample yields about n of the vehicles, spread over the table: whole
// chunks, every so many. The vehicle yielded is rewritten at each step.
func (v Vehicles) Sample(n int) iter.Seq[*VehiclePosition] {
	return func(yield func(*VehiclePosition) bool) {
		var vp VehiclePosition
		stride := max(1, len(v.rows)*chunkSize/max(n, 1))
		for k := 0; k < len(v.rows); k += stride {
			for u := v.pts[k/pageChunks][k%pageChunks].Used; u != 0; u &= u - 1 {
				v.At(k*chunkSize+bits.TrailingZeros8(u), &vp)
				if !yield(&vp) {
					return
				}
			}
		}
	}
}

// Sorted yields the vehicles by id, as the JSON summary lists them. The
// vehicle yielded is rewritten at each step.
func (v Vehicles) Sorted() iter.Seq[*VehiclePosition] {
	return func(yield func(*VehiclePosition) bool) {
		slots := make([]int32, 0, v.n)
		for slot := range v.Points() {
			slots = append(slots, int32(slot))
		}
		slices.SortFunc(slots, func(a, b int32) int { return cmp.Compare(v.ID(int(a)), v.ID(int(b))) })
		var vp VehiclePosition
		for _, slot := range slots {
			v.At(int(slot), &vp)
			if !yield(&vp) {
				return
			}
		}
	}
}

// Rows returns a copy of the vehicles, by id.
func (v Vehicles) Rows() []VehiclePosition {
	out := make([]VehiclePosition, 0, v.n)
	for p := range v.Sorted() {
		out = append(out, *p)
	}
	return out
}

// vehicleTable is the fleet's side of Vehicles: rows found by id, written
// in place when no published view shares their chunk (or page) and copied
// first when one does. gen counts publications; rowGen[k] and ptGen[p] are
// the gen in which row chunk k and point page p were last copied (or
// made): one of an earlier gen is shared with a view.
type vehicleTable struct {
	// ids numbers the vehicles; the fleet's ETA model and an alert detector
	// fed by the same writer share it (Fleet.IDs), so an id is kept once.
	ids    *idtab.Table
	holder idtab.Holder
	rows   []*rowChunk
	pts    []*pointPage
	rowGen []uint64
	ptGen  []uint64
	gen    uint64
	n      int
	// strs holds every text a row has held, strIdx their indexes; strs[0]
	// is "". Lines, stops and statuses are few, so it stays small.
	strs   []string
	strIdx map[string]uint32
}

func newVehicleTable(ids *idtab.Table) *vehicleTable {
	t := &vehicleTable{ids: ids, gen: 1, strs: []string{""}, strIdx: map[string]uint32{"": 0}}
	t.holder = ids.NewHolder()
	return t
}

// id is the id of the vehicle in slot. It shares the arena's memory.
func (t *vehicleTable) id(slot int32) string { return t.ids.ID(slot) }

// slot is the slot of vehicle id; false if it is not in the table.
func (t *vehicleTable) slot(id string) (int32, bool) { return t.ids.Get(id, t.holder) }

// str returns the index of a text in strs, adding it.
func (t *vehicleTable) str(s string) uint32 {
	i, ok := t.strIdx[s]
	if !ok {
		i = uint32(len(t.strs))
		t.strs = append(t.strs, s)
		t.strIdx[s] = i
	}
	return i
}

// at returns slot's row, for reading.
func (t *vehicleTable) at(slot int32) *row {
	return &t.rows[slot/chunkSize][slot%chunkSize]
}

// write returns slot's row and position column for writing, copying what
// a view shares.
func (t *vehicleTable) write(slot int32) (*row, *PointChunk) {
	k, i := slot/chunkSize, slot%chunkSize
	if t.rowGen[k] != t.gen {
		cp := *t.rows[k]
		t.rows[k], t.rowGen[k] = &cp, t.gen
	}
	p := k / pageChunks
	if t.ptGen[p] != t.gen {
		cp := *t.pts[p]
		t.pts[p], t.ptGen[p] = &cp, t.gen
	}
	return &t.rows[k][i], &t.pts[p][k%pageChunks]
}

// add takes a slot for a new vehicle: the one the ids give it, which the
// chunks are grown to cover.
func (t *vehicleTable) add(id string) int32 {
	slot := t.ids.Hold(id, t.holder)
	for k := int(slot / chunkSize); k >= len(t.rows); {
		if len(t.rows)%pageChunks == 0 {
			t.pts = append(t.pts, new(pointPage))
			t.ptGen = append(t.ptGen, t.gen)
		}
		t.rows = append(t.rows, new(rowChunk))
		t.rowGen = append(t.rowGen, t.gen)
	}
	t.n++
	return slot
}

// set stores a report in a slot.
func (t *vehicleTable) set(slot int32, v VehiclePosition) {
	r, pc := t.write(slot)
	// A vehicle's line, status and often its stop are those of its last
	// report: compared first, they cost no lookup.
	text := func(old uint32, s string) uint32 {
		if t.strs[old] == s {
			return old
		}
		return t.str(s)
	}
	*r = row{lat: E7(v.Lat), lon: E7(v.Lon), heading: narrow(v.Heading), speed: narrow(v.SpeedKmh), delay: narrow(v.DelayS),
		occupancy: narrow(v.Occupancy), ts: noTime, line: text(r.line, v.Line), stop: text(r.stop, v.StopID), status: text(r.status, string(v.Status)), has: v.Has}
	if !v.TS.IsZero() {
		r.ts = v.TS.UnixNano()
	}
	i := slot % chunkSize
	pc.Pos[i] = LonLat{float32(v.Lon), float32(v.Lat)}
	pc.Used |= 1 << i
}

// remove forgets the vehicle; it reports whether there was one.
func (t *vehicleTable) remove(id string) bool {
	slot, ok := t.ids.Get(id, t.holder)
	if !ok {
		return false
	}
	r, pc := t.write(slot)
	*r = row{}
	pc.Used &^= 1 << (slot % chunkSize)
	t.n--
	t.ids.Release(slot, t.holder)
	return true
}

// publish returns a view of the table as it is; what it shares is copied
// before it is next written.
func (t *vehicleTable) publish() Vehicles {
	v := Vehicles{rows: slices.Clone(t.rows), ids: t.ids.View(), pts: slices.Clone(t.pts),
		strs: t.strs, n: t.n, pub: publications.Add(1)}
	t.gen++
	return v
}

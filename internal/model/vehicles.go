package model

import (
	"iter"
	"math/bits"
	"slices"
	"strings"
)

// The vehicle table keeps rows in chunks of chunkSize, and the rows'
// positions apart, in a compact column of pages of pageChunks chunks: a
// frame of a million vehicles reads 8 B of each from consecutive memory,
// not the 144 B row from wherever it was allocated (memory, not
// arithmetic, is what such a frame waits for). A write to a chunk or page
// that a published view still shares copies it first: a report after a
// frame can cost a row chunk (8 × 144 B) and a page (16 × 66 B), and a
// view costs the lists of both (1.1 MB at a million vehicles). Smaller
// chunks copy less per report but make the lists longer; these sizes were
// the fastest of those tried (BenchmarkApplyWhileDrawing, BENCHMARKS.md).
const (
	chunkSize  = 8
	pageChunks = 16
)

// rowChunk is a block of the table's rows.
type rowChunk [chunkSize]VehiclePosition

// PointChunk is the position column of a chunk of the table: which of its
// rows hold a vehicle (bit i for row i) and their positions.
type PointChunk struct {
	Used uint16
	Pos  [chunkSize]LonLat
}

// pointPage is pageChunks chunks' position columns, together in memory.
type pointPage [pageChunks]PointChunk

// LonLat is a vehicle's position as the table's position column keeps it:
// to a metre or two, which no screen shows.
type LonLat [2]float32

// Vehicles is an immutable view of a fleet's vehicles at one moment: what a
// frame reads. Views share the rows that did not change between them, so
// taking one costs lists of pointers, not a copy of the fleet, and ingest
// goes on while readers hold it. Readers must not modify the rows they are
// given.
type Vehicles struct {
	rows []*rowChunk
	pts  []*pointPage
	n    int
}

// VehiclesOf returns a view of rows (copied, with distinct ids), in their
// order.
func VehiclesOf(rows []VehiclePosition) Vehicles {
	t := newVehicleTable()
	for _, r := range rows {
		t.put(r)
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

// All yields every vehicle, in no particular order (the order of the
// fleet's slots, stable for a vehicle while it stays).
func (v Vehicles) All() iter.Seq[*VehiclePosition] {
	return func(yield func(*VehiclePosition) bool) {
		for base, pc := range v.PointChunks() {
			rows := v.rows[base/chunkSize]
			for u := pc.Used; u != 0; u &= u - 1 {
				if !yield(&rows[bits.TrailingZeros16(u)]) {
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
				i := bits.TrailingZeros16(u)
				if !yield(base+i, pc.Pos[i]) {
					return
				}
			}
		}
	}
}

// At returns the vehicle in a slot that Points yielded, or nil when the
// slot holds none. A vehicle keeps its slot while it stays in the fleet,
// so a slot is also a hint for finding it again in a later view.
func (v Vehicles) At(slot int) *VehiclePosition {
	k, i := slot/chunkSize, slot%chunkSize
	if slot < 0 || k >= len(v.rows) || v.pts[k/pageChunks][k%pageChunks].Used&(1<<i) == 0 {
		return nil
	}
	return &v.rows[k][i]
}

// Slot returns the slot of the vehicle with the id, or -1. It looks at
// every vehicle: for one selected vehicle a frame, not for many.
func (v Vehicles) Slot(id string) int {
	if id == "" {
		return -1
	}
	for base, pc := range v.PointChunks() {
		rows := v.rows[base/chunkSize]
		for u := pc.Used; u != 0; u &= u - 1 {
			if i := bits.TrailingZeros16(u); rows[i].VehicleID == id {
				return base + i
			}
		}
	}
	return -1
}

// Find returns the vehicle with the id, or nil, as Slot finds it.
func (v Vehicles) Find(id string) *VehiclePosition {
	return v.At(v.Slot(id))
}

// Sample yields about n of the vehicles, spread over the table: whole
// chunks, every so many.
func (v Vehicles) Sample(n int) iter.Seq[*VehiclePosition] {
	return func(yield func(*VehiclePosition) bool) {
		stride := max(1, len(v.rows)*chunkSize/max(n, 1))
		for k := 0; k < len(v.rows); k += stride {
			for u := v.pts[k/pageChunks][k%pageChunks].Used; u != 0; u &= u - 1 {
				if !yield(&v.rows[k][bits.TrailingZeros16(u)]) {
					return
				}
			}
		}
	}
}

// Sorted returns the vehicles by id, as the JSON summary lists them.
func (v Vehicles) Sorted() []*VehiclePosition {
	out := make([]*VehiclePosition, 0, v.n)
	for p := range v.All() {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b *VehiclePosition) int { return strings.Compare(a.VehicleID, b.VehicleID) })
	return out
}

// Rows returns a copy of the vehicles, by id.
func (v Vehicles) Rows() []VehiclePosition {
	out := make([]VehiclePosition, 0, v.n)
	for _, p := range v.Sorted() {
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
	ids    map[string]int32
	rows   []*rowChunk
	pts    []*pointPage
	rowGen []uint64
	ptGen  []uint64
	gen    uint64
	free   []int32
	n      int
}

func newVehicleTable() vehicleTable {
	return vehicleTable{ids: map[string]int32{}, gen: 1}
}

// get returns the row of the vehicle, for reading, or nil.
func (t *vehicleTable) get(id string) *VehiclePosition {
	slot, ok := t.ids[id]
	if !ok {
		return nil
	}
	return t.at(slot)
}

// at returns slot's row, for reading.
func (t *vehicleTable) at(slot int32) *VehiclePosition {
	return &t.rows[slot/chunkSize][slot%chunkSize]
}

// write returns slot's row and position column for writing, copying what
// a view shares.
func (t *vehicleTable) write(slot int32) (*VehiclePosition, *PointChunk) {
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

// put stores the vehicle's row, taking a slot for a new vehicle.
func (t *vehicleTable) put(v VehiclePosition) {
	slot, ok := t.ids[v.VehicleID]
	if !ok {
		slot = t.add(v.VehicleID)
	}
	t.set(slot, v)
}

// add takes a slot for a new vehicle.
func (t *vehicleTable) add(id string) int32 {
	var slot int32
	if n := len(t.free); n > 0 {
		slot = t.free[n-1]
		t.free = t.free[:n-1]
	} else {
		k := len(t.rows)
		if k%pageChunks == 0 {
			t.pts = append(t.pts, new(pointPage))
			t.ptGen = append(t.ptGen, t.gen)
		}
		t.rows = append(t.rows, new(rowChunk))
		t.rowGen = append(t.rowGen, t.gen)
		slot = int32(k * chunkSize)
		for i := chunkSize - 1; i > 0; i-- {
			t.free = append(t.free, slot+int32(i))
		}
	}
	t.ids[id] = slot
	t.n++
	return slot
}

// set stores a row in a slot.
func (t *vehicleTable) set(slot int32, v VehiclePosition) {
	row, pc := t.write(slot)
	*row = v
	i := slot % chunkSize
	pc.Pos[i] = LonLat{float32(v.Lon), float32(v.Lat)}
	pc.Used |= 1 << i
}

// remove forgets the vehicle; it reports whether there was one.
func (t *vehicleTable) remove(id string) bool {
	slot, ok := t.ids[id]
	if !ok {
		return false
	}
	delete(t.ids, id)
	row, pc := t.write(slot)
	*row = VehiclePosition{}
	pc.Used &^= 1 << (slot % chunkSize)
	t.free = append(t.free, slot)
	t.n--
	return true
}

// publish returns a view of the table as it is; the rows it shares are
// copied before they are next written.
func (t *vehicleTable) publish() Vehicles {
	v := Vehicles{rows: slices.Clone(t.rows), pts: slices.Clone(t.pts), n: t.n}
	t.gen++
	return v
}

package model

import (
	"iter"
	"slices"
	"strings"
)

// chunkSize is how many vehicles a chunk of the table holds. A write to a
// chunk that a published view still shares copies the chunk first, so the
// chunk is what one report can cost in copying (16 × 144 B); the view's
// chunk list is what a frame costs (8 B per 16 vehicles).
const chunkSize = 16

// vehicleChunk is a block of the table's rows; a row with an empty
// VehicleID is free.
type vehicleChunk [chunkSize]VehiclePosition

// Vehicles is an immutable view of a fleet's vehicles at one moment: what a
// frame reads. Views share the rows that did not change between them, so
// taking one costs a list of chunk pointers, not a copy of the fleet, and
// ingest goes on while readers hold it. Readers must not modify the rows
// they are given.
type Vehicles struct {
	chunks []*vehicleChunk
	n      int
}

// VehiclesOf returns a view of rows (copied), in their order.
func VehiclesOf(rows []VehiclePosition) Vehicles {
	v := Vehicles{n: len(rows)}
	for i := 0; i < len(rows); i += chunkSize {
		c := new(vehicleChunk)
		copy(c[:], rows[i:min(i+chunkSize, len(rows))])
		v.chunks = append(v.chunks, c)
	}
	return v
}

// Len returns the number of vehicles.
func (v Vehicles) Len() int { return v.n }

// All yields every vehicle, in no particular order (the order of the
// fleet's slots, stable for a vehicle while it stays).
func (v Vehicles) All() iter.Seq[*VehiclePosition] {
	return func(yield func(*VehiclePosition) bool) {
		for _, c := range v.chunks {
			for i := range c {
				if c[i].VehicleID != "" && !yield(&c[i]) {
					return
				}
			}
		}
	}
}

// Find returns the vehicle with the id, or nil. It looks at every vehicle:
// for one selected vehicle a frame, not for many.
func (v Vehicles) Find(id string) *VehiclePosition {
	if id == "" {
		return nil
	}
	for p := range v.All() {
		if p.VehicleID == id {
			return p
		}
	}
	return nil
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

// vehicleTable is the fleet's side of Vehicles: rows in chunks, found by
// id, written in place when no published view shares their chunk and
// copied first when one does. gen counts publications; owned[c] is the gen
// in which chunk c was last copied (or made): a chunk owned in an earlier
// gen is shared with a view.
type vehicleTable struct {
	ids    map[string]int32
	chunks []*vehicleChunk
	owned  []uint64
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
	return &t.chunks[slot/chunkSize][slot%chunkSize]
}

// row returns slot's row for writing.
func (t *vehicleTable) row(slot int32) *VehiclePosition {
	c := slot / chunkSize
	if t.owned[c] != t.gen {
		cp := *t.chunks[c]
		t.chunks[c] = &cp
		t.owned[c] = t.gen
	}
	return &t.chunks[c][slot%chunkSize]
}

// put stores the vehicle's row, taking a slot for a new vehicle.
func (t *vehicleTable) put(v VehiclePosition) {
	slot, ok := t.ids[v.VehicleID]
	if !ok {
		if n := len(t.free); n > 0 {
			slot = t.free[n-1]
			t.free = t.free[:n-1]
		} else {
			slot = int32(len(t.chunks) * chunkSize)
			t.chunks = append(t.chunks, new(vehicleChunk))
			t.owned = append(t.owned, t.gen)
			for i := chunkSize - 1; i > 0; i-- {
				t.free = append(t.free, slot+int32(i))
			}
		}
		t.ids[v.VehicleID] = slot
		t.n++
	}
	*t.row(slot) = v
}

// remove forgets the vehicle; it reports whether there was one.
func (t *vehicleTable) remove(id string) bool {
	slot, ok := t.ids[id]
	if !ok {
		return false
	}
	delete(t.ids, id)
	*t.row(slot) = VehiclePosition{}
	t.free = append(t.free, slot)
	t.n--
	return true
}

// publish returns a view of the table as it is; the rows it shares are
// copied before they are next written.
func (t *vehicleTable) publish() Vehicles {
	v := Vehicles{chunks: slices.Clone(t.chunks), n: t.n}
	t.gen++
	return v
}

// Sample yields about n of the vehicles, spread over the table: whole
// chunks, every so many.
func (v Vehicles) Sample(n int) iter.Seq[*VehiclePosition] {
	return func(yield func(*VehiclePosition) bool) {
		stride := max(1, len(v.chunks)*chunkSize/max(n, 1))
		for k := 0; k < len(v.chunks); k += stride {
			c := v.chunks[k]
			for i := range c {
				if c[i].VehicleID != "" && !yield(&c[i]) {
					return
				}
			}
		}
	}
}

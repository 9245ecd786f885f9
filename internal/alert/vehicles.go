package alert

import (
	"iter"

	"github.com/fleetwatch/fleetwatch/internal/idtab"
)

// vehicleTable holds the detector's state of every vehicle. At a million
// vehicles the states are most of the detector's memory, so they hold no
// pointers (a line or a cold part by number, the id's bytes in an arena),
// in pages that never move: the collector need not scan them, a heap cap
// costs little, and a state's address stays valid while others come and
// go. A forgotten vehicle's slot is reused; slots never move, so a
// vehicle's number is stable for as long as it is known.
//
// The index (idtab.Index) finds a slot by id, where a Go map did: with
// 10 000 vehicles reporting every second neither stays in cache, and a map
// lookup, two cache misses, took a third of the detector's time.
type vehicleTable struct {
	// ids numbers the vehicles, shared with the fleet the detector watches
	// (NewSharing): its slots are the fleet's, and an id is kept once.
	ids    *idtab.Table
	holder idtab.Holder
	pages  []*[pageLen]vehicleState
	// seen is each slot's latest report time (0: none, or free), dense so
	// that Tick scans it for the silent few without touching the states,
	// and kept nowhere else; in pages too, which grow without a copy of the
	// rest (a slice of a million times grew by 10 MB at once). It and pages
	// cover the first n slots, those the detector was given, not
	// necessarily all of ids'.
	seen []*[pageLen]int64
	n    int
}

const (
	pageBits = 10
	pageLen  = 1 << pageBits
)

func newVehicleTable(ids *idtab.Table) *vehicleTable {
	return &vehicleTable{ids: ids, holder: ids.NewHolder()}
}

// id is the id of the vehicle in slot, which the detector holds. It shares
// the arena's memory: copy it (strings.Clone) to keep it past the vehicle.
func (t *vehicleTable) id(slot int32) string { return t.ids.ID(slot) }

// holds reports whether slot is one of the detector's vehicles.
func (t *vehicleTable) holds(slot int32) bool { return t.ids.Holds(slot, t.holder) }

// at is the state in slot.
func (t *vehicleTable) at(slot int32) *vehicleState {
	return &t.pages[slot>>pageBits][slot&(pageLen-1)]
}

// last is the time of v's latest report, in Unix nanoseconds: 0 before
// one, and once v is forgotten.
func (t *vehicleTable) last(v *vehicleState) int64 {
	if v.idx < 0 {
		return 0
	}
	return t.seen[v.idx>>pageBits][v.idx&(pageLen-1)]
}

// setLast files ts as the time of v's latest report.
func (t *vehicleTable) setLast(v *vehicleState, ts int64) {
	t.seen[v.idx>>pageBits][v.idx&(pageLen-1)] = ts
}

// lasts yields each slot's latest report time, 0 for none.
func (t *vehicleTable) lasts() iter.Seq2[int32, int64] {
	return func(yield func(int32, int64) bool) {
		for p, page := range t.seen {
			for i, ts := range page[:min(pageLen, t.n-p*pageLen)] {
				if !yield(int32(p*pageLen+i), ts) {
					return
				}
			}
		}
	}
}

// slots is how many slots the states cover, free ones included.
func (t *vehicleTable) slots() int { return t.n }

// get returns the state of vehicle id; nil if there is none.
func (t *vehicleTable) get(id string) *vehicleState {
	if slot, ok := t.ids.Get(id, t.holder); ok {
		return t.at(slot)
	}
	return nil
}

// add files vehicle id, which is not filed yet, and returns its new state.
func (t *vehicleTable) add(id string) *vehicleState {
	slot := t.ids.Hold(id, t.holder)
	for ; int(slot) >= t.n; t.n++ {
		if t.n == len(t.pages)*pageLen {
			t.pages = append(t.pages, new([pageLen]vehicleState))
			t.seen = append(t.seen, new([pageLen]int64))
		}
	}
	v := t.at(slot)
	*v = vehicleState{seg: -1, idx: slot}
	return v
}

// remove forgets v and frees its slot.
func (t *vehicleTable) remove(v *vehicleState) {
	slot := v.idx
	if slot < 0 {
		return
	}
	t.ids.Release(slot, t.holder)
	t.setLast(v, 0)
	*v = vehicleState{idx: -1}
}

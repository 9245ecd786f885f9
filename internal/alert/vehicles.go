package alert

import "hash/maphash"

// vehicleTable holds the detector's state of every vehicle. At a million
// vehicles the states are most of the detector's memory, so they hold no
// pointers (text by slot in ids, a line or a cold part by number), in pages
// that never move: the collector need not scan them, a heap cap costs
// little, and a state's address stays valid while others come and go. A
// forgotten vehicle's slot is reused; slots never move, so a vehicle's
// number is stable for as long as it is known.
//
// The index finds a slot by id, where a Go map did. With 10 000 vehicles
// reporting every second neither the index nor the states stay in cache, and
// what a report costs is mostly the memory it touches: a map lookup reads a
// group's control word and then the slot, two cache misses, and took a
// third of the detector's time. Here an entry is 8 bytes, the index is at
// most half full, and linear probing finds nearly every id in the entry its
// hash names. An entry's tag (the hash's upper half) lets a probe pass other
// ids without reading them.
type vehicleTable struct {
	seed  maphash.Seed
	index []indexEntry // a power of two of them
	n     int          // vehicles known
	pages []*[pageLen]vehicleState
	ids   []string // by slot; "" for a free slot
	// seen is each slot's latest report time (0: none, or free), dense so
	// that Tick scans it for the silent few without touching the states.
	seen []int64
	free []int32
}

type indexEntry struct {
	slot uint32 // the vehicle's slot + 1; 0: free
	tag  uint32
}

const (
	pageBits = 10
	pageLen  = 1 << pageBits
)

func newVehicleTable() vehicleTable {
	return vehicleTable{seed: maphash.MakeSeed(), index: make([]indexEntry, 64)}
}

// at is the state in slot.
func (t *vehicleTable) at(slot int32) *vehicleState {
	return &t.pages[slot>>pageBits][slot&(pageLen-1)]
}

// slots is how many slots there are, free ones included.
func (t *vehicleTable) slots() int { return len(t.ids) }

// get returns the state of vehicle id; nil if there is none.
func (t *vehicleTable) get(id string) *vehicleState {
	h := maphash.String(t.seed, id)
	mask := uint64(len(t.index) - 1)
	tag := uint32(h >> 32)
	for i := h & mask; ; i = (i + 1) & mask {
		e := t.index[i]
		if e.slot == 0 {
			return nil
		}
		if e.tag == tag && t.ids[e.slot-1] == id {
			return t.at(int32(e.slot - 1))
		}
	}
}

// add files vehicle id, which is not filed yet, and returns its new state.
func (t *vehicleTable) add(id string) *vehicleState {
	var slot int32
	if n := len(t.free); n > 0 {
		slot, t.free = t.free[n-1], t.free[:n-1]
		t.ids[slot] = id
	} else {
		slot = int32(len(t.ids))
		if slot>>pageBits == int32(len(t.pages)) {
			t.pages = append(t.pages, new([pageLen]vehicleState))
		}
		t.ids = append(t.ids, id)
		t.seen = append(t.seen, 0)
	}
	if 2*(t.n+1) > len(t.index) {
		old := t.index
		t.index = make([]indexEntry, 2*len(old))
		for _, e := range old {
			if e.slot != 0 {
				t.place(int32(e.slot - 1))
			}
		}
	}
	t.place(slot)
	t.n++
	v := t.at(slot)
	*v = vehicleState{seg: -1, idx: slot}
	return v
}

func (t *vehicleTable) place(slot int32) {
	h := maphash.String(t.seed, t.ids[slot])
	mask := uint64(len(t.index) - 1)
	i := h & mask
	for t.index[i].slot != 0 {
		i = (i + 1) & mask
	}
	t.index[i] = indexEntry{slot: uint32(slot) + 1, tag: uint32(h >> 32)}
}

// remove forgets v and frees its slot. The vehicles filed after it that
// probed past its index entry move back, so that no probe stops at the
// freed entry short of them.
func (t *vehicleTable) remove(v *vehicleState) {
	slot := v.idx
	if slot < 0 {
		return
	}
	mask := uint64(len(t.index) - 1)
	i := maphash.String(t.seed, t.ids[slot]) & mask
	for t.index[i].slot != uint32(slot)+1 {
		if t.index[i].slot == 0 {
			return // not filed
		}
		i = (i + 1) & mask
	}
	for j := i; ; {
		j = (j + 1) & mask
		e := t.index[j]
		if e.slot == 0 {
			break
		}
		// e may fill the hole at i unless its own entry lies after i, up to j.
		if home := maphash.String(t.seed, t.ids[e.slot-1]) & mask; (j-home)&mask >= (j-i)&mask {
			t.index[i] = e
			i = j
		}
	}
	t.index[i] = indexEntry{}
	t.n--
	t.ids[slot], t.seen[slot] = "", 0
	*v = vehicleState{idx: -1}
	t.free = append(t.free, slot)
}

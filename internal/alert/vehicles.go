package alert

import "hash/maphash"

// vehicleIndex finds a vehicle's state by its id, where a Go map did. With
// 10 000 vehicles reporting every second neither the index nor the states
// stay in cache, and what a report costs is mostly the memory it touches: a
// map lookup reads a group's control word and then the slot, two cache
// misses, and took a third of the detector's time. Here a slot is 16 bytes,
// the index is at most half full, and linear probing finds nearly every id
// in the slot its hash names: one miss, then the state, which the report
// reads anyway. A slot's tag (the hash's upper half) lets a probe pass
// other ids without reading their state.
type vehicleIndex struct {
	seed  maphash.Seed
	slots []vehicleSlot // a power of two of them
	n     int
}

type vehicleSlot struct {
	v   *vehicleState // nil: free
	tag uint32
}

func newVehicleIndex() vehicleIndex {
	return vehicleIndex{seed: maphash.MakeSeed(), slots: make([]vehicleSlot, 64)}
}

// get returns the state of vehicle id; nil if there is none.
func (x *vehicleIndex) get(id string) *vehicleState {
	h := maphash.String(x.seed, id)
	mask := uint64(len(x.slots) - 1)
	tag := uint32(h >> 32)
	for i := h & mask; ; i = (i + 1) & mask {
		s := &x.slots[i]
		if s.v == nil {
			return nil
		}
		if s.tag == tag && s.v.id == id {
			return s.v
		}
	}
}

// add files v, whose id is not filed yet.
func (x *vehicleIndex) add(v *vehicleState) {
	if 2*(x.n+1) > len(x.slots) {
		old := x.slots
		x.slots = make([]vehicleSlot, 2*len(old))
		for _, s := range old {
			if s.v != nil {
				x.place(s.v)
			}
		}
	}
	x.place(v)
	x.n++
}

func (x *vehicleIndex) place(v *vehicleState) {
	h := maphash.String(x.seed, v.id)
	mask := uint64(len(x.slots) - 1)
	i := h & mask
	for x.slots[i].v != nil {
		i = (i + 1) & mask
	}
	x.slots[i] = vehicleSlot{v: v, tag: uint32(h >> 32)}
}

// remove unfiles v. The vehicles filed after it that probed past its slot
// move back, so that no probe stops at the freed slot short of them.
func (x *vehicleIndex) remove(v *vehicleState) {
	mask := uint64(len(x.slots) - 1)
	i := maphash.String(x.seed, v.id) & mask
	for x.slots[i].v != v {
		if x.slots[i].v == nil {
			return // not filed
		}
		i = (i + 1) & mask
	}
	for j := i; ; {
		j = (j + 1) & mask
		s := x.slots[j]
		if s.v == nil {
			break
		}
		// s may fill the hole at i unless its own slot lies after i, up to j.
		if home := maphash.String(x.seed, s.v.id) & mask; (j-home)&mask >= (j-i)&mask {
			x.slots[i] = s
			i = j
		}
	}
	x.slots[i] = vehicleSlot{}
	x.n--
}

// Package idtab keeps a large fleet's vehicle ids without pointers: their
// bytes in an Arena, and an Index from id to slot. A million ids as Go
// strings, in a map and a slice, are three million pointers that every
// collection follows; the model's vehicle table and the alert detector kept
// that many, and at a million vehicles marking them was most of what a
// collection cost (BENCHMARKS.md).
package idtab

import (
	"hash/maphash"
	"slices"
	"unsafe"
)

// Ref is where an id's bytes lie in an Arena, in 8 bytes (a table keeps
// one for each of a million vehicles): the page (20 bits), the offset in
// it (16 bits: a page is 64 KB, or one longer id alone) and the length
// (28 bits: 256 MiB, beyond what sarama fetches in a response, 100 MiB).
// The zero Ref is "".
type Ref struct{ v uint64 }

func makeRef(page, off, n int) Ref { return Ref{uint64(page)<<44 | uint64(off)<<28 | uint64(n)} }

func (r Ref) page() int { return int(r.v >> 44) }
func (r Ref) off() int  { return int(r.v >> 28 & 0xffff) }
func (r Ref) len() int  { return int(r.v & (1<<28 - 1)) }

// pageSize is an arena page's size: large enough that the list of pages is
// short, small enough that the last page's unused tail is nothing.
const pageSize = 64 << 10

// Arena holds ids' bytes in pages that are written once and never changed:
// a string made over them (String) stays valid, and a view of the pages
// (Pages) can be read by other goroutines while the arena grows. Bytes of
// ids that are freed stay until Compact.
type Arena struct {
	pages [][]byte // each with len = bytes written
	live  int      // bytes of ids not freed
	dead  int
}

// Add copies id into the arena.
func (a *Arena) Add(id string) Ref {
	if id == "" {
		return Ref{}
	}
	last := len(a.pages) - 1
	if last < 0 || cap(a.pages[last])-len(a.pages[last]) < len(id) {
		a.pages = append(a.pages, make([]byte, 0, max(pageSize, len(id))))
		last++
	}
	p := a.pages[last]
	r := makeRef(last, len(p), len(id))
	a.pages[last] = append(p, id...)
	a.live += len(id)
	return r
}

// String is the id at r. It shares the arena's memory: no copy is made.
func (a *Arena) String(r Ref) string { return String(a.pages, r) }

// String is the id at r in pages, an Arena's Pages.
func String(pages [][]byte, r Ref) string {
	if r.len() == 0 {
		return ""
	}
	return unsafe.String(&pages[r.page()][r.off()], r.len())
}

// Pages is a view of the arena's pages, for another goroutine to read
// while the arena grows: every Ref made so far reads the same from it for
// good. It copies the list of pages (one a 64 KB of ids), not the ids.
func (a *Arena) Pages() [][]byte { return slices.Clone(a.pages) }

// Free counts r's bytes as no longer used.
func (a *Arena) Free(r Ref) {
	a.live -= r.len()
	a.dead += r.len()
}

// Wasteful reports whether freed ids take more room than the ones in use
// (and a page at least): time to Compact.
func (a *Arena) Wasteful() bool { return a.dead > a.live && a.dead > pageSize }

// Compact starts a new arena and moves each id in use into it: move is
// called with a function that copies an id's Ref into the new arena, and
// must call it for every Ref in use and store what it returns. Views and
// strings of the old arena stay valid.
func (a *Arena) Compact(move func(copy func(Ref) Ref)) {
	old := *a
	*a = Arena{}
	move(func(r Ref) Ref { return a.Add(old.String(r)) })
}

// Index finds a slot by its id with open addressing in 8-byte entries,
// where a Go map of strings would hold a pointer for each. The ids are
// the caller's: id(slot) tells a slot's id. A slot is a small integer
// (an int32 index of the caller's table).
type Index struct {
	seed    maphash.Seed
	entries []entry // a power of two of them, at most half full
	n       int
	id      func(slot int32) string
}

type entry struct {
	slot uint32 // the slot + 1; 0: free
	tag  uint32 // the hash's upper half: a probe passes other ids without reading them
}

// NewIndex returns an empty index over the ids id tells.
func NewIndex(id func(slot int32) string) *Index {
	return &Index{seed: maphash.MakeSeed(), entries: make([]entry, 64), id: id}
}

// Len is the number of slots filed.
func (x *Index) Len() int { return x.n }

// Get returns the slot of id; false if it is not filed.
func (x *Index) Get(id string) (int32, bool) {
	h := maphash.String(x.seed, id)
	mask := uint64(len(x.entries) - 1)
	tag := uint32(h >> 32)
	for i := h & mask; ; i = (i + 1) & mask {
		e := x.entries[i]
		if e.slot == 0 {
			return -1, false
		}
		if e.tag == tag && x.id(int32(e.slot-1)) == id {
			return int32(e.slot - 1), true
		}
	}
}

// Add files slot, whose id (as id tells it now) is not filed yet.
func (x *Index) Add(slot int32) {
	if 2*(x.n+1) > len(x.entries) {
		old := x.entries
		x.entries = make([]entry, 2*len(old))
		for _, e := range old {
			if e.slot != 0 {
				x.place(int32(e.slot - 1))
			}
		}
	}
	x.place(slot)
	x.n++
}

func (x *Index) place(slot int32) {
	h := maphash.String(x.seed, x.id(slot))
	mask := uint64(len(x.entries) - 1)
	i := h & mask
	for x.entries[i].slot != 0 {
		i = (i + 1) & mask
	}
	x.entries[i] = entry{slot: uint32(slot) + 1, tag: uint32(h >> 32)}
}

// Remove unfiles slot; id must still tell its id. The slots filed after it
// that probed past its entry move back, so that no probe stops at the
// freed entry short of them.
func (x *Index) Remove(slot int32) {
	mask := uint64(len(x.entries) - 1)
	i := maphash.String(x.seed, x.id(slot)) & mask
	for x.entries[i].slot != uint32(slot)+1 {
		if x.entries[i].slot == 0 {
			return // not filed
		}
		i = (i + 1) & mask
	}
	for j := i; ; {
		j = (j + 1) & mask
		e := x.entries[j]
		if e.slot == 0 {
			break
		}
		// e may fill the hole at i unless its own entry lies after i, up to j.
		if home := maphash.String(x.seed, x.id(int32(e.slot-1))) & mask; (j-home)&mask >= (j-i)&mask {
			x.entries[i] = e
			i = j
		}
	}
	x.entries[i] = entry{}
	x.n--
}

// Table numbers ids by slot for up to eight tables of one writer that
// keep what they know of each id in columns of their own, by the same
// slot: the fleet's vehicles, the alert detector's and the ETA model's.
// Each id is kept once, however many tables hold it (at a million
// vehicles, each table's own index and arena were 35 B a vehicle), and each
// table comes and goes as it will: a slot is freed, and reused, once no
// table holds it. The arena is compacted as ids come and go.
//
// Other goroutines read the ids through Views (the fleet's views of its
// vehicles do): the Refs lie in chunks that a View shares, copied before
// they are next written, as the fleet's rows are.
type Table struct {
	index   *Index
	arena   Arena
	refs    []*refChunk // by slot; the zero Ref for a free slot
	refGen  []uint64    // the View generation in which each chunk was made or copied
	gen     uint64      // Views taken, plus one: a chunk of an earlier gen is shared
	holds   []Holder    // by slot, free ones included: the holders' bits
	free    []int32
	holders Holder // the bits given out
}

// refChunkLen Refs make a chunk: a cache line, what a write after a View
// copies.
const refChunkLen = 8

type refChunk [refChunkLen]Ref

// Holder is one of the tables that share a Table's slots: a bit of its own.
type Holder uint8

// NewTable returns an empty table.
func NewTable() *Table {
	t := &Table{gen: 1}
	t.index = NewIndex(t.ID)
	return t
}

// NewHolder returns a holder for a table that shares t's slots.
func (t *Table) NewHolder() Holder {
	h := ^t.holders & (t.holders + 1) // the lowest bit not given out
	if h == 0 {
		panic("idtab: more than 8 holders of one table")
	}
	t.holders |= h
	return h
}

// ID is the id in slot ("" for a free one). It shares the arena's memory:
// copy it (strings.Clone) to keep it past the id's removal.
func (t *Table) ID(slot int32) string {
	return t.arena.String(t.refs[slot/refChunkLen][slot%refChunkLen])
}

// setRef writes slot's Ref, copying its chunk if a View shares it.
func (t *Table) setRef(slot int32, r Ref) {
	k := slot / refChunkLen
	if t.refGen[k] != t.gen {
		cp := *t.refs[k]
		t.refs[k], t.refGen[k] = &cp, t.gen
	}
	t.refs[k][slot%refChunkLen] = r
}

// View is the ids as they were when it was taken, for any goroutine to read
// while the table goes on changing. It copies the lists of chunks and
// pages, not the ids.
type View struct {
	refs  []*refChunk
	pages [][]byte
}

// View returns a view of the ids as they are.
func (t *Table) View() View {
	v := View{refs: slices.Clone(t.refs), pages: t.arena.Pages()}
	t.gen++
	return v
}

// ID is the id in slot as of the view: "" for a slot free then, or beyond.
func (v View) ID(slot int32) string {
	if k := int(slot / refChunkLen); k < len(v.refs) {
		return String(v.pages, v.refs[k][slot%refChunkLen])
	}
	return ""
}

// Slots is how many slots there are, free ones included: a holder's
// columns cover the slots it was given, not necessarily all of them.
func (t *Table) Slots() int { return len(t.holds) }

// Len is how many ids the table holds, for any holder.
func (t *Table) Len() int { return t.index.Len() }

// Get returns h's slot of id; false if h does not hold it.
func (t *Table) Get(id string, h Holder) (int32, bool) {
	slot, ok := t.index.Get(id)
	return slot, ok && t.holds[slot]&h != 0
}

// Holds reports whether h holds slot.
func (t *Table) Holds(slot int32, h Holder) bool { return t.holds[slot]&h != 0 }

// Hold gives h the slot of id, which h does not hold yet: the one another
// holder has, or a free one, or a new one at the end.
func (t *Table) Hold(id string, h Holder) int32 {
	slot, ok := t.index.Get(id)
	if !ok {
		if n := len(t.free); n > 0 {
			slot, t.free = t.free[n-1], t.free[:n-1]
		} else {
			slot = int32(len(t.holds))
			if slot%refChunkLen == 0 {
				t.refs = append(t.refs, new(refChunk))
				t.refGen = append(t.refGen, t.gen)
			}
			t.holds = append(t.holds, 0)
		}
		t.setRef(slot, t.arena.Add(id))
		t.index.Add(slot)
	}
	t.holds[slot] |= h
	return slot
}

// Release takes slot from h; once no holder has it, the id is forgotten and
// the slot is free.
func (t *Table) Release(slot int32, h Holder) {
	if t.holds[slot] &^= h; t.holds[slot] != 0 {
		return
	}
	k, i := slot/refChunkLen, slot%refChunkLen
	t.index.Remove(slot)
	t.arena.Free(t.refs[k][i])
	t.setRef(slot, Ref{})
	t.free = append(t.free, slot)
	if t.arena.Wasteful() {
		// Ids come and go (a ride-hailing fleet's do all day): the freed
		// ones would pile up in the arena. Views keep the old pages.
		t.arena.Compact(func(move func(Ref) Ref) {
			for k, c := range t.refs {
				for i, ref := range c {
					if ref != (Ref{}) {
						t.setRef(int32(k*refChunkLen+i), move(ref))
					}
				}
			}
		})
	}
}

package view

import (
	"sync"
	"unsafe"

	"github.com/fleetwatch/fleetwatch/internal/model"
)

// What a frame derives from the shared state alone (zone counts, the
// vehicles' alert marks) is the same for every screen that draws that
// state: serve draws it for each of its viewers, 15 times a second, from
// one view of the fleet that changes a few times a second. A memo keeps the
// last few results, process-wide, so that it is worked out once per state
// instead of once per viewer per frame.

// memo maps keys to values computed once: the first screen to ask computes
// the value while the others that ask for the same key wait for it. It is
// safe for concurrent use; it knows nothing of the store, so ingest never
// waits on it.
type memo[K, V any] struct {
	same    func(a, b K) bool
	size    int
	mu      sync.Mutex
	entries []*memoEntry[K, V] // most recently used first
}

type memoEntry[K, V any] struct {
	key   K
	ready chan struct{} // closed once val is set, or the computation failed
	val   V
	ok    bool
}

// get returns the value for key, computing it unless a recent call did. A
// key must stay valid (its pointers keep what they point to alive) while it
// is in the memo; clone makes the memo's own copy of a key the caller may
// reuse.
func (m *memo[K, V]) get(key K, clone func(K) K, compute func() V) V {
	return m.getFit(key, clone, compute, nil)
}

// getFit is get for values that hold for their key only under a condition
// the key cannot say (a map's layer holds for a span of times): a value of
// the key that does not fit (fits false) is passed over, and the one
// computed instead is kept too, first. A nil fits takes every value.
func (m *memo[K, V]) getFit(key K, clone func(K) K, compute func() V, fits func(V) bool) V {
	m.mu.Lock()
	for i, e := range m.entries {
		if !m.same(e.key, key) {
			continue
		}
		select {
		case <-e.ready: // a value kept: entries whose computation failed are gone
			if fits != nil && !fits(e.val) {
				continue
			}
		default: // being computed: wait for it, outside the lock
		}
		copy(m.entries[1:i+1], m.entries[:i])
		m.entries[0] = e
		m.mu.Unlock()
		<-e.ready
		if e.ok && (fits == nil || fits(e.val)) {
			return e.val
		}
		// The computation it waited for failed, or its value does not fit
		// (rare: a vehicle turned stale between two viewers' frames): its own.
		return compute()
	}
	e := &memoEntry[K, V]{key: clone(key), ready: make(chan struct{})}
	if len(m.entries) < m.size {
		m.entries = append(m.entries, nil)
	}
	copy(m.entries[1:], m.entries)
	m.entries[0] = e
	m.mu.Unlock()
	defer func() {
		if !e.ok { // compute panicked: forget the entry, free those waiting
			m.mu.Lock()
			for i, x := range m.entries {
				if x == e {
					m.entries = append(m.entries[:i], m.entries[i+1:]...)
					break
				}
			}
			m.mu.Unlock()
		}
		close(e.ready)
	}()
	e.val = compute()
	e.ok = true
	return e.val
}

// vehiclesKey tells views of the vehicle table apart by what they hold,
// without copying it: a view's position chunks are never written (the
// table copies a chunk that a view shares before writing it), and a write
// to any of a vehicle's fields (line, speed, status, id) writes its
// position chunk too (model's vehicleTable.write), so two views with the
// same chunks, in the same order, hold the same vehicles. The key holds
// the chunks where each run of adjacent ones starts, with their index:
// enough to tell every sequence of chunks apart, and a few pointers per
// page of the table instead of one per chunk. Holding them keeps their
// memory from being reused for another view's chunks while the key lives.
//
// A model.Vehicles method telling whether two views are one would say the
// same without relying on how the table writes.
type vehiclesKey struct {
	n, chunks int
	starts    []chunkAt
}

type chunkAt struct {
	slot int
	pc   *model.PointChunk
}

// of fills k (reusing its memory) with the key of vehicles.
func (k *vehiclesKey) of(vehicles model.Vehicles) {
	k.n, k.chunks, k.starts = vehicles.Len(), 0, k.starts[:0]
	var prev uintptr
	for slot, pc := range vehicles.PointChunks() {
		p := uintptr(unsafe.Pointer(pc))
		if k.chunks == 0 || p != prev+unsafe.Sizeof(model.PointChunk{}) {
			k.starts = append(k.starts, chunkAt{slot, pc})
		}
		prev = p
		k.chunks++
	}
}

func (k vehiclesKey) same(o vehiclesKey) bool {
	if k.n != o.n || k.chunks != o.chunks || len(k.starts) != len(o.starts) {
		return false
	}
	for i := range k.starts {
		if k.starts[i] != o.starts[i] {
			return false
		}
	}
	return true
}

func (k vehiclesKey) clone() vehiclesKey {
	k.starts = append([]chunkAt(nil), k.starts...)
	return k
}

package idtab

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// An index and an arena together answer as a map would through adds and
// removes in any order, growing, removals that move back the ids probed
// past them, and compactions; a view taken before reads as it did.
func TestIndexAndArena(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var a Arena
	var refs []Ref // by slot
	var free []int32
	x := NewIndex(func(slot int32) string { return a.String(refs[slot]) })
	want := map[string]int32{}
	type seen struct {
		pages [][]byte
		refs  []Ref
		ids   []string
	}
	var views []seen
	for i := range 200000 {
		id := fmt.Sprintf("v%d", rng.IntN(5000))
		if rng.IntN(100) == 0 {
			id = strings.Repeat("x", pageSize+rng.IntN(10)) + id // longer than a page
		}
		slot, ok := want[id]
		switch {
		case !ok:
			if n := len(free); n > 0 {
				slot, free = free[n-1], free[:n-1]
			} else {
				slot = int32(len(refs))
				refs = append(refs, Ref{})
			}
			refs[slot] = a.Add(id)
			x.Add(slot)
			want[id] = slot
		case rng.IntN(3) == 0:
			x.Remove(slot)
			a.Free(refs[slot])
			refs[slot] = Ref{}
			free = append(free, slot)
			delete(want, id)
		}
		if a.Wasteful() {
			a.Compact(func(move func(Ref) Ref) {
				for s := range refs {
					refs[s] = move(refs[s])
				}
			})
		}
		wantSlot, wantOK := want[id]
		if got, ok := x.Get(id); ok != wantOK || (ok && (got != wantSlot || a.String(refs[got]) != id)) {
			t.Fatalf("op %d: Get(%.20s) = %d, %t; want %d, %t", i, id, got, ok, wantSlot, wantOK)
		}
		if i%20000 == 0 {
			for id, slot := range want {
				if got, ok := x.Get(id); !ok || got != slot {
					t.Fatalf("op %d: Get(%.20s) = %d, %t; want %d", i, id, got, ok, slot)
				}
			}
			if x.Len() != len(want) {
				t.Fatalf("op %d: %d filed, want %d", i, x.Len(), len(want))
			}
			v := seen{pages: a.Pages(), refs: append([]Ref(nil), refs...)}
			for _, r := range refs {
				v.ids = append(v.ids, a.String(r))
			}
			views = append(views, v)
		}
	}
	if _, ok := x.Get("nobody"); ok {
		t.Fatal("an id never filed is found")
	}
	for n, v := range views {
		for s, r := range v.refs {
			if got := String(v.pages, r); got != v.ids[s] {
				t.Fatalf("view %d, slot %d: %.20q, was %.20q", n, s, got, v.ids[s])
			}
		}
	}
	if a.dead > a.live+pageSize {
		t.Fatalf("never compacted: %d bytes freed, %d in use", a.dead, a.live)
	}
}

func TestEmptyID(t *testing.T) {
	var a Arena
	if r := a.Add(""); r != (Ref{}) || a.String(r) != "" || String(nil, r) != "" {
		t.Fatalf("the empty id: %+v", r)
	}
}

// Two holders share a table's slots: each finds only the ids it holds, an
// id both hold has one slot, a slot is reused only once neither holds it,
// and ids stay right through the compactions churn brings. A View reads as
// it did when taken, whatever came after.
func TestTable(t *testing.T) {
	tab := NewTable()
	a, b := tab.NewHolder(), tab.NewHolder()
	if a == b || a == 0 || b == 0 {
		t.Fatalf("holders %b and %b", a, b)
	}
	held := map[Holder]map[string]int32{a: {}, b: {}}
	type taken struct {
		view View
		ids  map[int32]string
	}
	var views []taken
	compactions := 0
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range 200000 {
		if i%20000 == 0 {
			v := taken{tab.View(), map[int32]string{}}
			for slot := range int32(tab.Slots()) {
				v.ids[slot] = tab.ID(slot)
			}
			views = append(views, v)
		}
		id := fmt.Sprintf("vehicle-%d", rng.IntN(2000))
		h, other := a, b
		if rng.IntN(2) == 0 {
			h, other = b, a
		}
		if slot, ok := held[h][id]; ok {
			pages := len(tab.arena.pages)
			tab.Release(slot, h)
			if len(tab.arena.pages) < pages {
				compactions++
			}
			delete(held[h], id)
			continue
		}
		slot := tab.Hold(id, h)
		if o, ok := held[other][id]; ok && o != slot {
			t.Fatalf("op %d: %s held in slot %d and %d", i, id, o, slot)
		}
		held[h][id] = slot
	}
	ids := map[string]bool{}
	for h, want := range held {
		for id, slot := range want {
			ids[id] = true
			if got, ok := tab.Get(id, h); !ok || got != slot || tab.ID(slot) != id {
				t.Fatalf("%s: slot %d, %t, want %d (which holds %q)", id, got, ok, slot, tab.ID(slot))
			}
		}
		for slot := range int32(tab.Slots()) {
			id := tab.ID(slot)
			if w, ok := want[id]; tab.Holds(slot, h) != (ok && w == slot) {
				t.Fatalf("slot %d (%q): held %t", slot, id, tab.Holds(slot, h))
			}
		}
	}
	for n, v := range views {
		for slot, id := range v.ids {
			if got := v.view.ID(slot); got != id {
				t.Fatalf("view %d, slot %d: %q, was %q", n, slot, got, id)
			}
		}
		if got := v.view.ID(int32(len(v.ids) + refChunkLen)); got != "" {
			t.Fatalf("view %d: a slot beyond it reads %q", n, got)
		}
	}
	if _, ok := tab.Get("vehicle-none", a); ok {
		t.Fatal("an id never held is found")
	}
	if tab.Len() != len(ids) || tab.Slots() > 2000 {
		t.Fatalf("%d ids in %d slots, want %d in at most 2000", tab.Len(), tab.Slots(), len(ids))
	}
	if compactions == 0 || tab.arena.dead > tab.arena.live+pageSize {
		t.Fatalf("%d compactions: %d bytes freed, %d in use", compactions, tab.arena.dead, tab.arena.live)
	}
}

package alert

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/fleetwatch/fleetwatch/internal/model"
)

// The table answers as a map would through adds and removes in any order,
// growing past a page, and removals that move back the ids probed past
// them; a state stays where it is while others come and go, and freed
// slots are reused.
func TestVehicleTable(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	x := newVehicleTable()
	want := map[string]*vehicleState{}
	for i := range 100000 {
		id := fmt.Sprintf("v%d", rng.IntN(3000))
		v, ok := want[id]
		switch {
		case !ok:
			v = x.add(id)
			v.lat = float64(len(id)) // a mark of its own, to see that it stays
			want[id] = v
		case rng.IntN(3) == 0:
			x.remove(v)
			delete(want, id)
		}
		if i%1000 == 0 {
			for id, v := range want {
				if got := x.get(id); got != v || x.id(v.idx) != id || v.lat != float64(len(id)) {
					t.Fatalf("op %d: get(%s) = %p (%+v), want %p", i, id, got, got, v)
				}
			}
			inUse := 0
			for slot := range x.slots() {
				if x.id(int32(slot)) != "" {
					inUse++
				}
			}
			if x.ids.Len() != len(want) || inUse != len(want) {
				t.Fatalf("op %d: %d filed, %d slots in use, want %d", i, x.ids.Len(), inUse, len(want))
			}
		}
		if got := x.get(id); got != want[id] {
			t.Fatalf("op %d: get(%s) = %p, want %p", i, id, got, want[id])
		}
	}
	if x.get("nobody") != nil {
		t.Fatal("an id never filed is found")
	}
	if x.slots() > 3000 || x.slots() < pageLen {
		t.Fatalf("%d slots for at most 3000 vehicles at once", x.slots())
	}
}

// A vehicle forgotten and heard from again is judged afresh, whatever
// order the reports come in: the vehicle that followed another last time
// is only a guess.
func TestReporterOrder(t *testing.T) {
	d := New(DefaultConfig(), testNet())
	ids := []string{"a", "b", "c", "d"}
	heard := func(s int) {
		t.Helper()
		for _, id := range ids {
			v := d.vehicles.get(id)
			if v == nil || v.idx < 0 || d.vehicles.at(v.idx) != v || d.id(v) != id || d.vehicles.last(v) != t0.Add(time.Duration(s)*time.Second).UnixNano() {
				t.Fatalf("second %d: %s is not known as reporting then: %+v", s, id, v)
			}
		}
	}
	// b runs late, then leaves service; the others go on in the same order.
	for s := range 8 {
		for _, id := range ids {
			p := pos(id, "east", float64(s), 100*float64(s), 0)
			if id == "b" {
				p = delayed(p, 600)
			}
			d.Apply(p)
		}
	}
	heard(7)
	if d.State("b") != Late {
		t.Fatalf("b is %q before leaving", d.State("b"))
	}
	d.Apply(model.VehicleRemoved{VehicleID: "b"})
	if d.vehicles.get("b") != nil {
		t.Fatal("b is still known")
	}
	for s := 8; s < 10; s++ {
		for _, id := range ids {
			d.Apply(pos(id, "east", float64(s), 100*float64(s), 0))
		}
	}
	heard(9)
	// Another order every second, with a newcomer each time.
	rng := rand.New(rand.NewPCG(5, 6))
	for s := 10; s < 40; s++ {
		order := append([]string{fmt.Sprintf("new%d", s)}, ids...)
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, id := range order {
			d.Apply(pos(id, "east", float64(s), 100*float64(s%20), 0))
		}
	}
	heard(39)
	for slot := range d.vehicles.slots() {
		if id := d.vehicles.id(int32(slot)); id != "" && d.vehicles.get(id) != d.vehicles.at(int32(slot)) {
			t.Fatalf("%s: filed as %p, its state is %p", id, d.vehicles.get(id), d.vehicles.at(int32(slot)))
		}
	}
}

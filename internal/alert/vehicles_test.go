package alert

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/fleetwatch/fleetwatch/internal/idtab"
	"github.com/fleetwatch/fleetwatch/internal/model"
	"github.com/fleetwatch/fleetwatch/internal/network"
)

// The table answers as a map would through adds and removes in any order,
// growing past a page, and removals that move back the ids probed past
// them; a state stays where it is while others come and go, and freed
// slots are reused. Its ids are shared with another holder (a fleet) that
// holds some of the same vehicles and some others: the detector finds only
// its own, in the slots the fleet has for them.
func TestVehicleTable(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	ids := idtab.NewTable()
	fleet := ids.NewHolder()
	x := newVehicleTable(ids)
	want := map[string]*vehicleState{}
	fleetHas := map[string]int32{}
	for i := range 100000 {
		id := fmt.Sprintf("v%d", rng.IntN(3000))
		if rng.IntN(4) == 0 {
			if slot, ok := fleetHas[id]; ok {
				ids.Release(slot, fleet)
				delete(fleetHas, id)
			} else {
				fleetHas[id] = ids.Hold(id, fleet)
			}
			continue
		}
		v, ok := want[id]
		switch {
		case !ok:
			v = x.add(id)
			v.lat = int32(len(id)) // a mark of its own, to see that it stays
			want[id] = v
			if slot, ok := fleetHas[id]; ok && slot != v.idx {
				t.Fatalf("op %d: %s in slot %d, the fleet's is %d", i, id, v.idx, slot)
			}
		case rng.IntN(3) == 0:
			x.remove(v)
			delete(want, id)
		}
		if i%1000 == 0 {
			for id, v := range want {
				if got := x.get(id); got != v || x.id(v.idx) != id || v.lat != int32(len(id)) {
					t.Fatalf("op %d: get(%s) = %p (%+v), want %p", i, id, got, got, v)
				}
			}
			inUse := 0
			for slot := range x.slots() {
				if x.holds(int32(slot)) {
					inUse++
				}
			}
			if inUse != len(want) {
				t.Fatalf("op %d: %d slots in use, want %d", i, inUse, len(want))
			}
		}
		if got := x.get(id); got != want[id] {
			t.Fatalf("op %d: get(%s) = %p, want %p", i, id, got, want[id])
		}
	}
	if x.get("nobody") != nil {
		t.Fatal("an id never filed is found")
	}
	for id := range fleetHas {
		if _, ok := want[id]; !ok && x.get(id) != nil {
			t.Fatalf("%s, the fleet's alone, is found", id)
		}
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

// sharing reads as the live screen does: a fleet and a detector that shares
// its vehicle numbering (NewSharing), fed the same events, the fleet
// forgetting vehicles silent for expire (long before the detector does),
// so that slots are held by one, the other or both, and freed and reused.
type sharing struct {
	inOrder
	fleet   *model.Fleet
	expire  time.Duration
	expired int
}

func (r *sharing) event(kind model.Kind, key string, ev model.Event) {
	r.fleet.Apply(ev)
	r.inOrder.event(kind, key, ev)
}

func (r *sharing) tick(now time.Time) {
	if r.fleet.Expire(now.Add(-r.expire)) {
		r.expired++
	}
	r.inOrder.tick(now)
}

// A detector numbering its vehicles by a fleet's slots judges as one with
// its own.
func TestSharingAFleetsIDsChangesNoAlert(t *testing.T) {
	const incidents = "off_route:4,no_progress:2,bunched:2,late:3,early:3,feed_silent:2,stale:6"
	alone := simulate(t, 4, 2*time.Hour, incidents, &inOrder{det: New(DefaultConfig(), network.Default())})
	f := model.NewFleet()
	r := &sharing{inOrder: inOrder{det: NewSharing(DefaultConfig(), network.Default(), f.IDs())}, fleet: f, expire: 20 * time.Second}
	shared := simulate(t, 4, 2*time.Hour, incidents, r)
	if len(alone.alerts) < 20 || r.expired == 0 {
		t.Fatalf("%d alerts, %d expiries: too few to tell", len(alone.alerts), r.expired)
	}
	if !reflect.DeepEqual(alone.alerts, shared.alerts) {
		for i := range min(len(alone.alerts), len(shared.alerts)) {
			if !reflect.DeepEqual(alone.alerts[i], shared.alerts[i]) {
				t.Fatalf("alert %d of %d/%d: alone %+v, sharing %+v", i, len(alone.alerts), len(shared.alerts), alone.alerts[i], shared.alerts[i])
			}
		}
		t.Fatalf("alone %d alerts, sharing %d", len(alone.alerts), len(shared.alerts))
	}
}

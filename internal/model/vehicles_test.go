package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

// Views taken while the fleet changes keep what they showed, whatever is
// written, removed or expired after them (and the ids compacted); and the line figures kept as
// reports come equal those counted from the vehicles.
func TestVehicleViewsStayAsTaken(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	f := NewFleet()
	want := map[string]VehiclePosition{}
	type taken struct {
		snap Snapshot
		want map[string]VehiclePosition
	}
	var views []taken
	clock := 0
	for step := range 20000 {
		// Long ids: those removed fill the id arena's pages, which are
		// compacted while views still read the old ones.
		id := fmt.Sprintf("v%03d-%060d", rng.IntN(300), 0)
		switch r := rng.IntN(100); {
		case r < 85:
			clock += rng.IntN(2)
			v := VehiclePosition{VehicleID: id, Line: fmt.Sprintf("l%d", rng.IntN(4)), Lat: math.Round(rng.Float64()*1e7) / 1e7, // a feed's seven decimals
				SpeedKmh: float64(rng.IntN(80)), TS: t0.Add(time.Duration(clock) * time.Second)}
			if rng.IntN(3) > 0 {
				v.Has |= HasSpeed
			}
			if rng.IntN(10) == 0 {
				v.Line = ""
			}
			f.Apply(v)
			want[id] = v
		case r < 95:
			f.Apply(VehicleRemoved{VehicleID: id})
			delete(want, id)
		default:
			before := t0.Add(time.Duration(clock-60) * time.Second)
			f.Expire(before)
			for id, v := range want {
				if v.TS.Before(before) {
					delete(want, id)
				}
			}
		}
		if step%500 == 0 {
			w := make(map[string]VehiclePosition, len(want))
			for k, v := range want {
				w[k] = v
			}
			views = append(views, taken{f.Snapshot(), w})
		}
	}
	views = append(views, taken{f.Snapshot(), want})
	for i, v := range views {
		if v.snap.Vehicles.Len() != len(v.want) {
			t.Fatalf("view %d: %d vehicles, want %d", i, v.snap.Vehicles.Len(), len(v.want))
		}
		n := 0
		lines := map[string]LineStats{}
		speeds := map[string]int{}
		for p := range v.snap.Vehicles.All() {
			n++
			if w, ok := v.want[p.VehicleID]; !ok || w != *p {
				t.Fatalf("view %d: %+v, want %+v", i, *p, w)
			}
			if p.Line != "" {
				ls := lines[p.Line]
				ls.Vehicles++
				if p.Has&HasSpeed != 0 {
					ls.AvgSpeedKmh += p.SpeedKmh
					speeds[p.Line]++
				}
				lines[p.Line] = ls
			}
		}
		if n != len(v.want) {
			t.Fatalf("view %d: yielded %d vehicles, want %d", i, n, len(v.want))
		}
		n = 0
		var p VehiclePosition
		for slot, ll := range v.snap.Vehicles.Points() {
			n++
			if !v.snap.Vehicles.At(slot, &p) || ll != (LonLat{float32(p.Lon), float32(p.Lat)}) || v.snap.Vehicles.ID(slot) != p.VehicleID {
				t.Fatalf("view %d: slot %d at %v holds %+v", i, slot, ll, p)
			}
		}
		if n != len(v.want) || v.snap.Vehicles.At(-1, &p) || v.snap.Vehicles.At(1<<30, &p) {
			t.Fatalf("view %d: %d points, want %d", i, n, len(v.want))
		}
		if len(v.snap.Lines) != len(lines) {
			t.Fatalf("view %d: %d lines, want %d", i, len(v.snap.Lines), len(lines))
		}
		for _, l := range v.snap.Lines {
			w := lines[l.Line]
			if speeds[l.Line] > 0 {
				w.AvgSpeedKmh /= float64(speeds[l.Line])
			}
			if l.Vehicles != w.Vehicles || l.AvgSpeedKmh-w.AvgSpeedKmh > 1e-9 || w.AvgSpeedKmh-l.AvgSpeedKmh > 1e-9 {
				t.Fatalf("view %d: line %s %d vehicles at %v km/h, want %d at %v", i, l.Line, l.Vehicles, l.AvgSpeedKmh, w.Vehicles, w.AvgSpeedKmh)
			}
		}
	}
}

// A view of rows lists them all, finds each by id and sorts them by id.
func TestVehiclesOf(t *testing.T) {
	var rows []VehiclePosition
	for i := range 37 {
		rows = append(rows, VehiclePosition{VehicleID: fmt.Sprintf("v%02d", 36-i)})
	}
	v := VehiclesOf(rows)
	sorted := v.Rows()
	if v.Len() != 37 || len(sorted) != 37 || sorted[0].VehicleID != "v00" || sorted[36].VehicleID != "v36" {
		t.Fatalf("%d vehicles, sorted %d", v.Len(), len(sorted))
	}
	if p, ok := v.Find("v17"); !ok || p.VehicleID != "v17" {
		t.Fatal("Find")
	}
	if _, ok := v.Find("nope"); ok {
		t.Fatal("Find of an unknown id")
	}
	if _, ok := v.Find(""); ok {
		t.Fatal("Find of no id")
	}
	n := 0
	for range v.Sample(1) {
		n++
	}
	if n == 0 || n > chunkSize {
		t.Fatalf("a sample of 1 gave %d vehicles", n)
	}
}

// A view's publication number names it alone: copies of a view share it,
// every other view (of this table or another, changed or not) has its own,
// and the zero view has 0.
func TestVehiclesPublication(t *testing.T) {
	if n := (Vehicles{}).Publication(); n != 0 {
		t.Fatalf("zero Vehicles: publication %d, want 0", n)
	}
	f, g := NewFleet(), NewFleet()
	seen := map[uint64]bool{}
	check := func(v Vehicles) {
		t.Helper()
		n := v.Publication()
		if n == 0 || seen[n] {
			t.Fatalf("publication %d: zero or given before (%v)", n, seen)
		}
		seen[n] = true
		if cp := v; cp.Publication() != n {
			t.Fatalf("a copy of view %d has publication %d", n, cp.Publication())
		}
	}
	a := f.Snapshot().Vehicles
	check(a)
	check(f.Snapshot().Vehicles) // nothing changed: still another publication
	f.Apply(VehiclePosition{VehicleID: "a", Lat: 1, Lon: 2, TS: time.Unix(1, 0)})
	check(f.Snapshot().Vehicles)
	g.Apply(VehiclePosition{VehicleID: "a", Lat: 1, Lon: 2, TS: time.Unix(1, 0)})
	check(g.Snapshot().Vehicles) // the same vehicles in another table
	check(VehiclesOf([]VehiclePosition{{VehicleID: "b"}}))
	if a.Len() != 0 {
		t.Fatalf("the first view changed: %d vehicles", a.Len())
	}
}

// A row gives back what feeds send: positions with up to seven decimals,
// speeds, headings, delays and occupancies with up to seven digits; other
// values to within a centimetre or float32's precision. widen reads a
// float32 as strconv's shortest decimal for it would, for any float32.
func TestRowsKeepWhatFeedsSend(t *testing.T) {
	tests := []struct {
		in    VehiclePosition
		exact bool
	}{
		{VehiclePosition{Lat: 41.8781136, Lon: -87.6297982, SpeedKmh: 32.7, Heading: 271.5, DelayS: -45, Occupancy: 0.63}, true},
		{VehiclePosition{Lat: -33.8688, Lon: 151.2093, SpeedKmh: 0.1, Heading: 0, DelayS: 3600.25, Occupancy: 1.2}, true},
		{VehiclePosition{Lat: 90, Lon: -180, SpeedKmh: 123456.7, Heading: 359.99, DelayS: 0.0001, Occupancy: 0}, true},
		{VehiclePosition{Lat: 41.87811361234, Lon: -87.62979824321, SpeedKmh: 32.123456789, DelayS: 1e-9}, false},
	}
	for _, tt := range tests {
		tt.in.VehicleID, tt.in.Has = "v", HasSpeed|HasHeading|HasDelay|HasOccupancy
		var got VehiclePosition
		VehiclesOf([]VehiclePosition{tt.in}).At(0, &got)
		if tt.exact && got != tt.in {
			t.Errorf("kept %+v, read back %+v", tt.in, got)
		}
		near := func(a, b, tol float64) bool { return math.Abs(a-b) <= tol*max(1, math.Abs(b)) }
		if !near(got.Lat, tt.in.Lat, 1e-7) || !near(got.Lon, tt.in.Lon, 1e-7) || !near(got.SpeedKmh, tt.in.SpeedKmh, 1e-7) ||
			!near(got.DelayS, tt.in.DelayS, 1e-7) {
			t.Errorf("kept %+v, read back %+v", tt.in, got)
		}
	}
	// Beyond float32's range: the largest float32, not an infinity that
	// JSON cannot carry and that would leave the line's mean speed NaN once
	// subtracted from itself; and once it is gone, the line's mean is the
	// others', not what rounding left of them.
	f := NewFleet()
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	f.Apply(VehiclePosition{VehicleID: "a", Line: "blue", SpeedKmh: 1e39, DelayS: -1e300, Has: HasSpeed | HasDelay, TS: t0})
	f.Apply(VehiclePosition{VehicleID: "b", Line: "blue", SpeedKmh: 30, Has: HasSpeed, TS: t0})
	got, _ := f.Snapshot().Vehicles.Find("a")
	if math.IsInf(got.SpeedKmh, 0) || math.IsInf(got.DelayS, 0) || got.SpeedKmh < 3.4e38 || got.DelayS > -3.4e38 {
		t.Errorf("1e39 km/h read back as %v, a delay of -1e300 s as %v", got.SpeedKmh, got.DelayS)
	}
	f.Apply(VehiclePosition{VehicleID: "a", Line: "blue", SpeedKmh: 20, Has: HasSpeed, TS: t0.Add(time.Second)})
	if l := f.Snapshot().Lines[0]; l.AvgSpeedKmh != 25 {
		t.Errorf("line blue's mean speed once the 1e39 km/h is gone: %v, want 25", l.AvgSpeedKmh)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		f := math.Float32frombits(rng.Uint32())
		if f != f || math.IsInf(float64(f), 0) {
			continue
		}
		want, _ := strconv.ParseFloat(strconv.FormatFloat(float64(f), 'g', -1, 32), 64)
		if got := widen(f); got != want {
			t.Fatalf("widen(%v) = %v, want %v", f, got, want)
		}
		g := float32(rng.IntN(2000000)-1000000) / 100 // a speed or a delay of two decimals
		want, _ = strconv.ParseFloat(strconv.FormatFloat(float64(g), 'g', -1, 32), 64)
		if got := widen(g); got != want {
			t.Fatalf("widen(%v) = %v, want %v", g, got, want)
		}
	}
}

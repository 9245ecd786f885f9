package geo

import (
	"testing"

	"github.com/paulmach/orb"
)

func TestBulkBound(t *testing.T) {
	london := []orb.Point{{-0.141, 51.515}, {-0.128, 51.507}, {-0.075, 51.52}}
	nyc := func(n int) []orb.Point {
		var out []orb.Point
		for i := range n {
			out = append(out, orb.Point{-74.0 + float64(i%10)*0.01, 40.7 + float64(i/10)*0.01})
		}
		return out
	}
	chicago := func(n int) []orb.Point {
		var out []orb.Point
		for i := range n {
			out = append(out, orb.Point{-87.65 + float64(i%10)*0.01, 41.85 + float64(i/10)*0.01})
		}
		return out
	}
	tests := []struct {
		name    string
		pts     []orb.Point
		in, out []orb.Point // must be inside, must be left out
	}{
		{"three buses", london, london, nil},
		{"an outlier at 0,0", append([]orb.Point{{0, 0}}, london...), london, []orb.Point{{0, 0}}},
		{"one vehicle on another continent", append(nyc(100), orb.Point{151.2, -33.9}), nyc(100), []orb.Point{{151.2, -33.9}}},
		{"two cities both kept", append(nyc(60), chicago(40)...), append(nyc(60), chicago(40)...), nil},
		{"out of range ignored", append([]orb.Point{{500, 500}}, london...), london, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, ok := BulkBound(tc.pts)
			if !ok {
				t.Fatal("no bound")
			}
			for _, p := range tc.in {
				if !b.Contains(p) {
					t.Errorf("%v left out of %v", p, b)
				}
			}
			for _, p := range tc.out {
				if b.Contains(p) {
					t.Errorf("outlier %v inside %v", p, b)
				}
			}
		})
	}
	if _, ok := BulkBound(nil); ok {
		t.Error("a bound of no points")
	}
	one, _ := BulkBound([]orb.Point{{2.35, 48.85}})
	if w := one.Max[0] - one.Min[0]; w < minSpan*0.999 {
		t.Errorf("one vehicle: span %v, want at least %v", w, minSpan)
	}
}

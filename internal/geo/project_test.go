package geo

import (
	"math"
	"testing"

	"github.com/paulmach/orb"
)

// The projector agrees with Project inside the viewport, from a city block
// to the whole world, and tells what is outside.
func TestProjectorAgreesWithProject(t *testing.T) {
	for _, b := range []orb.Bound{
		{Min: orb.Point{-87.64, 41.87}, Max: orb.Point{-87.62, 41.89}},
		{Min: orb.Point{-88, 41.6}, Max: orb.Point{-87.5, 42.1}},
		{Min: orb.Point{-180, -80}, Max: orb.Point{180, 80}},
	} {
		v := Fit(b, 400, 240, 2)
		p := v.Projector()
		inside := 0
		for i := range 200 {
			for j := range 200 {
				lon := b.Min[0] - 0.1*(b.Max[0]-b.Min[0]) + 1.2*(b.Max[0]-b.Min[0])*float64(i)/199
				lat := b.Min[1] - 0.1*(b.Max[1]-b.Min[1]) + 1.2*(b.Max[1]-b.Min[1])*float64(j)/199
				wx, wy := v.Project(orb.Point{lon, lat})
				in := wx >= 0 && wy >= 0 && wx < float64(v.W) && wy < float64(v.H)
				x, y, ok := p.Project(lon, lat)
				if in && !ok {
					t.Fatalf("%v: %v,%v is in view at %.2f,%.2f but the projector says outside", b, lon, lat, wx, wy)
				}
				if !ok {
					continue
				}
				inside++
				if math.Abs(x-wx) > 0.01 || math.Abs(y-wy) > 0.01 {
					t.Fatalf("%v: %v,%v at %.4f,%.4f, Project says %.4f,%.4f", b, lon, lat, x, y, wx, wy)
				}
			}
		}
		if inside < 200*200/2 {
			t.Fatalf("%v: only %d points inside", b, inside)
		}
	}
	if p := (Viewport{}).Projector(); func() bool { _, _, ok := p.Project(0, 0); return ok }() {
		t.Error("an empty viewport holds a point")
	}
}

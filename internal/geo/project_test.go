package geo

import (
	"math"
	"math/rand"
	"testing"

	"github.com/paulmach/orb"
)

// The projector agrees with Project, from a city block to the whole world
// and on a tall screen: it finds the cell Project puts a point in, and
// tells what is outside, except within a small fraction of a dot of a
// dot's edge.
func TestProjectorAgreesWithProject(t *testing.T) {
	for _, b := range []orb.Bound{
		{Min: orb.Point{-87.64, 41.87}, Max: orb.Point{-87.62, 41.89}},
		{Min: orb.Point{-88, 41.6}, Max: orb.Point{-87.5, 42.1}},
		{Min: orb.Point{-180, -80}, Max: orb.Point{180, 80}},
	} {
		for _, size := range [][2]int{{400, 240}, {200, 2000}} {
			v := Fit(b, size[0], size[1], 2)
			p := v.Projector()
			inside := 0
			for i := range 200 {
				for j := range 200 {
					lon := b.Min[0] - 0.1*(b.Max[0]-b.Min[0]) + 1.2*(b.Max[0]-b.Min[0])*float64(i)/199
					lat := b.Min[1] - 0.1*(b.Max[1]-b.Min[1]) + 1.2*(b.Max[1]-b.Min[1])*float64(j)/199
					wx, wy := v.Project(orb.Point{lon, lat})
					edge := func(f float64) bool { return math.Abs(f-math.Round(f)) < 0.01 }
					if edge(wx) || edge(wy) {
						continue
					}
					in := wx >= 0 && wy >= 0 && wx < float64(v.W) && wy < float64(v.H)
					col, row, ok := p.Cell(lon, lat)
					if in != ok {
						t.Fatalf("%v: %v,%v at %.2f,%.2f: in view %v, the projector says %v", b, lon, lat, wx, wy, in, ok)
					}
					if !ok {
						continue
					}
					inside++
					if col != int(wx)/2 || row != int(wy)/4 {
						t.Fatalf("%v: %v,%v in cell %d,%d, Project says dot %.4f,%.4f", b, lon, lat, col, row, wx, wy)
					}
				}
			}
			if inside < 200*200/2 {
				t.Fatalf("%v: only %d points inside", b, inside)
			}
		}
	}
	for _, ll := range [][2]float64{{0, 0}, {math.NaN(), 0}, {0, math.NaN()}, {0, math.Inf(1)}} {
		if _, _, ok := (&Projector{}).Cell(ll[0], ll[1]); ok {
			t.Errorf("an empty viewport holds %v", ll)
		}
	}
	v := Fit(orb.Bound{Min: orb.Point{-88, 41.6}, Max: orb.Point{-87.5, 42.1}}, 400, 240, 2)
	p := v.Projector()
	for _, ll := range [][2]float64{{math.NaN(), 41.8}, {-87.7, math.NaN()}, {-87.7, math.Inf(1)}, {-87.7, math.Inf(-1)}, {-87.7, 1e300}} {
		if _, _, ok := p.Cell(ll[0], ll[1]); ok {
			t.Errorf("%v is in view", ll)
		}
	}
}

// A point falls in the cell of the interpolated y, exactly, so that frames
// do not change with how the projector works it out: random points and the
// float32 positions (as the vehicle table keeps them) either side of every
// dot's edges, in views from a city block to past the poles, on tall
// screens too.
func TestProjectorCellIsTheInterpolatedOne(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, b := range []orb.Bound{
		{Min: orb.Point{-87.64, 41.87}, Max: orb.Point{-87.62, 41.89}},
		{Min: orb.Point{-88, 41.6}, Max: orb.Point{-87.5, 42.1}},
		{Min: orb.Point{2.2, 48.8}, Max: orb.Point{2.5, 48.95}},
		{Min: orb.Point{-180, -80}, Max: orb.Point{180, 80}},
	} {
		for _, size := range [][2]int{{400, 240}, {77, 33}, {402, 242}, {100, 3000}} {
			v := Fit(b, size[0], size[1], 3)
			want := interpolated(v)
			p := v.Projector()
			check := func(lon, lat float32) {
				t.Helper()
				wc, wr, wok := want(float64(lon), float64(lat))
				col, row, ok := p.Cell(float64(lon), float64(lat))
				if ok != wok || ok && (col != wc || row != wr) {
					t.Fatalf("%v %v: %v,%v in cell %d,%d (%v), want %d,%d (%v)", b, size, lon, lat, col, row, ok, wc, wr, wok)
				}
			}
			w, h := b.Max[0]-b.Min[0], b.Max[1]-b.Min[1]
			for range 20_000 {
				check(float32(b.Min[0]-0.2*w+1.4*w*rng.Float64()), float32(b.Min[1]-0.2*h+1.4*h*rng.Float64()))
			}
			next := func(f float32, d int) float32 {
				for ; d > 0; d-- {
					f = math.Nextafter32(f, float32(math.Inf(1)))
				}
				for ; d < 0; d++ {
					f = math.Nextafter32(f, float32(math.Inf(-1)))
				}
				return f
			}
			for x := -2; x <= v.W+2; x += 1 + v.W/50 {
				for y := -2; y <= v.H+2; y += 1 + v.H/400 {
					ll := v.Unproject(float64(x), float64(y))
					for d := -2; d <= 2; d++ {
						check(next(float32(ll[0]), d), float32(ll[1]))
						check(float32(ll[0]), next(float32(ll[1]), d))
					}
				}
			}
		}
	}
}

// interpolated is the cell of a point by the projector's table, worked out
// point by point: y interpolated in 1 024 steps of the viewport's
// latitudes (beyond which nothing is in view), x affine in longitude.
func interpolated(v Viewport) func(lon, lat float64) (col, row int, ok bool) {
	nw, se := v.Unproject(-1, -1), v.Unproject(float64(v.W)+1, float64(v.H)+1)
	perStep := projectorSteps / (nw[1] - se[1])
	ys := make([]float64, projectorSteps+2)
	for i := range ys {
		_, ys[i] = v.Project(orb.Point{0, se[1] + float64(i)/perStep})
	}
	ax := 6378137.0 * math.Pi / 180 / v.MetersPerDot
	bx := float64(v.W)/2 - v.Center[0]/v.MetersPerDot
	return func(lon, lat float64) (int, int, bool) {
		if !(lon >= nw[0] && lon <= se[0] && lat >= se[1] && lat <= nw[1]) {
			return 0, 0, false
		}
		f := (lat - se[1]) * perStep
		i := int(f)
		x, y := ax*lon+bx, ys[i]+(ys[i+1]-ys[i])*(f-float64(i))
		if !(x >= 0 && y >= 0 && x < float64(v.W) && y < float64(v.H)) {
			return 0, 0, false
		}
		return int(x) / 2, int(y) / 4, true
	}
}

// Package geo holds the map's projection and the braille canvas it is drawn on.
package geo

import (
	"math"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/project"
)

// Viewport maps lon/lat to braille dot coordinates with Web Mercator. A
// braille cell is 2×4 dots and a terminal cell is about twice as tall as it
// is wide, so dots are square when Aspect is 1.
type Viewport struct {
	Center       orb.Point // Mercator metres
	MetersPerDot float64
	W, H         int     // canvas size in dots
	Aspect       float64 // a dot's height over its width; 1 for a 1:2 cell
}

// Fit returns the viewport that shows the lon/lat bound whole in a canvas of
// w×h dots, leaving margin dots free on every side.
func Fit(b orb.Bound, w, h, margin int) Viewport {
	lo := project.WGS84.ToMercator(b.Min)
	hi := project.WGS84.ToMercator(b.Max)
	v := Viewport{
		Center: orb.Point{(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2},
		W:      w, H: h, Aspect: 1,
	}
	uw := float64(max(w-2*margin, 1))
	uh := float64(max(h-2*margin, 1))
	mx := (hi[0] - lo[0]) / uw
	my := (hi[1] - lo[1]) / uh
	v.MetersPerDot = math.Max(math.Max(mx, my), 1e-6)
	return v
}

// Project returns the dot position of a lon/lat point (x right, y down).
// Points outside the viewport give coordinates outside [0,W)×[0,H).
func (v Viewport) Project(p orb.Point) (x, y float64) {
	m := project.WGS84.ToMercator(p)
	x = (m[0]-v.Center[0])/v.MetersPerDot + float64(v.W)/2
	y = float64(v.H)/2 - (m[1]-v.Center[1])/(v.MetersPerDot*v.Aspect)
	return x, y
}

// Unproject returns the lon/lat point at a dot position, the inverse of Project.
func (v Viewport) Unproject(x, y float64) orb.Point {
	m := orb.Point{
		(x-float64(v.W)/2)*v.MetersPerDot + v.Center[0],
		(float64(v.H)/2-y)*v.MetersPerDot*v.Aspect + v.Center[1],
	}
	return project.Mercator.ToWGS84(m)
}

// Projector puts many points into the braille cells (2×4 dots, as Canvas
// has them) of one viewport, for a frame of a large fleet. Mercator's x is
// affine in longitude. Its y is interpolated in a table of the viewport's
// latitudes, so that a point costs a few multiplications instead of a
// tangent and a logarithm, and agrees with Project to a small fraction of
// a dot. A point needs only its row of cells, though, not its y: the table
// is cut into parts in which the row changes at most once, each holding
// its rows and where in it the second begins, worked out from the
// interpolation when the projector is made. A point then costs one
// comparison where it cost the interpolation (a frame of a million
// vehicles waits on arithmetic, not memory), and falls in the row the
// interpolated y would give it.
type Projector struct {
	ax, bx, w     float64 // x = ax·lon + bx, in view in [0, w)
	lat0, perPart float64 // g = (lat - lat0)·perPart: part int(g)
	parts         []part
	rows          uint // rows of cells; a row outside [0, rows) is out of view
}

// part is a stretch of latitudes in which the row changes at most once.
type part struct {
	next      float64 // the g from which the row is then (+Inf: none)
	row, then int32   // -1 north of the view, rows south of it
}

// projectorSteps is the size of the latitude table: at a world view a step
// is a sixth of a degree, and Mercator bends little over one.
const projectorSteps = 1024

// Projector returns the projector of the viewport.
func (v Viewport) Projector() Projector {
	var p Projector
	if v.W <= 0 || v.H <= 0 || v.MetersPerDot <= 0 {
		return p // no parts: nothing is inside
	}
	// A dot's margin each way: the exact test is on x and y.
	nw, se := v.Unproject(-1, -1), v.Unproject(float64(v.W)+1, float64(v.H)+1)
	const r = 6378137.0 // orb's Mercator sphere
	p.ax = r * math.Pi / 180 / v.MetersPerDot
	p.bx = float64(v.W)/2 - v.Center[0]/v.MetersPerDot
	p.w = float64(v.W)
	p.rows = uint(v.H+3) / 4
	p.lat0 = se[1]
	span := nw[1] - se[1]
	if !(span > 0) {
		return p
	}
	perStep := projectorSteps / span
	ys := make([]float64, projectorSteps+2)
	for i := range ys {
		_, ys[i] = v.Project(orb.Point{0, p.lat0 + float64(i)/perStep})
	}
	// The interpolated y at f = (lat - lat0)·perStep, f in [0, projectorSteps+1).
	y := func(f float64) float64 {
		i := int(f)
		return ys[i] + (ys[i+1]-ys[i])*(f-float64(i))
	}
	// Parts of 1/k step: g = f·k is worked out exactly from lat (k is a
	// power of two), and g/k is f again. A step is a quarter of a dot at
	// a city's view, so one part a step does; a tall world view needs more.
	// Within a step y does not grow with f, so small enough parts always
	// do: a part never spans two steps.
	gMax := (nw[1] - p.lat0) * perStep
	for k := 1; ; k *= 2 {
		p.perPart = perStep * float64(k)
		row := func(g float64) int32 {
			// Outside the table's latitudes is outside the view, even where
			// the view reaches past Mercator's edge and y stops changing
			// (but for a latitude a rounding error north of its last).
			if g < 0 {
				return int32(p.rows)
			}
			if g/float64(k) > gMax {
				return -1
			}
			switch y := y(g / float64(k)); {
			case !(y >= 0):
				return -1
			case y >= float64(v.H):
				return int32(p.rows)
			default:
				return int32(int(y) >> 2)
			}
		}
		if p.parts = cutParts(row, (projectorSteps+1)*k); p.parts != nil {
			return p
		}
	}
}

// cutParts returns n parts of unit width in g, from 0, given a g's row,
// which does not grow with g; nil if the row changes more than once in a
// part. Part 0 starts at g = -1, as int(g) is 0 from there.
func cutParts(row func(g float64) int32, n int) []part {
	parts := make([]part, n)
	for j := range parts {
		lo, hi := float64(j), math.Nextafter(float64(j+1), 0)
		start := lo
		if j == 0 {
			start = -0.5
		}
		r0, r1 := row(start), row(hi)
		pt := part{next: math.Inf(1), row: r0, then: r0}
		if r0 != r1 {
			// The first g of row r1, from lo: g ≥ 0 orders as its bits.
			a, b := math.Float64bits(lo), math.Float64bits(hi)
			for a < b {
				if m := a + (b-a)/2; row(math.Float64frombits(m)) == r1 {
					b = m
				} else {
					a = m + 1
				}
			}
			before := start
			if b > math.Float64bits(lo) {
				before = math.Float64frombits(b - 1)
			}
			if row(before) != r0 {
				return nil
			}
			pt.next, pt.then = math.Float64frombits(b), r1
		}
		parts[j] = pt
	}
	return parts
}

// Cell returns the cell a lon/lat point falls in (col right, row down); ok
// is false for a point outside the viewport. It is small enough to be
// inlined in a loop over a million points. A NaN or far latitude gives a
// part out of range; one just south of the view (g in (-1, 0)) part 0,
// whose first row is south of the view too.
func (p *Projector) Cell(lon, lat float64) (col, row int, ok bool) {
	g := (lat - p.lat0) * p.perPart
	j := int(g)
	if uint(j) >= uint(len(p.parts)) {
		return
	}
	pt := p.parts[j]
	if g >= pt.next {
		pt.row = pt.then
	}
	x := p.ax*lon + p.bx
	return int(x) >> 1, int(pt.row), x >= 0 && x < p.w && uint(pt.row) < p.rows
}

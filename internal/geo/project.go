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

// Projector projects many points into one viewport, for a frame of a large
// fleet: Mercator's x is affine in longitude, and its y is interpolated in
// a table of the viewport's latitudes, so a point costs a few
// multiplications instead of a tangent and a logarithm; a point outside
// the viewport's longitudes or latitudes is told without projecting. It
// agrees with Project to a small fraction of a dot.
type Projector struct {
	lonMin, lonMax, latMin, latMax float64
	ax, bx                         float64 // x = ax·lon + bx
	lat0, perStep                  float64 // table steps per degree of latitude
	ys                             []float64
}

// projectorSteps is the size of the latitude table: at a world view a step
// is a sixth of a degree, and Mercator bends little over one.
const projectorSteps = 1024

// Projector returns the projector of the viewport.
func (v Viewport) Projector() Projector {
	var p Projector
	if v.W <= 0 || v.H <= 0 || v.MetersPerDot <= 0 {
		p.lonMin, p.lonMax = 1, -1 // nothing is inside
		return p
	}
	// A dot's margin each way: the exact test is the caller's, on x and y.
	nw, se := v.Unproject(-1, -1), v.Unproject(float64(v.W)+1, float64(v.H)+1)
	p.lonMin, p.lonMax = nw[0], se[0]
	p.latMin, p.latMax = se[1], nw[1]
	const r = 6378137.0 // orb's Mercator sphere
	p.ax = r * math.Pi / 180 / v.MetersPerDot
	p.bx = float64(v.W)/2 - v.Center[0]/v.MetersPerDot
	p.lat0 = p.latMin
	span := p.latMax - p.latMin
	if span <= 0 {
		p.lonMin, p.lonMax = 1, -1
		return p
	}
	p.perStep = projectorSteps / span
	p.ys = make([]float64, projectorSteps+2)
	for i := range p.ys {
		_, p.ys[i] = v.Project(orb.Point{0, p.lat0 + float64(i)/p.perStep})
	}
	return p
}

// Project returns the dot position of a lon/lat point; ok is false for a
// point outside the viewport (x and y are then not set).
func (p *Projector) Project(lon, lat float64) (x, y float64, ok bool) {
	if !(lon >= p.lonMin && lon <= p.lonMax && lat >= p.latMin && lat <= p.latMax) {
		return 0, 0, false
	}
	// lat ≤ latMax puts i at most at projectorSteps: ys has one more.
	f := (lat - p.lat0) * p.perStep
	i := int(f)
	y = p.ys[i] + (p.ys[i+1]-p.ys[i])*(f-float64(i))
	return p.ax*lon + p.bx, y, true
}

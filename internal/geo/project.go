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

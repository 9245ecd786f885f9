package sim

import (
	"math"
	"slices"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"
	"github.com/paulmach/orb/planar"

	"github.com/fleetwatch/fleetwatch/internal/network"
)

// maxStationOffset is how far (metres) a station may lie from its line's
// geometry and still be served by it.
const maxStationOffset = 200

// route is one line's geometry measured in metres, with its stops placed
// along it in order.
type route struct {
	line  string
	path  orb.LineString
	cum   []float64 // distance from path[0] to path[i]
	stops []stop    // by position along the path
	// cruise is the line's speed (m/s), which its timetable is written for.
	cruise float64
	// all is every path of the line, which the ground truth measures a
	// detour's distance from.
	all []orb.LineString
	// silentUntil is when its reports resume during a feed_silent
	// incident (sim seconds); active counts its incidents under way.
	silentUntil float64
	active      int
	// vehicles running on the route, to keep their headway
	vehicles []*vehicle
}

type stop struct {
	id   string
	name string
	at   float64 // metres from the start of the path
}

func (r *route) length() float64 { return r.cum[len(r.cum)-1] }

// newRoute measures the longest path of the line and places its stations on it.
func newRoute(l network.Line, stations []network.Station) *route {
	path := slices.MaxFunc(l.Paths, func(a, b orb.LineString) int {
		return int(geo.Length(a) - geo.Length(b))
	})
	r := &route{line: l.ID, path: path, cum: make([]float64, len(path)), all: l.Paths}
	for i := 1; i < len(path); i++ {
		r.cum[i] = r.cum[i-1] + geo.Distance(path[i-1], path[i])
	}
	for _, st := range stations {
		at, off := r.locate(st.Pos)
		if off <= maxStationOffset {
			r.stops = append(r.stops, stop{id: st.ID, name: st.Name, at: at})
		}
	}
	slices.SortStableFunc(r.stops, func(a, b stop) int {
		switch {
		case a.at < b.at:
			return -1
		case a.at > b.at:
			return 1
		}
		return 0
	})
	return r
}

// locate projects p onto the path: distance along it and distance from it, in metres.
func (r *route) locate(p orb.Point) (at, off float64) {
	best := math.Inf(1)
	for i := 1; i < len(r.path); i++ {
		a, b := r.path[i-1], r.path[i]
		// Work in a local planar frame scaled to metres: fine at city scale.
		kx := math.Cos(a[1]*math.Pi/180) * 111320
		const ky = 110540
		ax, ay := 0.0, 0.0
		bx, by := (b[0]-a[0])*kx, (b[1]-a[1])*ky
		px, py := (p[0]-a[0])*kx, (p[1]-a[1])*ky
		t := 0.0
		if l2 := bx*bx + by*by; l2 > 0 {
			t = math.Max(0, math.Min(1, (px*bx+py*by)/l2))
		}
		d := planar.Distance(orb.Point{px, py}, orb.Point{ax + t*bx, ay + t*by})
		if d < best {
			best = d
			at = r.cum[i-1] + t*(r.cum[i]-r.cum[i-1])
		}
	}
	return at, best
}

// pointAt returns the position at s metres along the path and the bearing
// of the path there (degrees clockwise from north, in the path's direction).
func (r *route) pointAt(s float64) (orb.Point, float64) {
	s = math.Max(0, math.Min(s, r.length()))
	i, _ := slices.BinarySearch(r.cum, s)
	if i == 0 {
		i = 1
	}
	if i >= len(r.path) {
		i = len(r.path) - 1
	}
	a, b := r.path[i-1], r.path[i]
	seg := r.cum[i] - r.cum[i-1]
	t := 0.0
	if seg > 0 {
		t = (s - r.cum[i-1]) / seg
	}
	p := orb.Point{a[0] + t*(b[0]-a[0]), a[1] + t*(b[1]-a[1])}
	return p, math.Mod(geo.Bearing(a, b)+360, 360)
}

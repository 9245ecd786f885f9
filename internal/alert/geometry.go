package alert

import (
	"math"

	"github.com/paulmach/orb"

	"github.com/fleetwatch/fleetwatch/internal/network"
)

// Distances are measured in metres in an equirectangular frame local to
// each segment (longitude scaled by the cosine of the segment's start
// latitude): within a fraction of a metre of the geodesic distance over the
// few kilometres of a segment, and a handful of multiplications per test,
// where orb's geo distances take a trigonometric call per point and a
// Mercator projection two. No trigonometry is done per report: the scales
// are computed once per segment.

const (
	metresPerDegLat = 110540.0
	metresPerDegLon = 111320.0 // at the equator
)

// place is a point to measure from, with its scale computed once.
type place struct {
	lon, lat float64
	kx       float64 // metres per degree of longitude there
}

func newPlace(p [2]float64) place {
	return place{lon: p[0], lat: p[1], kx: math.Cos(p[1]*math.Pi/180) * metresPerDegLon}
}

// dist2 is the squared distance in metres to (lon, lat), in the place's
// local frame.
func (p place) dist2(lon, lat float64) float64 {
	dx, dy := (lon-p.lon)*p.kx, (lat-p.lat)*metresPerDegLat
	return dx*dx + dy*dy
}

// segment is one segment of a line's path, ready to measure from.
type segment struct {
	ax, ay float64 // its start: lon, lat
	kx     float64 // metres per degree of longitude at its start
	bx, by float64 // its end relative to its start, in metres
	l2     float64 // its length squared
}

func newSegment(a, b orb.Point) segment {
	kx := math.Cos(a[1]*math.Pi/180) * metresPerDegLon
	s := segment{ax: a[0], ay: a[1], kx: kx, bx: (b[0] - a[0]) * kx, by: (b[1] - a[1]) * metresPerDegLat}
	s.l2 = s.bx*s.bx + s.by*s.by
	return s
}

// dist2 is the squared distance in metres from (lon, lat) to the segment.
func (s *segment) dist2(lon, lat float64) float64 {
	px, py := (lon-s.ax)*s.kx, (lat-s.ay)*metresPerDegLat
	u := 0.0
	if s.l2 > 0 {
		u = min(1, max(0, (px*s.bx+py*s.by)/s.l2))
	}
	dx, dy := px-u*s.bx, py-u*s.by
	return dx*dx + dy*dy
}

// lineGeom is a line's paths with a grid over them, so that a report is
// tested against the few segments near it: with 10 000 vehicles reporting
// every second, testing every segment of a line would cost more than
// decoding the report.
type lineGeom struct {
	segs     []segment
	paths    []orb.LineString
	r        float64 // the off-route distance
	r2       float64 // squared
	lon0     float64 // the grid's frame
	lat0     float64
	kx       float64
	cell     float64 // metres
	grid     map[uint64][]int32
	maxRatio float64 // of the grid's longitude scale to a segment's, at most
}

// newLineGeom indexes paths for tests within radius metres; nil when they
// have no segment.
func newLineGeom(paths []orb.LineString, radius float64) *lineGeom {
	g := &lineGeom{paths: paths, r: radius, r2: radius * radius, cell: max(4*radius, 200), grid: map[uint64][]int32{}}
	var b orb.Bound
	first := true
	for _, p := range paths {
		for i := 1; i < len(p); i++ {
			g.segs = append(g.segs, newSegment(p[i-1], p[i]))
			for _, pt := range p[i-1 : i+1] {
				if first {
					b, first = orb.Bound{Min: pt, Max: pt}, false
				}
				b = b.Extend(pt)
			}
		}
	}
	if len(g.segs) == 0 {
		return nil
	}
	c := b.Center()
	g.lon0, g.lat0 = c[0], c[1]
	g.kx = math.Cos(g.lat0*math.Pi/180) * metresPerDegLon
	g.maxRatio = 1
	for _, s := range g.segs {
		g.maxRatio = max(g.maxRatio, g.kx/s.kx)
	}
	// A point within radius of a segment in the segment's frame is within
	// radius×maxRatio of it in the grid's; a cell holds the segments within
	// that (and a metre) of any point of it.
	reach := radius*g.maxRatio + 1 + g.cell*math.Sqrt2/2
	for i, s := range g.segs {
		ax, ay := g.frame(s.ax, s.ay)
		bx, by := g.frame(s.ax+s.bx/s.kx, s.ay+s.by/metresPerDegLat)
		x0, x1 := int64(math.Floor((min(ax, bx)-reach)/g.cell)), int64(math.Floor((max(ax, bx)+reach)/g.cell))
		y0, y1 := int64(math.Floor((min(ay, by)-reach)/g.cell)), int64(math.Floor((max(ay, by)+reach)/g.cell))
		for x := x0; x <= x1; x++ {
			for y := y0; y <= y1; y++ {
				cx, cy := (float64(x)+0.5)*g.cell, (float64(y)+0.5)*g.cell
				if segDist(cx, cy, ax, ay, bx, by) <= reach {
					k := cellKey(x, y)
					g.grid[k] = append(g.grid[k], int32(i))
				}
			}
		}
	}
	return g
}

// frame places a point in the grid's frame, in metres.
func (g *lineGeom) frame(lon, lat float64) (x, y float64) {
	return (lon - g.lon0) * g.kx, (lat - g.lat0) * metresPerDegLat
}

func cellKey(x, y int64) uint64 { return uint64(uint32(int32(x)))<<32 | uint64(uint32(int32(y))) }

// segDist is the planar distance from (px, py) to the segment a-b.
func segDist(px, py, ax, ay, bx, by float64) float64 {
	dx, dy := bx-ax, by-ay
	u := 0.0
	if l2 := dx*dx + dy*dy; l2 > 0 {
		u = min(1, max(0, ((px-ax)*dx+(py-ay)*dy)/l2))
	}
	return math.Hypot(px-ax-u*dx, py-ay-u*dy)
}

// near reports whether (lon, lat) is within the off-route distance of the
// line, and of which segment. The segment of the previous report is tried
// first, as TransitClock starts from the previous match: a vehicle on its
// line is nearly always still by the same segment; and first of all the
// guard the previous match left, which spares that segment's test. It
// leaves in gd the guard of the segment it answers.
func (g *lineGeom) near(lon, lat float64, hint int32, gd *guard) (int32, bool) {
	if hint >= 0 && int(hint) < len(g.segs) {
		s := &g.segs[hint]
		if gd.holds(s, lon, lat) {
			return hint, true
		}
		if d2 := s.dist2(lon, lat); d2 <= g.r2 {
			gd.set(lon, lat, g.r-math.Sqrt(d2))
			return hint, true
		}
	}
	x, y := g.frame(lon, lat)
	for _, i := range g.grid[cellKey(int64(math.Floor(x/g.cell)), int64(math.Floor(y/g.cell)))] {
		if d2 := g.segs[i].dist2(lon, lat); d2 <= g.r2 {
			gd.set(lon, lat, g.r-math.Sqrt(d2))
			return i, true
		}
	}
	*gd = guard{}
	return -1, false
}

// guard is a disc around a point found within the off-route distance of a
// segment, of what that distance lacked there: any point of the disc is
// within the distance too (the triangle inequality, in the segment's
// frame). A vehicle on its line moves a few metres between reports, so
// most of its reports fall in the disc of an earlier one and skip the
// segment's test, the costliest arithmetic of a report (a division and
// clamps), with the answer the test would give.
type guard struct {
	lon, lat float32
	r        float32 // metres; 0: none
}

// guardMargin is taken off a guard's radius for keeping its centre in
// float32 degrees: within a metre of the point (0.85 m of longitude at
// worst, 0.42 m of latitude).
const guardMargin = 1.0

// set makes the guard of (lon, lat), slack metres within the distance.
func (gd *guard) set(lon, lat, slack float64) {
	*gd = guard{}
	if r := slack - guardMargin; r > 0 {
		*gd = guard{lon: float32(lon), lat: float32(lat), r: float32(r)}
	}
}

// holds reports whether (lon, lat) is within the guard, measured in the
// frame of s, the guard's segment.
func (gd *guard) holds(s *segment, lon, lat float64) bool {
	if gd.r <= 0 {
		return false
	}
	dx, dy := (lon-float64(gd.lon))*s.kx, (lat-float64(gd.lat))*metresPerDegLat
	r := float64(gd.r)
	return dx*dx+dy*dy < r*r
}

// distance is the distance in metres from (lon, lat) to the line: for an
// alert's detail, so by brute force.
func (g *lineGeom) distance(lon, lat float64) float64 {
	best := math.Inf(1)
	for i := range g.segs {
		best = min(best, g.segs[i].dist2(lon, lat))
	}
	return math.Sqrt(best)
}

// maxStationOffset is how far from a path a station may lie and still be
// on it, as the simulator places them.
const maxStationOffset = 200.0

type terminalStation struct {
	id  string
	pos [2]float64 // its place on the path: lon, lat
}

// terminals finds, on each path, the first and the last of the stations
// along it: where the line's vehicles turn and lay over.
func (g *lineGeom) terminals(stations []network.Station) []terminalStation {
	var out []terminalStation
	for _, path := range g.paths {
		var lo, hi terminalStation
		loAt, hiAt := math.Inf(1), math.Inf(-1)
		for _, st := range stations {
			at, pos, off := locate(path, st.Pos)
			if off > maxStationOffset {
				continue
			}
			if at < loAt {
				loAt, lo = at, terminalStation{st.ID, pos}
			}
			if at > hiAt {
				hiAt, hi = at, terminalStation{st.ID, pos}
			}
		}
		if loAt <= hiAt {
			out = append(out, lo, hi)
		}
	}
	return out
}

// locate projects p onto path: how far along it (metres), the point there,
// and how far p is from it.
func locate(path orb.LineString, p orb.Point) (at float64, pos [2]float64, off float64) {
	off = math.Inf(1)
	run := 0.0
	for i := 1; i < len(path); i++ {
		s := newSegment(path[i-1], path[i])
		length := math.Sqrt(s.l2)
		px, py := (p[0]-s.ax)*s.kx, (p[1]-s.ay)*metresPerDegLat
		u := 0.0
		if s.l2 > 0 {
			u = min(1, max(0, (px*s.bx+py*s.by)/s.l2))
		}
		if d := math.Hypot(px-u*s.bx, py-u*s.by); d < off {
			a, b := path[i-1], path[i]
			off, at = d, run+u*length
			pos = [2]float64{a[0] + u*(b[0]-a[0]), a[1] + u*(b[1]-a[1])}
		}
		run += length
	}
	return at, pos, off
}

package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/planar"
)

// Bounds of the roaming (ride-hailing) vehicle model; tests check the
// output against them.
const (
	MinRoamKmh   = 15.0 // cruising speed of one trip, drawn between these
	MaxRoamKmh   = 45.0
	MaxIdle      = 5 * 60.0 // seconds waiting for the next ride
	MaxLongIdle  = 60 * 60.0
	longIdleOdds = 0.1 // share of stops that are a break, not a wait
	roamAccel    = 1.5 // m/s², a car in town
	roamDecel    = 2.0
)

// roamSalt separates the roaming fleet's random stream from the lines':
// adding roamers leaves every line vehicle's events as they were.
const roamSalt = 0x5851f42d4c957f2d

// roamer is a vehicle without a line: it drives straight to a random
// destination inside the area, waits there, and picks the next.
type roamer struct {
	index   int
	id      string
	pos     orb.Point
	dest    orb.Point
	speed   float64 // m/s
	cruise  float64 // m/s, this trip's
	heading float64 // degrees clockwise from north
	idle    float64 // seconds left waiting; > 0 while idle
}

// roamArea is where roamers drive: a point-in-polygon test plus the bound
// to sample from.
type roamArea struct {
	poly  orb.MultiPolygon
	bound orb.Bound
}

// maxSampleTries bounds the rejection sampling of points in the area; an
// area that fails it fills under a thousandth of its bound.
const maxSampleTries = 1000

func newRoamArea(poly orb.MultiPolygon) (*roamArea, error) {
	if len(poly) == 0 {
		return nil, errors.New("roam area has no polygon")
	}
	a := &roamArea{poly: poly, bound: poly.Bound()}
	if a.bound.Max[0] <= a.bound.Min[0] || a.bound.Max[1] <= a.bound.Min[1] {
		return nil, errors.New("roam area has no extent")
	}
	return a, nil
}

func (a *roamArea) contains(p orb.Point) bool { return planar.MultiPolygonContains(a.poly, p) }

// sample returns a random point inside the area, or false after too many misses.
func (a *roamArea) sample(rng *rand.Rand) (orb.Point, bool) {
	for range maxSampleTries {
		p := orb.Point{a.bound.Min[0] + rng.Float64()*(a.bound.Max[0]-a.bound.Min[0]),
			a.bound.Min[1] + rng.Float64()*(a.bound.Max[1]-a.bound.Min[1])}
		if a.contains(p) {
			return p, true
		}
	}
	return orb.Point{}, false
}

// reachable reports whether the straight drive from p to q, both inside,
// stays inside: it crosses no ring of the area.
func (a *roamArea) reachable(p, q orb.Point) bool {
	for _, poly := range a.poly {
		for _, ring := range poly {
			for i := 1; i < len(ring); i++ {
				if crosses(p, q, ring[i-1], ring[i]) {
					return false
				}
			}
		}
	}
	return true
}

// crosses reports whether segments ab and cd properly intersect.
func crosses(a, b, c, d orb.Point) bool {
	orient := func(p, q, r orb.Point) float64 {
		return (q[0]-p[0])*(r[1]-p[1]) - (q[1]-p[1])*(r[0]-p[0])
	}
	return orient(a, b, c)*orient(a, b, d) < 0 && orient(c, d, a)*orient(c, d, b) < 0
}

// metres converts the offset from p to q into metres east and north, in a
// local frame: fine at city scale.
func metres(p, q orb.Point) (dx, dy float64) {
	return (q[0] - p[0]) * math.Cos(p[1]*math.Pi/180) * 111320, (q[1] - p[1]) * 110540
}

// AreaFromGeoJSON reads the polygons of a GeoJSON document: a
// FeatureCollection, a Feature or a bare geometry. Other geometries are
// ignored; none at all is an error.
func AreaFromGeoJSON(data []byte) (orb.MultiPolygon, error) {
	var head struct{ Type string }
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("not GeoJSON: %w", err)
	}
	var geoms []orb.Geometry
	switch head.Type {
	case "FeatureCollection":
		fc, err := geojson.UnmarshalFeatureCollection(data)
		if err != nil {
			return nil, fmt.Errorf("not GeoJSON: %w", err)
		}
		for _, f := range fc.Features {
			geoms = append(geoms, f.Geometry)
		}
	case "Feature":
		f, err := geojson.UnmarshalFeature(data)
		if err != nil {
			return nil, fmt.Errorf("not GeoJSON: %w", err)
		}
		geoms = append(geoms, f.Geometry)
	default:
		g, err := geojson.UnmarshalGeometry(data)
		if err != nil {
			return nil, fmt.Errorf("not GeoJSON: %w", err)
		}
		geoms = append(geoms, g.Geometry())
	}
	var out orb.MultiPolygon
	for _, g := range geoms {
		out = appendPolygons(out, g)
	}
	if len(out) == 0 {
		return nil, errors.New("no Polygon or MultiPolygon in it")
	}
	for _, p := range out {
		for _, ring := range p {
			for _, pt := range ring {
				if !(pt[0] >= -180 && pt[0] <= 180 && pt[1] >= -90 && pt[1] <= 90) {
					return nil, fmt.Errorf("point %v is not a longitude, latitude pair", pt)
				}
			}
		}
	}
	return out, nil
}

func appendPolygons(out orb.MultiPolygon, g orb.Geometry) orb.MultiPolygon {
	switch g := g.(type) {
	case orb.Polygon:
		if len(g) > 0 && len(g[0]) >= 4 {
			out = append(out, g)
		}
	case orb.MultiPolygon:
		for _, p := range g {
			out = appendPolygons(out, p)
		}
	case orb.Collection:
		for _, c := range g {
			out = appendPolygons(out, c)
		}
	}
	return out
}

// placeRoamers puts the roaming fleet in the area: a third of the drivers
// waiting for a ride, the others on their way to one.
func (s *Sim) placeRoamers() error {
	area := s.cfg.RoamArea
	if len(area) == 0 {
		area = orb.MultiPolygon{s.cfg.Network.Bound.ToPolygon()}
	}
	a, err := newRoamArea(area)
	if err != nil {
		return err
	}
	s.roamArea = a
	for i := range s.cfg.Roam {
		p, ok := a.sample(s.roamRng)
		if !ok {
			return errors.New("roam area is too thin to place vehicles in")
		}
		r := &roamer{index: len(s.vehicles) + i, id: fmt.Sprintf("drv-%04d", i+1), pos: p,
			heading: s.roamRng.Float64() * 360}
		if s.roamRng.Float64() < 1.0/3 {
			r.idle = s.roamRng.Float64() * MaxIdle
		} else {
			s.newTrip(r)
			r.speed = r.cruise
		}
		s.roamers = append(s.roamers, r)
	}
	return nil
}

// newTrip picks the next destination: a random point the driver can reach
// in a straight line. In a concave area, a destination behind a bend is
// brought closer until it is in sight; failing that, the driver stays.
func (s *Sim) newTrip(r *roamer) {
	r.dest = r.pos
	r.cruise = (MinRoamKmh + s.roamRng.Float64()*(MaxRoamKmh-MinRoamKmh)) / 3.6
	for range 10 {
		q, ok := s.roamArea.sample(s.roamRng)
		if !ok {
			return
		}
		for range 8 {
			if s.roamArea.contains(q) && s.roamArea.reachable(r.pos, q) {
				r.dest = q
				return
			}
			q = orb.Point{(r.pos[0] + q[0]) / 2, (r.pos[1] + q[1]) / 2}
		}
	}
}

// idleTime is how long a driver waits after a trip: mostly a few minutes
// for the next ride, sometimes a break.
func (s *Sim) idleTime() float64 {
	if s.roamRng.Float64() < longIdleOdds {
		return MaxIdle + s.roamRng.Float64()*(MaxLongIdle-MaxIdle)
	}
	return s.roamRng.Float64() * MaxIdle
}

func (s *Sim) roam(r *roamer, dt float64) {
	if r.idle > 0 {
		r.idle -= dt
		r.speed = 0
		if r.idle > 0 {
			return
		}
		dt = -r.idle // time left in this tick after setting off
		r.idle = 0
		s.newTrip(r)
	}
	dx, dy := metres(r.pos, r.dest)
	dist := math.Hypot(dx, dy)
	if dist > 0 {
		r.heading = math.Mod(math.Atan2(dx, dy)*180/math.Pi+360, 360)
	}
	// As on the lines: speed up to cruise, but never faster than what
	// still stops at the destination.
	r.speed = math.Min(math.Min(r.cruise, r.speed+roamAccel*dt), math.Sqrt(2*roamDecel*dist)+0.5)
	if step := r.speed * dt; step < dist {
		// Along the straight segment, which newTrip checked stays inside.
		f := step / dist
		r.pos = orb.Point{r.pos[0] + f*(r.dest[0]-r.pos[0]), r.pos[1] + f*(r.dest[1]-r.pos[1])}
		return
	}
	r.pos, r.speed = r.dest, 0
	r.idle = s.idleTime()
}

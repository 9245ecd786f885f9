package view

import (
	"fmt"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"

	"github.com/fleetwatch/fleetwatch/internal/model"
	"github.com/fleetwatch/fleetwatch/internal/network"
)

// ZoneCount is how many vehicles without a line one zone holds.
type ZoneCount struct {
	Zone         string
	Moving, Idle int
}

// movingKmh is the speed from which a vehicle counts as moving: GPS drift
// makes a parked car report a few km/h.
const movingKmh = 3

// moving tells a driving vehicle from an idle one: by its speed where it
// reports one, else by its status.
func moving(v *model.VehiclePosition) bool {
	if v.Has&model.HasSpeed != 0 {
		return v.SpeedKmh >= movingKmh
	}
	return v.Status == model.StatusInTransit
}

// compass names the cells of the grid that stands in for zones when none
// are given: a 3×3 grid over the view, read as directions from its centre.
var compass = [3][3]string{{"NW", "N", "NE"}, {"W", "centre", "E"}, {"SW", "S", "SE"}}

// ZoneCounts counts the vehicles that have no line by zone: the network's
// zones when it has some, else the compass cells of view. Vehicles in no
// zone count under "elsewhere", listed last; zones are in file order, or
// the grid's reading order, with empty ones left out.
func ZoneCounts(vehicles model.Vehicles, zones []network.Zone, view orb.Bound) []ZoneCount {
	return newZoneSet(zones).counts(vehicles, view)
}

// zoneSet is a network's zones made ready for testing many points: each
// zone's and each ring's bound, worked out once (zones do not change),
// which orb's RingContains works out again on every call.
type zoneSet struct {
	zones []network.Zone
	bound []orb.Bound // each zone's
	polys [][]ringsOf // each zone's polygons (one for a Polygon)
}

// ringsOf is a polygon: its outer ring first, then its holes, each with its bound.
type ringsOf struct {
	rings  []orb.Ring
	bounds []orb.Bound
}

func newZoneSet(zones []network.Zone) *zoneSet {
	zs := &zoneSet{zones: zones, bound: make([]orb.Bound, len(zones)), polys: make([][]ringsOf, len(zones))}
	poly := func(p orb.Polygon) ringsOf {
		r := ringsOf{rings: p, bounds: make([]orb.Bound, len(p))}
		for i, ring := range p {
			r.bounds[i] = ring.Bound()
		}
		return r
	}
	for i, z := range zones {
		zs.bound[i] = z.Geometry.Bound()
		switch g := z.Geometry.(type) {
		case orb.Polygon:
			zs.polys[i] = []ringsOf{poly(g)}
		case orb.MultiPolygon:
			for _, p := range g {
				zs.polys[i] = append(zs.polys[i], poly(p))
			}
		}
	}
	return zs
}

// contains is planar.PolygonContains (or MultiPolygonContains) of zone k,
// with the rings' bounds known: a point outside a ring's bound is outside
// the ring, as RingContains would find.
func (zs *zoneSet) contains(k int, p orb.Point) bool {
	for _, poly := range zs.polys[k] {
		if len(poly.rings) == 0 || !poly.bounds[0].Contains(p) || !planar.RingContains(poly.rings[0], p) {
			continue
		}
		inHole := false
		for i := 1; i < len(poly.rings) && !inHole; i++ {
			inHole = poly.bounds[i].Contains(p) && planar.RingContains(poly.rings[i], p)
		}
		if !inHole {
			return true
		}
	}
	return false
}

func (zs *zoneSet) counts(vehicles model.Vehicles, view orb.Bound) []ZoneCount {
	zones := zs.zones
	n := len(zones)
	if n == 0 {
		n = 9
	}
	counts := make([]ZoneCount, n+1)
	for i, z := range zones {
		counts[i].Zone = z.Name
	}
	if len(zones) == 0 {
		for i := range 9 {
			counts[i].Zone = compass[i/3][i%3]
		}
	}
	counts[n].Zone = "elsewhere"
	w, h := view.Max[0]-view.Min[0], view.Max[1]-view.Min[1]
	for v := range vehicles.All() {
		if v.Line != "" {
			continue
		}
		p := orb.Point{v.Lon, v.Lat}
		at := n
		if len(zones) > 0 {
			for k := range zones {
				if zs.bound[k].Contains(p) && zs.contains(k, p) {
					at = k
					break
				}
			}
		} else if view.Contains(p) && w > 0 && h > 0 {
			col := min(int((p[0]-view.Min[0])/w*3), 2)
			row := min(int((view.Max[1]-p[1])/h*3), 2)
			at = row*3 + col
		}
		if moving(v) {
			counts[at].Moving++
		} else {
			counts[at].Idle++
		}
	}
	out := counts[:0]
	for _, c := range counts {
		if c.Moving+c.Idle > 0 {
			out = append(out, c)
		}
	}
	return out
}

// zoneKey is what a zone table depends on: the vehicles, the zones (the
// network's own slice, which every viewer of a network shares) and, for
// the compass grid only, the view.
type zoneKey struct {
	vehicles vehiclesKey
	held     model.Vehicles // the view the key was taken of, kept alive (vehiclesKey); not compared
	zones    *network.Zone
	nZones   int
	view     orb.Bound
}

// zoneMemo shares zone tables between screens: with a moving fleet every
// viewer's frame counted every vehicle in every zone (58 % of serve's CPU
// at 100 viewers). Few entries, as the views they hold keep the table's
// old chunks alive; viewers mostly draw the latest state.
var zoneMemo = memo[zoneKey, []ZoneCount]{size: 4, same: func(a, b zoneKey) bool {
	return a.zones == b.zones && a.nZones == b.nZones && a.view == b.view && a.vehicles.same(b.vehicles)
}}

// sharedCounts is zs.counts(vehicles, view), worked out once for all
// screens drawing the same state. The counts returned are shared: read only.
func (s *Screen) sharedCounts(vehicles model.Vehicles, view orb.Bound) []ZoneCount {
	zs := s.zones
	k := zoneKey{held: vehicles, nZones: len(zs.zones)}
	if len(zs.zones) > 0 {
		k.zones = &zs.zones[0]
	} else {
		k.view = view
	}
	s.zoneProbe.of(vehicles)
	k.vehicles = s.zoneProbe
	return zoneMemo.get(k, func(k zoneKey) zoneKey { k.vehicles = k.vehicles.clone(); return k },
		func() []ZoneCount { return zs.counts(vehicles, view) })
}

// zoneTable is the side panel's table of vehicles without a line.
func (s *Screen) zoneTable(snap model.Snapshot) []string {
	onLines := 0
	for _, l := range snap.Lines {
		onLines += l.Vehicles
	}
	if onLines == snap.Vehicles.Len() {
		return nil // no vehicle without a line: no need to visit them all
	}
	rows := s.sharedCounts(snap.Vehicles, s.m.View())
	if len(rows) == 0 {
		return nil
	}
	head := "ZONE"
	if len(s.net.Zones) == 0 {
		head = "AREA OF VIEW"
	}
	out := []string{s.bold.Render(fmt.Sprintf("%-15s %4s %6s %5s", head, "VEH", "MOVING", "IDLE"))}
	for _, r := range rows {
		out = append(out, fmt.Sprintf("%s %4d %6d %5d", fit(safe(r.Zone), 15), r.Moving+r.Idle, r.Moving, r.Idle))
	}
	return out
}

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
	n := len(zones)
	if n == 0 {
		n = 9
	}
	counts := make([]ZoneCount, n+1)
	bounds := make([]orb.Bound, len(zones))
	for i, z := range zones {
		bounds[i] = z.Geometry.Bound()
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
			for k, z := range zones {
				if bounds[k].Contains(p) && contains(z.Geometry, p) {
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

func contains(g orb.Geometry, p orb.Point) bool {
	switch g := g.(type) {
	case orb.Polygon:
		return planar.PolygonContains(g, p)
	case orb.MultiPolygon:
		return planar.MultiPolygonContains(g, p)
	}
	return false
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
	rows := ZoneCounts(snap.Vehicles, s.net.Zones, s.m.View())
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

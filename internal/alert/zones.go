package alert

import (
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"

	"github.com/fleetwatch/fleetwatch/internal/model"
	"github.com/fleetwatch/fleetwatch/internal/network"
)

// zoneIndex is a geofence with its bound, tested first: most reports are
// far from most zones.
type zoneIndex struct {
	id    string
	bound orb.Bound
	geom  orb.Geometry
}

func newZoneIndex(z network.Zone) zoneIndex {
	return zoneIndex{id: z.ID, bound: z.Geometry.Bound(), geom: z.Geometry}
}

func (z *zoneIndex) contains(p orb.Point) bool {
	if !z.bound.Contains(p) {
		return false
	}
	switch g := z.geom.(type) {
	case orb.Polygon:
		return planar.PolygonContains(g, p)
	case orb.MultiPolygon:
		return planar.MultiPolygonContains(g, p)
	}
	return false
}

// zoneSet is the zones a vehicle is in, a bit per zone.
type zoneSet []uint64

func (s zoneSet) has(i int) bool { return s[i/64]&(1<<(i%64)) != 0 }

// zoneSet is the zones of the vehicle whose cold part is cold (its index
// + 1), kept in Detector.zoneBits.
func (d *Detector) zoneSet(cold int32) zoneSet {
	i := int(cold-1) * d.zoneWords
	return d.zoneBits[i : i+d.zoneWords : i+d.zoneWords]
}

// zoneCrossings compares the zones v is in now with those it was in: each
// one entered or left is a notice. Where a vehicle is first seen sets what
// it is in, without notice: it was not seen crossing.
func (d *Detector) zoneCrossings(v *vehicleState, e *model.VehiclePosition, out []Alert) []Alert {
	now := d.zoneBuf[:0]
	for range (len(d.zones) + 63) / 64 {
		now = append(now, 0)
	}
	d.zoneBuf = now
	p := orb.Point{e.Lon, e.Lat}
	for i := range d.zones {
		if d.zones[i].contains(p) {
			now[i/64] |= 1 << (i % 64)
		}
	}
	c := d.more(v)
	before := d.zoneSet(v.cold)
	if !c.zonesKnown {
		copy(before, now)
		c.zonesKnown = true
		return out
	}
	for i := range d.zones {
		in, was := now.has(i), before.has(i)
		if in == was {
			continue
		}
		kind, other := ZoneEnter, ZoneLeave
		if !in {
			kind, other = ZoneLeave, ZoneEnter
		}
		id, vid := d.zones[i].id, d.id(v)
		out = d.closeAlert(alertKey{kind: other, vehicle: vid, zone: id}, e.TS, out)
		out = d.closeAlert(alertKey{kind: kind, vehicle: vid, zone: id}, e.TS, out)
		a := Alert{Kind: kind, VehicleID: vid, Zone: id, At: e.TS, Lat: e.Lat, Lon: e.Lon}
		if l := d.lineOf(v); l != nil {
			a.Line = l.id
		}
		out = d.openAlert(a, alertKey{kind: kind, vehicle: vid, zone: id}, out)
		before[i/64] ^= 1 << (i % 64)
	}
	return out
}

// expireNotices closes the zone notices that have stood ZoneHold.
func (d *Detector) expireNotices(now time.Time, out []Alert) []Alert {
	for key, a := range d.open {
		if (key.kind == ZoneEnter || key.kind == ZoneLeave) && now.Sub(a.At) >= d.cfg.ZoneHold {
			out = d.closeAlert(key, now, out)
		}
	}
	return out
}

package geo

import (
	"math"
	"slices"

	"github.com/paulmach/orb"
)

// bulkSample caps the points BulkBound looks at: a fleet's extent is as
// clear from 4 096 evenly spread reports as from a million, and the bound
// is recomputed every frame while the view follows the data.
const bulkSample = 4096

// minSpan is the smallest extent a fitted view gets (about 500 m): one
// vehicle, or a fleet parked in a yard, still shows its streets.
const minSpan = 0.005

// BulkBound returns the lon/lat bound of the bulk of the points: those
// within three times the 80th-percentile distance from their median, or ten
// times the median distance. A
// report at 0,0 or one vehicle on another continent lies far outside that
// and is left out, so it cannot shrink the fleet to a dot; a fleet spread
// over two cities keeps both, since then the 80th percentile spans them.
// Points out of lon/lat range are ignored. ok is false when no point is
// usable.
func BulkBound(pts []orb.Point) (b orb.Bound, ok bool) {
	stride := max(1, len(pts)/bulkSample)
	sample := make([]orb.Point, 0, min(len(pts), bulkSample+1))
	for i := 0; i < len(pts); i += stride {
		p := pts[i]
		if p[0] >= -180 && p[0] <= 180 && p[1] >= -85 && p[1] <= 85 {
			sample = append(sample, p)
		}
	}
	if len(sample) == 0 {
		return orb.Bound{}, false
	}
	lons := make([]float64, len(sample))
	lats := make([]float64, len(sample))
	for i, p := range sample {
		lons[i], lats[i] = p[0], p[1]
	}
	slices.Sort(lons)
	slices.Sort(lats)
	mid := orb.Point{lons[len(lons)/2], lats[len(lats)/2]}
	cos := math.Cos(mid[1] * math.Pi / 180)
	dist := func(p orb.Point) float64 { return math.Hypot((p[0]-mid[0])*cos, p[1]-mid[1]) }
	ds := lons[:0] // reused: the longitudes are no longer needed
	for _, p := range sample {
		ds = append(ds, dist(p))
	}
	slices.Sort(ds)
	// Three 80th percentiles keep a fleet spread over two cities whole; ten
	// medians keep a handful of vehicles whole, where the 80th percentile
	// is only the second or third of them.
	limit := max(3*ds[(len(ds)-1)*8/10], 10*ds[(len(ds)-1)/2], minSpan)
	first := true
	for _, p := range sample {
		if dist(p) > limit {
			continue
		}
		if first {
			b, first = orb.Bound{Min: p, Max: p}, false
			continue
		}
		b = b.Extend(p)
	}
	return padBound(b, minSpan), true
}

// padBound widens a bound to at least span degrees each way, about its centre.
func padBound(b orb.Bound, span float64) orb.Bound {
	c := b.Center()
	if w := b.Max[0] - b.Min[0]; w < span {
		b.Min[0], b.Max[0] = c[0]-span/2, c[0]+span/2
	}
	if h := b.Max[1] - b.Min[1]; h < span {
		b.Min[1], b.Max[1] = c[1]-span/2, c[1]+span/2
	}
	return b
}

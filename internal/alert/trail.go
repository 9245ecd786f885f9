package alert

import "math"

// A vehicle's trail: the last few places it reported from, a few metres
// apart, with the time it first reported from each. It tells since when a
// vehicle has stayed within a radius of where it is, to within trailStep,
// without keeping minutes of reports: a vehicle standing adds nothing to
// it, so its approach to where it stopped is still there after an hour.
const (
	trailLen  = 10
	trailStep = 7.5 // metres: trailLen×trailStep covers more than the no-progress radius
)

type trail struct {
	kx    float32 // metres per degree of longitude where it is
	kxLat float32 // the latitude kx was computed at
	n     uint8
	head  uint8
	base  int64 // Unix nanoseconds the marks' times count from
	marks [trailLen]trailMark
}

// trailMark is a place and when the vehicle first reported from it, in 12
// bytes: a float32 degree is under a metre, and the time is in tenths of
// a second from the trail's base.
type trailMark struct {
	lon, lat float32
	t        int32
}

// add files a report and returns since when (Unix nanoseconds) every
// report has been within radius metres of this one. When the trail holds
// no place further than radius, that is its oldest: the vehicle may have
// stood longer, and no-progress is then judged late rather than wrongly.
// Only a time up to horizon matters to the caller: when the oldest place
// is after it, so is the answer, and add returns ts without measuring
// (nearly every report: a vehicle moving fills the trail in seconds, one
// standing at a stop has not stood for minutes).
func (tr *trail) add(lon, lat float64, ts int64, radius float64, horizon int64) int64 {
	if math.Abs(lat-float64(tr.kxLat)) > 0.05 || tr.kx == 0 {
		tr.kx, tr.kxLat = float32(math.Cos(lat*math.Pi/180)*metresPerDegLon), float32(lat)
	}
	if tr.n == 0 || ts-tr.base > math.MaxInt32*1e8 {
		// The first report, or one after years: start afresh.
		tr.n, tr.base = 0, ts
	}
	kx := float64(tr.kx)
	d2 := func(m *trailMark) float64 {
		dx := (float64(m.lon) - lon) * kx
		dy := (float64(m.lat) - lat) * metresPerDegLat
		return dx*dx + dy*dy
	}
	newest := &tr.marks[(int(tr.head)+trailLen-1)%trailLen]
	if tr.n == 0 || d2(newest) >= trailStep*trailStep {
		tr.marks[tr.head] = trailMark{float32(lon), float32(lat), int32((ts - tr.base) / 1e8)}
		tr.head = uint8((int(tr.head) + 1) % trailLen)
		tr.n = min(tr.n+1, trailLen)
	}
	if tr.base+int64(tr.marks[(int(tr.head)+trailLen-int(tr.n))%trailLen].t)*1e8 > horizon {
		return ts
	}
	r2 := radius * radius
	since := ts
	for k := 1; k <= int(tr.n); k++ {
		m := &tr.marks[(int(tr.head)+trailLen-k)%trailLen]
		if d2(m) > r2 {
			break
		}
		since = min(since, tr.base+int64(m.t)*1e8)
	}
	return since
}

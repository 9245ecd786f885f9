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

// trail is kept for every vehicle, so it is small: 104 bytes. Its places
// are decimetres from an origin near the vehicle, which moves with it.
type trail struct {
	base       int64   // Unix nanoseconds the marks' times count from
	olon, olat float32 // the origin of the marks' places
	kx         float32 // metres per degree of longitude at the origin
	marks      [trailLen]trailMark
	n          uint8
	head       uint8
}

// trailMark is a place and when the vehicle first reported from it, in 8
// bytes: decimetres east and north of the trail's origin (up to 3.2 km, far
// beyond any no-progress radius), and tenths of a second from its base.
type trailMark struct {
	x, y int16
	t    int32
}

// trailReach is how far from the origin, in decimetres, a place may be
// before the origin moves to the vehicle; trailLat how far in latitude,
// for the origin's metres per degree of longitude to hold.
const (
	trailReach = 32000
	trailLat   = 0.05
)

// local is (lon, lat) in decimetres east and north of the origin.
func (tr *trail) local(lon, lat float64) (x, y float64) {
	return (lon - float64(tr.olon)) * float64(tr.kx) * 10, (lat - float64(tr.olat)) * metresPerDegLat * 10
}

// moveOrigin moves the origin to (lon, lat) and measures the marks from
// there. A mark beyond reach of it is as far as can be kept: further than
// any radius the trail is asked about.
func (tr *trail) moveOrigin(lon, lat float64) {
	olon, olat, kx := float64(tr.olon), float64(tr.olat), float64(tr.kx)
	tr.olon, tr.olat = float32(lon), float32(lat)
	tr.kx = float32(math.Cos(lat*math.Pi/180) * metresPerDegLon)
	for k := 1; k <= int(tr.n); k++ {
		m := &tr.marks[(int(tr.head)+trailLen-k)%trailLen]
		x, y := tr.local(olon+float64(m.x)/(10*kx), olat+float64(m.y)/(10*metresPerDegLat))
		m.x, m.y = clampDm(x), clampDm(y)
	}
}

func clampDm(v float64) int16 {
	return int16(math.Round(max(-math.MaxInt16, min(math.MaxInt16, v))))
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
	if tr.n == 0 || ts-tr.base > math.MaxInt32*1e8 {
		// The first report, or one after years: start afresh.
		tr.n, tr.base = 0, ts
		tr.moveOrigin(lon, lat)
	}
	x, y := tr.local(lon, lat)
	if math.Abs(x) > trailReach || math.Abs(y) > trailReach || math.Abs(lat-float64(tr.olat)) > trailLat {
		tr.moveOrigin(lon, lat)
		x, y = tr.local(lon, lat)
	}
	d2 := func(m *trailMark) float64 { // square metres
		dx, dy := float64(m.x)-x, float64(m.y)-y
		return (dx*dx + dy*dy) / 100
	}
	newest := &tr.marks[(int(tr.head)+trailLen-1)%trailLen]
	if tr.n == 0 || d2(newest) >= trailStep*trailStep {
		tr.marks[tr.head] = trailMark{clampDm(x), clampDm(y), int32((ts - tr.base) / 1e8)}
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

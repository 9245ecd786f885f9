package alert

import "math"

// A vehicle's trail: the last few places it reported from, a few metres
// apart, with the time it first reported from each. It tells since when a
// vehicle has stayed within a radius of where it is, to within trailStep,
// without keeping minutes of reports: a vehicle standing adds nothing to
// it, so its approach to where it stopped is still there after an hour.
const (
	trailLen  = 9
	trailStep = 7.5 // metres: trailLen×trailStep covers more than the no-progress radius
)

// trail is kept for every vehicle, so it is small: 56 bytes, half the
// detector's state for a vehicle. Its places are whole units (a metre,
// for radii up to trailUnits) from an origin near the vehicle, which moves
// with it by whole units so that moving it rounds nothing.
type trail struct {
	base       uint32  // Unix seconds the marks' times count from
	olon, olat int32   // the origin of the marks' places, in 1e-7 degrees (a centimetre)
	kx         float32 // metres per degree of longitude at the origin
	marks      [trailLen]trailMark
	n          uint8
	head       uint8
}

// trailMark is a place and when the vehicle first reported from it, in 4
// bytes: units east and north of the trail's origin, and tenths of a
// second after its base (up to 109 minutes).
type trailMark struct {
	x, y int8
	t    uint16
}

// trailFar is a mark's coordinate at the edge of its range: the place is
// that far or further, so a mark with one is far from anywhere near the
// origin, for good (moving the origin toward it does not bring it nearer).
// The origin moves to the vehicle once it is trailReach units away, so a
// far mark is at least trailFar-trailReach units from the vehicle:
// further than the radius, which is at most trailUnits units.
const (
	trailFar   = math.MaxInt8
	trailReach = 40
	trailUnits = 80
	trailJump  = 10000
)

// trailUnit is the trail's unit, in metres, for a no-progress radius.
func trailUnit(radius float64) float64 { return max(1, radius/trailUnits) }

// local is (lon, lat) in units east and north of the origin.
func (tr *trail) local(lon, lat, unit float64) (x, y float64) {
	return (lon - float64(tr.olon)/1e7) * float64(tr.kx) / unit, (lat - float64(tr.olat)/1e7) * metresPerDegLat / unit
}

// reset starts the trail afresh at (lon, lat) and ts.
func (tr *trail) reset(lon, lat float64, ts int64) {
	tr.n, tr.head, tr.base = 0, 0, uint32(ts/1e9)
	tr.olon, tr.olat = int32(math.Round(lon*1e7)), int32(math.Round(lat*1e7))
	tr.kx = float32(math.Cos(lat*math.Pi/180) * metresPerDegLon)
}

// moveOrigin moves the origin by whole units (dx, dy) and the marks with
// it. The metres per degree of longitude follow the origin's latitude;
// the marks are not rescaled for it, which errs by less than a millimetre
// a move.
func (tr *trail) moveOrigin(dx, dy int, unit float64) {
	tr.olon += int32(math.Round(float64(dx) * unit / float64(tr.kx) * 1e7))
	tr.olat += int32(math.Round(float64(dy) * unit / metresPerDegLat * 1e7))
	tr.kx = float32(math.Cos(float64(tr.olat)/1e7*math.Pi/180) * metresPerDegLon)
	for k := 1; k <= int(tr.n); k++ {
		m := &tr.marks[(int(tr.head)+trailLen-k)%trailLen]
		x, y := int(m.x)-dx, int(m.y)-dy
		if abs(int(m.x)) == trailFar || abs(int(m.y)) == trailFar || abs(x) >= trailFar || abs(y) >= trailFar {
			x, y = trailFar, trailFar
		}
		m.x, m.y = int8(x), int8(y)
	}
}

// leap moves the origin to (lon, lat), a jump of trailJump units or more,
// beyond which moving by whole units could overflow: every mark is far
// from there.
func (tr *trail) leap(lon, lat float64) {
	tr.olon, tr.olat = int32(math.Round(lon*1e7)), int32(math.Round(lat*1e7))
	tr.kx = float32(math.Cos(lat*math.Pi/180) * metresPerDegLon)
	for k := range tr.marks {
		tr.marks[k].x, tr.marks[k].y = trailFar, trailFar
	}
}

func abs(v int) int { return max(v, -v) }

// baseNs is the base in Unix nanoseconds.
func (tr *trail) baseNs() int64 { return int64(tr.base) * 1e9 }

// markNs is when the vehicle first reported from m, in Unix nanoseconds.
func (tr *trail) markNs(m *trailMark) int64 { return tr.baseNs() + int64(m.t)*1e8 }

// rebase moves the marks' times' base forward, by whole seconds, to keep
// ts in range. A mark older than the new base is given the base's time:
// the vehicle reported from there at or before it, which is all that
// counts once an hour has passed.
func (tr *trail) rebase(ts int64) {
	shift := ((ts-tr.baseNs())/1e8 - math.MaxUint16/2) / 10 // seconds
	tr.base += uint32(shift)
	for k := 1; k <= int(tr.n); k++ {
		m := &tr.marks[(int(tr.head)+trailLen-k)%trailLen]
		m.t = uint16(max(0, int64(m.t)-10*shift))
	}
}

// add files a report and returns since when (Unix nanoseconds) every
// report has been within radius metres of this one. When the trail holds
// no place further than radius, that is its oldest: the vehicle may have
// stood longer, and no-progress is then judged late rather than wrongly.
// Only a time up to horizon matters to the caller: when the oldest place
// is after it, so is the answer, and add returns ts without measuring
// (nearly every report: a vehicle moving fills the trail in seconds, one
// standing at a stop has not stood for minutes). Reports come in order of
// time.
func (tr *trail) add(lon, lat float64, ts int64, radius float64, horizon int64) int64 {
	if ts < 0 || ts/1e9 > math.MaxUint32 {
		tr.n = 0 // a clock before 1970 or after 2106: nothing to judge by
		return ts
	}
	unit := trailUnit(radius)
	if tr.n == 0 || ts < tr.baseNs() {
		tr.reset(lon, lat, ts)
	}
	if (ts-tr.baseNs())/1e8 > math.MaxUint16 {
		tr.rebase(ts)
	}
	x, y := tr.local(lon, lat, unit)
	if math.Abs(x) > trailReach || math.Abs(y) > trailReach {
		if math.Abs(x) < trailJump && math.Abs(y) < trailJump {
			tr.moveOrigin(int(math.Round(x)), int(math.Round(y)), unit)
		} else {
			tr.leap(lon, lat)
		}
		x, y = tr.local(lon, lat, unit)
	}
	d2 := func(m *trailMark) float64 { // square units
		dx, dy := float64(m.x)-x, float64(m.y)-y
		return dx*dx + dy*dy
	}
	step := trailStep / unit
	newest := &tr.marks[(int(tr.head)+trailLen-1)%trailLen]
	if tr.n == 0 || d2(newest) >= step*step {
		tr.marks[tr.head] = trailMark{int8(math.Round(x)), int8(math.Round(y)), uint16((ts - tr.baseNs()) / 1e8)}
		tr.head = uint8((int(tr.head) + 1) % trailLen)
		tr.n = min(tr.n+1, trailLen)
	}
	if tr.markNs(&tr.marks[(int(tr.head)+trailLen-int(tr.n))%trailLen]) > horizon {
		return ts
	}
	// A mark lies within 0.71 units of its report: a metre, within the
	// trail's precision, at the default radius; further for a radius of
	// kilometres, where a mark near the edge is taken as beyond it, so that
	// no-progress is judged late rather than early.
	r := radius / unit
	if unit > 1 {
		r -= math.Sqrt2 / 2
	}
	since := ts
	for k := 1; k <= int(tr.n); k++ {
		m := &tr.marks[(int(tr.head)+trailLen-k)%trailLen]
		if d2(m) > r*r {
			break
		}
		since = min(since, tr.markNs(m))
	}
	return since
}

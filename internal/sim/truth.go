package sim

import (
	"math"
	"time"

	"github.com/paulmach/orb"
)

// Truth is one condition that held in the simulation and that a dispatcher
// should have been alerted to: its kind (an alert kind), the vehicle (empty
// for a line's), the line, and when it held, in event time. It is
// observed, not merely injected: the simulator judges every report it sends
// and every arrival against Thresholds, so what an incident causes besides
// (a breakdown makes its vehicle late; a vehicle held at a terminal leaves a
// gap ahead of it and the one behind bunches up) is in the truth too, and an
// alert that matches none of it is a false alarm.
type Truth struct {
	Kind      string    `json:"kind"`
	VehicleID string    `json:"vehicle_id"`
	Line      string    `json:"line"`
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
}

// Thresholds are the definitions the ground truth is judged by: those of
// ../shared/OPERATIONS.md, as alert.DefaultConfig has them. Each kind's
// condition starts at the first report (or arrival) that meets it and ends
// at the first that does not, among as many in a row as it takes.
type Thresholds struct {
	// off_route: further than OffRouteM from every path of its line, for
	// OffRouteReports reports in a row.
	OffRouteM       float64
	OffRouteReports int
	// no_progress: every report of the last NoProgressAfter within
	// NoProgressM of the latest, in service and not at a terminal.
	NoProgressM     float64
	NoProgressAfter time.Duration
	// early, late: delay_s below -EarlyS or above LateS for DelayReports
	// reports in a row, not counting those holding at a terminal.
	EarlyS, LateS float64
	DelayReports  int
	// bunched, gapped: a headway at a stop under Bunched or over Gapped
	// times its target, the mean of the last HeadwayHistory headways there
	// in that direction once HeadwayMin are known, else the mean of the
	// latest headway at each stop of the line in that direction once
	// HeadwayMin stops have one. A headway is the time from the previous
	// other vehicle's arrival.
	Bunched, Gapped float64
	HeadwayHistory  int
	HeadwayMin      int
	// feed_silent: no report from any vehicle of a line for FeedSilent.
	FeedSilent time.Duration
	// stale: no report from a vehicle for Stale while its line reports.
	Stale time.Duration
	// TerminalM is how near a terminal station (its place on the line)
	// counts as at the terminal.
	TerminalM float64
}

// DefaultThresholds returns the thresholds of OPERATIONS.md.
func DefaultThresholds() Thresholds {
	return Thresholds{
		OffRouteM: 60, OffRouteReports: 3,
		NoProgressM: 60, NoProgressAfter: 8 * time.Minute,
		EarlyS: 60, LateS: 360, DelayReports: 2,
		Bunched: 0.75, Gapped: 1.5, HeadwayHistory: 6, HeadwayMin: 3,
		FeedSilent: 60 * time.Second, Stale: 120 * time.Second,
		TerminalM: 150,
	}
}

// Finish ends the conditions of the ground truth still holding at the
// current time and hands them to Config.Truth. Run calls it; a caller
// stepping the simulation itself calls it when done. Once is enough: the
// truth is then complete, and later calls do nothing.
func (s *Sim) Finish() {
	if s.truth != nil && !s.truth.finished {
		s.truth.finish(s)
		s.truth.finished = true
	}
}

// condition follows one condition of the ground truth through reports: on
// once it has held for need reports in a row, off once it has failed for as
// many.
type condition struct {
	on       bool
	run      int       // reports in a row disagreeing with on
	runStart time.Time // the first of them
	start    time.Time // when it came on
}

// observe files one report and returns the interval of a condition that
// ended with it.
func (c *condition) observe(holds bool, t time.Time, need int) (start, end time.Time, ended bool) {
	if holds == c.on {
		c.run = 0
		return
	}
	if c.run == 0 {
		c.runStart = t
	}
	c.run++
	if c.run < need {
		return
	}
	c.run = 0
	c.on = holds
	if holds {
		c.start = c.runStart
		return
	}
	return c.start, c.runStart, true
}

// quiet reports whether observing a report where the condition fails
// would change nothing.
func (c *condition) quiet() bool { return !c.on && c.run == 0 }

type vehicleTruth struct {
	lastSent                               time.Time
	offRoute, early, late, still, bun, gap condition
	trail                                  [trailLen]mark
	trailN, trailHead                      int
	stillSince                             time.Time
}

// trailLen is how many distinct positions of a vehicle are kept to tell
// since when it stands: its approach to where it stopped.
const trailLen = 64

type mark struct {
	p orb.Point
	t time.Time
}

type lineTruth struct {
	lastSent time.Time
	resumed  time.Time // when its reports came back after a silence
}

type stopKey struct {
	stop int
	r    *route
	dir  int
}

type stopHeadways struct {
	last     time.Time
	vehicle  *vehicle
	history  []float64 // the last HeadwayHistory headways, oldest first
	latest   float64
	measured bool
}

type dirKey struct {
	r   *route
	dir int
}

// dirHeadways sums the latest headway of each stop of a line in one
// direction.
type dirHeadways struct {
	sum float64
	n   int
}

// truthTracker judges the simulation's reports and arrivals.
type truthTracker struct {
	finished bool
	out      func(Truth)
	th       Thresholds
	lines    map[*route]*lineTruth
	stops    map[stopKey]*stopHeadways
	dirs     map[dirKey]*dirHeadways
}

func newTruthTracker(s *Sim, out func(Truth)) *truthTracker {
	t := &truthTracker{out: out, th: s.cfg.Thresholds, lines: map[*route]*lineTruth{},
		stops: map[stopKey]*stopHeadways{}, dirs: map[dirKey]*dirHeadways{}}
	for _, r := range s.routes {
		t.lines[r] = &lineTruth{}
	}
	for _, v := range s.vehicles {
		v.truth = &vehicleTruth{}
	}
	return t
}

func (t *truthTracker) emit(kind string, v *vehicle, r *route, start, end time.Time) {
	id := ""
	if v != nil {
		id = v.id
	}
	t.out(Truth{Kind: kind, VehicleID: id, Line: r.line, Start: start, End: end})
}

// round6 is a coordinate as the encoder writes it, so that the truth judges
// the position a reader decodes.
func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }

// report judges one position report of v, sent at p with delay.
func (t *truthTracker) report(s *Sim, v *vehicle, p orb.Point, delay float64) {
	now, vt, r := s.now, v.truth, v.route
	p = orb.Point{round6(p[0]), round6(p[1])}
	lt := t.lines[r]
	if !lt.lastSent.IsZero() && now.Sub(lt.lastSent) > t.th.FeedSilent {
		t.emit("feed_silent", nil, r, lt.lastSent.Add(t.th.FeedSilent), now)
		lt.resumed = now
	}
	lt.lastSent = now
	if !vt.lastSent.IsZero() {
		if from := later(vt.lastSent, lt.resumed); now.Sub(from) > t.th.Stale {
			t.emit("stale", v, r, from.Add(t.th.Stale), now)
		}
	}
	vt.lastSent = now

	// Off route: only a vehicle on a detour can be, but one just back
	// must be seen back on.
	if (v.inc != nil && v.inc.kind == OffRoute) || !vt.offRoute.quiet() {
		off := distanceToPaths(r.all, p) > t.th.OffRouteM
		if start, end, ok := vt.offRoute.observe(off, now, t.th.OffRouteReports); ok {
			t.emit("off_route", v, r, start, end)
		}
	}

	terminal := -1 // unknown until needed: 0 no, 1 yes
	atTerminal := func() bool {
		if terminal < 0 {
			terminal = 0
			if v.dwell > 0 && (v.lastStop == 0 || v.lastStop == len(r.stops)-1) {
				terminal = 1
			}
			for _, q := range r.terminals() {
				if geoDistance(p, q) <= t.th.TerminalM {
					terminal = 1
				}
			}
		}
		return terminal == 1
	}

	d := math.Round(delay) // as the encoder writes it
	late, early := d > t.th.LateS, d < -t.th.EarlyS
	if (late || early || !vt.late.quiet() || !vt.early.quiet()) && !atTerminal() {
		if start, end, ok := vt.late.observe(late, now, t.th.DelayReports); ok {
			t.emit("late", v, r, start, end)
		}
		if start, end, ok := vt.early.observe(early, now, t.th.DelayReports); ok {
			t.emit("early", v, r, start, end)
		}
	}

	t.track(vt, p, now)
	still := now.Sub(vt.stillSince) >= t.th.NoProgressAfter
	if still || !vt.still.quiet() {
		if start, end, ok := vt.still.observe(still && !atTerminal(), now, 1); ok {
			t.emit("no_progress", v, r, start, end)
		}
	}
}

// track files p in v's trail and finds since when every report has been
// within NoProgressM of it.
func (t *truthTracker) track(vt *vehicleTruth, p orb.Point, now time.Time) {
	if vt.trailN == 0 || vt.trail[(vt.trailHead+trailLen-1)%trailLen].p != p {
		vt.trail[vt.trailHead] = mark{p, now}
		vt.trailHead = (vt.trailHead + 1) % trailLen
		vt.trailN = min(vt.trailN+1, trailLen)
	}
	// Newest first: the first mark too far ends the spell; each mark holds
	// the first report at its position.
	since := vt.trail[(vt.trailHead+trailLen-vt.trailN)%trailLen].t
	for i := 1; i <= vt.trailN; i++ {
		m := vt.trail[(vt.trailHead+trailLen-i)%trailLen]
		if geoDistance(m.p, p) > t.th.NoProgressM {
			break
		}
		since = m.t
	}
	vt.stillSince = since
}

// arrival judges the headway of v's arrival at its stop.
func (t *truthTracker) arrival(s *Sim, v *vehicle) {
	now := s.now
	k := stopKey{v.lastStop, v.route, v.dir}
	st := t.stops[k]
	if st == nil {
		st = &stopHeadways{}
		t.stops[k] = st
	}
	prev, prevVehicle := st.last, st.vehicle
	st.last, st.vehicle = now, v
	if prevVehicle == nil || prevVehicle == v {
		return
	}
	headway := now.Sub(prev).Seconds()
	dk := dirKey{v.route, v.dir}
	agg := t.dirs[dk]
	if agg == nil {
		agg = &dirHeadways{}
		t.dirs[dk] = agg
	}
	target := 0.0
	if len(st.history) >= t.th.HeadwayMin {
		for _, h := range st.history {
			target += h
		}
		target /= float64(len(st.history))
	} else if agg.n >= t.th.HeadwayMin {
		target = agg.sum / float64(agg.n)
	}
	if len(st.history) == t.th.HeadwayHistory {
		st.history = st.history[1:]
	}
	st.history = append(st.history, headway)
	if st.measured {
		agg.sum -= st.latest
	} else {
		agg.n++
	}
	agg.sum += headway
	st.latest, st.measured = headway, true
	if target <= 0 {
		return
	}
	ratio := headway / target
	vt := v.truth
	if start, end, ok := vt.bun.observe(ratio < t.th.Bunched, now, 1); ok {
		t.emit("bunched", v, v.route, start, end)
	}
	if start, end, ok := vt.gap.observe(ratio > t.th.Gapped, now, 1); ok {
		t.emit("gapped", v, v.route, start, end)
	}
}

// finish ends what still holds.
func (t *truthTracker) finish(s *Sim) {
	now := s.now
	silent := map[*route]bool{}
	for _, r := range s.routes {
		lt := t.lines[r]
		if !lt.lastSent.IsZero() && now.Sub(lt.lastSent) > t.th.FeedSilent {
			t.emit("feed_silent", nil, r, lt.lastSent.Add(t.th.FeedSilent), now)
			silent[r] = true
		}
	}
	for _, v := range s.vehicles {
		vt, r := v.truth, v.route
		if !vt.lastSent.IsZero() && !silent[r] {
			if from := later(vt.lastSent, t.lines[r].resumed); now.Sub(from) > t.th.Stale {
				t.emit("stale", v, r, from.Add(t.th.Stale), now)
			}
		}
		for _, c := range []struct {
			kind string
			c    *condition
		}{{"off_route", &vt.offRoute}, {"early", &vt.early}, {"late", &vt.late}, {"no_progress", &vt.still},
			{"bunched", &vt.bun}, {"gapped", &vt.gap}} {
			if c.c.on {
				t.emit(c.kind, v, r, c.c.start, now)
				c.c.on = false
			}
		}
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// terminals are where the line's vehicles turn: its first and last stops,
// placed on its path.
func (r *route) terminals() [2]orb.Point {
	a, _ := r.pointAt(r.stops[0].at)
	b, _ := r.pointAt(r.stops[len(r.stops)-1].at)
	return [2]orb.Point{a, b}
}

// geoDistance is the distance in metres between two points, in a local
// frame: fine at city scale.
func geoDistance(p, q orb.Point) float64 {
	dx, dy := metres(p, q)
	return math.Hypot(dx, dy)
}

// distanceToPaths is the distance in metres from p to the nearest of the
// paths, each segment measured in a frame local to it. The detector finds
// the same distance its own way; this is the reference, by brute force.
func distanceToPaths(paths []orb.LineString, p orb.Point) float64 {
	best := math.Inf(1)
	for _, path := range paths {
		for i := 1; i < len(path); i++ {
			a, b := path[i-1], path[i]
			bx, by := metres(a, b)
			px, py := metres(a, p)
			u := 0.0
			if l2 := bx*bx + by*by; l2 > 0 {
				u = math.Max(0, math.Min(1, (px*bx+py*by)/l2))
			}
			best = math.Min(best, math.Hypot(px-u*bx, py-u*by))
		}
	}
	return best
}

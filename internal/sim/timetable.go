package sim

import (
	"math"
	"time"
)

// The timetable. Each vehicle runs to one: a scheduled arrival and
// departure at every stop, the line's running time between stops, a dwell
// allowance that grows with the hour's ridership, and the layover at the
// terminals. A vehicle early at a stop waits for its time; a late one
// shortens its dwell and layover and runs a little faster. Its delay_s is
// its deviation from that timetable, measured as dispatch systems do:
// against the scheduled time at its position, interpolated between stops.

// runSlack is the recovery time written into the running times, a share of
// them: without it the slightest delay could never be made up.
const runSlack = 1.05

// dwellSlack is the seconds the timetable allows at a stop beyond the
// average boarding time.
const dwellSlack = 3.0

// runTime is the scheduled running time over d metres from stop to stop.
func (r *route) runTime(d float64) float64 {
	// Slow zones cost 40 % of the running time they cover.
	slowLoss := 1 + 0.4*120/slowZoneEvery
	return (d/r.cruise*slowLoss + r.cruise/accel/2 + r.cruise/decel/2) * runSlack
}

// plannedDwell is the dwell the timetable allows at a stop reached at t:
// at a steady load as many alight as board, so twice the hour's demand.
func plannedDwell(t time.Time) float64 {
	return math.Min(MaxDwell, MinDwell+0.3*2*demandAt(t)) + dwellSlack
}

// simTime converts sim seconds since the start into a time.
func (s *Sim) simTime(sec float64) time.Time {
	return s.cfg.Start.Add(time.Duration(sec * float64(time.Second)))
}

// arrive files v's arrival at v.lastStop and sets how long it stands there.
func (s *Sim) arrive(v *vehicle) {
	r := v.route
	now := s.elapsed()
	v.arrDelay = now - v.schedArr
	v.schedDep = v.schedArr + plannedDwell(s.simTime(v.schedArr))
	board := s.board(v)
	if v.lastStop == 0 || v.lastStop == len(r.stops)-1 {
		v.schedDep += Layover
		// Leave on time, but turn round in 30 s at least however late.
		v.dwell = board + math.Max(30, math.Min(Layover+MaxHold, v.schedDep-now-board))
	} else {
		v.dwell = board + math.Max(0, math.Min(MaxHold, v.schedDep-now-board))
	}
	if v.inc != nil {
		s.incidentAtStop(v)
	}
}

// delay is v's deviation from its timetable in seconds, positive when late.
func (s *Sim) delay(v *vehicle) float64 {
	now := s.elapsed()
	if v.dwell > 0 {
		// Standing at a stop: late by its late arrival, or by staying past
		// its departure time; early while it waits for an early arrival's
		// time.
		return math.Max(now-v.schedDep, math.Min(now-v.schedArr, math.Max(v.arrDelay, 0)))
	}
	r := v.route
	from, to := r.stops[v.lastStop].at, r.stops[v.nextStop].at
	f := 1.0
	if d := math.Abs(to - from); d > 0 {
		f = math.Min(1, math.Abs(v.s-from)/d)
	}
	return now - (v.schedDep + f*(v.schedArr-v.schedDep))
}

// loop is one round trip of a line's timetable, from the departure at its
// first stop: at each stop, in order, when it is reached and left.
type loop struct {
	r     *route
	calls []call
}

type call struct {
	stop     int
	dir      int // the direction it arrives in
	arr, dep float64
}

// loopTimetable writes the round trip of r as it runs from at.
func (r *route) loopTimetable(at time.Time) loop {
	l := loop{r: r}
	dwell := plannedDwell(at)
	t := 0.0
	n := len(r.stops)
	order := make([]call, 0, 2*n-2)
	for i := 1; i < n; i++ {
		order = append(order, call{stop: i, dir: 1})
	}
	for i := n - 2; i >= 0; i-- {
		order = append(order, call{stop: i, dir: -1})
	}
	prev := 0
	for _, c := range order {
		t += r.runTime(math.Abs(r.stops[c.stop].at - r.stops[prev].at))
		c.arr = t
		t += dwell
		if c.stop == 0 || c.stop == n-1 {
			t += Layover
		}
		c.dep = t
		l.calls = append(l.calls, c)
		prev = c.stop
	}
	return l
}

func (l loop) length() float64 { return l.calls[len(l.calls)-1].dep }

// place puts v where the timetable has a vehicle tau seconds into the round
// trip, on time.
func (l loop) place(v *vehicle, tau float64) {
	r := l.r
	prev := l.calls[len(l.calls)-1] // the first stop, left at 0 (and at length)
	prev.dep = 0
	for _, c := range l.calls {
		if tau < c.arr {
			// Running from prev to c.
			from, to := r.stops[prev.stop].at, r.stops[c.stop].at
			f := (tau - prev.dep) / (c.arr - prev.dep)
			v.s, v.dir = from+f*(to-from), c.dir
			v.lastStop, v.nextStop = prev.stop, c.stop
			v.schedDep, v.schedArr = -(tau - prev.dep), c.arr-tau
			v.speed = v.cruise
			return
		}
		if tau < c.dep {
			// Standing at c.
			v.s, v.dir = r.stops[c.stop].at, c.dir
			v.lastStop, v.nextStop = c.stop, c.stop
			v.schedArr, v.schedDep = c.arr-tau, c.dep-tau
			v.dwell = c.dep - tau
			return
		}
		prev = c
	}
}

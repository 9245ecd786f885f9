package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
)

// IncidentKind names an incident fleetsim injects. Each is also the kind of
// alert a dispatcher should get from it.
type IncidentKind string

// The incidents fleetsim injects.
const (
	// OffRoute: a vehicle leaves its line by a few hundred metres between
	// two stops, on a detour at half speed, and comes back before the next.
	OffRoute IncidentKind = "off_route"
	// NoProgress: a vehicle breaks down between stations, far from a
	// terminal, brakes to a stand and stays there 9.5 to 13 minutes.
	NoProgress IncidentKind = "no_progress"
	// Bunched: a vehicle leaves a terminal 0.7 headways late, so that the
	// one behind runs right behind it (and a gap opens ahead of it).
	Bunched IncidentKind = "bunched"
	// Late: a vehicle runs at 45 % of its speed and dwells 20 s longer at
	// each stop until it is 7.5 to 10 minutes late, then catches up as late
	// vehicles do.
	Late IncidentKind = "late"
	// Early: a vehicle runs hot, 30 % faster, without waiting for
	// passengers or for its time, until 2.5 to 3.5 minutes early (25
	// minutes at most), then waits at stops until it is on time again.
	Early IncidentKind = "early"
	// FeedSilent: no position report of a line's vehicles for 4 to 6
	// minutes; the vehicles run on, and the stations feed reports their
	// arrivals as before.
	FeedSilent IncidentKind = "feed_silent"
	// Stale: one vehicle's reports stop for 3 to 5 minutes.
	Stale IncidentKind = "stale"
)

// IncidentKinds lists the kinds in the order DefaultIncidents names them.
var IncidentKinds = []IncidentKind{OffRoute, NoProgress, Bunched, Late, Early, FeedSilent, Stale}

// DefaultIncidents is what --incidents default injects in each hour.
const DefaultIncidents = "off_route:3,no_progress:2,bunched:2,late:3,early:2,feed_silent:1,stale:2"

// ParseIncidents reads an --incidents list: comma-separated kind:count, or
// "default" for DefaultIncidents. Counts are per simulated hour.
func ParseIncidents(list string) (map[IncidentKind]int, error) {
	if strings.TrimSpace(list) == "default" {
		list = DefaultIncidents
	}
	out := map[IncidentKind]int{}
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, count, ok := strings.Cut(item, ":")
		kind := IncidentKind(strings.TrimSpace(name))
		if !slices.Contains(IncidentKinds, kind) {
			return nil, fmt.Errorf("unknown incident %q; want one of %s, or default", name, kindList())
		}
		n, err := strconv.Atoi(strings.TrimSpace(count))
		if !ok || err != nil || n < 0 {
			return nil, fmt.Errorf("incident %q: want kind:count with a count of 0 or more", item)
		}
		out[kind] += n
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no incident in %q; want kind:count,... or default", list)
	}
	return out, nil
}

func kindList() string {
	names := make([]string, len(IncidentKinds))
	for i, k := range IncidentKinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

// incidentSalt separates the incidents' random stream from the fleet's, so
// that drawing incidents leaves the fleet's own draws as they were.
const incidentSalt = 0x2545f4914f6cdd1d

// The schedule of incidents: each simulated hour's are drawn at random
// times in it, the first hour starting after a warm-up in which the
// headways are first measured. One not started within giveUp (no vehicle
// fitted) is dropped.
const (
	incidentWarmup = 10 * 60.0
	giveUp         = 30 * 60.0
)

// incidents injects incidents into a run and ends them.
type incidents struct {
	rng      *rand.Rand
	perHour  map[IncidentKind]int
	nextHour float64
	pending  []pendingIncident
	busy     []*vehicle // vehicles with an incident under way
	silent   []*route   // lines silent
}

type pendingIncident struct {
	at   float64 // sim seconds
	kind IncidentKind
}

// incident is one under way, on one vehicle (or two, bunched).
type incident struct {
	kind IncidentKind
	pace float64 // factor on the cruising speed while it lasts
	// OffRoute: the detour runs from..to metres along the path, depth
	// metres right of it (left when negative), reached over ramp metres.
	from, to, ramp, depth float64
	// NoProgress: how long it stands, and until when once standing.
	standFor float64
	until    float64 // sim seconds; also the end of Late, Early, Bunched
	// Late, Early: the delay at which it ends.
	goal float64
	// Bunched: the vehicle held at the terminal, by how long, and whether
	// that hold has begun.
	leader  *vehicle
	hold    float64
	started bool
}

func newIncidents(seed uint64, perHour map[IncidentKind]int) *incidents {
	return &incidents{rng: rand.New(rand.NewPCG(seed^incidentSalt, seed)), perHour: perHour, nextHour: incidentWarmup}
}

// draw schedules the incidents of the hour starting at from.
func (m *incidents) draw(from float64) {
	for _, k := range IncidentKinds {
		for range m.perHour[k] {
			m.pending = append(m.pending, pendingIncident{at: from + m.rng.Float64()*3600, kind: k})
		}
	}
	slices.SortStableFunc(m.pending, func(a, b pendingIncident) int {
		switch {
		case a.at < b.at:
			return -1
		case a.at > b.at:
			return 1
		}
		return 0
	})
}

// step ends the incidents that are over and starts those due.
func (m *incidents) step(s *Sim) {
	now := s.elapsed()
	for now >= m.nextHour {
		m.draw(m.nextHour)
		m.nextHour += 3600
	}
	m.busy = slices.DeleteFunc(m.busy, func(v *vehicle) bool {
		if v.inc == nil || !m.over(s, v, now) {
			return v.inc == nil
		}
		if v.inc.kind != Bunched || v == v.inc.leader {
			v.route.active--
		}
		v.inc = nil
		return true
	})
	m.silent = slices.DeleteFunc(m.silent, func(r *route) bool {
		if now < r.silentUntil {
			return false
		}
		r.silentUntil = 0
		r.active--
		return true
	})
	if s.slot != 0 {
		return // once per tick is often enough to look for a vehicle that fits
	}
	m.pending = slices.DeleteFunc(m.pending, func(p pendingIncident) bool {
		if p.at > now {
			return false
		}
		return m.start(s, p.kind, now) || now-p.at > giveUp
	})
}

// over reports whether v's incident has ended.
func (m *incidents) over(s *Sim, v *vehicle, now float64) bool {
	inc := v.inc
	switch inc.kind {
	case OffRoute:
		return (v.s-inc.to)*float64(v.dir) >= 0 || v.dwell > 0
	case NoProgress:
		return inc.until > 0 && now >= inc.until
	case Late:
		return s.delay(v) >= inc.goal || now >= inc.until
	case Early:
		return s.delay(v) <= inc.goal || now >= inc.until
	case Bunched:
		return inc.started && now >= inc.until
	case Stale:
		return now >= v.silentUntil
	}
	return true
}

// silenced reports whether v's position reports are held back.
func (s *Sim) silenced(v *vehicle) bool {
	if s.inc == nil {
		return false
	}
	now := s.elapsed()
	return now < v.silentUntil || now < v.route.silentUntil
}

// start begins an incident of the kind on a vehicle (or line) that fits it
// now, and reports whether it found one.
func (m *incidents) start(s *Sim, kind IncidentKind, now float64) bool {
	switch kind {
	case Bunched, FeedSilent:
		return m.startOnLine(s, kind, now)
	}
	n := len(s.vehicles)
	first := m.rng.IntN(n)
	for k := range n {
		v := s.vehicles[(first+k)%n]
		if v.inc != nil || now < v.route.silentUntil || now < v.silentUntil {
			continue
		}
		var inc *incident
		switch kind {
		case OffRoute:
			inc = m.detour(s, v)
		case NoProgress:
			inc = m.breakdown(s, v)
		case Late:
			if v.dwell == 0 && s.delay(v) < 60 {
				inc = &incident{pace: 0.45, goal: 450 + m.rng.Float64()*150, until: now + 45*60}
			}
		case Early:
			if d := s.delay(v); v.dwell == 0 && math.Abs(d) < 30 {
				inc = &incident{pace: 1.3, goal: -(150 + m.rng.Float64()*60), until: now + 25*60}
			}
		case Stale:
			// One at a time on a line: several would be the line's feed
			// failing, which is feed_silent's.
			if !slices.ContainsFunc(v.route.vehicles, func(o *vehicle) bool { return now < o.silentUntil }) {
				v.silentUntil = now + 180 + m.rng.Float64()*120
				inc = &incident{pace: 1}
			}
		}
		if inc != nil {
			inc.kind = kind
			v.inc = inc
			v.route.active++
			m.busy = append(m.busy, v)
			return true
		}
	}
	return false
}

// startOnLine begins an incident that takes a whole line, free of others.
func (m *incidents) startOnLine(s *Sim, kind IncidentKind, now float64) bool {
	n := len(s.routes)
	first := m.rng.IntN(n)
	for k := range n {
		r := s.routes[(first+k)%n]
		if r.active > 0 || len(r.vehicles) < 3 {
			continue
		}
		if kind == FeedSilent {
			r.silentUntil = now + 240 + m.rng.Float64()*120
			r.active++
			m.silent = append(m.silent, r)
			return true
		}
		// The leader and the vehicle behind it, in the order of the line.
		i := m.rng.IntN(len(r.vehicles))
		a, b := r.vehicles[i], r.vehicles[(i-1+len(r.vehicles))%len(r.vehicles)]
		if a.inc != nil || b.inc != nil || now < a.silentUntil || now < b.silentUntil {
			continue
		}
		headway := r.loopTimetable(s.now).length() / float64(len(r.vehicles))
		inc := &incident{kind: Bunched, pace: 1, leader: a, hold: 0.7 * headway}
		a.inc, b.inc = inc, inc
		r.active++
		m.busy = append(m.busy, a, b)
		return true
	}
	return false
}

// detour plans v's detour over the stretch it has just started, if that
// stretch is long enough for one and a side of it is clear of the line.
func (m *incidents) detour(s *Sim, v *vehicle) *incident {
	r := v.route
	if v.dwell > 0 || v.lastStop == v.nextStop {
		return nil
	}
	from, to := r.stops[v.lastStop].at, r.stops[v.nextStop].at
	dir := float64(v.dir)
	if math.Abs(to-from) < 900 || math.Abs(v.s-from) > 200 || math.Abs(to-v.s) < 700 {
		return nil
	}
	inc := &incident{pace: 0.5, from: v.s + 20*dir, to: to - 150*dir, depth: 250 + m.rng.Float64()*200}
	inc.ramp = math.Min(250, math.Abs(inc.to-inc.from)/3)
	// The side whose far point is further from the line, so that the
	// detour does not run along another part of it.
	mid, bearing := r.pointAt((inc.from + inc.to) / 2)
	right := distanceToPaths(r.all, offsetPoint(mid, bearing, inc.depth))
	left := distanceToPaths(r.all, offsetPoint(mid, bearing, -inc.depth))
	if left > right {
		inc.depth, right = -inc.depth, left
	}
	if right < 150 {
		return nil
	}
	return inc
}

// breakdown plans v's breakdown, if it runs in the middle of a stretch far
// from the terminals.
func (m *incidents) breakdown(s *Sim, v *vehicle) *incident {
	r := v.route
	if v.dwell > 0 || v.speed < 5 || v.lastStop == v.nextStop {
		return nil
	}
	from, to := r.stops[v.lastStop].at, r.stops[v.nextStop].at
	braking := v.speed * v.speed / (2 * decel)
	if math.Abs(v.s-from) < 300 || math.Abs(to-v.s) < 350+braking {
		return nil
	}
	at, _ := r.pointAt(v.s + float64(v.dir)*braking)
	for _, t := range r.terminals() {
		if geoDistance(at, t) < 300 {
			return nil
		}
	}
	return &incident{pace: 1, standFor: 570 + m.rng.Float64()*210}
}

// brokenDown moves a broken-down v: braking to a stand, then standing. It
// reports false once the vehicle may run again.
func (s *Sim) brokenDown(v *vehicle, dt float64) bool {
	inc := v.inc
	if inc.until == 0 {
		v.speed = math.Max(0, v.speed-decel*dt)
		step := v.speed * dt
		v.s += math.Copysign(step, v.route.stops[v.nextStop].at-v.s)
		if v.speed == 0 {
			inc.until = s.elapsed() + inc.standFor
		}
		return true
	}
	if s.elapsed() < inc.until {
		v.speed = 0
		return true
	}
	return false
}

// incidentAtStop changes the dwell v's incident gives it at the stop just
// reached.
func (s *Sim) incidentAtStop(v *vehicle) {
	inc := v.inc
	terminal := v.lastStop == 0 || v.lastStop == len(v.route.stops)-1
	switch inc.kind {
	case Late:
		v.dwell += 20
	case Early:
		// Off as soon as the doors have opened and closed, early or not.
		v.dwell = MinDwell
		if terminal {
			v.dwell += 30
		}
	case Bunched:
		if v == inc.leader && terminal && !inc.started {
			v.dwell += inc.hold
			inc.started = true
			inc.until = s.elapsed() + v.dwell + 25*60
		}
	}
}

// detourOffset is how far right of its path v is on its detour.
func (inc *incident) detourOffset(v *vehicle) float64 {
	into := (v.s - inc.from) * float64(v.dir)
	length := math.Abs(inc.to - inc.from)
	if into <= 0 || into >= length {
		return 0
	}
	edge := math.Min(into, length-into)
	if edge >= inc.ramp {
		return inc.depth
	}
	x := edge / inc.ramp
	return inc.depth * x * x * (3 - 2*x) // smoothstep: leaving and rejoining at an angle
}

// offsetPoint moves p by off metres at right angles to bearing (right of it
// when positive), in a local frame: fine at city scale.
func offsetPoint(p orb.Point, bearing, off float64) orb.Point {
	a := (bearing + 90) * math.Pi / 180
	dx, dy := off*math.Sin(a), off*math.Cos(a)
	return orb.Point{p[0] + dx/(111320*math.Cos(p[1]*math.Pi/180)), p[1] + dy/110540}
}

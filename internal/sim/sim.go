// Package sim is fleetsim's simulator: vehicles moving along the network's
// lines, accelerating, braking and dwelling at stations, keeping to a
// timetable (and so to their headway), sometimes running late; incidents
// injected on request, with the ground truth of what a dispatcher should
// be alerted to; ride-hailing vehicles roaming an area without a line;
// arrivals, turnstile counts on a daily ridership curve, and weather that
// drifts. Stepping is a pure function of the seed and the
// configuration; only Run touches the wall clock, to pace the output.
package sim

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"time"

	"github.com/paulmach/orb"

	"github.com/fleetwatch/fleetwatch/internal/model"
	"github.com/fleetwatch/fleetwatch/internal/network"
)

// Sink receives the simulator's records; a Kafka producer or a JSONL
// writer. The value is only valid during the call: the simulator reuses it.
type Sink interface {
	Send(kind model.Kind, key string, value []byte)
}

// Config sets up a simulation.
type Config struct {
	Network *network.Network
	// Vehicles in service, spread over the lines by their round trips (see
	// apportion); 0 gives DefaultPerLine a line on average (NoLineVehicles
	// gives none).
	Vehicles int
	Tick     time.Duration // simulated time between two reports of a vehicle
	// Speedup is simulated seconds per wall second; 0 runs as fast as it can.
	Speedup  float64
	Start    time.Time
	Duration time.Duration // simulated; 0 runs until the context ends
	Seed     uint64
	// Shard and Shards select a disjoint part of the output: vehicles,
	// stations and weather areas whose index modulo Shards is Shard. Every
	// shard simulates the whole network, so shards agree on every vehicle.
	Shard, Shards int
	// NoLineVehicles runs no transit service, for a fleet of roamers only:
	// no vehicle on the lines, whatever Vehicles says, and so no station
	// records or turnstile counts. The network then needs no line to run on.
	NoLineVehicles bool
	// Roam adds vehicles without a line or stops, ride-hailing drivers,
	// driving between random places in RoamArea.
	Roam int
	// RoamArea is where roamers drive; empty means the network's bounds.
	RoamArea orb.MultiPolygon
	// Incidents is how many incidents of each kind (see ParseIncidents) to
	// inject in each simulated hour. None leaves the run exactly as it is
	// without: the same seed gives the same records.
	Incidents map[IncidentKind]int
	// Truth, if set, receives the ground truth of the run as each condition
	// ends (Finish ends those still holding). Tracking it changes nothing
	// in the records.
	Truth func(Truth)
	// Thresholds judge the ground truth; the zero value means
	// DefaultThresholds.
	Thresholds Thresholds
}

// DefaultPerLine is the number of vehicles a line gets on average when none
// is asked for.
const DefaultPerLine = 8

// Bounds of the vehicle model; tests check the output against them.
const (
	MaxSpeedKmh   = 70.0 // no vehicle runs faster
	minCruiseKmh  = 45.0
	maxCruiseKmh  = 65.0
	accel         = 1.0 // m/s²
	decel         = 1.2 // m/s²
	MinDwell      = 15.0
	MaxDwell      = 60.0 // boarding and alighting, before holding
	MaxHold       = 60.0 // extra seconds held at a stop to restore the headway
	Layover       = 90.0 // seconds at a terminal before turning back
	capacity      = 120.0
	slowZoneEvery = 45 * 60.0 // mean seconds between slow zones of one vehicle
)

const (
	turnstileEvery = time.Minute
	weatherEvery   = 5 * time.Minute
	// slots staggers position reports over the tick, as real vehicles do,
	// instead of sending the whole fleet at once every tick.
	slots = 10
)

// Sim is a running simulation.
type Sim struct {
	cfg      Config
	rng      *rand.Rand
	routes   []*route
	vehicles []*vehicle
	roamers  []*roamer
	roamArea *roamArea
	roamRng  *rand.Rand
	areas    []*area
	stations []network.Station
	now      time.Time
	step     time.Duration // simulated time per Step
	slot     int
	nextTurn time.Time
	nextWx   time.Time
	started  bool
	enc      encoder
	clock    atomic.Int64 // now, in Unix nanoseconds, for progress reports from other goroutines
	inc      *incidents   // nil without Config.Incidents
	truth    *truthTracker
}

type vehicle struct {
	index       int
	rank        int // place along the loop among the route's vehicles
	id          string
	route       *route
	s           float64 // metres along the path
	dir         int     // +1 towards the path's end, -1 back
	speed       float64 // m/s
	cruise      float64 // m/s, planned
	slowUntil   float64 // sim seconds: a slow zone (works, signals) until then
	dwell       float64 // seconds left standing at lastStop
	lastStop    int     // index in route.stops of the stop it stands at or last left
	nextStop    int
	load        float64   // passengers on board
	inc         *incident // an incident injected into its run, nil for none
	silentUntil float64   // sim seconds: its reports are not sent until then
	truth       *vehicleTruth
	// The timetable (sim seconds): the scheduled arrival at the stop it
	// heads for or stands at, the scheduled departure from the stop it
	// left or stands at, and how late it arrived at that stop.
	schedArr, schedDep, arrDelay float64
}

type area struct {
	index                       int
	id                          string
	base, wind, humidity, phase float64 // base: the day's mean temperature, drifting
}

// New prepares a simulation; it fails on a network with nothing to run on.
func New(cfg Config) (*Sim, error) {
	if cfg.Network == nil {
		return nil, fmt.Errorf("simulation needs a network")
	}
	if cfg.Tick <= 0 {
		cfg.Tick = time.Second
	}
	if cfg.Shards <= 0 {
		cfg.Shards = 1
	}
	if cfg.Shard < 0 || cfg.Shard >= cfg.Shards {
		return nil, fmt.Errorf("shard %d/%d: want 0 ≤ i < n", cfg.Shard, cfg.Shards)
	}
	if cfg.Start.IsZero() {
		cfg.Start = time.Now()
	}
	cfg.Start = cfg.Start.UTC().Truncate(time.Millisecond)
	s := &Sim{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)), now: cfg.Start,
		step: cfg.Tick / slots}
	if s.step <= 0 {
		s.step = cfg.Tick
	}
	s.clock.Store(s.now.UnixNano())
	if !cfg.NoLineVehicles {
		s.stations = cfg.Network.Stations
	}
	for _, l := range cfg.Network.Lines {
		r := newRoute(l, cfg.Network.StationsOf(l.ID))
		if len(r.stops) >= 2 && r.length() > 0 {
			s.routes = append(s.routes, r)
		}
	}
	if !cfg.NoLineVehicles {
		if len(s.routes) == 0 {
			return nil, fmt.Errorf("network has no line with two or more stations on it")
		}
		s.placeVehicles()
	}
	if cfg.Roam > 0 {
		s.roamRng = rand.New(rand.NewPCG(cfg.Seed^roamSalt, cfg.Seed))
		if err := s.placeRoamers(); err != nil {
			return nil, err
		}
	}
	if len(cfg.Incidents) > 0 || cfg.Truth != nil {
		if cfg.Shards > 1 {
			return nil, fmt.Errorf("incidents and ground truth need the whole fleet, not a shard")
		}
		if cfg.Thresholds == (Thresholds{}) {
			cfg.Thresholds = DefaultThresholds()
		}
		s.cfg.Thresholds = cfg.Thresholds
	}
	if len(cfg.Incidents) > 0 {
		s.inc = newIncidents(cfg.Seed, cfg.Incidents)
	}
	if cfg.Truth != nil {
		s.truth = newTruthTracker(s, cfg.Truth)
	}
	for i, z := range cfg.Network.Zones {
		s.areas = append(s.areas, s.newArea(i, z.ID))
	}
	if len(s.areas) == 0 {
		s.areas = append(s.areas, s.newArea(0, "network"))
	}
	return s, nil
}

func (s *Sim) newArea(i int, id string) *area {
	return &area{index: i, id: id, base: 4 + s.rng.Float64()*4, wind: 10 + s.rng.Float64()*10,
		humidity: 60 + s.rng.Float64()*20, phase: s.rng.Float64() * 2 * math.Pi}
}

// mine reports whether this shard sends the item with the given index.
func (s *Sim) mine(index int) bool { return index%s.cfg.Shards == s.cfg.Shard }

func (s *Sim) placeVehicles() {
	n := s.cfg.Vehicles
	if n <= 0 {
		n = DefaultPerLine * len(s.routes)
	}
	trips := make([]loop, len(s.routes))
	rounds := make([]float64, len(s.routes))
	for li, r := range s.routes {
		// Vehicles of one line run at nearly one speed, as trains on a
		// track do; a spread would have fast ones catch up on slow ones.
		r.cruise = (minCruiseKmh + s.rng.Float64()*(maxCruiseKmh-minCruiseKmh)) / 3.6
		trips[li] = r.loopTimetable(s.cfg.Start)
		rounds[li] = trips[li].length()
	}
	for li, count := range apportion(n, rounds) {
		r, trip := s.routes[li], trips[li]
		for i := range count {
			v := &vehicle{
				index:  len(s.vehicles),
				id:     fmt.Sprintf("%s-%02d", r.line, i+1),
				route:  r,
				cruise: r.cruise * (0.98 + 0.04*s.rng.Float64()),
				load:   capacity * (0.2 + s.rng.Float64()*0.4),
			}
			// Spread the line's vehicles evenly over the timetable's round
			// trip so the headway starts regular in both directions.
			trip.place(v, (float64(i)+0.5)*trip.length()/float64(count))
			s.vehicles = append(s.vehicles, v)
			r.vehicles = append(r.vehicles, v)
		}
	}
}

// apportion spreads n vehicles over lines whose round trips take the given
// times, in proportion to them (the largest remainders get the odd ones,
// ties to the line first in the file), so that every line runs at about one
// headway, as a network's timetable has them: the same count on every line
// would run a short shuttle (the Yellow Line's 3 stations) a few minutes
// apart, where any slow zone bunches its trains, and a long line at a
// quarter of an hour. While there are enough for one a line, a line left
// without takes one from the line that runs most often.
func apportion(n int, rounds []float64) []int {
	counts := make([]int, len(rounds))
	total := 0.0
	for _, r := range rounds {
		total += r
	}
	if n <= 0 || total <= 0 {
		return counts
	}
	rest := make([]float64, len(rounds))
	left := n
	for i, r := range rounds {
		quota := float64(n) * r / total
		counts[i] = int(quota)
		rest[i] = quota - float64(counts[i])
		left -= counts[i]
	}
	order := make([]int, len(rounds))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(rest[b], rest[a]) })
	for _, i := range order[:left] {
		counts[i]++
	}
	if n < len(rounds) {
		return counts
	}
	for i := range counts {
		if counts[i] > 0 {
			continue
		}
		most := -1
		for j := range counts {
			if counts[j] > 1 && (most < 0 || float64(counts[j])/rounds[j] > float64(counts[most])/rounds[most]) {
				most = j
			}
		}
		counts[most]--
		counts[i] = 1
	}
	return counts
}

// VehicleIDs returns the ids of the vehicles this shard reports.
func (s *Sim) VehicleIDs() []string {
	var ids []string
	for _, v := range s.vehicles {
		if s.mine(v.index) {
			ids = append(ids, v.id)
		}
	}
	for _, r := range s.roamers {
		if s.mine(r.index) {
			ids = append(ids, r.id)
		}
	}
	return ids
}

// AreaIDs returns the weather areas this shard reports.
func (s *Sim) AreaIDs() []string {
	var ids []string
	for _, a := range s.areas {
		if s.mine(a.index) {
			ids = append(ids, a.id)
		}
	}
	return ids
}

// Now returns the simulated time. Unlike the rest of Sim, it may be called
// from another goroutine while the simulation runs.
func (s *Sim) Now() time.Time { return time.Unix(0, s.clock.Load()).UTC() }

// Done reports whether the simulated duration has run out.
func (s *Sim) Done() bool {
	return s.cfg.Duration > 0 && s.now.Sub(s.cfg.Start) >= s.cfg.Duration
}

// elapsed is simulated seconds since the start.
func (s *Sim) elapsed() float64 { return s.now.Sub(s.cfg.Start).Seconds() }

// Step advances the simulation by a tenth of a tick: a tenth of the fleet
// moves by a whole tick and reports. The first step also sends the station
// reference records and the first weather.
func (s *Sim) Step(sink Sink) {
	if !s.started {
		s.started = true
		s.enc.setTime(s.now)
		for i, st := range s.stations {
			if s.mine(i) {
				sink.Send(model.KindStations, st.ID, s.enc.station(st))
			}
		}
		s.nextTurn = s.now.Add(turnstileEvery)
		s.nextWx = s.now
	}
	if s.slot == 0 {
		s.order()
	}
	s.now = s.now.Add(s.step)
	s.clock.Store(s.now.UnixNano())
	s.enc.setTime(s.now)
	dt := s.cfg.Tick.Seconds()
	if s.inc != nil {
		s.inc.step(s)
	}
	for i := s.slot; i < len(s.vehicles); i += slots {
		v := s.vehicles[i]
		s.move(v, dt, sink)
		if s.mine(v.index) && !s.silenced(v) {
			p, bearing := s.position(v)
			delay := s.delay(v)
			sink.Send(model.KindVehicles, v.id, s.enc.position(v, p, bearing, delay))
			if s.truth != nil {
				s.truth.report(s, v, p, delay)
			}
		}
	}
	for i := s.slot; i < len(s.roamers); i += slots {
		r := s.roamers[i]
		s.roam(r, dt)
		if s.mine(r.index) {
			sink.Send(model.KindVehicles, r.id, s.enc.roaming(r))
		}
	}
	s.slot = (s.slot + 1) % slots
	if !s.now.Before(s.nextTurn) {
		s.turnstiles(sink)
		s.nextTurn = s.nextTurn.Add(turnstileEvery)
	}
	if !s.now.Before(s.nextWx) {
		s.weather(sink)
		s.nextWx = s.nextWx.Add(weatherEvery)
	}
}

func (s *Sim) move(v *vehicle, dt float64, sink Sink) {
	r := v.route
	if v.dwell > 0 {
		v.dwell -= dt
		v.speed = 0
		if v.dwell > 0 {
			return
		}
		dt = -v.dwell // time left in this tick after departing
		v.dwell = 0
		next := v.lastStop + v.dir
		if next < 0 || next >= len(r.stops) {
			v.dir = -v.dir
			next = v.lastStop + v.dir
		}
		v.nextStop = next
		v.schedArr = v.schedDep + r.runTime(math.Abs(r.stops[next].at-r.stops[v.lastStop].at))
	}
	now := s.elapsed()
	if now >= v.slowUntil && s.rng.Float64() < dt/slowZoneEvery {
		v.slowUntil = now + 60 + s.rng.Float64()*120 // 1 to 3 minutes
	}
	if v.inc != nil && v.inc.kind == NoProgress && s.brokenDown(v, dt) {
		return
	}
	// A late vehicle makes up time within the line's speed limit.
	cruise := math.Min(v.cruise*(1+math.Max(0, math.Min(0.08, s.delay(v)/1200))), MaxSpeedKmh/3.6)
	if now < v.slowUntil {
		cruise *= 0.6
	}
	if v.inc != nil {
		cruise = math.Min(cruise*v.inc.pace, MaxSpeedKmh/3.6)
	}
	target := r.stops[v.nextStop].at
	dist := math.Abs(target - v.s)
	// Vehicles on one track cannot pass: stop short of the one ahead.
	room := s.room(v)
	blocked := room < dist
	// Accelerate towards cruising speed, but never faster than the speed
	// from which the vehicle can still brake to a stop at the next station
	// (or behind the vehicle ahead).
	v.speed = math.Min(math.Min(cruise, v.speed+accel*dt), math.Sqrt(2*decel*math.Min(dist, room))+0.5)
	step := v.speed * dt
	if blocked && step >= room {
		step, v.speed = room, 0
	}
	if step < dist {
		// Move towards the stop whatever dir says: a vehicle placed beyond
		// the last stop of its line still reaches it.
		v.s += math.Copysign(step, target-v.s)
		return
	}
	v.s = target
	v.speed = 0
	prev := v.lastStop
	v.lastStop = v.nextStop
	s.arrive(v)
	if !s.mine(v.index) {
		return
	}
	prevID := ""
	if prev >= 0 {
		prevID = r.stops[prev].id
	}
	st := r.stops[v.lastStop].id
	sink.Send(model.KindStations, st, s.enc.arrival(st, v, prevID))
	if s.truth != nil {
		s.truth.arrival(s, v)
	}
}

// position is where v reports itself: on its line, or beside it on a detour.
func (s *Sim) position(v *vehicle) (orb.Point, float64) {
	p, bearing := v.route.pointAt(v.s)
	if v.inc != nil && v.inc.kind == OffRoute {
		if off := v.inc.detourOffset(v); off != 0 {
			p = offsetPoint(p, bearing, off)
		}
	}
	if v.dir < 0 {
		bearing = math.Mod(bearing+180, 360)
	}
	return p, bearing
}

// board exchanges passengers at the stop just reached and returns the dwell
// it takes: more people, longer stop.
func (s *Sim) board(v *vehicle) float64 {
	demand := demandAt(s.now)
	alight := v.load * (0.15 + 0.2*s.rng.Float64())
	boarding := demand * (0.5 + s.rng.Float64())
	v.load = math.Min(capacity*1.5, math.Max(0, v.load-alight+boarding))
	return math.Min(MaxDwell, MinDwell+0.3*(alight+boarding))
}

// loopPos places a vehicle on its route's round trip: out along the path,
// then back, so that "ahead" is simply "further along the loop".
func (v *vehicle) loopPos() float64 {
	if v.dir > 0 {
		return v.s
	}
	return 2*v.route.length() - v.s
}

// order sorts each route's vehicles along the loop, once per tick, so a
// vehicle finds its neighbours without scanning the whole line.
func (s *Sim) order() {
	for _, r := range s.routes {
		slices.SortFunc(r.vehicles, func(a, b *vehicle) int { return cmp.Compare(a.loopPos(), b.loopPos()) })
		for i, v := range r.vehicles {
			v.rank = i
		}
	}
}

// minSpacing is the closest a vehicle comes to the one ahead (a signal block).
const minSpacing = 200.0

// room is how far v may go before it closes up on the vehicle ahead.
func (s *Sim) room(v *vehicle) float64 {
	r := v.route
	n := len(r.vehicles)
	if n < 2 {
		return math.Inf(1)
	}
	loop := 2 * r.length()
	ahead := r.vehicles[(v.rank+1)%n]
	if ahead.dwell > 0 && ahead.lastStop == v.nextStop && (v.nextStop == 0 || v.nextStop == len(r.stops)-1) {
		return math.Inf(1) // terminals have tracks enough for two
	}
	gap := math.Mod(ahead.loopPos()-v.loopPos()+2*loop, loop)
	return math.Max(0, gap-minSpacing)
}

// ridership is the share of a weekday's entries in each hour, with the
// morning and evening peaks of a commuter network.
var ridership = [24]float64{0.01, 0.005, 0.005, 0.005, 0.01, 0.025, 0.06, 0.1, 0.125, 0.08, 0.05, 0.045,
	0.05, 0.05, 0.05, 0.06, 0.08, 0.11, 0.125, 0.07, 0.045, 0.035, 0.025, 0.015}

// weekendRidership is flatter, with a midday hump.
var weekendRidership = [24]float64{0.02, 0.015, 0.01, 0.005, 0.005, 0.01, 0.02, 0.03, 0.045, 0.06, 0.07, 0.075,
	0.08, 0.08, 0.075, 0.07, 0.065, 0.06, 0.055, 0.05, 0.045, 0.04, 0.035, 0.03}

func (s *Sim) hourShare() float64 { return hourShareAt(s.now) }

func hourShareAt(t time.Time) float64 {
	if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return weekendRidership[t.Hour()]
	}
	return ridership[t.Hour()]
}

// demandAt is how many board at a stop, on average, at time t.
func demandAt(t time.Time) float64 { return 15 * hourShareAt(t) / 0.125 }

func (s *Sim) turnstiles(sink Sink) {
	share := s.hourShare()
	for i, st := range s.stations {
		const dailyRides = 6000.0
		mean := dailyRides * share / 60 * (0.7 + 0.6*s.rng.Float64())
		if s.mine(i) {
			sink.Send(model.KindStations, st.ID, s.enc.turnstile(st.ID, int(math.Round(mean))))
		}
	}
}

var conditions = []string{"clear", "partly_cloudy", "cloudy", "rain", "snow"}

func (s *Sim) weather(sink Sink) {
	for _, a := range s.areas {
		a.base += s.rng.NormFloat64() * 0.2
		// Coldest before dawn, warmest mid-afternoon.
		hour := float64(s.now.Hour()) + float64(s.now.Minute())/60
		temp := a.base + 4*math.Sin((hour-9)/24*2*math.Pi)
		a.wind = math.Max(0, a.wind+s.rng.NormFloat64()*1.5)
		a.humidity = math.Max(20, math.Min(100, a.humidity+s.rng.NormFloat64()*2))
		cond := conditions[int(math.Abs(math.Sin(a.phase+float64(s.now.Unix())/7200))*float64(len(conditions)-1))]
		if cond == "snow" && temp > 1 {
			cond = "rain"
		}
		if s.mine(a.index) {
			sink.Send(model.KindWeather, a.id, s.enc.weather(a, temp, cond))
		}
	}
}

// Run steps until the duration ends or ctx is done, pacing simulated time
// against the wall clock by the speedup, then calls Finish.
func (s *Sim) Run(ctx context.Context, sink Sink) {
	defer s.Finish()
	wallStart := time.Now()
	for !s.Done() {
		if ctx.Err() != nil {
			return
		}
		s.Step(sink)
		if s.cfg.Speedup > 0 {
			due := wallStart.Add(time.Duration(float64(s.now.Sub(s.cfg.Start)) / s.cfg.Speedup))
			if wait := time.Until(due); wait > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(wait):
				}
			}
		}
	}
}

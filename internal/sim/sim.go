// Package sim is fleetsim's simulator: vehicles moving along the network's
// lines, accelerating, braking and dwelling at stations, keeping their
// headway, sometimes running late; ride-hailing vehicles roaming an area
// without a line; arrivals, turnstile counts on a daily ridership curve,
// and weather that drifts. Stepping is a pure function of the seed and the
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
	// Vehicles in service, spread over the lines; 0 gives DefaultPerLine
	// per line (NoLineVehicles gives none).
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
}

// DefaultPerLine is the number of vehicles a line gets when none is asked for.
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
}

type vehicle struct {
	index     int
	rank      int // place along the loop among the route's vehicles
	id        string
	route     *route
	s         float64 // metres along the path
	dir       int     // +1 towards the path's end, -1 back
	speed     float64 // m/s
	cruise    float64 // m/s, planned
	slowUntil float64 // sim seconds: a slow zone (works, signals) until then
	dwell     float64 // seconds left standing at lastStop
	lastStop  int     // index in route.stops, -1 before the first stop
	nextStop  int
	travelled float64 // metres since the start, for the schedule
	sched     float64 // planned metres per second, dwells included
	load      float64 // passengers on board
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

// roundTrip estimates one vehicle's time for a full round trip of the route
// at the given cruising speed: running, braking and accelerating at every
// stop, a typical dwell, and the layovers.
func (r *route) roundTrip(cruise float64) float64 {
	stops := float64(len(r.stops))
	perStop := MinDwell + 10 + cruise/accel/2 + cruise/decel/2
	// Slow zones cost 40 % of the running time they cover.
	slowLoss := 1 + 0.4*120/slowZoneEvery
	return 2*(r.length()/cruise*slowLoss+stops*perStop) + 2*Layover
}

func (s *Sim) placeVehicles() {
	n := s.cfg.Vehicles
	if n <= 0 {
		n = DefaultPerLine * len(s.routes)
	}
	for li, r := range s.routes {
		count := n / len(s.routes)
		if li < n%len(s.routes) {
			count++
		}
		length := r.length()
		// Vehicles of one line run at nearly one speed, as trains on a
		// track do; a spread would have fast ones catch up on slow ones.
		lineCruise := minCruiseKmh + s.rng.Float64()*(maxCruiseKmh-minCruiseKmh)
		for i := range count {
			// Spread the line's vehicles evenly over a round trip so the
			// headway starts regular in both directions.
			u := (float64(i) + 0.5) * 2 * length / float64(count)
			v := &vehicle{
				index:    len(s.vehicles),
				id:       fmt.Sprintf("%s-%02d", r.line, i+1),
				route:    r,
				s:        u,
				dir:      1,
				cruise:   lineCruise * (0.98 + 0.04*s.rng.Float64()) / 3.6,
				lastStop: -1,
				load:     capacity * (0.2 + s.rng.Float64()*0.4),
			}
			if u > length {
				v.s, v.dir = 2*length-u, -1
			}
			v.sched = 2 * length / r.roundTrip(v.cruise)
			v.speed = v.cruise
			v.nextStop = r.nextStopFrom(v.s, v.dir)
			s.vehicles = append(s.vehicles, v)
			r.vehicles = append(r.vehicles, v)
		}
	}
}

// nextStopFrom returns the index of the first stop strictly ahead of s.
func (r *route) nextStopFrom(s float64, dir int) int {
	if dir > 0 {
		for i, st := range r.stops {
			if st.at > s {
				return i
			}
		}
		return len(r.stops) - 1
	}
	for i := len(r.stops) - 1; i >= 0; i-- {
		if r.stops[i].at < s {
			return i
		}
	}
	return 0
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
	for i := s.slot; i < len(s.vehicles); i += slots {
		v := s.vehicles[i]
		s.move(v, dt, sink)
		if s.mine(v.index) {
			sink.Send(model.KindVehicles, v.id, s.enc.position(v, s.delay(v)))
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

// delay is the schedule deviation in seconds, positive when late: how far
// the vehicle is behind where its planned average speed would have it.
func (s *Sim) delay(v *vehicle) float64 {
	return (s.elapsed()*v.sched - v.travelled) / v.sched
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
	}
	now := s.elapsed()
	if now >= v.slowUntil && s.rng.Float64() < dt/slowZoneEvery {
		v.slowUntil = now + 60 + s.rng.Float64()*120 // 1 to 3 minutes
	}
	// A late vehicle makes up time within the line's speed limit.
	cruise := math.Min(v.cruise*(1+math.Max(0, math.Min(0.08, s.delay(v)/1200))), MaxSpeedKmh/3.6)
	if now < v.slowUntil {
		cruise *= 0.6
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
		v.travelled += step
		return
	}
	v.s = target
	v.travelled += dist
	v.speed = 0
	prev := v.lastStop
	v.lastStop = v.nextStop
	v.dwell = s.board(v)
	if v.lastStop == 0 || v.lastStop == len(r.stops)-1 {
		// The terminal is where dispatchers even out the headway; a late
		// vehicle also cuts its layover to catch up.
		v.dwell += math.Max(30, math.Min(Layover+MaxHold, Layover+s.headwayCorrection(v)-math.Max(0, s.delay(v))))
	} else {
		v.dwell += s.hold(v)
	}
	if !s.mine(v.index) {
		return
	}
	prevID := ""
	if prev >= 0 {
		prevID = r.stops[prev].id
	}
	st := r.stops[v.lastStop].id
	sink.Send(model.KindStations, st, s.enc.arrival(st, v, prevID))
}

// board exchanges passengers at the stop just reached and returns the dwell
// it takes: more people, longer stop.
func (s *Sim) board(v *vehicle) float64 {
	demand := 15 * s.hourShare() / 0.125 // boarding at a peak-hour stop
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

// headwayCorrection is the even-headway rule of dispatchers: wait for half
// the difference between the gap behind and the gap ahead (negative: leave
// earlier), in seconds.
func (s *Sim) headwayCorrection(v *vehicle) float64 {
	r := v.route
	n := len(r.vehicles)
	if n < 2 {
		return 0
	}
	loop := 2 * r.length()
	gap := func(from, to *vehicle) float64 { return math.Mod(to.loopPos()-from.loopPos()+2*loop, loop) }
	ahead := gap(v, r.vehicles[(v.rank+1)%n])
	behind := gap(r.vehicles[(v.rank-1+n)%n], v)
	return (behind - ahead) / 2 / v.sched
}

// hold returns extra seconds to wait at a stop: to even out the headway, or
// because the vehicle runs early.
func (s *Sim) hold(v *vehicle) float64 {
	hold := s.headwayCorrection(v)
	if early := -s.delay(v); early > 60 {
		hold = math.Max(hold, early-60)
	}
	return math.Max(0, math.Min(MaxHold, hold))
}

// ridership is the share of a weekday's entries in each hour, with the
// morning and evening peaks of a commuter network.
var ridership = [24]float64{0.01, 0.005, 0.005, 0.005, 0.01, 0.025, 0.06, 0.1, 0.125, 0.08, 0.05, 0.045,
	0.05, 0.05, 0.05, 0.06, 0.08, 0.11, 0.125, 0.07, 0.045, 0.035, 0.025, 0.015}

// weekendRidership is flatter, with a midday hump.
var weekendRidership = [24]float64{0.02, 0.015, 0.01, 0.005, 0.005, 0.01, 0.02, 0.03, 0.045, 0.06, 0.07, 0.075,
	0.08, 0.08, 0.075, 0.07, 0.065, 0.06, 0.055, 0.05, 0.045, 0.04, 0.035, 0.03}

func (s *Sim) hourShare() float64 {
	if wd := s.now.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return weekendRidership[s.now.Hour()]
	}
	return ridership[s.now.Hour()]
}

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
// against the wall clock by the speedup.
func (s *Sim) Run(ctx context.Context, sink Sink) {
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

// Package sim is fleetsim's simulator: vehicles moving along the network's
// lines, stopping at stations, with turnstile counts and weather. Stepping is
// a pure function of the seed and the configuration; only Run touches the
// wall clock, to pace the output.
package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/fleetwatch/fleetwatch/internal/model"
	"github.com/fleetwatch/fleetwatch/internal/network"
)

// Sink receives the simulator's records; a Kafka producer or a JSONL writer.
type Sink interface {
	Send(kind model.Kind, key string, value []byte)
}

// Config sets up a simulation.
type Config struct {
	Network *network.Network
	// Vehicles in service, spread over the lines; 0 gives DefaultPerLine per line.
	Vehicles int
	Tick     time.Duration // simulated time between two reports of a vehicle
	// Speedup is simulated seconds per wall second; 0 runs as fast as it can.
	Speedup  float64
	Start    time.Time
	Duration time.Duration // simulated; 0 runs until the context ends
	Seed     uint64
}

// DefaultPerLine is the number of vehicles a line gets when none is asked for.
const DefaultPerLine = 8

const (
	turnstileEvery = time.Minute
	weatherEvery   = 5 * time.Minute
	accel          = 1.0 // m/s²
	decel          = 1.2 // m/s²
	minDwell       = 20.0
	maxDwell       = 45.0
	layover        = 90.0 // seconds at a terminal before turning back
)

// Sim is a running simulation.
type Sim struct {
	cfg      Config
	rng      *rand.Rand
	routes   []*route
	vehicles []*vehicle
	areas    []*area
	stations []network.Station
	now      time.Time
	nextTurn time.Time
	nextWx   time.Time
	started  bool
}

type vehicle struct {
	id        string
	route     *route
	s         float64 // metres along the path
	dir       int     // +1 towards the path's end, -1 back
	speed     float64 // m/s
	cruise    float64 // m/s
	dwell     float64 // seconds left standing at lastStop
	lastStop  int     // index in route.stops, -1 before the first stop
	nextStop  int
	delay     float64 // seconds, positive is late
	occupancy float64
}

type area struct {
	id                          string
	temp, wind, humidity, phase float64
}

// New prepares a simulation; it fails on a network with nothing to run on.
func New(cfg Config) (*Sim, error) {
	if cfg.Network == nil {
		return nil, fmt.Errorf("simulation needs a network")
	}
	if cfg.Tick <= 0 {
		cfg.Tick = time.Second
	}
	if cfg.Start.IsZero() {
		cfg.Start = time.Now()
	}
	cfg.Start = cfg.Start.UTC().Truncate(time.Millisecond)
	s := &Sim{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)), now: cfg.Start}
	s.stations = cfg.Network.Stations
	for _, l := range cfg.Network.Lines {
		r := newRoute(l, cfg.Network.StationsOf(l.ID))
		if len(r.stops) >= 2 && r.length() > 0 {
			s.routes = append(s.routes, r)
		}
	}
	if len(s.routes) == 0 {
		return nil, fmt.Errorf("network has no line with two or more stations on it")
	}
	s.placeVehicles()
	for _, z := range cfg.Network.Zones {
		s.areas = append(s.areas, s.newArea(z.ID))
	}
	if len(s.areas) == 0 {
		s.areas = append(s.areas, s.newArea("network"))
	}
	return s, nil
}

func (s *Sim) newArea(id string) *area {
	return &area{id: id, temp: 4 + s.rng.Float64()*4, wind: 10 + s.rng.Float64()*10,
		humidity: 60 + s.rng.Float64()*20, phase: s.rng.Float64() * 2 * math.Pi}
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
		for i := range count {
			// Spread the line's vehicles evenly over a round trip so the
			// headway starts regular in both directions.
			u := (float64(i) + 0.5) * 2 * length / float64(count)
			v := &vehicle{
				id:        fmt.Sprintf("%s-%02d", r.line, i+1),
				route:     r,
				s:         u,
				dir:       1,
				cruise:    (45 + s.rng.Float64()*20) / 3.6,
				lastStop:  -1,
				occupancy: 0.2 + s.rng.Float64()*0.4,
			}
			if u > length {
				v.s, v.dir = 2*length-u, -1
			}
			v.speed = v.cruise
			v.nextStop = r.nextStopFrom(v.s, v.dir)
			s.vehicles = append(s.vehicles, v)
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

// VehicleIDs returns the ids of every simulated vehicle.
func (s *Sim) VehicleIDs() []string {
	ids := make([]string, len(s.vehicles))
	for i, v := range s.vehicles {
		ids[i] = v.id
	}
	return ids
}

// AreaIDs returns the weather areas the simulation reports on.
func (s *Sim) AreaIDs() []string {
	ids := make([]string, len(s.areas))
	for i, a := range s.areas {
		ids[i] = a.id
	}
	return ids
}

// Now returns the simulated time.
func (s *Sim) Now() time.Time { return s.now }

// Done reports whether the simulated duration has run out.
func (s *Sim) Done() bool {
	return s.cfg.Duration > 0 && s.now.Sub(s.cfg.Start) >= s.cfg.Duration
}

// Step advances the simulation by one tick and sends what happened. The
// first step also sends the station reference records and the first weather.
func (s *Sim) Step(sink Sink) {
	if !s.started {
		s.started = true
		for _, st := range s.stations {
			s.send(sink, model.KindStations, st.ID, stationWire{Type: "station", StationID: st.ID, Name: st.Name,
				Lines: st.Lines, Lat: round6(st.Pos[1]), Lon: round6(st.Pos[0])})
		}
		s.nextTurn = s.now.Add(turnstileEvery)
		s.nextWx = s.now
	}
	dt := s.cfg.Tick.Seconds()
	s.now = s.now.Add(s.cfg.Tick)
	for _, v := range s.vehicles {
		s.move(v, dt, sink)
		s.report(v, sink)
	}
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
	// Lateness drifts: a slow random walk, pulled back towards on time.
	v.delay += s.rng.NormFloat64()*1.5 - v.delay*0.002*dt
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
	target := r.stops[v.nextStop].at
	dist := math.Abs(target - v.s)
	// Accelerate towards cruising speed, but never faster than the speed
	// from which the vehicle can still brake to a stop at the next station.
	v.speed = math.Min(math.Min(v.cruise, v.speed+accel*dt), math.Sqrt(2*decel*dist)+0.5)
	step := v.speed * dt
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
	terminal := v.lastStop == 0 || v.lastStop == len(r.stops)-1
	v.dwell = minDwell + s.rng.Float64()*(maxDwell-minDwell)
	if terminal {
		v.dwell += layover
	}
	a := arrivalWire{Type: "arrival", StationID: r.stops[v.lastStop].id, VehicleID: v.id, Line: r.line,
		Direction: direction(v.dir), TS: s.ts()}
	if prev >= 0 {
		a.PrevStationID = r.stops[prev].id
	}
	s.send(sink, model.KindStations, a.StationID, a)
}

func direction(dir int) string {
	if dir > 0 {
		return "a"
	}
	return "b"
}

func (s *Sim) report(v *vehicle, sink Sink) {
	p, bearing := v.route.pointAt(v.s)
	if v.dir < 0 {
		bearing = math.Mod(bearing+180, 360)
	}
	w := vehicleWire{VehicleID: v.id, Line: v.route.line, Lat: round6(p[1]), Lon: round6(p[0]),
		Heading: math.Round(bearing), SpeedKmh: math.Round(v.speed*3.6*10) / 10, Status: string(model.StatusInTransit),
		StopID: v.route.stops[v.nextStop].id, DelayS: math.Round(v.delay), Occupancy: math.Round(v.occupancy*100) / 100,
		TS: s.ts()}
	if v.dwell > 0 {
		w.Status = string(model.StatusStoppedAt)
		w.StopID = v.route.stops[v.lastStop].id
	}
	s.send(sink, model.KindVehicles, v.id, w)
}

// ridership is the share of a day's entries in each hour, with the morning
// and evening peaks of a commuter network.
var ridership = [24]float64{0.01, 0.005, 0.005, 0.005, 0.01, 0.025, 0.06, 0.1, 0.125, 0.08, 0.05, 0.045,
	0.05, 0.05, 0.05, 0.06, 0.08, 0.11, 0.125, 0.07, 0.045, 0.035, 0.025, 0.015}

func (s *Sim) turnstiles(sink Sink) {
	share := ridership[s.now.Hour()]
	for _, st := range s.stations {
		const dailyRides = 6000.0
		mean := dailyRides * share / 60 * (0.7 + 0.6*s.rng.Float64())
		entries := int(math.Round(mean))
		s.send(sink, model.KindStations, st.ID, turnstileWire{Type: "turnstile", StationID: st.ID, Entries: entries, TS: s.ts()})
	}
}

var conditions = []string{"clear", "partly_cloudy", "cloudy", "rain", "snow"}

func (s *Sim) weather(sink Sink) {
	for _, a := range s.areas {
		a.temp += s.rng.NormFloat64() * 0.3
		a.wind = math.Max(0, a.wind+s.rng.NormFloat64()*1.5)
		a.humidity = math.Max(20, math.Min(100, a.humidity+s.rng.NormFloat64()*2))
		cond := conditions[int(math.Abs(math.Sin(a.phase+float64(s.now.Unix())/7200))*float64(len(conditions)-1))]
		if cond == "snow" && a.temp > 1 {
			cond = "rain"
		}
		s.send(sink, model.KindWeather, a.id, weatherWire{Area: a.id, TempC: math.Round(a.temp*10) / 10,
			WindKmh: math.Round(a.wind), Humidity: math.Round(a.humidity), Condition: cond, TS: s.ts()})
	}
}

func (s *Sim) ts() string { return s.now.Format("2006-01-02T15:04:05.000Z07:00") }

func (s *Sim) send(sink Sink, kind model.Kind, key string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("encode %T: %v", v, err)) // our own structs always encode
	}
	sink.Send(kind, key, b)
}

func round6(f float64) float64 { return math.Round(f*1e6) / 1e6 }

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

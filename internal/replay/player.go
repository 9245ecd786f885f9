// Package replay plays recorded history back as if it were live: a clock
// that runs, pauses, seeks and changes speed over the data's own time, and
// a fleet state folded from the stored events up to that clock. The screen
// reads it as it reads the live store; the database is read by a loader
// goroutine, never by the screen's Update.
package replay

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/fleetwatch/fleetwatch/internal/learn"
	"github.com/fleetwatch/fleetwatch/internal/model"
	"github.com/fleetwatch/fleetwatch/internal/network"
)

// Source is recorded history: the fleet as it was at a moment, and the
// events of a time range in time order.
type Source interface {
	// FleetAt returns each vehicle's last report at or before at, no older
	// than expire.
	FleetAt(ctx context.Context, at time.Time, expire time.Duration) ([]model.VehiclePosition, error)
	// WeatherAt returns each area's latest reading at or before at.
	WeatherAt(ctx context.Context, at time.Time) ([]model.Weather, error)
	// Stations returns the stations' reference records as known at at.
	Stations(ctx context.Context, at time.Time) ([]model.StationInfo, error)
	// Events calls fn for every stored event with from < ts <= to, in time order.
	Events(ctx context.Context, from, to time.Time, fn func(model.Event) error) error
}

// Options configure a Player.
type Options struct {
	From, To time.Time     // the recorded range to play; To zero: the newest data, read as it grows
	Speed    float64       // data seconds per wall second; 0 means 1
	Expire   time.Duration // as live: vehicles silent this long are forgotten
	Window   time.Duration // the station board's rolling window
	// Chunk is how much data time one load reads ahead (default 1 min).
	Chunk time.Duration
	// Learn draws lines from the vehicles' traces and places stations, as
	// the live screen does without a network file; Base is what files gave.
	Learn bool
	Base  *network.Network
	Name  string
}

// Player is a replay in progress. Snapshot advances its clock by the wall
// time passed since the last call, times the speed.
type Player struct {
	src  Source
	opts Options

	mu       sync.Mutex
	fleet    *model.Fleet
	pos      time.Time // data time shown
	speed    float64
	paused   bool
	lastWall time.Time
	pending  []model.Event // loaded, not yet applied, in time order
	loadedTo time.Time     // events up to this time are in pending or applied
	gen      int           // bumped by a seek: loads of an older generation are dropped
	seeking  bool
	err      error
	learner  *learn.Cached // nil unless Options.Learn

	wake chan struct{}
	stop context.CancelFunc
	done chan struct{}
}

// Speeds a replay steps through with faster and slower.
var speeds = []float64{0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600}

// New starts a player at opts.From, paused until the first Snapshot; its
// loader runs until Close.
func New(src Source, opts Options) *Player {
	if opts.Speed <= 0 {
		opts.Speed = 1
	}
	if opts.Chunk <= 0 {
		opts.Chunk = time.Minute
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Player{src: src, opts: opts, speed: opts.Speed, pos: opts.From, wake: make(chan struct{}, 1), stop: cancel, done: make(chan struct{})}
	p.fleet = p.newFleet()
	if opts.Learn {
		p.learner = learn.NewCached(opts.Base, opts.Name)
	}
	p.seeking = true
	go p.loader(ctx)
	p.poke()
	return p
}

func (p *Player) newFleet() *model.Fleet {
	f := model.NewFleet()
	if p.opts.Window > 0 {
		f.SetWindow(p.opts.Window)
	}
	return f
}

// Close stops the loader.
func (p *Player) Close() {
	p.stop()
	<-p.done
}

func (p *Player) poke() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// loader does all reading: the state at a seek target, then chunk after
// chunk ahead of the clock.
func (p *Player) loader(ctx context.Context) {
	defer close(p.done)
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.wake:
		}
		for p.loadOnce(ctx) {
		}
	}
}

// loadOnce does one piece of loading, reporting whether there is more to do now.
func (p *Player) loadOnce(ctx context.Context) bool {
	p.mu.Lock()
	gen, seeking, at := p.gen, p.seeking, p.pos
	from := p.loadedTo
	ahead := !seeking && p.loadedTo.Sub(p.pos) < p.opts.Chunk && (p.opts.To.IsZero() || p.loadedTo.Before(p.opts.To))
	p.mu.Unlock()
	switch {
	case seeking:
		fleet, err := p.stateAt(ctx, at)
		p.mu.Lock()
		defer p.mu.Unlock()
		if gen != p.gen {
			return true // sought again meanwhile
		}
		p.seeking, p.err = false, err
		if err == nil {
			p.fleet, p.pending, p.loadedTo = fleet, nil, at
			if p.learner != nil {
				for _, st := range fleet.Snapshot().Stations {
					p.learner.Observe(st.StationInfo)
				}
			}
		}
		return err == nil
	case ahead:
		to := from.Add(p.opts.Chunk)
		if !p.opts.To.IsZero() && to.After(p.opts.To) {
			to = p.opts.To
		}
		var evs []model.Event
		err := p.src.Events(ctx, from, to, func(ev model.Event) error {
			evs = append(evs, ev)
			return nil
		})
		p.mu.Lock()
		defer p.mu.Unlock()
		if gen != p.gen {
			return true
		}
		p.err = err
		if err != nil {
			return false
		}
		p.pending = append(p.pending, evs...)
		// Live data may still be arriving for the newest seconds: read no
		// further than the wall clock allows, so nothing is skipped.
		if now := time.Now(); to.After(now) {
			to = now
		}
		p.loadedTo = to
		return p.loadedTo.Sub(p.pos) < p.opts.Chunk && (p.opts.To.IsZero() || p.loadedTo.Before(p.opts.To)) && to.After(from)
	}
	return false
}

// stateAt builds the fleet as it was at at: every vehicle's last report,
// the stations and the weather. Station counts start from there.
func (p *Player) stateAt(ctx context.Context, at time.Time) (*model.Fleet, error) {
	f := p.newFleet()
	stations, err := p.src.Stations(ctx, at)
	if err != nil {
		return nil, fmt.Errorf("replay: stations at %s: %w", at.Format(time.RFC3339), err)
	}
	for _, s := range stations {
		f.Apply(s)
	}
	vehicles, err := p.src.FleetAt(ctx, at, p.opts.Expire)
	if err != nil {
		return nil, fmt.Errorf("replay: fleet at %s: %w", at.Format(time.RFC3339), err)
	}
	for _, v := range vehicles {
		f.Apply(v)
	}
	weather, err := p.src.WeatherAt(ctx, at)
	if err != nil {
		return nil, fmt.Errorf("replay: weather at %s: %w", at.Format(time.RFC3339), err)
	}
	for _, w := range weather {
		f.Apply(w)
	}
	return f, nil
}

// Snapshot advances the clock to wall time now and returns the state at it.
func (p *Player) Snapshot(now time.Time) model.Snapshot {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.lastWall.IsZero() && !p.paused && !p.seeking {
		next := p.pos.Add(time.Duration(float64(now.Sub(p.lastWall)) * p.speed))
		// The clock never runs past what is loaded: a slow database pauses
		// the replay instead of skipping events.
		if next.After(p.loadedTo) {
			next = p.loadedTo
		}
		if !p.opts.To.IsZero() && next.After(p.opts.To) {
			next = p.opts.To
		}
		if next.After(p.pos) {
			p.pos = next
		}
	}
	p.lastWall = now
	n := 0
	for n < len(p.pending) && !model.EventTime(p.pending[n]).After(p.pos) {
		p.fleet.Apply(p.pending[n])
		if p.learner != nil {
			p.learner.Observe(p.pending[n])
		}
		n++
	}
	p.pending = p.pending[n:]
	if p.opts.Expire > 0 {
		p.fleet.Expire(p.pos.Add(-p.opts.Expire))
	}
	if !p.seeking && p.loadedTo.Sub(p.pos) < p.opts.Chunk/2 {
		p.poke()
	}
	s := p.fleet.Snapshot()
	s.AsOf = p.pos
	return s
}

// Network returns the network learned from the replayed events so far,
// and its version; nil when the player does not learn.
func (p *Player) Network(now time.Time) (*network.Network, uint64) {
	if p.learner == nil {
		return nil, 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.learner.Network(now)
}

// Clock is what the time bar shows.
type Clock struct {
	Pos, From, To time.Time
	Speed         float64
	Paused        bool
	Seeking       bool
	Err           error
}

// Clock returns the replay's clock.
func (p *Player) Clock() Clock {
	p.mu.Lock()
	defer p.mu.Unlock()
	return Clock{Pos: p.pos, From: p.opts.From, To: p.opts.To, Speed: p.speed, Paused: p.paused, Seeking: p.seeking, Err: p.err}
}

// TogglePause pauses or resumes the clock.
func (p *Player) TogglePause() {
	p.mu.Lock()
	p.paused = !p.paused
	p.mu.Unlock()
}

// Faster and Slower step the speed through the usual factors.
func (p *Player) Faster() { p.stepSpeed(1) }

// Slower lowers the speed one step.
func (p *Player) Slower() { p.stepSpeed(-1) }

func (p *Player) stepSpeed(dir int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	i := 0
	for i < len(speeds)-1 && speeds[i] < p.speed {
		i++
	}
	p.speed = speeds[max(0, min(len(speeds)-1, i+dir))]
}

// Seek moves the clock by d (negative: back), within the range. Going
// forward within what is loaded only applies events; anything else rebuilds
// the state at the target from the store.
func (p *Player) Seek(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	target := p.pos.Add(d)
	if target.Before(p.opts.From) {
		target = p.opts.From
	}
	if !p.opts.To.IsZero() && target.After(p.opts.To) {
		target = p.opts.To
	}
	if d > 0 && !target.After(p.loadedTo) && !p.seeking {
		p.pos = target
		return
	}
	p.pos = target
	p.gen++
	p.seeking = true
	p.pending = nil
	p.poke()
}

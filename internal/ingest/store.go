// Package ingest folds decoded records into the fleet state and hands
// consistent snapshots to readers (the UI, the snapshot command).
package ingest

import (
	"errors"
	"sync"
	"time"

	"github.com/fleetwatch/fleetwatch/internal/alert"
	"github.com/fleetwatch/fleetwatch/internal/codec"
	"github.com/fleetwatch/fleetwatch/internal/learn"
	"github.com/fleetwatch/fleetwatch/internal/model"
	"github.com/fleetwatch/fleetwatch/internal/network"
)

// Store owns the fleet state. Records are decoded by the goroutine that
// delivers them (one per partition, in parallel); applying them to the
// fleet is serialised, so the state has one writer at a time.
type Store struct {
	mu      sync.Mutex
	fleet   *model.Fleet
	opts    Options
	rejects []Rejected // newest last, at most keepRejects
	latency latencyHist

	// learner draws the network from the data when no file gives one.
	learner *learn.Cached
	// alerts judges the fleet when asked to, on the data's clock.
	alerts     *alert.Detector
	clock      alertClock
	openAlerts openAlerts // what Alerts shares (alerts.go)
	// expired is the wall time of the latest Expire: frames come many
	// times a second, and one Expire may visit every vehicle.
	expired time.Time
	// view is the latest snapshot taken, which serves every reader until
	// the state changes (fresh): many viewers of one store (serve) then
	// cost one view of the fleet per change, not one per viewer per frame,
	// and the writer copies the chunks they share once.
	view  model.Snapshot
	fresh bool
	// boards holds each station board's predictions for a second (etaReuse)
	// of the clock a screen asks at: every screen with a station selected
	// asks 15 times a second, under this lock, and with 100 000 vehicles
	// one answer takes tens of milliseconds (model.BenchmarkStationETAs).
	boards map[string]stationBoard
}

// stationBoard is a station's predicted arrivals, worked out at now.
type stationBoard struct {
	now  time.Time
	etas []model.ETA
}

// etaReuse is how long a station's predictions serve: they are shown to
// the second, and each is an estimate within tens of seconds.
const etaReuse = time.Second

// latencyHist counts, per millisecond up to 10 s, how old records were when
// they were applied: the time from the producer's record timestamp to the
// state, which on a live stream is the end-to-end latency.
type latencyHist struct {
	ms   [latencyMax + 1]int64 // the last bucket holds 10 s and more
	n    int64
	peak time.Duration
	// last is stats' answer while no record came since (valid): every
	// viewer's frame asks, under the store's lock, and the answer walks
	// 10 000 buckets.
	last  model.Latency
	valid bool
}

const latencyMax = 10_000

func (h *latencyHist) add(ages []time.Duration) {
	h.valid = h.valid && len(ages) == 0
	for _, d := range ages {
		h.n++
		h.peak = max(h.peak, d)
		h.ms[min(max(d.Milliseconds(), 0), latencyMax)]++
	}
}

// stats returns the median and 99th percentile, in milliseconds.
func (h *latencyHist) stats() model.Latency {
	if h.valid {
		return h.last
	}
	out := model.Latency{Count: h.n, MaxMs: float64(h.peak) / float64(time.Millisecond)}
	h.last, h.valid = out, true
	if h.n == 0 {
		return out
	}
	p50, p99 := (h.n+1)/2, h.n-h.n/100
	var seen int64
	for ms, c := range h.ms {
		seen += c
		if out.P50Ms == 0 && seen >= p50 {
			out.P50Ms = float64(ms)
		}
		if seen >= p99 {
			out.P99Ms = float64(ms)
			break
		}
	}
	h.last = out
	return out
}

// Options say how the store decodes records and ages vehicles.
type Options struct {
	// Decoder reads the records; nil reads them with the default options.
	Decoder *codec.Decoder
	// Expire forgets vehicles not heard from for this long; 0 keeps them.
	Expire time.Duration
	// DataClock measures ages from the newest report read instead of the
	// wall clock: right for a snapshot of a replayed or historical topic,
	// wrong for a live screen, where a silent feed must show as stale.
	DataClock bool
	// Window is the station board's rolling window (model.DefaultWindow if 0).
	Window time.Duration
	// MaxAhead clamps report times further than this ahead of the wall
	// clock to the wall clock: a producer with a wrong clock (or a hostile
	// one) must not pin a vehicle as fresh forever, nor, on the data clock,
	// make every other vehicle look stale. 0 trusts every time (the demo,
	// whose simulated clock runs ahead on purpose).
	MaxAhead time.Duration
	// Learn draws lines from vehicle traces and places stations from their
	// records (Network), for data that comes without a network file. Base
	// is what files gave (nil for none), drawn under what is learned, and
	// Name the learned network's title.
	Learn bool
	Base  *network.Network
	Name  string
	// Alerts, when set, judges every event with these thresholds (on the
	// Base network's geometry), and OnAlert hears each alert that opens or
	// closes, under the store's lock: it must not block.
	Alerts  *alert.Config
	OnAlert func([]alert.Alert)
}

// DefaultMaxAhead is how far ahead of the wall clock a report may be stamped.
const DefaultMaxAhead = 5 * time.Minute

// recordSpan is where one record's events lie in a decoded batch: the
// record's index in the batch, not a copy of it (copying each record cost
// the live path about as much as judging it).
type recordSpan struct {
	rec, from, to int
}

// Rejected is a refused record: where it was and why.
type Rejected struct {
	Kind      model.Kind
	Topic     string
	Partition int32
	Offset    int64
	Category  model.Category
	Reason    string
	Excerpt   string // the start of the value, raw: render it with care
	counted   bool   // the whole record was refused, not only some of its events
}

const (
	keepRejects  = 20
	excerptBytes = 120
)

// NewStore returns an empty store.
func NewStore(opts Options) *Store {
	if opts.Decoder == nil {
		opts.Decoder = &codec.Decoder{}
	}
	f := model.NewFleet()
	if opts.Window > 0 {
		f.SetWindow(opts.Window)
	}
	s := &Store{fleet: f, opts: opts}
	if opts.Learn {
		s.learner = learn.NewCached(opts.Base, opts.Name)
	}
	if opts.Alerts != nil {
		net := opts.Base
		if net == nil {
			net = &network.Network{}
		}
		s.alerts = alert.NewSharing(*opts.Alerts, net, f.IDs())
		s.clock.marks = map[partKey]partMark{}
	}
	return s
}

// Network returns the network learned from the data so far at wall time
// now, and a version that changes when the network does; nil when the store
// does not learn. The network is shared: readers must not modify it.
func (s *Store) Network(now time.Time) (*network.Network, uint64) {
	if s.learner == nil {
		return nil, 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.learner.Network(now)
}

// clampFuture sets a report's time to now when it is more than ahead of it.
func clampFuture(ev model.Event, now time.Time, ahead time.Duration) (model.Event, bool) {
	limit := now.Add(ahead)
	switch e := ev.(type) {
	case model.VehiclePosition:
		if e.TS.After(limit) {
			e.TS = now
			return e, true
		}
	case model.Weather:
		if e.TS.After(limit) {
			e.TS = now
			return e, true
		}
	case model.Arrival:
		if e.TS.After(limit) {
			e.TS = now
			return e, true
		}
	case model.Turnstile:
		if e.TS.After(limit) {
			e.TS = now
			return e, true
		}
	}
	return ev, false
}

// Handle decodes a batch and applies it. Records that do not decode are
// counted as rejected, remembered among the last few, and skipped. A record
// may carry several events (a GTFS-realtime feed); when only some of them
// decode, the record is used, not counted as rejected, and the reason the
// others were skipped is remembered among the last rejects all the same.
func (s *Store) Handle(batch []model.Record) {
	events := make([]model.Event, 0, len(batch))
	var (
		used     [len(model.Kinds)]int64 // records used, whole or in part
		future   [len(model.Kinds)]int64 // events whose time was clamped
		rejected []Rejected
		spans    []recordSpan // with a detector: each record's events
		now      = time.Now()
		ages     = make([]time.Duration, 0, len(batch))
	)
	if s.alerts != nil {
		spans = make([]recordSpan, 0, len(batch))
	}
	for i, rec := range batch {
		if rec.Time.Unix() <= 0 {
			// Old message formats (pykafka's default, v0) carry no record
			// time: the moment it is read is the best stand-in.
			rec.Time = now
		} else {
			ages = append(ages, now.Sub(rec.Time))
		}
		n := len(events)
		var err error
		events, err = s.opts.Decoder.DecodeAll(rec, events)
		if s.alerts != nil {
			spans = append(spans, recordSpan{i, n, len(events)})
		}
		if s.opts.MaxAhead > 0 {
			for i := n; i < len(events); i++ {
				var clamped bool
				if events[i], clamped = clampFuture(events[i], now, s.opts.MaxAhead); clamped {
					future[rec.Kind]++
				}
			}
		}
		partial := err != nil && len(events) > n
		if err == nil || partial {
			used[rec.Kind]++
		}
		if err != nil {
			r := Rejected{Kind: rec.Kind, Topic: rec.Topic, Partition: rec.Partition, Offset: rec.Offset,
				Category: model.CatUnknownFormat, Reason: err.Error()}
			var de *model.DecodeError
			if errors.As(err, &de) {
				r.Category = de.Category
			}
			ex := rec.Value
			if len(ex) > excerptBytes {
				ex = ex[:excerptBytes]
			}
			r.Excerpt = string(ex)
			r.counted = !partial
			rejected = append(rejected, r)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fresh = false
	s.latency.add(ages)
	for k, n := range used {
		if n > 0 {
			s.fleet.AddCounters(model.Kind(k), n, false)
		}
		if future[k] > 0 {
			s.fleet.CountFuture(model.Kind(k), future[k])
		}
	}
	for _, ev := range events {
		s.fleet.Apply(ev)
	}
	if s.learner != nil {
		for _, ev := range events {
			s.learner.Observe(ev)
		}
	}
	if s.alerts != nil {
		for _, sp := range spans {
			rec := batch[sp.rec]
			if rec.Time.Unix() <= 0 {
				rec.Time = now // as the decoding loop took it
			}
			s.clock.observe(rec, events[sp.from:sp.to])
			for _, ev := range events[sp.from:sp.to] {
				s.emit(s.alerts.Apply(ev))
			}
		}
		s.tick(now)
	}
	for _, r := range rejected {
		if r.counted {
			s.fleet.Reject(r.Kind, r.Category)
		}
	}
	if len(rejected) > 0 {
		s.rejects = append(s.rejects, rejected...)
		if n := len(s.rejects) - keepRejects; n > 0 {
			s.rejects = append(s.rejects[:0], s.rejects[n:]...)
		}
	}
}

// Snapshot returns a consistent view of the state at wall time now, after
// dropping the vehicles that expired by then (on the wall clock at most
// once per second of now: a vehicle may outstay its expiry by a frame or
// so on a live screen). Ingest waits only while the view is taken, which does not
// grow with the fleet (model.Fleet.Snapshot).
func (s *Store) Snapshot(now time.Time) model.Snapshot {
	s.mu.Lock()
	asOf := now
	if latest := s.fleet.Latest(); s.opts.DataClock && !latest.IsZero() {
		asOf = latest
	}
	// On the wall clock (a live screen), Expire runs at most once a second;
	// on the data clock (a snapshot or replay of what was), every time.
	if s.opts.Expire > 0 && (s.opts.DataClock || now.Sub(s.expired) >= time.Second || now.Before(s.expired)) {
		if s.fleet.Expire(asOf.Add(-s.opts.Expire)) {
			s.fresh = false
		}
		s.expired = now
	}
	if !s.fresh {
		s.view, s.fresh = s.fleet.Snapshot(), true
	}
	snap := s.view
	snap.Latency = s.latency.stats()
	s.mu.Unlock()
	snap.AsOf = asOf
	return snap
}

// Rejects returns the most recent rejected records, newest last.
func (s *Store) Rejects() []Rejected {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Rejected(nil), s.rejects...)
}

// LastReject says why the most recent rejected record was refused, or "".
func (s *Store) LastReject() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.rejects) == 0 {
		return ""
	}
	r := s.rejects[len(s.rejects)-1]
	return r.Kind.String() + ": " + r.Reason
}

// VehicleETAs predicts the vehicle's next stops, nearest first.
func (s *Store) VehicleETAs(id string) []model.ETA {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fleet.VehicleETAs(id)
}

// StationETAs predicts the next two arrivals per direction at the station
// after now (the data's clock).
//
// An answer serves for etaReuse of the clock, less the arrivals whose time
// has passed.
func (s *Store) StationETAs(id string, now time.Time) []model.ETA {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.boards[id]; ok && !now.Before(b.now) && now.Sub(b.now) < etaReuse {
		var out []model.ETA
		for _, e := range b.etas {
			if !e.At.Before(now) {
				out = append(out, e)
			}
		}
		return out
	}
	etas := s.fleet.StationETAs(id, now, 2)
	if s.boards == nil || len(s.boards) >= 64 { // as many as screens select at once
		s.boards = map[string]stationBoard{}
	}
	s.boards[id] = stationBoard{now: now, etas: etas}
	return etas
}

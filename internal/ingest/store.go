// Package ingest folds decoded records into the fleet state and hands
// consistent snapshots to readers (the UI, the snapshot command).
package ingest

import (
	"errors"
	"sync"
	"time"

	"github.com/fleetwatch/fleetwatch/internal/model"
)

// Store owns the fleet state. Records are decoded by the goroutine that
// delivers them (one per partition, in parallel); applying them to the
// fleet is serialised, so the state has one writer at a time.
type Store struct {
	mu      sync.Mutex
	fleet   *model.Fleet
	opts    Options
	rejects []Rejected // newest last, at most keepRejects
}

// Options say how the store ages vehicles.
type Options struct {
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
}

// DefaultMaxAhead is how far ahead of the wall clock a report may be stamped.
const DefaultMaxAhead = 5 * time.Minute

// Rejected is a refused record: where it was and why.
type Rejected struct {
	Kind      model.Kind
	Topic     string
	Partition int32
	Offset    int64
	Category  model.Category
	Reason    string
	Excerpt   string // the start of the value, raw: render it with care
}

const (
	keepRejects  = 20
	excerptBytes = 120
)

// NewStore returns an empty store.
func NewStore(opts Options) *Store {
	f := model.NewFleet()
	if opts.Window > 0 {
		f.SetWindow(opts.Window)
	}
	return &Store{fleet: f, opts: opts}
}

type decoded struct {
	kind   model.Kind
	ev     model.Event
	future bool // its time was clamped
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
// counted as rejected, remembered among the last few, and skipped.
func (s *Store) Handle(batch []model.Record) {
	events := make([]decoded, 0, len(batch))
	var rejected []Rejected
	for _, rec := range batch {
		ev, err := model.Decode(rec)
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
			rejected = append(rejected, r)
			continue
		}
		d := decoded{kind: rec.Kind, ev: ev}
		if s.opts.MaxAhead > 0 {
			d.ev, d.future = clampFuture(ev, time.Now(), s.opts.MaxAhead)
		}
		events = append(events, d)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range events {
		s.fleet.Count(d.kind)
		if d.future {
			s.fleet.CountFuture(d.kind)
		}
		s.fleet.Apply(d.ev)
	}
	for _, r := range rejected {
		s.fleet.Reject(r.Kind, r.Category)
	}
	if len(rejected) > 0 {
		s.rejects = append(s.rejects, rejected...)
		if n := len(s.rejects) - keepRejects; n > 0 {
			s.rejects = append(s.rejects[:0], s.rejects[n:]...)
		}
	}
}

// Snapshot returns a consistent copy of the state at wall time now, after
// dropping the vehicles that expired by then.
func (s *Store) Snapshot(now time.Time) model.Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	asOf := now
	if latest := s.fleet.Latest(); s.opts.DataClock && !latest.IsZero() {
		asOf = latest
	}
	if s.opts.Expire > 0 {
		s.fleet.Expire(asOf.Add(-s.opts.Expire))
	}
	snap := s.fleet.Snapshot()
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

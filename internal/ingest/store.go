// Package ingest folds decoded records into the fleet state and hands
// consistent snapshots to readers (the UI, the snapshot command).
package ingest

import (
	"sync"
	"time"

	"github.com/fleetwatch/fleetwatch/internal/model"
)

// Store owns the fleet state. Records are decoded by the goroutine that
// delivers them (one per partition, in parallel); applying them to the
// fleet is serialised, so the state has one writer at a time.
type Store struct {
	mu         sync.Mutex
	fleet      *model.Fleet
	opts       Options
	lastReject string
}

// Options say how the store ages vehicles.
type Options struct {
	// Expire forgets vehicles not heard from for this long; 0 keeps them.
	Expire time.Duration
	// DataClock measures ages from the newest report read instead of the
	// wall clock: right for a snapshot of a replayed or historical topic,
	// wrong for a live screen, where a silent feed must show as stale.
	DataClock bool
}

// NewStore returns an empty store.
func NewStore(opts Options) *Store { return &Store{fleet: model.NewFleet(), opts: opts} }

// Handle decodes a batch and applies it. Records that do not decode are
// counted as rejected and skipped.
func (s *Store) Handle(batch []model.Record) {
	events := make([]model.Event, 0, len(batch))
	kinds := make([]model.Kind, 0, len(batch))
	var rejected []model.Kind
	var lastErr string
	for _, rec := range batch {
		ev, err := model.Decode(rec)
		if err != nil {
			rejected = append(rejected, rec.Kind)
			lastErr = rec.Kind.String() + ": " + err.Error()
			continue
		}
		events = append(events, ev)
		kinds = append(kinds, rec.Kind)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, ev := range events {
		s.fleet.Count(kinds[i], false)
		s.fleet.Apply(ev)
	}
	for _, k := range rejected {
		s.fleet.Count(k, true)
	}
	if lastErr != "" {
		s.lastReject = lastErr
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

// LastReject says why the most recent rejected record was refused, or "".
func (s *Store) LastReject() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastReject
}

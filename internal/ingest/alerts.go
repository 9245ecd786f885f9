package ingest

import (
	"slices"
	"time"

	"github.com/fleetwatch/fleetwatch/internal/alert"
	"github.com/fleetwatch/fleetwatch/internal/model"
)

// partKey names one partition of one topic.
type partKey struct {
	topic     string
	partition int32
}

// partMark is how far one partition has been read: its newest event time,
// and whether records remain behind it.
type partMark struct {
	newest time.Time
	behind bool
}

// alertClock keeps the data's time for the detector. Partitions are read in
// parallel and one may run minutes ahead of another while catching up, so
// the clock is the low watermark: the oldest newest-event of the partitions
// still behind. Once everything is read it is the newest event, and while
// nothing arrives it moves with the wall clock, so that a feed falling
// silent is noticed.
type alertClock struct {
	marks  map[partKey]partMark
	at     time.Time // the clock as last ticked
	atWall time.Time // the wall time of that tick
	// cur is the mark of the partition of the records being observed, out
	// of marks until another partition's record comes or marks are read
	// (put): a batch's records are all of one partition, and a map lookup
	// and store for each record cost as much as judging it.
	cur    partMark
	curKey partKey
	held   bool
}

// observe notes the events one record gave.
func (c *alertClock) observe(rec model.Record, events []model.Event) {
	if k := (partKey{rec.Topic, rec.Partition}); !c.held || k != c.curKey {
		c.put()
		c.cur, c.curKey, c.held = c.marks[k], k, true
	}
	m := &c.cur
	for _, ev := range events {
		if t := model.EventTime(ev); t.After(m.newest) {
			m.newest = t
		}
	}
	if rec.End > 0 {
		m.behind = rec.Offset+1 < rec.End
	}
}

// put files the mark observe holds in marks.
func (c *alertClock) put() {
	if c.held {
		c.marks[c.curKey], c.held = c.cur, false
	}
}

// watermark is the time everything before which has been applied; zero
// while a partition with records to read has delivered none yet (its
// first events may be the oldest of all).
func (c *alertClock) watermark() (time.Time, bool) {
	c.put()
	var low, high time.Time
	behind := false
	for _, m := range c.marks {
		if m.behind && m.newest.IsZero() {
			return time.Time{}, false
		}
		if m.newest.After(high) {
			high = m.newest
		}
		if m.behind && (!behind || m.newest.Before(low)) {
			low, behind = m.newest, true
		}
	}
	if behind {
		return low, false
	}
	return high, true
}

// tick moves the detector's clock to the watermark, or, everything read
// and nothing new, on with the wall clock.
func (s *Store) tick(now time.Time) {
	wm, caughtUp := s.clock.watermark()
	switch {
	case wm.After(s.clock.at):
		s.clock.at, s.clock.atWall = wm, now
	case caughtUp && !s.clock.at.IsZero() && now.Sub(s.clock.atWall) >= time.Second:
		s.clock.at = s.clock.at.Add(now.Sub(s.clock.atWall))
		s.clock.atWall = now
	default:
		return
	}
	s.emit(s.alerts.Tick(s.clock.at))
}

func (s *Store) emit(as []alert.Alert) {
	if len(as) == 0 {
		return
	}
	// The detector reports every alert that opens or closes: the open
	// ones have changed, and Alerts takes them again.
	s.openAlerts.fresh = false
	if s.opts.OnAlert != nil {
		s.opts.OnAlert(as)
	}
}

// openAlerts is the open alerts as last taken from the detector, shared
// by every reader until an alert opens or closes. With thousands open
// (an aged fleet runs late), each viewer's copy every frame cost serve
// more than drawing it, and their memory most of its 870 MB.
type openAlerts struct {
	list  []alert.Alert
	fresh bool
}

// ExpectPartition tells the detector's clock of a partition about to be
// read from offset from, whose end is end: one with records waits for
// them before the clock moves (kafka.ConsumerConfig.OnPartition).
func (s *Store) ExpectPartition(topic string, partition int32, from, end int64) {
	if s.alerts == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clock.put()
	k := partKey{topic, partition}
	m := s.clock.marks[k]
	m.behind = from < end
	s.clock.marks[k] = m
}

// FlushAlerts judges up to the newest event read, everything being read:
// the last tick of a run that stops once caught up.
func (s *Store) FlushAlerts(now time.Time) {
	if s.alerts == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clock.put()
	for k, m := range s.clock.marks {
		m.behind = false
		s.clock.marks[k] = m
	}
	s.tick(now)
	s.emit(s.alerts.Tick(s.clock.at))
}

// TickAlerts lets the detector notice silence: called about once a second
// of wall time, it moves the data's clock on while nothing arrives.
func (s *Store) TickAlerts(now time.Time) {
	if s.alerts == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tick(now)
}

// Alerts returns the open alerts, newest first; nil without a detector.
// The list is shared by every caller until the open alerts change: do not
// modify it. It is the store's own copy, taken once per change, so it does
// not depend on how the detector keeps its list.
func (s *Store) Alerts() []alert.Alert {
	if s.alerts == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.openAlerts.fresh {
		s.openAlerts.list = slices.Clip(append([]alert.Alert(nil), s.alerts.Open()...))
		s.openAlerts.fresh = true
	}
	return s.openAlerts.list
}

// AlertLines is each line's headway as the detector judges it; nil without
// a detector.
func (s *Store) AlertLines() []alert.LineHeadway {
	if s.alerts == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.alerts.Lines()
}

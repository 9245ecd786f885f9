package alert

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/fleetwatch/fleetwatch/internal/model"
)

// Silence is judged in event time, second by second, as Tick's clock
// passes each second: a line (or stream) is silent over the seconds none of
// its reports fell in. Recording which seconds had a report, rather than
// only the latest report, is what keeps the judgement right when a catch-up
// read delivers one partition minutes ahead of another: a report from the
// future does not hide a silence the clock has not reached yet.

// presenceSecs is how many seconds of presence are kept: how far one
// partition may run ahead of the slowest and still be judged right.
const presenceSecs = 4096

// presence records the seconds in which something reported, and judges
// them in order.
type presence struct {
	bits   [presenceSecs / 64]uint64
	newest int64 // the newest second with a report; 0 before any
	eval   int64 // the seconds up to this one are judged
	quiet  int64 // seconds without a report in a row, up to eval
	silent bool  // quiet for the threshold, up to eval
	alert  bool  // its silence raised an alert
	// from and to bound its latest silence (Unix ns); to is 0 while it lasts.
	from, to int64
	// setNs is the start (Unix ns) of the latest second a report was
	// counted in: most reports fall in the second of the one before and
	// have nothing to add, which this tells without dividing.
	setNs int64
}

func (p *presence) bit(s int64) (*uint64, uint64) {
	i := ((s % presenceSecs) + presenceSecs) % presenceSecs
	return &p.bits[i/64], 1 << (i % 64)
}

// record files a report at ts (Unix ns).
func (p *presence) record(ts int64) {
	if p.newest != 0 && ts >= p.setNs && ts-p.setNs < 1e9 {
		return
	}
	s := floorSec(ts)
	if p.newest == 0 {
		p.newest, p.eval = s, s-1
	}
	if s > p.newest {
		if s-p.newest >= presenceSecs {
			p.bits = [presenceSecs / 64]uint64{}
		} else {
			for x := p.newest + 1; x <= s; x++ {
				w, b := p.bit(x)
				*w &^= b
			}
		}
		p.newest = s
	}
	if s <= p.newest-presenceSecs || s <= p.eval {
		return // too old to keep, or judged already: too late to count
	}
	w, b := p.bit(s)
	*w |= b
	p.setNs = s * 1e9
}

// advance judges the seconds after eval up to to, or some of them: +1 when
// they complete a silence of thr seconds, -1 when a report ends one, else
// 0. Call it again until eval is to.
func (p *presence) advance(to, thr int64) int {
	if p.eval >= p.newest {
		// Nothing heard since: the seconds up to to are quiet, in one go
		// (a clock that jumps a day is not walked second by second).
		p.quiet += to - p.eval
		p.eval = to
		if !p.silent && p.quiet >= thr {
			p.silent, p.from, p.to = true, (to-p.quiet+1)*1e9, 0
			return +1
		}
		return 0
	}
	s := p.eval + 1
	p.eval = s
	heard := s <= p.newest-presenceSecs // beyond what is kept: assume heard
	if !heard && s <= p.newest {
		w, b := p.bit(s)
		heard = *w&b != 0
	}
	if heard {
		p.quiet = 0
		if p.silent {
			p.silent, p.to = false, s*1e9
			return -1
		}
		return 0
	}
	p.quiet++
	if !p.silent && p.quiet >= thr {
		p.silent, p.from, p.to = true, (s-p.quiet+1)*1e9, 0
		return +1
	}
	return 0
}

// quietSpan is the time an alert of silence stood: from its start (not its
// opening: when the silence began) to its close, to 0 while it stands.
type quietSpan struct{ from, to int64 }

// covers reports whether the quietSpan overlaps [from, to].
func (sp quietSpan) covers(from, to int64) bool {
	if sp.from == 0 {
		return false
	}
	end := sp.to
	if end == 0 {
		end = to
	}
	return sp.from <= to && end >= from
}

func floorSec(ns int64) int64 {
	s := ns / 1e9
	if ns < 0 && ns%1e9 != 0 {
		s--
	}
	return s
}

// streamState follows one stream, to notice it falling silent.
type streamState struct {
	heard presence
	quiet quietSpan // its latest feed_silent
	last  int64     // latest event time
	gap   float64   // usual gap between distinct event times, seconds (moving average)
	seen  int
}

func (s *streamState) event(t int64) {
	s.heard.record(t)
	s.seen++
	if t <= s.last {
		return
	}
	if s.last > 0 {
		g := float64(t-s.last) / 1e9
		if s.gap == 0 {
			s.gap = g
		}
		s.gap += (g - s.gap) / 32
	}
	s.last = t
}

// staleGap is a vehicle's silence found when it reported again.
type staleGap struct {
	id, line string
	from, to int64
	lon, lat float64
}

// staleAfter is the silence after which a vehicle is stale.
func (d *Detector) staleAfter() int64 { return int64(max(d.cfg.Stale, d.intervals(3))) }

// feedAfter is the silence after which a line is.
func (d *Detector) feedAfter() int64 { return int64(max(d.cfg.FeedSilent, d.intervals(3))) }

// Tick judges the passing of time up to now, the data's clock: stale
// vehicles, silent feeds, the arrivals applied since the last tick (their
// headways, measured in order of time), zone notices that have stood long
// enough. Call it every second or so of that clock, and once more at the
// end of a read. Reading several partitions, pass the oldest of their
// latest event times (a low watermark: everything before it has been
// applied; a partition not read yet counts as being at its start), and
// once everything is read the newest. Calling it again with the same time,
// or an earlier one, is harmless. Alerts are stamped with the event time
// their condition began, however late the tick.
func (d *Detector) Tick(now time.Time) []Alert {
	var out []Alert
	t := now.UnixNano()
	mark := floorSec(t) // seconds before this one are complete
	streamSilent := false
	for k := range d.streams {
		s := &d.streams[k]
		if s.heard.newest == 0 {
			continue
		}
		thr := max(int64(d.cfg.FeedSilent/time.Second), int64(3*s.gap+0.999))
		stream := model.Kind(k).String()
		key := alertKey{kind: FeedSilent, stream: stream}
		for s.heard.eval < mark-1 {
			switch s.heard.advance(mark-1, thr) {
			case +1:
				if s.seen >= 20 { // a stream seen too little to know its gaps is not judged
					s.heard.alert, s.quiet = true, quietSpan{from: s.heard.from}
					out = d.openAlert(Alert{Kind: FeedSilent, Stream: stream, At: stamp(s.heard.from+thr*1e9, t),
						Detail: fmt.Sprintf("no %s event for %s", stream, fmtDuration(time.Duration(thr)*time.Second))}, key, out)
				}
			case -1:
				if s.heard.alert {
					s.heard.alert, s.quiet.to = false, s.heard.to
					out = d.closeAlert(key, stamp(s.heard.to, t), out)
				}
			}
		}
		if k == int(model.KindVehicles) {
			streamSilent = s.heard.alert
		}
	}
	feedSecs := (d.feedAfter() + 1e9 - 1) / 1e9
	for _, l := range d.lines {
		if l.heard.newest == 0 {
			continue
		}
		key := alertKey{kind: FeedSilent, line: l.id}
		for l.heard.eval < mark-1 {
			switch l.heard.advance(mark-1, feedSecs) {
			case +1:
				if _, isOpen := d.open[key]; l.vehicles >= 2 && !streamSilent && !isOpen {
					l.heard.alert, l.quiet = true, quietSpan{from: l.heard.from}
					out = d.openAlert(Alert{Kind: FeedSilent, Line: l.id, At: stamp(l.heard.from+feedSecs*1e9, t),
						Detail: fmt.Sprintf("no report from its %d vehicles for %s", l.vehicles, fmtDuration(time.Duration(feedSecs)*time.Second))}, key, out)
				}
			case -1:
				l.resumed = l.heard.to
				if l.heard.alert {
					l.heard.alert, l.quiet.to = false, l.heard.to
					out = d.closeAlert(key, stamp(l.heard.to, t), out)
				}
			}
		}
	}
	out = d.staleness(t, streamSilent, out)
	out = d.settleArrivals(t, out)
	if len(d.zones) > 0 {
		out = d.expireNotices(now, out)
	}
	// In order of time, and the same order every run: they were found
	// walking maps.
	slices.SortStableFunc(out, func(a, b Alert) int {
		return cmp.Or(a.At.Compare(b.At), kindOrder(a.Kind)-kindOrder(b.Kind), strings.Compare(a.Line, b.Line),
			strings.Compare(a.VehicleID, b.VehicleID), strings.Compare(a.Zone, b.Zone), strings.Compare(a.Stream, b.Stream))
	})
	return out
}

// staleness judges each vehicle's silence, and a line's share of silent
// vehicles (Skate's banner: more than 20 % and at least 3).
func (d *Detector) staleness(t int64, streamSilent bool, out []Alert) []Alert {
	staleAfter := d.staleAfter()
	d.staleAfterNs = staleAfter
	now := time.Unix(0, t).UTC()
	// Only vehicles silent for staleAfter (or Forget) can be stale (or
	// forgotten): a scan of the dense array of report times finds them
	// without touching the 10 000 others' state, and is needed only once
	// the oldest of those times is that old.
	limit := staleAfter
	if d.cfg.Forget > 0 {
		limit = min(limit, int64(d.cfg.Forget))
	}
	d.cands = d.cands[:0]
	if d.seenLow == 0 || t-d.seenLow >= limit {
		low := int64(0)
		for i, ts := range d.vehicles.lasts() {
			if ts == 0 {
				continue
			}
			if t-ts >= limit {
				d.cands = append(d.cands, d.vehicles.at(int32(i)))
			}
			if low == 0 || ts < low {
				low = ts
			}
		}
		d.seenLow = low
	}
	for _, l := range d.lines {
		l.stale = 0
	}
	for _, v := range d.cands {
		if d.cfg.Forget > 0 && t-d.vehicles.last(v) >= int64(d.cfg.Forget) {
			out = d.drop(v, now, out)
			continue
		}
		if l := d.lineOf(v); l != nil && t-max(d.vehicles.last(v), l.resumed) >= staleAfter {
			l.stale++
		}
	}
	for _, l := range d.lines {
		key := alertKey{kind: FeedSilent, line: l.id}
		_, isOpen := d.open[key]
		share := l.stale >= d.cfg.StaleMin && float64(l.stale) > d.cfg.StaleShare*float64(l.vehicles)
		switch {
		case share && !isOpen && !streamSilent:
			out = d.openAlert(Alert{Kind: FeedSilent, Line: l.id, At: now,
				Detail: fmt.Sprintf("%d of %d vehicles stale", l.stale, l.vehicles)}, key, out)
			l.quiet = quietSpan{from: t}
		case !share && isOpen && !l.heard.alert:
			out = d.closeAlert(key, now, out)
			l.resumed, l.quiet.to = t, t
		}
	}
	for _, v := range d.cands {
		if d.vehicles.last(v) == 0 || v.open&bitStale != 0 || streamSilent {
			continue // forgotten just now, or already stale
		}
		from := d.vehicles.last(v)
		if l := d.lineOf(v); l != nil {
			if _, silent := d.open[alertKey{kind: FeedSilent, line: l.id}]; silent {
				continue
			}
			from = max(from, l.resumed)
		}
		if t-from >= staleAfter {
			out = d.openVehicle(v, Stale, stamp(from+staleAfter, t), "no report for "+fmtDuration(time.Duration(t-d.vehicles.last(v))), "", out)
		}
	}
	// Silences found only once the vehicle reported again, now that the
	// clock has passed them: each opens and closes at once, unless its
	// line's or stream's silence accounts for it.
	slices.SortFunc(d.gaps, func(a, b staleGap) int { return cmpInt(a.to, b.to) })
	n := 0
	for _, g := range d.gaps {
		if g.to > t {
			break
		}
		n++
		from := g.from
		if l := d.lines[g.line]; g.line != "" && l != nil && l.quiet.covers(g.from, g.to) {
			if l.quiet.to == 0 {
				continue
			}
			from = max(from, l.quiet.to)
		}
		if d.streams[model.KindVehicles].quiet.covers(g.from, g.to) || g.to-from < staleAfter {
			continue
		}
		key := alertKey{kind: Stale, vehicle: g.id}
		if _, isOpen := d.open[key]; isOpen {
			continue
		}
		a := Alert{Kind: Stale, VehicleID: g.id, Line: g.line, At: time.Unix(0, from+staleAfter).UTC(), Lat: g.lat, Lon: g.lon,
			Detail: "no report for " + fmtDuration(time.Duration(g.to-g.from))}
		out = d.openAlert(a, key, out)
		out = d.closeAlert(key, time.Unix(0, g.to).UTC(), out)
	}
	d.gaps = append(d.gaps[:0], d.gaps[n:]...)
	return out
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// stamp is the time at (Unix nanoseconds), no later than now.
func stamp(at, now int64) time.Time { return time.Unix(0, min(at, now)).UTC() }

package model

import (
	"maps"
	"math"
	"math/bits"
	"slices"
	"strings"
	"time"

	"github.com/fleetwatch/fleetwatch/internal/idtab"
)

// StationState is what is known of one station: its reference record (if
// one arrived) and the counts folded from arrivals and turnstile reports.
type StationState struct {
	StationInfo
	Arrivals    int64
	Entries     int64
	LastArrival time.Time
	// ArrivalsWindow and EntriesWindow count the last Window of event time
	// only (a rolling window, like a windowed KSQL table), so the board
	// shows what is busy now rather than what was busy this morning.
	ArrivalsWindow int64
	EntriesWindow  int64
}

// DefaultWindow is the station board's rolling window.
const DefaultWindow = 15 * time.Minute

// MaxWindow is the longest rolling window the minute buckets can hold.
const MaxWindow = windowBuckets * time.Minute

const windowBuckets = 60

// minuteBucket counts one minute of a station's events; minute is the Unix
// minute it holds, so a bucket left from an hour ago is recognised as old.
type minuteBucket struct {
	minute         int64
	arrivals, ents int64
}

// stationRec is a station's state and its per-minute history.
type stationRec struct {
	StationState
	minutes [windowBuckets]minuteBucket
	// recent holds the last arrivals, to count a duplicate once: a producer
	// retry or a replayed partition delivers an arrival again soon after.
	recent     [recentArrivals]arrivalMark
	recentNext int
	// stops holds the lines of each stop, for a station described stop by
	// stop (StationInfo.Stop); nil for one described whole.
	stops map[string][]string
}

// recentArrivals is how many arrivals per station are remembered for
// duplicates; a station sees a few a minute, a retry comes within seconds.
const recentArrivals = 16

// seen reports whether the arrival was counted already, and remembers it.
func (r *stationRec) seen(vehicle string, ts time.Time) bool {
	for _, a := range r.recent {
		if a.vehicle == vehicle && a.ts.Equal(ts) && !ts.IsZero() {
			return true
		}
	}
	r.recent[r.recentNext] = arrivalMark{vehicle: vehicle, ts: ts}
	r.recentNext = (r.recentNext + 1) % recentArrivals
	return false
}

func (r *stationRec) count(ts time.Time, arrivals, entries int64) {
	if ts.IsZero() {
		return
	}
	m := ts.Unix() / 60
	b := &r.minutes[((m%windowBuckets)+windowBuckets)%windowBuckets]
	if b.minute != m {
		*b = minuteBucket{minute: m}
	}
	b.arrivals += arrivals
	b.ents += entries
}

// windowed sums the buckets of the n minutes up to and including now.
func (r *stationRec) windowed(now int64, n int64) (arrivals, entries int64) {
	for i := range r.minutes {
		b := &r.minutes[i]
		if b.minute > now-n && b.minute <= now {
			arrivals += b.arrivals
			entries += b.ents
		}
	}
	return arrivals, entries
}

// LineStats aggregates the vehicles of one line.
type LineStats struct {
	Line        string
	Vehicles    int
	AvgSpeedKmh float64 // mean over the vehicles that report a speed
	// HeadwayS is the mean, over the line's stops and directions, of the
	// latest time between two different vehicles arriving there; 0 when no
	// stop has seen two vehicles yet.
	HeadwayS float64
	// HeadwayMaxS is the longest of those headways: the worst gap.
	HeadwayMaxS float64
	// Bunched counts the pairs of vehicles whose latest headway somewhere is
	// under a third of the line's mean headway (the target, where no
	// schedule is known).
	Bunched int
}

// Counters counts records per stream: every record read, and those of them
// that could not be used.
type Counters struct {
	Consumed [numKinds]int64
	Rejected [numKinds]int64
	// Stale counts reports older than what is already shown (out of order),
	// which are ignored.
	Stale [numKinds]int64
	// Future counts reports stamped too far ahead of the clock, whose time
	// was clamped to the clock.
	Future [numKinds]int64
	// Duplicate counts events seen twice (an arrival with the same
	// station, vehicle and time), counted once.
	Duplicate [numKinds]int64
	// ByReason splits Rejected by category, in the order of Categories.
	ByReason [numKinds][6]int64
}

// Total returns the records consumed over all streams.
func (c Counters) Total() (consumed, rejected int64) {
	for i := range c.Consumed {
		consumed += c.Consumed[i]
		rejected += c.Rejected[i]
	}
	return consumed, rejected
}

// Snapshot is a consistent view of the fleet state. Its vehicles are an
// immutable view the fleet goes on writing beside (Vehicles); the rest is
// a copy, sorted for display.
type Snapshot struct {
	Vehicles Vehicles       // shared with the fleet and other readers: read only
	Lines    []LineStats    // by line id
	Stations []StationState // by station id
	Weather  []Weather      // by area
	Counters Counters
	// Latest is the newest vehicle report time seen: the clock of the data,
	// which for a replay or a fast simulation is not the wall clock.
	Latest time.Time
	// AsOf is the time ages are measured from (set by the reader).
	AsOf time.Time
	// Latency is how old records were when applied (set by the reader).
	Latency Latency
}

// Latency summarises the time from a record's producer timestamp to its
// being applied to the state.
type Latency struct {
	Count        int64
	P50Ms, P99Ms float64 // 10000 means 10 s or more
	MaxMs        float64
}

// stopKey identifies where headway is measured: one stop, one line, one direction.
type stopKey struct{ station, line, direction string }

type arrivalMark struct {
	vehicle string
	ts      time.Time
}

// headwayMark is the latest headway at a stop and the two vehicles it was
// measured between.
type headwayMark struct {
	seconds     float64
	front, back string
}

// Fleet is the state folded from every event. It is not safe for concurrent
// use: one writer applies events and takes snapshots for readers.
type Fleet struct {
	vehicles *vehicleTable
	// oldest is at or before every vehicle's report time: Expire has
	// nothing to do before it.
	oldest time.Time
	// lines holds each line's vehicle count and speeds, kept as reports
	// come so that a snapshot does not visit every vehicle.
	lines       map[string]*lineAcc
	stations    map[string]*stationRec
	weather     map[string]Weather
	lastArrival map[stopKey]arrivalMark
	headway     map[stopKey]headwayMark
	counters    Counters
	latest      time.Time
	// stationLatest is the newest station event time: with latest, the
	// clock the rolling window ends at.
	stationLatest time.Time
	window        time.Duration
	// eta learns running times between stations, for predicted arrivals.
	eta *etaModel
}

// NewFleet returns an empty fleet.
func NewFleet() *Fleet {
	ids := idtab.NewTable()
	return &Fleet{
		vehicles:    newVehicleTable(ids),
		lines:       make(map[string]*lineAcc),
		stations:    make(map[string]*stationRec),
		weather:     make(map[string]Weather),
		lastArrival: make(map[stopKey]arrivalMark),
		headway:     make(map[stopKey]headwayMark),
		window:      DefaultWindow,
		eta:         newETAModel(ids),
	}
}

// SetWindow sets the station board's rolling window, at most MaxWindow.
func (f *Fleet) SetWindow(d time.Duration) {
	f.window = min(max(d, time.Minute), MaxWindow)
}

// CountFuture records that n reports of the stream had their times clamped
// to the clock.
func (f *Fleet) CountFuture(kind Kind, n int64) {
	if kind >= 0 && kind < numKinds {
		f.counters.Future[kind] += n
	}
}

// Reject records that one record of the stream was read and refused, and why.
func (f *Fleet) Reject(kind Kind, cat Category) {
	f.AddCounters(kind, 1, true)
	if kind >= 0 && kind < numKinds {
		f.counters.ByReason[kind][cat.index()]++
	}
}

// AddCounters adds n consumed records of the stream (all rejected, or none).
func (f *Fleet) AddCounters(kind Kind, n int64, rejected bool) {
	if kind < 0 || kind >= numKinds {
		return
	}
	f.counters.Consumed[kind] += n
	if rejected {
		f.counters.Rejected[kind] += n
	}
}

// Apply folds one event into the state. A report older than the one held
// for its vehicle is ignored, so replays and out-of-order partitions never
// move a vehicle back in time.
func (f *Fleet) Apply(ev Event) {
	switch e := ev.(type) {
	case VehiclePosition:
		// A line's speeds are summed as the rows keep them (float32), so
		// that what a report adds, its replacement takes away.
		speed := narrow(e.SpeedKmh)
		slot, ok := f.vehicles.slot(e.VehicleID)
		if !ok {
			slot = f.vehicles.add(e.VehicleID)
			f.count(e.Line, e.Has, widen(speed), 1)
		} else if old := f.vehicles.at(slot); old.ts > unixNano(e.TS) {
			f.counters.Stale[KindVehicles]++
			return
		} else if oldLine := f.vehicles.strs[old.line]; oldLine != e.Line || old.has&HasSpeed != e.Has&HasSpeed || old.speed != speed {
			f.count(oldLine, old.has, old.speedKmh(), -1)
			f.count(e.Line, e.Has, widen(speed), 1)
		}
		f.vehicles.set(slot, e)
		if e.TS.Before(f.oldest) || f.vehicles.n == 1 {
			f.oldest = e.TS
		}
		if e.TS.After(f.latest) {
			f.latest = e.TS
		}
	case VehicleRemoved:
		f.remove(e.VehicleID)
	case StationInfo:
		f.stationInfo(e)
	case StationRemoved:
		f.removeStation(e)
	case Arrival:
		st := f.station(e.StationID)
		if st.seen(e.VehicleID, e.TS) {
			f.counters.Duplicate[KindStations]++
			return
		}
		st.Arrivals++
		st.count(e.TS, 1, 0)
		f.stationClock(e.TS)
		if e.TS.After(st.LastArrival) {
			st.LastArrival = e.TS
		}
		f.measureHeadway(e)
		line := e.Line
		if line == "" {
			line = f.lineOf(e.VehicleID)
		}
		f.eta.arrival(e, line)
	case Turnstile:
		st := f.station(e.StationID)
		if st.Name == "" {
			st.Name = e.Name // a reference record's name, when one came, stands
		}
		st.Entries += e.Entries
		st.count(e.TS, 0, e.Entries)
		f.stationClock(e.TS)
	case Weather:
		if old, ok := f.weather[e.Area]; ok && old.TS.After(e.TS) {
			f.counters.Stale[KindWeather]++
			return
		}
		f.weather[e.Area] = e
	}
}

func (f *Fleet) station(id string) *stationRec {
	st, ok := f.stations[id]
	if !ok {
		st = &stationRec{StationState: StationState{StationInfo: StationInfo{StationID: id}}}
		f.stations[id] = st
	}
	return st
}

// stationInfo files a reference record. A record of one stop adds its lines
// to those of the station's other stops, and keeps the position and name
// they gave when it has none; a record of the whole station replaces it.
func (f *Fleet) stationInfo(e StationInfo) {
	st := f.station(e.StationID)
	if e.Stop == "" {
		st.StationInfo, st.stops = e, nil
		return
	}
	if st.stops == nil {
		st.stops = map[string][]string{}
	}
	st.stops[e.Stop] = e.Lines
	info := e
	info.Stop = ""
	if !info.HasPos {
		info.Lat, info.Lon, info.HasPos = st.Lat, st.Lon, st.HasPos
	}
	if info.Name == "" {
		info.Name = st.Name
	}
	st.StationInfo = info
	st.Lines = st.stopLines()
}

// stopLines is the union of the lines of a station's stops, in the order of
// the stops' ids: a fresh slice, as snapshots share the one they are given.
func (r *stationRec) stopLines() []string {
	var lines []string
	for _, stop := range slices.Sorted(maps.Keys(r.stops)) {
		for _, l := range r.stops[stop] {
			if !slices.Contains(lines, l) {
				lines = append(lines, l)
			}
		}
	}
	return lines
}

// removeStation forgets a deleted station, or one stop of it: the station
// goes with its last stop.
func (f *Fleet) removeStation(e StationRemoved) {
	id, stop := e.StationID, e.Stop
	st, ok := f.stations[id]
	if !ok && stop == "" {
		// A tombstone of a stops table is keyed by the stop alone.
		for sid, s := range f.stations {
			if _, has := s.stops[id]; has {
				st, ok, id, stop = s, true, sid, id
				break
			}
		}
	}
	if !ok {
		return
	}
	if stop != "" && len(st.stops) > 0 {
		delete(st.stops, stop)
		if len(st.stops) > 0 {
			st.Lines = st.stopLines()
			return
		}
	}
	delete(f.stations, id)
}

func (f *Fleet) stationClock(ts time.Time) {
	if ts.After(f.stationLatest) {
		f.stationLatest = ts
	}
}

func (f *Fleet) measureHeadway(a Arrival) {
	line := a.Line
	if line == "" {
		line = f.lineOf(a.VehicleID)
	}
	if line == "" || a.VehicleID == "" {
		return
	}
	key := stopKey{a.StationID, line, a.Direction}
	prev, ok := f.lastArrival[key]
	if ok && prev.ts.After(a.TS) {
		return // a late duplicate or replay: the newer mark stands
	}
	if ok && prev.vehicle != a.VehicleID {
		f.headway[key] = headwayMark{seconds: a.TS.Sub(prev.ts).Seconds(), front: prev.vehicle, back: a.VehicleID}
	}
	f.lastArrival[key] = arrivalMark{vehicle: a.VehicleID, ts: a.TS}
}

// lineAcc accumulates a line's figures: its vehicles' as they report,
// its headways for a snapshot.
type lineAcc struct {
	n, speedN int
	// speedSum and speedErr are the sum of speeds, added and taken away
	// as reports come, and what rounding lost of it (Neumaier's
	// compensation): a speed far larger than the others, added and then
	// taken away, leaves the others' sum, not its rounding.
	speedSum, speedErr float64
	hwSum              float64
	hwN                int
	hwMax              float64
}

// addSpeed adds x (negative: takes a speed away) to the sum of speeds.
func (a *lineAcc) addSpeed(x float64) {
	t := a.speedSum + x
	if math.Abs(a.speedSum) >= math.Abs(x) {
		a.speedErr += (a.speedSum - t) + x
	} else {
		a.speedErr += (x - t) + a.speedSum
	}
	a.speedSum = t
}

// count adds (sign 1) or takes away (-1) a vehicle's report from its
// line's figures.
func (f *Fleet) count(line string, has Fields, speed float64, sign int) {
	if line == "" {
		return
	}
	a := f.lines[line]
	if a == nil {
		a = &lineAcc{}
		f.lines[line] = a
	}
	a.n += sign
	if has&HasSpeed != 0 {
		a.speedN += sign
		a.addSpeed(float64(sign) * speed)
	}
	if a.n == 0 {
		delete(f.lines, line) // also resets the speed sum's rounding
	}
}

// remove forgets a vehicle.
func (f *Fleet) remove(id string) {
	if slot, ok := f.vehicles.slot(id); ok {
		r := f.vehicles.at(slot)
		f.count(f.vehicles.strs[r.line], r.has, r.speedKmh(), -1)
		f.vehicles.remove(id)
	}
	f.eta.forget(id)
}

// lineOf returns the line of the vehicle's latest report, if any.
func (f *Fleet) lineOf(id string) string {
	if slot, ok := f.vehicles.slot(id); ok {
		return f.vehicles.strs[f.vehicles.at(slot).line]
	}
	return ""
}

// unixNano is t as the vehicle table keeps it.
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return noTime
	}
	return t.UnixNano()
}

// bunchedPairs counts, per line, the pairs of vehicles whose latest headway
// at some stop is under a third of the line's mean headway; a pair bunched
// at many stops counts once.
func (f *Fleet) bunchedPairs(lines map[string]*lineAcc) map[string]int {
	out := map[string]int{}
	seen := map[[3]string]bool{}
	for k, hw := range f.headway {
		a := lines[k.line]
		if a == nil || a.hwN == 0 || hw.seconds >= a.hwSum/float64(a.hwN)/3 {
			continue
		}
		pair := [3]string{k.line, min(hw.front, hw.back), max(hw.front, hw.back)}
		if !seen[pair] {
			seen[pair] = true
			out[k.line]++
		}
	}
	return out
}

// Latest returns the newest vehicle report time applied.
func (f *Fleet) Latest() time.Time { return f.latest }

// Expire forgets the vehicles whose last report is older than before, as
// dispatch systems drop a vehicle not heard from for many minutes.
//
// It visits every vehicle unless none can be that old (a caller with a
// large fleet should not call it many times a second: ingest.Store does
// not), and reports whether it forgot any.
func (f *Fleet) Expire(before time.Time) bool {
	if f.vehicles.n == 0 || !before.After(f.oldest) {
		return false
	}
	var (
		gone   []string
		cut    = unixNano(before)
		oldest = int64(math.MaxInt64)
	)
	for k := range f.vehicles.rows {
		for u := f.vehicles.pts[k/pageChunks][k%pageChunks].Used; u != 0; u &= u - 1 {
			slot := int32(k*chunkSize + bits.TrailingZeros8(u))
			switch ts := f.vehicles.at(slot).ts; {
			case ts < cut:
				gone = append(gone, f.vehicles.id(slot))
			case ts < oldest:
				oldest = ts
			}
		}
	}
	for _, id := range gone {
		f.remove(id)
	}
	f.oldest = time.Time{}
	if oldest != math.MaxInt64 {
		f.oldest = time.Unix(0, oldest)
	}
	return len(gone) > 0
}

// IDs is how the fleet numbers its vehicles, for an alert detector fed the
// same events by the same writer to number its own by (alert.NewSharing),
// rather than keep every id a second time. Only that writer may use it.
func (f *Fleet) IDs() *idtab.Table { return f.vehicles.ids }

// Snapshot returns a view of the state for a reader. Its cost does not
// grow with the fleet: the vehicles are shared (Vehicles), the lines,
// stations and weather are few and copied, sorted.
func (f *Fleet) Snapshot() Snapshot {
	s := Snapshot{
		Vehicles: f.vehicles.publish(),
		Stations: make([]StationState, 0, len(f.stations)),
		Weather:  make([]Weather, 0, len(f.weather)),
		Counters: f.counters,
		Latest:   f.latest,
	}
	lines := make(map[string]*lineAcc, len(f.lines))
	get := func(line string) *lineAcc {
		a, ok := lines[line]
		if !ok {
			a = &lineAcc{}
			lines[line] = a
		}
		return a
	}
	for line, a := range f.lines {
		*get(line) = lineAcc{n: a.n, speedN: a.speedN, speedSum: a.speedSum, speedErr: a.speedErr}
	}
	for k, hw := range f.headway {
		a := get(k.line)
		a.hwN++
		a.hwSum += hw.seconds
		a.hwMax = max(a.hwMax, hw.seconds)
	}
	bunched := f.bunchedPairs(lines)
	clock := f.latest
	if f.stationLatest.After(clock) {
		clock = f.stationLatest
	}
	now := clock.Unix() / 60
	n := int64(f.window / time.Minute)
	for _, st := range f.stations {
		ss := st.StationState
		ss.ArrivalsWindow, ss.EntriesWindow = st.windowed(now, n)
		s.Stations = append(s.Stations, ss)
	}
	for _, w := range f.weather {
		s.Weather = append(s.Weather, w)
	}
	for line, a := range lines {
		ls := LineStats{Line: line, Vehicles: a.n}
		if a.speedN > 0 {
			// The sum is kept by adding and taking away: never let what
			// rounding is left show as a speed below zero.
			ls.AvgSpeedKmh = max((a.speedSum+a.speedErr)/float64(a.speedN), 0)
		}
		if a.hwN > 0 {
			ls.HeadwayS = a.hwSum / float64(a.hwN)
			ls.HeadwayMaxS = a.hwMax
		}
		ls.Bunched = bunched[line]
		s.Lines = append(s.Lines, ls)
	}
	slices.SortFunc(s.Stations, func(a, b StationState) int { return strings.Compare(a.StationID, b.StationID) })
	slices.SortFunc(s.Weather, func(a, b Weather) int { return strings.Compare(a.Area, b.Area) })
	slices.SortFunc(s.Lines, func(a, b LineStats) int { return strings.Compare(a.Line, b.Line) })
	return s
}

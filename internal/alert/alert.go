// Package alert judges the fleet as dispatch tools do (TransitClock,
// OneBusAway, MBTA Skate; ../shared/OPERATIONS.md): off route, no
// progress, early and late running, bunching and gaps, stale vehicles, a
// failing feed, and geofences entered and left. A Detector is fed the
// decoded events, each vehicle's reports and each station's arrivals in
// order (as a Kafka partition keeps them), and ticked on the data's clock;
// it says which alerts open and close. It does no IO and reads no clock:
// time is the data's, so a replay or a catch-up read judges as the live
// stream would have.
//
// Score (score.go) matches alerts to a simulation's ground truth.
package alert

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/fleetwatch/fleetwatch/internal/idtab"
	"github.com/fleetwatch/fleetwatch/internal/model"
	"github.com/fleetwatch/fleetwatch/internal/network"
)

// Kind is what an alert is about.
type Kind string

// The kinds of alert, as the contract names them.
const (
	OffRoute   Kind = "off_route"
	NoProgress Kind = "no_progress"
	Late       Kind = "late"
	Early      Kind = "early"
	Stale      Kind = "stale"
	Bunched    Kind = "bunched"
	Gapped     Kind = "gapped"
	FeedSilent Kind = "feed_silent"
	ZoneEnter  Kind = "zone_enter"
	ZoneLeave  Kind = "zone_leave"
)

// Kinds lists every kind, most urgent first: the order State ranks a
// vehicle's alerts in and a status bar counts them in.
var Kinds = []Kind{FeedSilent, Stale, OffRoute, NoProgress, Late, Early, Bunched, Gapped, ZoneEnter, ZoneLeave}

// The states of an alert.
const (
	Opened = "open"
	Closed = "closed"
)

// Alert is one alert opening or closing. VehicleID is empty for a line's or
// a stream's feed_silent; Line is empty for a vehicle without a line and
// for a stream's. At is event time. Lat and Lon, where the vehicle was, are
// set on opening only.
type Alert struct {
	Kind      Kind      `json:"kind"`
	State     string    `json:"state"`
	VehicleID string    `json:"vehicle_id"`
	Line      string    `json:"line"`
	Zone      string    `json:"zone,omitempty"`
	Stream    string    `json:"stream,omitempty"` // feed_silent of a whole stream: "vehicles", "stations", "weather"
	Ahead     string    `json:"ahead,omitempty"`  // bunched, gapped: the vehicle ahead at that stop
	At        time.Time `json:"at"`
	Lat       float64   `json:"lat,omitempty"`
	Lon       float64   `json:"lon,omitempty"`
	Detail    string    `json:"detail,omitempty"`
}

// Config holds the thresholds. DefaultConfig has those of OPERATIONS.md;
// each is a flag of `fleetwatch alerts`.
type Config struct {
	// OffRouteM: a report further than this from every path of its line is
	// off route; OffRouteReports in a row open the alert (one off report
	// is GPS noise), as many back within close it.
	OffRouteM       float64
	OffRouteReports int
	// NoProgressM, NoProgressAfter: a vehicle in service whose reports of
	// the last NoProgressAfter all lie within NoProgressM of where it is,
	// and not at a terminal (where a layover is no fault).
	NoProgressM     float64
	NoProgressAfter time.Duration
	// EarlyS, LateS: delay_s below -EarlyS or above LateS for DelayReports
	// reports in a row, not counting reports holding at a terminal. The
	// alert closes after as many reports back inside the band by
	// DelayHysteresisS, so that a vehicle hovering at the edge is one
	// alert, not many.
	EarlyS, LateS    float64
	DelayReports     int
	DelayHysteresisS float64
	// Bunched, Gapped: the headway at a stop (from the previous other
	// vehicle's arrival there, in the same direction) under Bunched or over
	// Gapped times its target. The target is the mean of the last
	// HeadwayHistory headways at that stop and direction once HeadwayMin
	// are known (a branch's stops see their own headway), else the mean
	// of the latest headway at each stop of the line in that direction
	// once HeadwayMin stops have one. The data carries no timetable.
	Bunched, Gapped float64
	HeadwayHistory  int
	HeadwayMin      int
	// Stale: a vehicle not heard from for this long while its line and
	// stream still report (at least three of its report intervals).
	Stale time.Duration
	// FeedSilent: a line none of whose vehicles (two or more) has reported
	// for this long (at least three report intervals), or more than
	// StaleShare and at least StaleMin of whose vehicles are stale; or a
	// whole stream silent for this long (at least three of its usual gaps).
	// The feed's alert stands for its vehicles': they get no stale alert.
	FeedSilent time.Duration
	StaleShare float64
	StaleMin   int
	// Forget drops a vehicle not heard from for this long, closing its
	// alerts, as OneBusAway drops it after 15 minutes; 0 keeps it.
	Forget time.Duration
	// TerminalM: a vehicle within this distance of a terminal station (its
	// place on the line) is at the terminal.
	TerminalM float64
	// Zones are geofences: entering and leaving each opens a zone_enter or
	// zone_leave alert, closed by the opposite one or after ZoneHold.
	Zones    []network.Zone
	ZoneHold time.Duration
}

// DefaultConfig returns the thresholds of OPERATIONS.md.
func DefaultConfig() Config {
	return Config{
		OffRouteM: 60, OffRouteReports: 3,
		NoProgressM: 60, NoProgressAfter: 8 * time.Minute,
		EarlyS: 60, LateS: 360, DelayReports: 2, DelayHysteresisS: 30,
		Bunched: 0.75, Gapped: 1.5, HeadwayHistory: 6, HeadwayMin: 3,
		Stale: 120 * time.Second, FeedSilent: 60 * time.Second, StaleShare: 0.2, StaleMin: 3,
		Forget:    15 * time.Minute,
		TerminalM: 150,
		ZoneHold:  5 * time.Minute,
	}
}

// withDefaults fills the thresholds left zero.
func (c Config) withDefaults() Config {
	def := DefaultConfig()
	fill := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	fillInt := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	fillDur := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	fill(&c.OffRouteM, def.OffRouteM)
	fillInt(&c.OffRouteReports, def.OffRouteReports)
	fill(&c.NoProgressM, def.NoProgressM)
	fillDur(&c.NoProgressAfter, def.NoProgressAfter)
	fill(&c.EarlyS, def.EarlyS)
	fill(&c.LateS, def.LateS)
	fillInt(&c.DelayReports, def.DelayReports)
	fill(&c.Bunched, def.Bunched)
	fill(&c.Gapped, def.Gapped)
	fillInt(&c.HeadwayHistory, def.HeadwayHistory)
	fillInt(&c.HeadwayMin, def.HeadwayMin)
	fillDur(&c.Stale, def.Stale)
	fillDur(&c.FeedSilent, def.FeedSilent)
	fill(&c.StaleShare, def.StaleShare)
	fillInt(&c.StaleMin, def.StaleMin)
	fill(&c.TerminalM, def.TerminalM)
	fillDur(&c.ZoneHold, def.ZoneHold)
	return c
}

// Detector judges a fleet from its events. It is not safe for concurrent
// use: one goroutine applies events and ticks, as for model.Fleet.
type Detector struct {
	cfg      Config
	lines    map[string]*lineState
	lineList []*lineState // by vehicleState.line - 1
	vehicles *vehicleTable
	colds    []vehicleCold // by vehicleState.cold - 1
	freeCold []int32
	// zoneBits holds the zones each cold part's vehicle is in: zoneWords
	// words from its index × zoneWords, a bit per zone.
	zoneBits  []uint64
	zoneWords int
	// names numbers the station ids and directions cold parts hold, so that
	// they hold no pointers (a few hundred names for a million vehicles).
	names    map[string]int32
	nameList []string
	stations map[string][2]float64 // lon, lat of stations that gave one
	open     map[alertKey]*Alert
	sorted   []Alert // Open's answer, until an alert opens or closes
	dirty    bool
	streams  [3]streamState
	zones    []zoneIndex
	zoneBuf  zoneSet
	// gaps are silences of vehicles found only when they reported again (a
	// catch-up read delivers some partitions ahead of others), and
	// arrivals those not yet measured: Tick settles both in order of time
	// once its clock has passed them.
	gaps     []staleGap
	arrivals []model.Arrival
	prev     *vehicleState // of the latest report
	// seenLow is at most every report time in seen but 0: while the clock
	// is not staleAfter past it, no vehicle can be stale and the scan is
	// skipped. 0: not known.
	seenLow int64
	cands   []*vehicleState
	// staleAfterNs is staleAfter as of the latest tick: a report checks it.
	staleAfterNs int64
	// interval is the usual time between two reports of one vehicle
	// (seconds, a moving average): a feed reporting every 30 s is not
	// stale after 60.
	interval float64
}

// alertKey identifies an open alert.
type alertKey struct {
	kind                        Kind
	vehicle, line, zone, stream string
}

// vehicleState is what the detector keeps of one vehicle: what each
// report reads and writes, kept small and without pointers (see
// vehicleTable). Its id is Detector.vehicles.id(idx).
type vehicleState struct {
	lat     int32 // of its latest report, for its alerts: 1e-7 degrees (model.E7)
	lon     int32
	line    int32  // Detector.lineList's index + 1; 0: no line
	cold    int32  // Detector.colds' index + 1: what arrivals and zones need; 0 until then
	next    int32  // the slot + 1 of the vehicle whose report came after its latest; 0: none
	seg     int32  // the segment of its line it was last matched to, -1: none
	idx     int32  // its slot; -1 once forgotten
	open    uint16 // bit per vehicle kind (kindBit) with an alert open
	offRun  uint8  // off-route reports in a row disagreeing with its state
	lateRun uint8
	earlRun uint8
	guard   guard // where it is surely still by segment seg
	trail   trail
}

// vehicleCold is what few reports need of a vehicle.
type vehicleCold struct {
	// lastDir and lastStation (numbers of Detector.names; 0: none) are of
	// its latest arrival (at arrTS), to learn where its line turns;
	// judgedTS is of the latest headway applied.
	arrTS, judgedTS      int64
	lastDir, lastStation int32
	zonesKnown           bool // Detector.zoneBits holds the zones it is in
}

// more is v's cold part, made when first needed.
func (d *Detector) more(v *vehicleState) *vehicleCold {
	if v.cold == 0 {
		if n := len(d.freeCold); n > 0 {
			v.cold, d.freeCold = d.freeCold[n-1]+1, d.freeCold[:n-1]
		} else {
			d.colds = append(d.colds, vehicleCold{})
			d.zoneBits = append(d.zoneBits, make([]uint64, d.zoneWords)...)
			v.cold = int32(len(d.colds))
		}
	}
	return &d.colds[v.cold-1]
}

// name numbers s (its number + 1; 0 for ""), for a cold part to keep.
func (d *Detector) name(s string) int32 {
	if s == "" {
		return 0
	}
	n, ok := d.names[s]
	if !ok {
		d.nameList = append(d.nameList, s)
		n = int32(len(d.nameList))
		d.names[s] = n
	}
	return n
}

// nameOf is the name numbered n; "" for 0.
func (d *Detector) nameOf(n int32) string {
	if n == 0 {
		return ""
	}
	return d.nameList[n-1]
}

// lineOf is v's line; nil for none.
func (d *Detector) lineOf(v *vehicleState) *lineState {
	if v.line == 0 {
		return nil
	}
	return d.lineList[v.line-1]
}

// id is v's vehicle id.
// It is a copy, for an alert to keep: alerts outlive vehicles, and a
// string over the arena would keep a page of others' ids.
func (d *Detector) id(v *vehicleState) string { return strings.Clone(d.vehicles.id(v.idx)) }

// lineState is what the detector keeps of one line.
type lineState struct {
	id       string
	no       int32     // its index in Detector.lineList + 1
	geom     *lineGeom // nil: learned from the data, no geometry
	vehicles int       // vehicles on it now
	heard    presence  // the seconds its vehicles reported in
	quiet    quietSpan // its latest feed_silent
	resumed  int64     // when its latest silence ended
	terminal map[string]bool
	termPts  []place // where its terminals are
	stops    map[stopDir]*stopHeadways
	dirs     map[string]*dirHeadways
	stale    int // counted by Tick
}

// A vehicle's kinds, as bits of vehicleState.open.
const (
	bitOffRoute = 1 << iota
	bitNoProgress
	bitLate
	bitEarly
	bitStale
	bitBunched
	bitGapped
)

var kindBit = map[Kind]uint16{OffRoute: bitOffRoute, NoProgress: bitNoProgress, Late: bitLate, Early: bitEarly,
	Stale: bitStale, Bunched: bitBunched, Gapped: bitGapped}

// New returns a detector for a fleet on net (nil: no network, every line
// learned from the data). A line of net with paths is judged off route;
// one without, or one net does not name, is not. Thresholds left zero take
// DefaultConfig's (Forget, DelayHysteresisS and Zones excepted: zero means
// none).
func New(cfg Config, net *network.Network) *Detector { return NewSharing(cfg, net, idtab.NewTable()) }

// NewSharing is New for a detector fed by the writer of a fleet whose
// vehicles are numbered by ids (model.Fleet.IDs): it numbers its own by the
// same slots, and keeps no ids of its own.
func NewSharing(cfg Config, net *network.Network, ids *idtab.Table) *Detector {
	cfg = cfg.withDefaults()
	d := &Detector{cfg: cfg, lines: map[string]*lineState{}, vehicles: newVehicleTable(ids),
		stations: map[string][2]float64{}, open: map[alertKey]*Alert{}, staleAfterNs: int64(cfg.Stale),
		names: map[string]int32{}, zoneWords: (len(cfg.Zones) + 63) / 64}
	if net != nil {
		for _, st := range net.Stations {
			d.stations[st.ID] = [2]float64{st.Pos[0], st.Pos[1]}
		}
		for _, l := range net.Lines {
			ls := d.line(l.ID)
			if g := newLineGeom(l.Paths, cfg.OffRouteM); g != nil {
				ls.geom = g
				for _, t := range g.terminals(net.StationsOf(l.ID)) {
					ls.terminal[t.id] = true
					ls.termPts = append(ls.termPts, newPlace(t.pos))
				}
			}
		}
	}
	for _, z := range cfg.Zones {
		d.zones = append(d.zones, newZoneIndex(z))
	}
	return d
}

func (d *Detector) line(id string) *lineState {
	l, ok := d.lines[id]
	if !ok {
		l = &lineState{id: id, no: int32(len(d.lineList) + 1), terminal: map[string]bool{}, stops: map[stopDir]*stopHeadways{},
			dirs: map[string]*dirHeadways{}}
		d.lines[id] = l
		d.lineList = append(d.lineList, l)
	}
	return l
}

// reporter returns the state of the vehicle of a report. Feeds list their
// vehicles in much the same order every time round (a Kafka partition
// keeps its vehicles' reports in the order they were produced; GTFS-
// realtime feeds and the simulator list the fleet in a fixed order), so
// the vehicle that came after the previous report's last time is tried
// first. Its state is read next anyway, and the index lookup this spares,
// a cache miss at a random place for every report, was a third of what
// detection added to reading a record (BenchmarkIngest).
func (d *Detector) reporter(id string) *vehicleState {
	prev := d.prev
	if prev != nil && prev.next != 0 {
		if slot := prev.next - 1; d.vehicles.holds(slot) && d.vehicles.id(slot) == id {
			v := d.vehicles.at(slot)
			d.prev = v
			return v
		}
	}
	v := d.vehicle(id)
	if prev != nil && prev.idx >= 0 {
		prev.next = v.idx + 1
	}
	d.prev = v
	return v
}

// vehicle is the state of vehicle id, new if it is not known. Vehicles
// first seen together (a feed lists them in a stable order) get slots
// together, and so lie together in memory.
func (d *Detector) vehicle(id string) *vehicleState {
	v := d.vehicles.get(id)
	if v == nil {
		v = d.vehicles.add(id)
	}
	return v
}

// Apply judges one event and returns the alerts it opened or closed; most
// events return none (nil). Arrivals are measured, and silences noticed, by
// Tick, in order of time: call both.
func (d *Detector) Apply(ev model.Event) []Alert {
	var out []Alert
	switch e := ev.(type) {
	case model.VehiclePosition:
		ts := e.TS.UnixNano()
		d.streams[model.KindVehicles].event(ts)
		out = d.position(&e, ts, out)
	case model.Arrival:
		d.streams[model.KindStations].event(e.TS.UnixNano())
		d.arrival(e)
	case model.Turnstile:
		d.streams[model.KindStations].event(e.TS.UnixNano())
	case model.Weather:
		d.streams[model.KindWeather].event(e.TS.UnixNano())
	case model.StationInfo:
		if e.HasPos {
			d.stations[e.StationID] = [2]float64{e.Lon, e.Lat}
		}
	case model.VehicleRemoved:
		if v := d.vehicles.get(e.VehicleID); v != nil {
			out = d.drop(v, time.Time{}, out)
		}
	}
	return out
}

// position judges one report.
func (d *Detector) position(e *model.VehiclePosition, ts int64, out []Alert) []Alert {
	v := d.reporter(e.VehicleID)
	lastTS := d.vehicles.last(v)
	if ts < lastTS {
		return out // older than what was judged: a replayed or reordered report
	}
	if lastTS > 0 {
		if dt := float64(ts-lastTS) / 1e9; dt > 0 && dt < 600 {
			if d.interval == 0 {
				d.interval = dt
			}
			d.interval += (dt - d.interval) / 256
		}
		if ts-lastTS >= d.staleAfterNs && v.open&bitStale == 0 {
			line := ""
			if l := d.lineOf(v); l != nil {
				line = l.id
			}
			d.gaps = append(d.gaps, staleGap{id: d.id(v), line: line, from: lastTS, to: ts, lon: model.FromE7(v.lon), lat: model.FromE7(v.lat)})
		}
	}
	if l := d.lineOf(v); (l == nil && e.Line != "") || (l != nil && l.id != e.Line) {
		out = d.changeLine(v, e.Line, e.TS, out)
	}
	v.lat, v.lon = model.E7(e.Lat), model.E7(e.Lon)
	d.vehicles.setLast(v, ts)
	if ts < d.seenLow {
		d.seenLow = ts
	}
	if v.open&bitStale != 0 {
		out = d.closeVehicle(v, Stale, e.TS, out)
	}
	l := d.lineOf(v)
	if l != nil {
		l.heard.record(ts)
		if l.geom != nil {
			out = d.offRoute(v, l, e, out)
		}
		if e.Has&model.HasDelay != 0 {
			out = d.delay(v, l, e, out)
		}
	}
	out = d.progress(v, l, e, ts, out)
	if len(d.zones) > 0 {
		out = d.zoneCrossings(v, e, out)
	}
	return out
}

// changeLine moves v to another line (or none): what it was judged on
// there no longer holds.
func (d *Detector) changeLine(v *vehicleState, line string, at time.Time, out []Alert) []Alert {
	if l := d.lineOf(v); l != nil {
		for _, k := range []Kind{OffRoute, Late, Early, Bunched, Gapped} {
			if v.open&kindBit[k] != 0 {
				out = d.closeVehicle(v, k, at, out)
			}
		}
		l.vehicles--
	}
	v.line, v.seg, v.guard, v.offRun, v.lateRun, v.earlRun = 0, -1, guard{}, 0, 0, 0
	if line != "" {
		l := d.line(line)
		v.line = l.no
		l.vehicles++
	}
	return out
}

// offRoute judges v's distance from its line.
func (d *Detector) offRoute(v *vehicleState, l *lineState, e *model.VehiclePosition, out []Alert) []Alert {
	seg, on := l.geom.near(e.Lon, e.Lat, v.seg, &v.guard)
	if on {
		v.seg = seg
	}
	isOpen := v.open&bitOffRoute != 0
	if on != isOpen {
		v.offRun = 0
		return out
	}
	v.offRun++
	if int(v.offRun) < d.cfg.OffRouteReports {
		return out
	}
	v.offRun = 0
	if isOpen {
		return d.closeVehicle(v, OffRoute, e.TS, out)
	}
	detail := fmt.Sprintf("%.0f m from the %s line", l.geom.distance(e.Lon, e.Lat), l.id)
	return d.openVehicle(v, OffRoute, e.TS, detail, "", out)
}

// delay judges v's schedule deviation.
func (d *Detector) delay(v *vehicleState, l *lineState, e *model.VehiclePosition, out []Alert) []Alert {
	late, early := e.DelayS > d.cfg.LateS, e.DelayS < -d.cfg.EarlyS
	lateBack, earlyBack := e.DelayS <= d.cfg.LateS-d.cfg.DelayHysteresisS, e.DelayS >= -d.cfg.EarlyS+d.cfg.DelayHysteresisS
	// Most reports change nothing (on time, or late as before): those need
	// not know whether the vehicle is at a terminal.
	if !moves(v.open&bitLate != 0, v.lateRun, late, lateBack) && !moves(v.open&bitEarly != 0, v.earlRun, early, earlyBack) {
		return out
	}
	if d.atTerminal(v, l, e) {
		return out // holding for its departure time: early or late is no fault there
	}
	out = d.band(v, Late, bitLate, &v.lateRun, late, lateBack, e, out)
	return d.band(v, Early, bitEarly, &v.earlRun, early, earlyBack, e, out)
}

// moves reports whether a report outside (or back inside) a band changes
// a band's state or its run of reports.
func moves(isOpen bool, run uint8, outside, inside bool) bool {
	if isOpen {
		return inside || run > 0
	}
	return outside || run > 0
}

// band opens kind after DelayReports reports outside the band in a row and
// closes it after as many back inside by the hysteresis.
func (d *Detector) band(v *vehicleState, kind Kind, bit uint16, run *uint8, outside, inside bool,
	e *model.VehiclePosition, out []Alert) []Alert {
	isOpen := v.open&bit != 0
	if (!isOpen && !outside) || (isOpen && !inside) {
		*run = 0
		return out
	}
	*run++
	if int(*run) < d.cfg.DelayReports {
		return out
	}
	*run = 0
	if isOpen {
		return d.closeVehicle(v, kind, e.TS, out)
	}
	word := "late"
	if kind == Early {
		word = "early"
	}
	return d.openVehicle(v, kind, e.TS, fmt.Sprintf("%s %s", fmtDelay(math.Abs(e.DelayS)), word), "", out)
}

// progress judges whether v is getting anywhere.
func (d *Detector) progress(v *vehicleState, l *lineState, e *model.VehiclePosition, ts int64, out []Alert) []Alert {
	after := int64(d.cfg.NoProgressAfter)
	since := v.trail.add(e.Lon, e.Lat, ts, d.cfg.NoProgressM, ts-after)
	stuck := ts-since >= after && e.Status != model.StatusOutOfService
	isOpen := v.open&bitNoProgress != 0
	if stuck && !isOpen && !d.atTerminal(v, l, e) {
		detail := fmt.Sprintf("under %.0f m in %s", d.cfg.NoProgressM, fmtDuration(time.Duration(ts-since)))
		return d.openVehicle(v, NoProgress, e.TS, detail, "", out)
	}
	if isOpen && (!stuck || d.atTerminal(v, l, e)) {
		return d.closeVehicle(v, NoProgress, e.TS, out)
	}
	return out
}

// atTerminal reports whether v, reporting e, stands at (or near) a
// terminal of its line.
func (d *Detector) atTerminal(v *vehicleState, l *lineState, e *model.VehiclePosition) bool {
	if l == nil {
		return false
	}
	if e.Status == model.StatusStoppedAt && l.terminal[e.StopID] {
		return true
	}
	for _, p := range l.termPts {
		if p.dist2(e.Lon, e.Lat) <= d.cfg.TerminalM*d.cfg.TerminalM {
			return true
		}
	}
	return false
}

// intervals is n usual report intervals.
func (d *Detector) intervals(n float64) time.Duration {
	return time.Duration(n * d.interval * float64(time.Second))
}

// drop forgets v, closing its alerts.
func (d *Detector) drop(v *vehicleState, at time.Time, out []Alert) []Alert {
	if at.IsZero() {
		at = time.Unix(0, d.vehicles.last(v)).UTC()
	}
	for _, k := range Kinds {
		if b := kindBit[k]; b != 0 && v.open&b != 0 {
			out = d.closeVehicle(v, k, at, out)
		}
	}
	id := d.id(v)
	for key := range d.open {
		if key.vehicle == id {
			out = d.closeAlert(key, at, out)
		}
	}
	if l := d.lineOf(v); l != nil {
		l.vehicles--
	}
	if v.cold != 0 {
		d.colds[v.cold-1] = vehicleCold{}
		clear(d.zoneSet(v.cold))
		d.freeCold = append(d.freeCold, v.cold-1)
	}
	if d.prev == v {
		d.prev = nil
	}
	d.vehicles.remove(v)
	return out
}

// openVehicle opens kind for v, at its latest position.
func (d *Detector) openVehicle(v *vehicleState, kind Kind, at time.Time, detail, ahead string, out []Alert) []Alert {
	v.open |= kindBit[kind]
	id := d.id(v)
	a := Alert{Kind: kind, VehicleID: id, Ahead: ahead, At: at, Lat: model.FromE7(v.lat), Lon: model.FromE7(v.lon), Detail: detail}
	if l := d.lineOf(v); l != nil {
		a.Line = l.id
	}
	return d.openAlert(a, alertKey{kind: kind, vehicle: id}, out)
}

func (d *Detector) closeVehicle(v *vehicleState, kind Kind, at time.Time, out []Alert) []Alert {
	v.open &^= kindBit[kind]
	return d.closeAlert(alertKey{kind: kind, vehicle: d.id(v)}, at, out)
}

func (d *Detector) openAlert(a Alert, key alertKey, out []Alert) []Alert {
	a.State = Opened
	a.At = a.At.UTC()
	stored := a
	d.open[key] = &stored
	d.dirty = true
	return append(out, a)
}

func (d *Detector) closeAlert(key alertKey, at time.Time, out []Alert) []Alert {
	a, ok := d.open[key]
	if !ok {
		return out
	}
	delete(d.open, key)
	d.dirty = true
	return append(out, Alert{Kind: a.Kind, State: Closed, VehicleID: a.VehicleID, Line: a.Line, Zone: a.Zone,
		Stream: a.Stream, Ahead: a.Ahead, At: at.UTC()})
}

// Open returns the alerts open now, newest first. It is computed again
// only after an alert opened or closed, and callers share it: do not
// modify it.
func (d *Detector) Open() []Alert {
	if d.dirty || d.sorted == nil {
		d.sorted = make([]Alert, 0, len(d.open))
		for _, a := range d.open {
			d.sorted = append(d.sorted, *a)
		}
		slices.SortFunc(d.sorted, func(a, b Alert) int {
			if c := b.At.Compare(a.At); c != 0 {
				return c
			}
			return cmp.Or(strings.Compare(string(a.Kind), string(b.Kind)), strings.Compare(a.VehicleID, b.VehicleID),
				strings.Compare(a.Line, b.Line), strings.Compare(a.Zone, b.Zone), strings.Compare(a.Stream, b.Stream))
		})
		d.dirty = false
	}
	return d.sorted
}

// State is the most urgent of the vehicle's open alerts (in the order of
// Kinds, zone notices aside), for drawing it: Stale also when its line's
// or stream's feed is silent; "" when nothing is wrong with it or it is
// unknown.
func (d *Detector) State(vehicleID string) Kind {
	v := d.vehicles.get(vehicleID)
	if v == nil {
		return ""
	}
	if l := d.lineOf(v); l != nil {
		if _, silent := d.open[alertKey{kind: FeedSilent, line: l.id}]; silent {
			return Stale
		}
	}
	if _, silent := d.open[alertKey{kind: FeedSilent, stream: model.KindVehicles.String()}]; silent {
		return Stale
	}
	for _, k := range Kinds {
		if b := kindBit[k]; b != 0 && v.open&b != 0 {
			return k
		}
	}
	return ""
}

// fmtDuration writes a duration as dispatchers read it: 45s, 8m10s, 1h05m.
func fmtDuration(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	}
	return fmt.Sprintf("%dh%02dm", s/3600, s%3600/60)
}

func fmtDelay(sec float64) string { return fmtDuration(time.Duration(sec * float64(time.Second))) }

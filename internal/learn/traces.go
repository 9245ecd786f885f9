// Package learn draws a network from the data itself, for a fleet that comes
// without a network file: each line's path from its vehicles' traces and the
// stations from their reference records. It does no IO; the store feeds it
// under its writer lock and hands the built network to readers.
package learn

import (
	"math"
	"slices"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/simplify"

	"github.com/fleetwatch/fleetwatch/internal/model"
	"github.com/fleetwatch/fleetwatch/internal/network"
)

// Tracing every vehicle of a line would cost a map lookup per report and
// memory per vehicle, and vehicles of one line retrace the same path: a few
// of them draw it as well as all of them.
const (
	tracersPerLine = 6
	// minStep is how far (in degrees of latitude, about 11 m) a vehicle
	// moves before its trace takes a new point; GPS jitter at a stop is not
	// a path.
	minStep = 1e-4
	// maxJump starts a new trace instead of drawing a straight line across
	// town when a vehicle reappears far away (a new trip, a depot run, a
	// bad fix): about 2 km.
	maxJump = 0.02
	// simplifyAt is the length at which an open trace is simplified, and
	// tolerance how far (about 8 m) the simplified path may stray from it.
	simplifyAt = 512
	tolerance  = 7e-5
	// maxPointsPerLine bounds a line's memory; the oldest traces go first,
	// since the newest show where the line runs now.
	maxPointsPerLine = 8000
)

// tracer is one vehicle whose reports extend its line's traces.
type tracer struct {
	vehicle string
	open    orb.LineString // the trace being extended
	last    orb.Point      // the last point added
}

type lineTraces struct {
	tracers []tracer
	done    []orb.LineString // closed traces, oldest first
	points  int
}

// Traces accumulates line paths from vehicle reports. It is not safe for
// concurrent use: the store's single writer feeds it.
type Traces struct {
	lines    map[string]*lineTraces
	stations map[string]model.StationInfo
	version  uint64
}

// New returns an empty learner.
func New() *Traces {
	return &Traces{lines: map[string]*lineTraces{}, stations: map[string]model.StationInfo{}}
}

// Version changes whenever what Build would return changes.
func (t *Traces) Version() uint64 { return t.version }

// Observe folds one event in: vehicle reports extend traces, station
// records with a position place stations, deleted station records remove
// them.
func (t *Traces) Observe(ev model.Event) {
	switch e := ev.(type) {
	case model.VehiclePosition:
		t.vehicle(e)
	case model.StationInfo:
		if !e.HasPos || e.StationID == "" {
			return
		}
		if old, ok := t.stations[e.StationID]; ok && old.Name == e.Name && old.Lat == e.Lat && old.Lon == e.Lon && slices.Equal(old.Lines, e.Lines) {
			return
		}
		t.stations[e.StationID] = e
		t.version++
	case model.StationRemoved:
		// A stop's delete leaves the station to its other stops; only the
		// fleet knows whether it had any, so the mark stays.
		if _, ok := t.stations[e.StationID]; ok && e.Stop == "" {
			delete(t.stations, e.StationID)
			t.version++
		}
	}
}

func (t *Traces) vehicle(v model.VehiclePosition) {
	if v.Line == "" {
		return
	}
	lt, ok := t.lines[v.Line]
	if !ok {
		lt = &lineTraces{}
		t.lines[v.Line] = lt
		t.version++ // a new line: its colour and name row appear
	}
	i := slices.IndexFunc(lt.tracers, func(tr tracer) bool { return tr.vehicle == v.VehicleID })
	if i < 0 {
		if len(lt.tracers) >= tracersPerLine {
			return
		}
		lt.tracers = append(lt.tracers, tracer{vehicle: v.VehicleID})
		i = len(lt.tracers) - 1
	}
	tr := &lt.tracers[i]
	p := orb.Point{v.Lon, v.Lat}
	if len(tr.open) > 0 {
		d := distDeg(tr.last, p)
		if d < minStep {
			return
		}
		if d > maxJump {
			lt.close(tr)
		}
	}
	tr.open = append(tr.open, p)
	tr.last = p
	lt.points++
	if len(tr.open) >= 2 {
		t.version++
	}
	if len(tr.open) >= simplifyAt {
		before := len(tr.open)
		tr.open = simplify.DouglasPeucker(tolerance).LineString(tr.open)
		lt.points -= before - len(tr.open)
		if len(tr.open) >= simplifyAt/2 {
			// A long winding trace simplifies little: keep it as a closed
			// part and continue from its end, so no trace grows unbounded.
			last := tr.open[len(tr.open)-1]
			lt.close(tr)
			tr.open = append(tr.open, last)
			lt.points++
		}
	}
	for lt.points > maxPointsPerLine && len(lt.done) > 0 {
		lt.points -= len(lt.done[0])
		lt.done = lt.done[1:]
	}
}

// close ends a tracer's open trace, keeping it when it is a path.
func (lt *lineTraces) close(tr *tracer) {
	if len(tr.open) >= 2 {
		lt.done = append(lt.done, simplify.DouglasPeucker(tolerance).LineString(tr.open))
		lt.points -= len(tr.open) - len(lt.done[len(lt.done)-1])
	} else {
		lt.points -= len(tr.open)
	}
	tr.open = nil
}

// distDeg is the distance between two lon/lat points in degrees of
// latitude, with longitude shrunk by the latitude's cosine: exact enough to
// compare with thresholds of metres to kilometres.
func distDeg(a, b orb.Point) float64 {
	dx := (a[0] - b[0]) * math.Cos((a[1]+b[1])/2*math.Pi/180)
	dy := a[1] - b[1]
	return math.Hypot(dx, dy)
}

// Build returns the network learned so far on top of base (the network
// files given, if any; nil for none): the lines' traces as paths, every line
// seen with a colour, and the stations with a position. The result shares
// nothing mutable with the learner.
func (t *Traces) Build(base *network.Network, name string) *network.Network {
	n := &network.Network{Name: name}
	known := map[string]int{}
	stationAt := map[string]int{}
	if base != nil {
		n.Name = base.Name
		for _, l := range base.Lines {
			known[l.ID] = len(n.Lines)
			n.Lines = append(n.Lines, l)
		}
		for _, s := range base.Stations {
			stationAt[s.ID] = len(n.Stations)
			n.Stations = append(n.Stations, s)
		}
		n.Zones = base.Zones
	}
	ids := make([]string, 0, len(t.lines))
	for id := range t.lines {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, strings.Compare)
	for _, id := range ids {
		lt := t.lines[id]
		var paths []orb.LineString
		for _, p := range lt.done {
			paths = append(paths, slices.Clone(p))
		}
		for _, tr := range lt.tracers {
			if len(tr.open) >= 2 {
				// Simplifying works in place: the open trace must not change.
				paths = append(paths, simplify.DouglasPeucker(tolerance).LineString(slices.Clone(tr.open)))
			}
		}
		if k, ok := known[id]; ok {
			if len(n.Lines[k].Paths) == 0 {
				n.Lines[k].Paths = paths
			}
			continue
		}
		n.Lines = append(n.Lines, network.Line{ID: id, Name: id, Color: network.ColorFor(id), Paths: paths})
	}
	sids := make([]string, 0, len(t.stations))
	for id := range t.stations {
		sids = append(sids, id)
	}
	slices.SortFunc(sids, strings.Compare)
	for _, id := range sids {
		si := t.stations[id]
		st := network.Station{ID: id, Name: si.Name, Lines: slices.Clone(si.Lines), Pos: orb.Point{si.Lon, si.Lat}}
		if st.Name == "" {
			st.Name = id
		}
		if k, ok := stationAt[id]; ok {
			n.Stations[k] = st
			continue
		}
		n.Stations = append(n.Stations, st)
	}
	n.Bound = n.ComputeBound()
	return n
}

// rebuildEvery spaces rebuilds of the learned network: it changes with
// almost every report, and each rebuild redraws the map's static layer.
const rebuildEvery = time.Second

// Cached is a learner whose network is rebuilt at most once a second. Like
// Traces it has one writer; the caller serialises Observe and Network.
type Cached struct {
	*Traces
	base      *network.Network
	name      string
	built     *network.Network
	builtAt   time.Time
	builtFrom uint64
}

// NewCached returns a learner drawing on top of base (nil for none), its
// network named name where base names none.
func NewCached(base *network.Network, name string) *Cached {
	return &Cached{Traces: New(), base: base, name: name}
}

// Network returns the network learned so far at wall time now, and a
// version that changes when the network does. The network is shared:
// readers must not modify it.
func (c *Cached) Network(now time.Time) (*network.Network, uint64) {
	v := c.Version()
	if c.built == nil || v != c.builtFrom && now.Sub(c.builtAt) >= rebuildEvery {
		c.built = c.Build(c.base, c.name)
		c.builtAt, c.builtFrom = now, v
	}
	return c.built, c.builtFrom
}

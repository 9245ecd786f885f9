package alert

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/fleetwatch/fleetwatch/internal/model"
)

// stopDir is where a headway is measured: a stop of a line, in one
// direction.
type stopDir struct{ station, dir string }

// stopHeadways is the record of one stop and direction: the latest arrival,
// and the last headways measured there (a ring, oldest at head).
type stopHeadways struct {
	vehicle  string
	ts       int64
	history  []float64
	head     int
	latest   float64
	measured bool
}

// dirHeadways sums, over a line's stops in one direction, the latest
// headway at each: their mean is the line's target where a stop's own
// history is still short.
type dirHeadways struct {
	sum float64
	n   int
}

// arrival queues an arrival: Tick measures and judges it in order of
// time. Arrivals at one station come in order (they share a partition, keyed
// by station), but a line's target is the mean over its stations, which are
// read minutes apart when catching up: measured as they come, the target
// would depend on how the partitions were interleaved.
func (d *Detector) arrival(e model.Arrival) {
	if e.VehicleID != "" {
		d.arrivals = append(d.arrivals, e)
	}
}

// settleArrivals measures and judges the arrivals up to t, oldest first.
func (d *Detector) settleArrivals(t int64, out []Alert) []Alert {
	slices.SortStableFunc(d.arrivals, func(a, b model.Arrival) int { return a.TS.Compare(b.TS) })
	n := 0
	for i := range d.arrivals {
		if d.arrivals[i].TS.UnixNano() > t {
			break
		}
		n++
		out = d.measure(&d.arrivals[i], out)
	}
	clear(d.arrivals[:n])
	d.arrivals = append(d.arrivals[:0], d.arrivals[n:]...)
	return out
}

// measure measures the headway of one arrival and judges it.
func (d *Detector) measure(e *model.Arrival, out []Alert) []Alert {
	v := d.vehicle(e.VehicleID)
	lineID := e.Line
	if l := d.lineOf(v); lineID == "" && l != nil {
		lineID = l.id
	}
	if lineID == "" {
		return out
	}
	if v.line == 0 {
		out = d.changeLine(v, lineID, e.TS, out)
	}
	l := d.line(lineID)
	ts := e.TS.UnixNano()
	if c := d.more(v); ts >= c.arrTS {
		// A vehicle that arrives in the other direction has turned at its
		// previous stop: that is a terminal, for a line without geometry.
		lastStation, lastDir := d.nameOf(c.lastStation), d.nameOf(c.lastDir)
		if l.geom == nil && lastStation != "" && lastDir != "" && e.Direction != "" && lastDir != e.Direction &&
			!l.terminal[lastStation] {
			l.terminal[lastStation] = true
			if p, ok := d.stations[lastStation]; ok {
				l.termPts = append(l.termPts, newPlace(p))
			}
		}
		c.lastStation, c.lastDir, c.arrTS = d.name(e.StationID), d.name(e.Direction), ts
	}

	key := stopDir{e.StationID, e.Direction}
	st := l.stops[key]
	if st == nil {
		st = &stopHeadways{history: make([]float64, 0, d.cfg.HeadwayHistory)}
		l.stops[key] = st
	}
	if st.ts > ts {
		return out // a late duplicate or a replay: the newer mark stands
	}
	prev, prevTS := st.vehicle, st.ts
	st.vehicle, st.ts = e.VehicleID, ts
	if prev == "" || prev == e.VehicleID {
		return out
	}
	headway := float64(ts-prevTS) / 1e9
	agg := l.dirs[e.Direction]
	if agg == nil {
		agg = &dirHeadways{}
		l.dirs[e.Direction] = agg
	}
	target := 0.0
	switch {
	case len(st.history) >= d.cfg.HeadwayMin:
		for _, h := range st.history {
			target += h
		}
		target /= float64(len(st.history))
	case agg.n >= d.cfg.HeadwayMin:
		target = agg.sum / float64(agg.n)
	}
	if len(st.history) < d.cfg.HeadwayHistory {
		st.history = append(st.history, headway)
	} else if len(st.history) > 0 {
		st.history[st.head] = headway
		st.head = (st.head + 1) % len(st.history)
	}
	if st.measured {
		agg.sum -= st.latest
	} else {
		agg.n++
	}
	agg.sum += headway
	st.latest, st.measured = headway, true
	c := &d.colds[v.cold-1]
	if target <= 0 || ts < c.judgedTS {
		return out
	}
	c.judgedTS = ts
	ratio := headway / target
	if d.vehicles.last(v) == 0 {
		// Known from arrivals only: the alert is placed at the station.
		if p, ok := d.stations[e.StationID]; ok {
			v.lon, v.lat = model.E7(p[0]), model.E7(p[1])
		}
	}
	// Written only for an alert that opens: most arrivals open none, and
	// formatting was most of what measuring one cost.
	detail := func() string {
		return fmt.Sprintf("%s after %s at %s: %.2f of the %s headway", fmtDuration(time.Duration(headway*float64(time.Second))),
			prev, e.StationID, ratio, fmtDuration(time.Duration(target*float64(time.Second))))
	}
	out = d.headwayState(v, Bunched, bitBunched, ratio < d.cfg.Bunched, e.TS, detail, prev, out)
	return d.headwayState(v, Gapped, bitGapped, ratio > d.cfg.Gapped, e.TS, detail, prev, out)
}

func (d *Detector) headwayState(v *vehicleState, kind Kind, bit uint16, holds bool, at time.Time, detail func() string,
	ahead string, out []Alert) []Alert {
	switch isOpen := v.open&bit != 0; {
	case holds && !isOpen:
		return d.openVehicle(v, kind, at, detail(), ahead, out)
	case !holds && isOpen:
		return d.closeVehicle(v, kind, at, out)
	}
	return out
}

// LineHeadway is a line's regularity, for the line table.
type LineHeadway struct {
	Line string
	// TargetS is the mean of the latest headway at each of its stops and
	// directions; 0 before any is measured.
	TargetS float64
	// MinRatio and MaxRatio are the smallest and largest of those latest
	// headways as a ratio of their stop's target (the mean it now has,
	// that headway included).
	MinRatio, MaxRatio float64
	// CV is the coefficient of variation (σ/μ) of those latest headways:
	// 0 for a perfectly even service.
	CV float64
	// Bunched and Gapped count its vehicles with such an alert open.
	Bunched, Gapped int
}

// Lines returns the regularity of every line with a headway measured, by
// line id.
func (d *Detector) Lines() []LineHeadway {
	var out []LineHeadway
	for _, l := range d.lines {
		var sum, sum2 float64
		n := 0
		lh := LineHeadway{Line: l.id, MinRatio: math.Inf(1)}
		for key, st := range l.stops {
			if !st.measured {
				continue
			}
			sum += st.latest
			sum2 += st.latest * st.latest
			n++
			target := 0.0
			if len(st.history) >= d.cfg.HeadwayMin {
				for _, h := range st.history {
					target += h
				}
				target /= float64(len(st.history))
			} else if agg := l.dirs[key.dir]; agg != nil && agg.n > 0 {
				target = agg.sum / float64(agg.n)
			}
			if target > 0 {
				lh.MinRatio = min(lh.MinRatio, st.latest/target)
				lh.MaxRatio = max(lh.MaxRatio, st.latest/target)
			}
		}
		if n == 0 {
			continue
		}
		mean := sum / float64(n)
		lh.TargetS = mean
		if mean > 0 {
			lh.CV = math.Sqrt(max(0, sum2/float64(n)-mean*mean)) / mean
		}
		if math.IsInf(lh.MinRatio, 1) {
			lh.MinRatio = 0
		}
		out = append(out, lh)
	}
	for slot := range d.vehicles.slots() {
		v := d.vehicles.at(int32(slot))
		l := d.lineOf(v)
		if l == nil || v.open&(bitBunched|bitGapped) == 0 {
			continue
		}
		i := slices.IndexFunc(out, func(lh LineHeadway) bool { return lh.Line == l.id })
		if i < 0 {
			continue
		}
		if v.open&bitBunched != 0 {
			out[i].Bunched++
		}
		if v.open&bitGapped != 0 {
			out[i].Gapped++
		}
	}
	slices.SortFunc(out, func(a, b LineHeadway) int { return strings.Compare(a.Line, b.Line) })
	return out
}

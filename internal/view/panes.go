package view

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"github.com/fleetwatch/fleetwatch/internal/model"
)

// Pane is what the right-hand panel shows; tab moves between them.
type Pane int

// The panes, in tab order; PaneDetails is entered with enter.
const (
	PaneOverview Pane = iota // lines, streams, weather, busiest stations
	PaneVehicles             // every vehicle, grouped by line, sortable
	PaneStations             // the station board, busiest first
	PaneDetails              // one vehicle
	PaneAlerts               // the open alerts, newest first
)

// SortKey orders the vehicles within each line of the vehicles pane.
type SortKey int

// The sort orders, in the order the sort key cycles through them.
const (
	SortID SortKey = iota
	SortDelay
	SortSpeed
	SortAge
	numSortKeys
)

// Next returns the following sort order, wrapping around.
func (k SortKey) Next() SortKey { return (k + 1) % numSortKeys }

func (k SortKey) String() string {
	return [...]string{"id", "delay", "speed", "age"}[k]
}

// VehicleOrder returns the vehicles of a snapshot in the order of the
// vehicles pane: by line, then by the sort key (worst first for delay and
// age, fastest first for speed), then by id.
func VehicleOrder(vehicles model.Vehicles, key SortKey) []model.VehiclePosition {
	out := make([]model.VehiclePosition, 0, vehicles.Len())
	for v := range vehicles.All() {
		out = append(out, *v)
	}
	slices.SortFunc(out, func(a, b model.VehiclePosition) int {
		if c := cmp.Compare(a.Line, b.Line); c != 0 {
			return c
		}
		var c int
		switch key {
		case SortDelay:
			c = cmp.Compare(b.DelayS, a.DelayS)
		case SortSpeed:
			c = cmp.Compare(b.SpeedKmh, a.SpeedKmh)
		case SortAge:
			c = a.TS.Compare(b.TS)
		}
		return cmp.Or(c, cmp.Compare(a.VehicleID, b.VehicleID))
	})
	return out
}

// StationOrder returns the stations busiest first: entries in the window,
// then arrivals in it, then all-time entries.
func StationOrder(stations []model.StationState) []model.StationState {
	out := slices.Clone(stations)
	slices.SortStableFunc(out, func(a, b model.StationState) int {
		return cmp.Or(cmp.Compare(b.EntriesWindow, a.EntriesWindow), cmp.Compare(b.ArrivalsWindow, a.ArrivalsWindow),
			cmp.Compare(b.Entries, a.Entries), cmp.Compare(a.StationID, b.StationID))
	})
	return out
}

// scrollTo returns the first row to show so that row sel is visible in a
// window of h rows out of n, keeping it near the middle.
func scrollTo(sel, n, h int) int {
	if sel < 0 || n <= h {
		return 0
	}
	return max(0, min(sel-h/2, n-h))
}

// scrolled puts a table under its heading lines: as many rows as fit in h
// lines, scrolled so the selected row (-1 for none) shows, each line
// margined and fitted to w cells.
func scrolled(head, rows []string, sel, w, h int) []string {
	body := max(h-len(head), 0)
	start := scrollTo(sel, len(rows), body)
	out := append(head, rows[start:min(len(rows), start+body)]...)
	for i := range out {
		out[i] = fit(" "+out[i], w)
	}
	return out
}

// lineName is a line's display name from the network, else its id.
func (s *Screen) lineName(id string) string {
	return safe(cmp.Or(s.lineNames[id], id))
}

func (s *Screen) stopName(id string) string {
	return safe(cmp.Or(s.stationNames[id], id))
}

func (s *Screen) swatchFor(line string) string {
	if box, ok := s.boxes[line]; ok {
		return box
	}
	return s.dim.Render("■")
}

// vehiclesPanel lists every vehicle by line, each line under a summary row
// (in service, mean speed, mean and worst headway, bunched pairs).
func (s *Screen) vehiclesPanel(f Frame, w, h int) []string {
	order := VehicleOrder(f.Snap.Vehicles, f.Sort)
	stats := map[string]model.LineStats{}
	for _, l := range f.Snap.Lines {
		stats[l.Line] = l
	}
	occ := w >= 50 // the occupancy column, where there is room
	// The row is " id stop km/h delay [occ] age" after the panel's margin.
	fixed := 1 + 1 + 10 + 1 + 1 + 4 + 1 + 6 + 1 + 5
	if occ {
		fixed += 5
	}
	stopW := max(w-fixed, 4)
	head := fmt.Sprintf(" %-10s %-*s %4s %6s", "VEHICLE", stopW, "NEXT STOP", "KM/H", "DELAY")
	if occ {
		head += "  OCC"
	}
	head += "   AGE"
	rows := []string{}
	selRow := -1
	line := "\x00"
	for _, v := range order {
		if v.Line != line {
			line = v.Line
			ls := stats[line]
			name := s.lineName(line)
			if line == "" {
				name = "no line"
			}
			sum := fmt.Sprintf("%d veh · %.0f km/h · hw %s max %s", ls.Vehicles, ls.AvgSpeedKmh, duration(ls.HeadwayS), duration(ls.HeadwayMaxS))
			if ls.Bunched > 0 {
				sum += " · " + s.warn.Render(fmt.Sprintf("%d bunched", ls.Bunched))
			} else {
				sum += " · 0 bunched"
			}
			if lh, ok := f.LineHealth[line]; ok && lh.TargetS > 0 {
				// Headway as the detector judges it: the spread of the latest
				// headways against their targets, and their regularity.
				sum += fmt.Sprintf(" · ×%.2f–%.2f σ/μ %.2f", lh.MinRatio, lh.MaxRatio, lh.CV)
			}
			rows = append(rows, s.swatchFor(line)+" "+s.bold.Render(name)+" "+s.dim.Render(sum))
		}
		row := fmt.Sprintf(" %-10s %-*s %4s %6s", fit(safe(v.VehicleID), 10), stopW, fit(s.stopName(v.StopID), stopW),
			optNum(v.SpeedKmh, v.Has&model.HasSpeed != 0), delay(v.DelayS, v.Has&model.HasDelay != 0))
		if occ {
			o := "—"
			if v.Has&model.HasOccupancy != 0 {
				o = fmt.Sprintf("%.0f%%", v.Occupancy*100)
			}
			row += fmt.Sprintf(" %4s", o)
		}
		row += fmt.Sprintf(" %5s", age(f.Snap.AsOf.Sub(v.TS)))
		if v.VehicleID == f.Selected {
			selRow = len(rows)
			row = s.title.Render(fit(row, w-1))
		} else if f.Snap.AsOf.Sub(v.TS) > f.staleAfter() {
			row = s.dim.Render(row)
		}
		rows = append(rows, row)
	}
	out := []string{s.bold.Render(fmt.Sprintf("VEHICLES %d", len(order))) + s.dim.Render(" · sort: "+f.Sort.String()+" (s) · enter details"),
		s.dim.Render(head)}
	if len(order) == 0 {
		out = append(out, s.dim.Render("no vehicles yet"))
	}
	return scrolled(out, rows, selRow, w, h)
}

// stationsPanel is the station board: the rolling window's arrivals and
// entries, busiest first, with all-time entries beside them.
func (s *Screen) stationsPanel(f Frame, w, h int) []string {
	win := f.Window
	if win <= 0 {
		win = model.DefaultWindow
	}
	order := StationOrder(f.Snap.Stations)
	nameW := max(w-30, 6)
	out := []string{s.bold.Render(fmt.Sprintf("STATIONS %d", len(order))) + s.dim.Render(fmt.Sprintf(" · last %s, busiest first · enter shows", shortDur(win))),
		s.dim.Render(fmt.Sprintf("%-*s    %6s %8s %9s", nameW, "STATION", "ARRIV", "ENTRIES", "ALL DAY"))}
	if len(order) == 0 {
		out = append(out, s.dim.Render("no station events yet"))
	}
	rows := make([]string, 0, len(order))
	selRow := -1
	for _, st := range order {
		name := safe(cmp.Or(st.Name, s.stationNames[st.StationID], st.StationID))
		row := fmt.Sprintf("%s %s %6d %8d %9d", fit(name, nameW), fit(s.lineTags(st), 2), st.ArrivalsWindow, st.EntriesWindow, st.Entries)
		if st.StationID == f.SelectedStation {
			selRow = len(rows)
			row = s.title.Render(fit(row, w-1))
		}
		rows = append(rows, row)
	}
	due := s.dueLines(f)
	return append(scrolled(out, rows, selRow, w, max(h-len(due), 3)), due...)
}

// dueLines lists the vehicles predicted at the selected station, by
// direction, soonest first, below the board.
func (s *Screen) dueLines(f Frame) []string {
	if len(f.ETAs) == 0 {
		return nil
	}
	name := safe(cmp.Or(s.stationNames[f.SelectedStation], f.SelectedStation))
	out := []string{"", s.bold.Render("DUE AT "+name) + s.dim.Render(" · from running times seen")}
	for _, e := range f.ETAs {
		dir := e.Direction
		if dir == "" {
			dir = "—"
		}
		out = append(out, fmt.Sprintf("%s %-3s %-10s in %s", s.swatchFor(e.Line), fit(safe(dir), 3), fit(safe(e.VehicleID), 10),
			shortDur(max(e.At.Sub(f.Snap.AsOf), 0).Round(time.Second))))
	}
	return out
}

// detailsPanel shows one vehicle: its latest report in full, its speed
// history and its last reports.
func (s *Screen) detailsPanel(f Frame, w, h int) []string {
	var v model.VehiclePosition
	found := false
	if !f.Gone {
		v, found = s.m.selected(f.Snap.Vehicles, f.Selected)
	}
	out := []string{s.bold.Render("VEHICLE "+safe(f.Selected)) + s.dim.Render(" · f follow · esc back")}
	if !found {
		out = append(out, s.dim.Render("not in the fleet any more (expired or removed)"))
		if n := len(f.History); n > 0 {
			// Where it was last is what one asks next.
			last := f.History[n-1]
			seen := fmt.Sprintf("at %.5f, %.5f", last.Lat, last.Lon)
			if !last.TS.IsZero() {
				seen = last.TS.UTC().Format("15:04:05Z") + " " + seen
			}
			out = append(out, s.dim.Render(fmt.Sprintf("%-10s", "last seen"))+" "+seen)
		}
	} else {
		status := strings.ReplaceAll(string(v.Status), "_", " ")
		if v.StopID != "" {
			status += " · " + s.stopName(v.StopID)
		}
		field := func(k, val string) { out = append(out, s.dim.Render(fmt.Sprintf("%-10s", k))+" "+val) }
		field("line", s.swatchFor(v.Line)+" "+s.lineName(v.Line))
		field("status", status)
		speeds := make([]float64, 0, len(f.History))
		for _, r := range f.History {
			speeds = append(speeds, r.SpeedKmh)
		}
		field("speed", optNum(v.SpeedKmh, v.Has&model.HasSpeed != 0)+" km/h "+s.ok.Render(sparkline(speeds, max(w-24, 0))))
		late := ""
		if v.Has&model.HasDelay != 0 && v.DelayS > LateAfter {
			late = s.warn.Render(" late")
		}
		field("delay", delay(v.DelayS, v.Has&model.HasDelay != 0)+late)
		if v.Has&model.HasOccupancy != 0 {
			field("occupancy", fmt.Sprintf("%.0f%%", v.Occupancy*100))
		}
		pos := fmt.Sprintf("%.5f, %.5f", v.Lat, v.Lon)
		if v.Has&model.HasHeading != 0 {
			pos += fmt.Sprintf(" · %.0f°", v.Heading)
		}
		field("position", pos)
		ago := f.Snap.AsOf.Sub(v.TS)
		seen := age(ago) + " ago (" + v.TS.UTC().Format("15:04:05Z") + ")"
		if ago > f.staleAfter() {
			seen = s.warn.Render("stale: ") + seen
		}
		field("last seen", seen)
	}
	if len(f.ETAs) > 0 {
		out = append(out, "", s.bold.Render("NEXT STOPS")+s.dim.Render(" · from running times seen"))
		for _, e := range f.ETAs {
			if len(out) >= h-2 {
				break
			}
			out = append(out, fmt.Sprintf("%s %s in %s", e.At.UTC().Format("15:04:05"), fit(s.stopName(e.StationID), max(w-24, 6)),
				shortDur(max(e.At.Sub(f.Snap.AsOf), 0).Round(time.Second))))
		}
	}
	if len(f.History) > 0 {
		out = append(out, "", s.bold.Render("LAST REPORTS"))
		for i := len(f.History) - 1; i >= 0 && len(out) < h; i-- {
			r := f.History[i]
			out = append(out, fmt.Sprintf("%s %4s km/h %6s %s", r.TS.UTC().Format("15:04:05"),
				optNum(r.SpeedKmh, r.Has&model.HasSpeed != 0), delay(r.DelayS, r.Has&model.HasDelay != 0), s.stopName(r.StopID)))
		}
	}
	for i := range out {
		out[i] = fit(" "+out[i], w)
	}
	return out
}

func (f Frame) staleAfter() time.Duration {
	if f.Stale <= 0 {
		return time.Minute
	}
	return f.Stale
}

func optNum(v float64, has bool) string {
	if !has || math.IsNaN(v) {
		return "—"
	}
	return fmt.Sprintf("%.0f", v)
}

// delay formats a schedule deviation, positive late: +45s, -1m05s, +12m.
func delay(sec float64, has bool) string {
	if !has || math.IsNaN(sec) {
		return "—"
	}
	sign := "+"
	if sec < 0 {
		sign, sec = "-", -sec
	}
	d := time.Duration(math.Round(sec)) * time.Second
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%s%ds", sign, int(d.Seconds()))
	case d < 10*time.Minute:
		return fmt.Sprintf("%s%dm%02ds", sign, int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%s%dm", sign, int(d.Minutes()))
}

// age formats how long ago something was: 3s, 4m, 2h.
func age(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	}
	return fmt.Sprintf("%dh", int(d.Hours()))
}

func shortDur(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dm", int(d.Minutes()))
}

// Match is what a search found: a vehicle, a line or a station, and where
// it is on the map.
type Match struct {
	Kind  string // "vehicle", "line" or "station"
	ID    string
	Name  string
	Bound orb.Bound
}

// Find looks a query up among the vehicles of the snapshot, the lines and
// the stations, case-insensitively: an exact id or name first, then a
// prefix, then a substring.
func (s *Screen) Find(snap model.Snapshot, query string) (Match, bool) {
	q := strings.ToLower(strings.TrimSpace(query))
	if q == "" {
		return Match{}, false
	}
	type cand struct {
		m     Match
		texts []string
	}
	var cands []cand
	// By id, so that the first match is the same whatever order the
	// snapshot holds its vehicles in.
	for _, v := range VehicleOrder(snap.Vehicles, SortID) {
		p := orb.Point{v.Lon, v.Lat}
		cands = append(cands, cand{Match{"vehicle", v.VehicleID, v.VehicleID, orb.Bound{Min: p, Max: p}}, []string{v.VehicleID}})
	}
	for _, l := range s.net.Lines {
		var b orb.Bound
		for i, path := range l.Paths {
			if i == 0 {
				b = path.Bound()
			} else {
				b = b.Union(path.Bound())
			}
		}
		cands = append(cands, cand{Match{"line", l.ID, l.Name, b}, []string{l.ID, l.Name}})
	}
	for _, st := range s.net.Stations {
		cands = append(cands, cand{Match{"station", st.ID, st.Name, orb.Bound{Min: st.Pos, Max: st.Pos}}, []string{st.ID, st.Name}})
	}
	for _, rule := range []func(t string) bool{
		func(t string) bool { return t == q },
		func(t string) bool { return strings.HasPrefix(t, q) },
		func(t string) bool { return strings.Contains(t, q) },
	} {
		for _, c := range cands {
			for _, t := range c.texts {
				if rule(strings.ToLower(t)) {
					return c.m, true
				}
			}
		}
	}
	return Match{}, false
}

// Package view renders fleet snapshots as text: the braille map, the line
// table, weather and the status bar. The TUI and the headless snapshot
// command share it, so a snapshot frame is exactly what an operator sees.
package view

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/muesli/termenv"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/project"

	"github.com/fleetwatch/fleetwatch/internal/geo"
	"github.com/fleetwatch/fleetwatch/internal/model"
	"github.com/fleetwatch/fleetwatch/internal/network"
)

// Fixed palette slots after the lines' own colours.
const (
	colStation geo.Color = iota + 1
	colLabel
	colUnknown // vehicles of a line the network does not know
	colStale
	firstLineColor
)

// mapMargin keeps the network off the canvas edge, in dots.
const mapMargin = 3

// Map draws the network and the vehicles on a braille canvas. The static
// layer (lines, stations, labels) is drawn once per size and reused; only
// the vehicles are drawn per frame.
type Map struct {
	net       *network.Network
	lineColor map[string]geo.Color
	palette   []string // nil: plain text
	bold      []string

	cols, rows int
	zoom       float64   // 1 shows the whole network
	pan        orb.Point // Mercator metres from the whole network's centre
	vp         geo.Viewport
	fitCenter  orb.Point // Mercator centre of the whole network
	static     *geo.Canvas
	frame      *geo.Canvas
	owner      []cellOwner // per cell, the vehicle drawn there this frame
	touched    []int32     // the cells that have an owner
	buf        []byte
}

// Zoom limits: from a quarter of the fitted scale to street level.
const (
	minZoom = 0.25
	maxZoom = 256
)

// ZoomBy scales the map by factor (above 1 zooms in) about the centre of the view.
func (m *Map) ZoomBy(factor float64) {
	m.zoom = math.Max(minZoom, math.Min(maxZoom, m.zoom*factor))
	m.static = nil
}

// Pan moves the view by fractions of its width and height (positive: right, down).
func (m *Map) Pan(fx, fy float64) {
	m.pan[0] += fx * float64(m.vp.W) * m.vp.MetersPerDot
	m.pan[1] -= fy * float64(m.vp.H) * m.vp.MetersPerDot * m.vp.Aspect
	m.static = nil
}

// Fit shows the whole network again.
func (m *Map) Fit() {
	m.zoom, m.pan = 1, orb.Point{}
	m.static = nil
}

// CenterOn moves the view so that the lon/lat point is in its middle,
// keeping the zoom.
func (m *Map) CenterOn(lon, lat float64) {
	c := project.WGS84.ToMercator(orb.Point{lon, lat})
	m.pan = orb.Point{c[0] - m.fitCenter[0], c[1] - m.fitCenter[1]}
	m.static = nil
}

// Show zooms and pans so that the lon/lat bound fills the view (a point is
// shown at a street-level zoom).
func (m *Map) Show(b orb.Bound) {
	whole := project.WGS84.ToMercator(m.net.Bound.Max)
	wholeLo := project.WGS84.ToMercator(m.net.Bound.Min)
	hi, lo := project.WGS84.ToMercator(b.Max), project.WGS84.ToMercator(b.Min)
	z := math.Min((whole[0]-wholeLo[0])/math.Max(hi[0]-lo[0], 1), (whole[1]-wholeLo[1])/math.Max(hi[1]-lo[1], 1))
	m.zoom = math.Max(minZoom, math.Min(maxZoom, math.Min(z*0.9, 16)))
	m.CenterOn((b.Min[0]+b.Max[0])/2, (b.Min[1]+b.Max[1])/2)
}

// Cols is the width of the last frame drawn, in cells.
func (m *Map) Cols() int { return m.cols }

// ShowStation zooms to a station of the network by id; false when the
// network has no such station (one known only from its events).
func (m *Map) ShowStation(id string) bool {
	for _, st := range m.net.Stations {
		if st.ID == id {
			m.Show(orb.Bound{Min: st.Pos, Max: st.Pos})
			return true
		}
	}
	return false
}

// VehicleAt returns the vehicle drawn nearest to a cell of the last frame,
// within two cells, for a mouse click.
func (m *Map) VehicleAt(col, row int, vehicles []model.VehiclePosition) (string, bool) {
	best, bestD := "", 5.0 // squared cells: two columns or one row and a bit
	for i := range vehicles {
		v := &vehicles[i]
		x, y := m.vp.Project(orb.Point{v.Lon, v.Lat})
		dx, dy := x/2-float64(col)-0.5, (y/4-float64(row)-0.5)*2 // a cell is twice as tall as wide
		if d := dx*dx + dy*dy; d < bestD {
			best, bestD = v.VehicleID, d
		}
	}
	return best, best != ""
}

// NewMap prepares a map of the network for a terminal of the given colour
// profile; termenv.Ascii gives plain text.
func NewMap(net *network.Network, profile termenv.Profile) *Map {
	m := &Map{net: net, lineColor: map[string]geo.Color{}, zoom: 1}
	lo, hi := project.WGS84.ToMercator(net.Bound.Min), project.WGS84.ToMercator(net.Bound.Max)
	m.fitCenter = orb.Point{(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2}
	hexes := []string{"", "#9e9e9e", "#d0d0d0", "#ffffff", "#6c6c6c"}
	for i, l := range net.Lines {
		m.lineColor[l.ID] = firstLineColor + geo.Color(i)
		c := l.Color
		if c == "" {
			c = "#c0c0c0"
		}
		hexes = append(hexes, c)
	}
	if profile != termenv.Ascii {
		m.palette = make([]string, len(hexes))
		m.bold = make([]string, len(hexes))
		for i, h := range hexes {
			if h == "" {
				continue
			}
			seq := profile.Color(h).Sequence(false)
			m.palette[i] = "\x1b[" + seq + "m"
			m.bold[i] = "\x1b[1;" + seq + "m"
		}
	}
	return m
}

func (m *Map) resize(cols, rows int) {
	if cols == m.cols && rows == m.rows && m.static != nil {
		return
	}
	m.cols, m.rows = cols, rows
	m.static = geo.NewCanvas(cols, rows)
	m.frame = geo.NewCanvas(cols, rows)
	m.vp = geo.Fit(m.net.Bound, m.static.DotsW(), m.static.DotsH(), mapMargin)
	m.vp.MetersPerDot /= m.zoom
	m.vp.Center[0] += m.pan[0]
	m.vp.Center[1] += m.pan[1]
	m.drawStatic()
}

func (m *Map) drawStatic() {
	c := m.static
	for _, l := range m.net.Lines {
		col := m.lineColor[l.ID]
		for _, path := range l.Paths {
			x0, y0 := m.vp.Project(path[0])
			for _, p := range path[1:] {
				x1, y1 := m.vp.Project(p)
				c.Line(x0, y0, x1, y1, col)
				x0, y0 = x1, y1
			}
		}
	}
	for _, s := range m.net.Stations {
		x, y := m.vp.Project(s.Pos)
		ix, iy := int(math.Round(x)), int(math.Round(y))
		c.Set(ix, iy, colStation)
		c.Set(ix+1, iy, colStation)
		c.Set(ix, iy+1, colStation)
		c.Set(ix+1, iy+1, colStation)
	}
	m.drawTerminalLabels()
}

// drawTerminalLabels names the stations at the ends of each line where the
// name fits on empty cells without touching another label: right of the
// mark, left of it, then above or below.
func (m *Map) drawTerminalLabels() {
	c := m.static
	taken := make([]bool, c.Cols*c.Rows)
	free := func(start, row, n int) bool {
		if row < 0 || row >= c.Rows || start < 0 || start+n > c.Cols {
			return false
		}
		for i := start - 1; i <= start+n; i++ {
			if i < 0 || i >= c.Cols {
				continue
			}
			if taken[row*c.Cols+i] || (i >= start && i < start+n && !c.Empty(i, row)) {
				return false
			}
		}
		return true
	}
	place := func(s network.Station) {
		x, y := m.vp.Project(s.Pos)
		col, row := int(x)/2, int(y)/4
		name := []rune(safe(s.Name))
		n := len(name)
		for _, at := range [][2]int{{col + 2, row}, {col - 1 - n, row}, {col - n/2, row - 1}, {col - n/2, row + 1}} {
			if !free(at[0], at[1], n) {
				continue
			}
			for i := range n {
				taken[at[1]*c.Cols+at[0]+i] = true
			}
			c.Text(at[0], at[1], string(name), colLabel)
			return
		}
	}
	done := map[string]bool{}
	for _, l := range m.net.Lines {
		for _, path := range l.Paths {
			for _, end := range []orb.Point{path[0], path[len(path)-1]} {
				if s, ok := nearestStation(m.net.StationsOf(l.ID), end); ok && !done[s.ID] {
					done[s.ID] = true
					place(s)
				}
			}
		}
	}
	// Then every other station inside the view where its name fits, the
	// transfer stations first: zoomed in, the map names its stops.
	rest := make([]network.Station, 0, len(m.net.Stations))
	for _, s := range m.net.Stations {
		x, y := m.vp.Project(s.Pos)
		if !done[s.ID] && x >= 0 && y >= 0 && x < float64(c.DotsW()) && y < float64(c.DotsH()) {
			rest = append(rest, s)
		}
	}
	slices.SortStableFunc(rest, func(a, b network.Station) int { return cmp.Compare(len(b.Lines), len(a.Lines)) })
	for _, s := range rest {
		place(s)
	}
}

func nearestStation(stations []network.Station, p orb.Point) (network.Station, bool) {
	best, bestD := network.Station{}, math.Inf(1)
	for _, s := range stations {
		dx, dy := s.Pos[0]-p[0], s.Pos[1]-p[1]
		if d := dx*dx + dy*dy; d < bestD {
			best, bestD = s, d
		}
	}
	return best, !math.IsInf(bestD, 1)
}

// cellOwner is the vehicle that gets a cell of the map.
type cellOwner struct {
	id    string
	live  bool
	mark  rune
	color geo.Color
}

// Vehicle markers. Late and stale are what a dispatcher looks for first,
// so each has its own shape, not only a colour.
const (
	markMoving  = '●'
	markStopped = '■'
	markLate    = '▲'
	markStale   = '○'
	markOff     = '×'
	// markSelected is the vehicle the operator picked, drawn over all others.
	markSelected = '◉'
)

// LateAfter is the delay from which a vehicle is drawn as late (Skate's band).
const LateAfter = 360.0

// mark returns a vehicle's marker and colour; quiet reports whether it is
// stale or out of service, drawn under the others.
func (m *Map) mark(v *model.VehiclePosition, asOf time.Time, stale time.Duration) (rune, geo.Color, bool) {
	col, ok := m.lineColor[v.Line]
	if !ok {
		col = colUnknown
	}
	switch {
	case v.Status == model.StatusOutOfService:
		return markOff, colStale, true
	case asOf.Sub(v.TS) > stale:
		return markStale, colStale, true
	case v.Has&model.HasDelay != 0 && v.DelayS > LateAfter:
		return markLate, col, false
	case v.Status == model.StatusStoppedAt:
		return markStopped, col, false
	}
	return markMoving, col, false
}

// Render draws the vehicles over the network and returns one string per row,
// each exactly cols cells wide. Vehicles not heard from for stale before
// asOf are drawn dimmed, beneath the live ones; the selected vehicle (by id,
// "" for none) is drawn last, with its own mark.
func (m *Map) Render(vehicles []model.VehiclePosition, asOf time.Time, stale time.Duration, selected string, cols, rows int) []string {
	out := make([]string, 0, rows)
	if cols <= 0 || rows <= 0 {
		return out
	}
	m.resize(cols, rows)
	m.frame.CopyFrom(m.static)
	// Each vehicle is projected once (the Mercator formula is most of a
	// frame's cost at 10 000 vehicles). Where several fall in one cell, a
	// live vehicle beats a quiet one (stale, out of service) and then the
	// smaller id wins, so the frame does not depend on the order vehicles
	// come in: the screen can skip sorting the fleet every frame.
	if n := cols * rows; len(m.owner) != n {
		m.owner = make([]cellOwner, n)
	}
	m.touched = m.touched[:0]
	var sel *model.VehiclePosition
	dw, dh := float64(m.frame.DotsW()), float64(m.frame.DotsH())
	for i := range vehicles {
		v := &vehicles[i]
		x, y := m.vp.Project(orb.Point{v.Lon, v.Lat})
		if x < 0 || y < 0 || x >= dw || y >= dh {
			continue
		}
		if v.VehicleID == selected && selected != "" {
			sel = v
			continue
		}
		mark, col, quiet := m.mark(v, asOf, stale)
		cell := (int(y)/4)*cols + int(x)/2
		o := &m.owner[cell]
		live := !quiet
		if o.id != "" && (o.live && !live || o.live == live && o.id < v.VehicleID) {
			continue
		}
		if o.id == "" {
			m.touched = append(m.touched, int32(cell))
		}
		*o = cellOwner{id: v.VehicleID, live: live, mark: mark, color: col}
	}
	for _, cell := range m.touched {
		o := &m.owner[cell]
		m.frame.SetGlyph(int(cell)%cols, int(cell)/cols, o.mark, o.color)
		*o = cellOwner{}
	}
	if sel != nil {
		x, y := m.vp.Project(orb.Point{sel.Lon, sel.Lat})
		m.frame.SetGlyph(int(x)/2, int(y)/4, markSelected, colLabel)
	}
	for r := range rows {
		m.buf = m.frame.AppendRow(m.buf[:0], r, m.palette, m.bold)
		out = append(out, string(m.buf))
	}
	return out
}

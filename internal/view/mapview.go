// Package view renders fleet snapshots as text: the braille map, the line
// table, weather and the status bar. The TUI and the headless snapshot
// command share it, so a snapshot frame is exactly what an operator sees.
package view

import (
	"cmp"
	"math"
	"math/bits"
	"slices"
	"time"

	"github.com/muesli/termenv"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/project"

	"github.com/fleetwatch/fleetwatch/internal/alert"
	"github.com/fleetwatch/fleetwatch/internal/basemap"
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
	colLand        // the basemap's coasts and user outlines, dim
	colWater       // its lakes and rivers, dim blue
	colAlert       // a vehicle with an urgent alert: off route, no progress, late
	colWarn        // one with a lesser one: early, bunched, gapped
	colHeat        // five shades of density, sparse to crowded
	firstLineColor = colHeat + geo.Color(len(heatColors))
)

// heatColors shade density cells from a few vehicles (cool) to many (hot).
var heatColors = [...]string{"#3a6ea5", "#2fa6a0", "#8cc63f", "#f2b134", "#ef4b3f"}

// heatGlyphs fill a density cell more the more vehicles it holds.
var heatGlyphs = [...]rune{'⡀', '⣀', '⣤', '⣶', '⣿'}

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
	profile   termenv.Profile

	cols, rows int
	zoom       float64   // 1 shows the whole fitted bound
	pan        orb.Point // Mercator metres from the fitted bound's centre
	vp         geo.Viewport
	proj       *geo.Projector // of projVP, the viewport it was built for
	projVP     geo.Viewport
	fit        orb.Bound // lon/lat: what a zoom of 1 shows
	fitCenter  orb.Point // Mercator centre of fit
	// followData fits the view to the vehicles and stations, frame by
	// frame, instead of to the network: right when no network file was
	// given. moved stops it once the operator pans or zooms.
	followData bool
	moved      bool
	outside    int // vehicles of the last frame outside the view
	density    Density
	dense      bool // the last frame was drawn as density
	static     *geo.Canvas
	frame      *geo.Canvas
	base       *basemap.Basemap
	showBase   bool
	under      *geo.Canvas // scratch: the basemap before it goes under the network
	owner      []cellOwner // per cell, the vehicle drawn there this frame
	count      []uint32    // per cell, the vehicles there this frame
	touched    []int32     // the cells that hold a vehicle other than the selected one
	cells      []placed    // the vehicles in view but the selected one, in the frame being drawn
	selSlot    int         // where the selected vehicle was last found (model.Vehicles.At)
	pts        []orb.Point // scratch: the points the data fit looks at
	buf        []byte
	// states are the vehicles' most urgent open alerts, silent the lines
	// ("" the whole stream) whose feed is silent: set per frame, shared
	// with other screens (alertIndex), read only.
	states map[string]alert.Kind
	silent map[string]bool
	alerts *alertIndex // what states and silent came from, naming them in layerKey
}

// SetAlerts gives the map the open alerts its markers show (read only:
// what the map derives from them is shared with other screens drawing the
// same list).
func (m *Map) SetAlerts(open []alert.Alert) {
	x := indexAlerts(open)
	m.states, m.silent, m.alerts = x.states, x.silent, x
}

// Density says when vehicles are drawn as shaded cells (how many each cell
// holds) instead of markers.
type Density uint8

// Density modes: automatic where markers would hide one another, always, or never.
const (
	DensityAuto Density = iota
	DensityOn
	DensityOff
)

func (d Density) String() string {
	return [...]string{"density view where vehicles crowd", "density view", "markers"}[d]
}

// Next is the mode the density key switches to.
func (d Density) Next() Density { return (d + 1) % 3 }

// world is what a view that follows the data shows before any arrives.
var world = orb.Bound{Min: orb.Point{-170, -58}, Max: orb.Point{170, 75}}

// Zoom limits: from a quarter of the fitted scale to street level.
const (
	minZoom = 0.25
	maxZoom = 256
)

// ZoomBy scales the map by factor (above 1 zooms in) about the centre of the view.
func (m *Map) ZoomBy(factor float64) {
	m.zoom = math.Max(minZoom, math.Min(maxZoom, m.zoom*factor))
	m.moved = true
	m.static = nil
}

// Pan moves the view by fractions of its width and height (positive: right, down).
func (m *Map) Pan(fx, fy float64) {
	m.pan[0] += fx * float64(m.vp.W) * m.vp.MetersPerDot
	m.pan[1] -= fy * float64(m.vp.H) * m.vp.MetersPerDot * m.vp.Aspect
	m.moved = true
	m.static = nil
}

// Fit shows the whole network again, or, following the data, fits the
// view to the fleet and keeps it fitted as data arrives.
func (m *Map) Fit() {
	m.zoom, m.pan, m.moved = 1, orb.Point{}, false
	if m.followData {
		m.fit = orb.Bound{} // refit at the next frame, however small the change
	}
	m.static = nil
}

// FollowData makes the view fit the vehicles and stations as they arrive,
// instead of the network, until the operator pans or zooms.
func (m *Map) FollowData(on bool) {
	m.followData = on
	m.Fit()
}

// SetBasemap sets the outlines drawn under everything (nil for none).
func (m *Map) SetBasemap(b *basemap.Basemap) {
	m.base, m.showBase = b, b != nil
	m.static = nil
}

// ToggleBasemap shows or hides the basemap and reports whether it shows.
func (m *Map) ToggleBasemap() bool {
	m.showBase = !m.showBase && m.base != nil
	m.static = nil
	return m.showBase
}

// SetDensity sets when vehicles are drawn as density.
func (m *Map) SetDensity(d Density) { m.density = d }

// DensityMode is the density setting.
func (m *Map) DensityMode() Density { return m.density }

// Outside is how many vehicles the last frame could not show: outside the
// view, including the outliers a fitted view leaves out.
func (m *Map) Outside() int { return m.outside }

// Dense reports whether the last frame drew vehicles as density.
func (m *Map) Dense() bool { return m.dense }

// View is the lon/lat bound the last frame showed.
func (m *Map) View() orb.Bound {
	lo := m.vp.Unproject(0, float64(m.vp.H))
	hi := m.vp.Unproject(float64(m.vp.W), 0)
	return orb.Bound{Min: lo, Max: hi}
}

// CenterOn moves the view so that the lon/lat point is in its middle,
// keeping the zoom.
func (m *Map) CenterOn(lon, lat float64) {
	c := project.WGS84.ToMercator(orb.Point{lon, lat})
	m.pan = orb.Point{c[0] - m.fitCenter[0], c[1] - m.fitCenter[1]}
	m.moved = true
	m.static = nil
}

// Show zooms and pans so that the lon/lat bound fills the view (a point is
// shown at a street-level zoom).
func (m *Map) Show(b orb.Bound) {
	whole := project.WGS84.ToMercator(m.fit.Max)
	wholeLo := project.WGS84.ToMercator(m.fit.Min)
	hi, lo := project.WGS84.ToMercator(b.Max), project.WGS84.ToMercator(b.Min)
	z := math.Min((whole[0]-wholeLo[0])/math.Max(hi[0]-lo[0], 1), (whole[1]-wholeLo[1])/math.Max(hi[1]-lo[1], 1))
	m.zoom = math.Max(minZoom, math.Min(maxZoom, math.Min(z*0.9, 16)))
	m.CenterOn((b.Min[0]+b.Max[0])/2, (b.Min[1]+b.Max[1])/2)
}

// selected returns the vehicle with the id, looked for first where the
// map last found the selected one.
func (m *Map) selected(vehicles model.Vehicles, id string) (model.VehiclePosition, bool) {
	var v model.VehiclePosition
	if id != "" && vehicles.ID(m.selSlot) == id {
		return v, vehicles.At(m.selSlot, &v)
	}
	return vehicles.Find(id)
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
func (m *Map) VehicleAt(col, row int, vehicles model.Vehicles) (string, bool) {
	best, bestD := "", 5.0 // squared cells: two columns or one row and a bit
	for v := range vehicles.All() {
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
	// Without lines or stations there is nothing to fit but the data.
	m := &Map{zoom: 1, profile: profile, followData: len(net.Lines) == 0 && len(net.Stations) == 0}
	m.SetNetwork(net)
	return m
}

// SetNetwork replaces the network drawn (a learned network grows as data
// arrives), keeping the operator's zoom and pan.
func (m *Map) SetNetwork(net *network.Network) {
	m.net = net
	m.lineColor = make(map[string]geo.Color, len(net.Lines))
	hexes := []string{"", "#9e9e9e", "#d0d0d0", "#ffffff", "#6c6c6c", "#4a4a4a", "#2b4d6e", "#ff3b30", "#ffb000"}
	hexes = append(hexes, heatColors[:]...)
	for i, l := range net.Lines {
		m.lineColor[l.ID] = firstLineColor + geo.Color(i)
		hexes = append(hexes, lineColorOf(l))
	}
	m.palette, m.bold = nil, nil
	if m.profile != termenv.Ascii {
		m.palette = make([]string, len(hexes))
		m.bold = make([]string, len(hexes))
		for i, h := range hexes {
			if h == "" {
				continue
			}
			seq := m.profile.Color(h).Sequence(false)
			m.palette[i] = "\x1b[" + seq + "m"
			m.bold[i] = "\x1b[1;" + seq + "m"
		}
	}
	if !m.followData {
		m.setFit(net.Bound)
	}
	m.static = nil
}

// lineColorOf is a line's own colour, else a stable one from its id.
func lineColorOf(l network.Line) string {
	if l.Color != "" {
		return l.Color
	}
	return network.ColorFor(l.ID)
}

func (m *Map) setFit(b orb.Bound) {
	m.fit = b
	lo, hi := project.WGS84.ToMercator(b.Min), project.WGS84.ToMercator(b.Max)
	m.fitCenter = orb.Point{(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2}
	m.static = nil
}

// followFit refits the view to the bulk of the vehicles and stations while
// it follows the data. A change under a tenth of the view is ignored, so
// the map does not twitch with every report.
func (m *Map) followFit(vehicles model.Vehicles) {
	if !m.followData || m.moved {
		return
	}
	m.pts = m.pts[:0]
	for v := range vehicles.Sample(4096) {
		m.pts = append(m.pts, orb.Point{v.Lon, v.Lat})
	}
	for _, s := range m.net.Stations {
		m.pts = append(m.pts, s.Pos)
	}
	b, ok := geo.BulkBound(m.pts)
	if !ok {
		if m.fit == (orb.Bound{}) {
			m.setFit(world) // nothing yet: the basemap shows where on Earth we are
		}
		return
	}
	old := m.fit
	if tol := 0.1 * math.Max(old.Max[0]-old.Min[0], old.Max[1]-old.Min[1]); old != (orb.Bound{}) &&
		math.Abs(b.Min[0]-old.Min[0]) < tol && math.Abs(b.Max[0]-old.Max[0]) < tol &&
		math.Abs(b.Min[1]-old.Min[1]) < tol && math.Abs(b.Max[1]-old.Max[1]) < tol {
		return
	}
	// A tenth more each way keeps the outermost markers off the edge.
	dx, dy := (b.Max[0]-b.Min[0])/10, (b.Max[1]-b.Min[1])/10
	m.setFit(orb.Bound{Min: orb.Point{b.Min[0] - dx, b.Min[1] - dy}, Max: orb.Point{b.Max[0] + dx, b.Max[1] + dy}})
}

func (m *Map) resize(cols, rows int) {
	if cols == m.cols && rows == m.rows && m.static != nil {
		return
	}
	m.cols, m.rows = cols, rows
	m.static = geo.NewCanvas(cols, rows)
	m.frame = geo.NewCanvas(cols, rows)
	m.vp = geo.Fit(m.fit, m.static.DotsW(), m.static.DotsH(), mapMargin)
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
	m.drawBasemap()
}

// riversFrom is the scale (metres per dot) above which rivers are left out.
const riversFrom = 5000

// drawBasemap puts the basemap under what is drawn. Points closer than a
// dot to the last one drawn are skipped: a world coastline has hundreds of
// thousands of points, and zoomed out most of them fall on one dot.
func (m *Map) drawBasemap() {
	if !m.showBase {
		return
	}
	if m.under == nil || m.under.Cols != m.static.Cols || m.under.Rows != m.static.Rows {
		m.under = geo.NewCanvas(m.static.Cols, m.static.Rows)
	} else {
		m.under.Clear()
	}
	view := m.View()
	// Zoomed out to a continent, rivers and lakes smaller than a few dots
	// are noise that hides the coasts people recognise.
	minDots := 3.0
	m.base.Within(view, func(p *basemap.Path) {
		col := colLand
		if p.Kind == basemap.Lake || p.Kind == basemap.River {
			col = colWater
			if p.Kind == basemap.River && m.vp.MetersPerDot > riversFrom {
				return
			}
		}
		x0, y0 := m.vp.Project(p.Bound.Min)
		if x1, y1 := m.vp.Project(p.Bound.Max); p.Kind == basemap.Lake && math.Abs(x1-x0) < minDots && math.Abs(y1-y0) < minDots {
			return
		}
		x0, y0 = m.vp.Project(p.Points[0])
		for i, pt := range p.Points[1:] {
			x1, y1 := m.vp.Project(pt)
			if i < len(p.Points)-2 && math.Abs(x1-x0) < 1 && math.Abs(y1-y0) < 1 {
				continue
			}
			m.under.Line(x0, y0, x1, y1, col)
			x0, y0 = x1, y1
		}
	})
	m.static.Underlay(m.under)
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

// placed is a vehicle in view: its slot in the table and its cell.
type placed struct{ slot, cell int32 }

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
	r, c, quiet, _ := m.markAged(v, asOf, stale)
	return r, c, quiet
}

// markAged is mark, and aged reports whether the answer depended on asOf:
// whether the vehicle's age was compared with stale.
func (m *Map) markAged(v *model.VehiclePosition, asOf time.Time, stale time.Duration) (r rune, c geo.Color, quiet, aged bool) {
	col, ok := m.lineColor[v.Line]
	if !ok {
		col = colUnknown
	}
	if len(m.states) > 0 || len(m.silent) > 0 {
		if r, c, ok := alertMark(m.states[v.VehicleID]); ok {
			return r, c, r == markStale, false
		}
		if m.silent[v.Line] || m.silent[""] {
			return markStale, colStale, true, false
		}
	}
	switch {
	case v.Status == model.StatusOutOfService:
		return markOff, colStale, true, false
	case asOf.Sub(v.TS) > stale:
		return markStale, colStale, true, true
	case v.Has&model.HasDelay != 0 && v.DelayS > LateAfter:
		return markLate, col, false, true
	case v.Status == model.StatusStoppedAt:
		return markStopped, col, false, true
	}
	return markMoving, col, false, true
}

// Render draws the vehicles over the network and returns one string per row,
// each exactly cols cells wide. Vehicles not heard from for stale before
// asOf are drawn dimmed, beneath the live ones; the selected vehicle (by id,
// "" for none) is drawn last, with its own mark.
func (m *Map) Render(vehicles model.Vehicles, asOf time.Time, stale time.Duration, selected string, cols, rows int) []string {
	out := make([]string, 0, rows)
	if cols <= 0 || rows <= 0 {
		return out
	}
	m.followFit(vehicles)
	m.resize(cols, rows)
	l := m.sharedLayer(vehicles, asOf, stale, selected)
	if l.selSlot >= 0 {
		// Remembered also when outside the view, where it is drawn nowhere
		// but would be searched for again next frame.
		m.selSlot = l.selSlot
	}
	m.dense = l.dense
	m.outside = vehicles.Len() - l.inView
	drawn := rowsMemo.get(rowsKey{layer: l, base: m.base, showBase: m.showBase, profile: m.profile},
		func(k rowsKey) rowsKey { return k }, func() []string { return m.draw(l) })
	return append(out, drawn...) // the caller may change its rows
}

// draw puts the layer over the static one and writes the rows as the
// terminal shows them.
func (m *Map) draw(l *vehicleLayer) []string {
	m.frame.CopyFrom(m.static)
	for _, g := range l.glyphs {
		m.frame.SetGlyph(int(g.cell)%m.cols, int(g.cell)/m.cols, g.glyph, g.color)
	}
	out := make([]string, 0, m.rows)
	for r := range m.rows {
		m.buf = m.frame.AppendRow(m.buf[:0], r, m.palette, m.bold)
		out = append(out, string(m.buf))
	}
	return out
}

// rowsKey is what a map's rows depend on: the vehicle layer (which names
// the vehicles, the network, the view and the size, layerKey), what lies
// under it (the static layer: the network, drawn at that view and size,
// and the basemap if shown) and the terminal's colours.
type rowsKey struct {
	layer    *vehicleLayer
	base     *basemap.Basemap
	showBase bool
	profile  termenv.Profile
}

// rowsMemo shares the map's rows, as the terminal shows them, between the
// screens drawing one layer over one static layer in one colour profile:
// serve's viewers of the default view, most of them xterm-256color.
var rowsMemo = memo[rowsKey, []string]{size: 8, same: func(a, b rowsKey) bool { return a == b }}

// vehicleLayer is what a frame draws of the vehicles over the static layer:
// a glyph for each cell that holds one, the selected vehicle's last. It
// depends on the vehicles, the view, the map's size, the density mode, the
// lines' colours, the open alerts, the selection and, where markers are
// drawn, on which vehicles are stale at asOf; not on the terminal's
// colours. It is read only once made: screens share it (sharedLayer).
type vehicleLayer struct {
	glyphs  []cellGlyph
	inView  int  // vehicles in view, the selected one included
	dense   bool // drawn as density
	selSlot int  // where the selected vehicle was found, -1 if nowhere
	// The layer holds for any asOf at which the vehicles judged stale are
	// still stale and those judged fresh still fresh: newestStale is the
	// latest report of those judged stale, oldestFresh the earliest of
	// those judged fresh (a vehicle's age only grows with asOf).
	anyStale, anyFresh       bool
	newestStale, oldestFresh time.Time
}

// cellGlyph is a glyph the layer puts in a cell (row*cols + col).
type cellGlyph struct {
	cell  int32
	glyph rune
	color geo.Color
}

// fits reports whether the layer, made at some asOf with stale, is what
// asOf would give: the same vehicles stale.
func (l *vehicleLayer) fits(asOf time.Time, stale time.Duration) bool {
	return (!l.anyStale || asOf.Sub(l.newestStale) > stale) && (!l.anyFresh || asOf.Sub(l.oldestFresh) <= stale)
}

// layerKey is what a vehicle layer depends on besides asOf (vehicleLayer):
// the vehicles by publication, the network (whose lines' colours the
// markers take: a network given to a screen is not changed, as the zone
// table relies on too), the open alerts by their shared index, the view
// and size, the density mode, stale and the selection.
type layerKey struct {
	vehicles   uint64
	net        *network.Network
	alerts     *alertIndex
	vp         geo.Viewport
	cols, rows int
	density    Density
	stale      time.Duration
	selected   string
}

// layerMemo shares vehicle layers between screens: serve's viewers mostly
// draw the latest state at the default view, and each of them projected
// every vehicle into it for each of its frames (27 % of serve's CPU at 100
// viewers of 10 000 vehicles). A key holds no vehicles (their publication
// number), so the entries cost only their glyphs, a cell's worth each at
// most; a few, for the last states at the views being drawn. A viewer of a
// view of its own (zoomed, panned, another size or pane) makes a layer
// nobody shares, as before, and moves the shared ones back by one.
var layerMemo = memo[layerKey, *vehicleLayer]{size: 8, same: func(a, b layerKey) bool { return a == b }}

// sharedLayer is m.layer, worked out once for all screens drawing the
// same vehicles at the same view and size (and stale at the same asOf).
func (m *Map) sharedLayer(vehicles model.Vehicles, asOf time.Time, stale time.Duration, selected string) *vehicleLayer {
	k := layerKey{vehicles: vehicles.Publication(), net: m.net, alerts: m.alerts, vp: m.vp,
		cols: m.cols, rows: m.rows, density: m.density, stale: stale, selected: selected}
	return layerMemo.getFit(k, func(k layerKey) layerKey { return k },
		func() *vehicleLayer { return m.layer(vehicles, asOf, stale, selected) },
		func(l *vehicleLayer) bool { return l.fits(asOf, stale) })
}

// layer works out the vehicle layer of a frame of the map's current size
// and view, in the map's scratch space.
func (m *Map) layer(vehicles model.Vehicles, asOf time.Time, stale time.Duration, selected string) *vehicleLayer {
	cols, rows := m.cols, m.rows
	l := &vehicleLayer{selSlot: -1}
	// The frame does not depend on the order vehicles come in: the screen
	// need not sort the fleet every frame.
	if n := cols * rows; len(m.owner) != n {
		m.owner = make([]cellOwner, n)
	}
	m.touched = m.touched[:0]
	if len(m.count) != cols*rows {
		m.count = make([]uint32, cols*rows)
	}
	// Two passes: the first puts each vehicle in its cell once (with the
	// frame's Projector, not the Mercator formula per point) and counts them;
	// only when markers are to be drawn does the second choose each cell's
	// owner, which needs each vehicle's state. A million vehicles are
	// drawn as density, and skip it.
	if m.vp != m.projVP || m.proj == nil {
		// Built once per viewport, not per frame: serve draws a frame for
		// every viewer, most of them not moving the map.
		pr := m.vp.Projector()
		m.proj, m.projVP = &pr, m.vp
	}
	pr := m.proj
	m.cells = m.cells[:0]
	selSlot := -1
	if selected != "" {
		// Where it was last frame, else wherever it is now.
		if vehicles.ID(m.selSlot) == selected {
			selSlot = m.selSlot
		} else {
			selSlot = vehicles.Slot(selected)
		}
	}
	// Which vehicle owns a cell matters only if markers may be drawn: past
	// 4/3 of the cells' number in view, more than a quarter of the markers
	// are hidden whatever they are, and the auto density view is certain.
	ownersFrom := 4*cols*rows/3 + 21
	if m.density == DensityOn {
		ownersFrom = 0
	}
	cp := cellPass{pr: pr, cols: cols, count: m.count, cells: m.cells, selSlot: selSlot, selCell: -1, cellsUntil: ownersFrom}
	if m.density == DensityOff {
		cp.cellsUntil = math.MaxInt
	}
	for base, pc := range vehicles.PointChunks() {
		cp.chunk(base, pc)
	}
	m.cells = cp.cells
	// The cells counted, and so the vehicles in view, from the counts: a
	// look at every cell (12 000 at 200×60) costs less than keeping them
	// did per vehicle, at 10 000 vehicles too.
	inView, selCell := 0, cp.selCell
	for cell, n := range m.count {
		if n != 0 {
			m.touched = append(m.touched, int32(cell))
			inView += int(n)
		}
	}
	if selCell >= 0 {
		inView++
	}
	l.selSlot, l.inView = selSlot, inView
	if selCell >= 0 {
		m.count[selCell]++
	}
	// Markers hide one another where vehicles crowd: past a quarter of
	// them hidden, shading cells by how many they hold tells more.
	l.dense = m.density == DensityOn || m.density == DensityAuto && inView-len(m.touched) > max(20, inView/4)
	if !l.dense {
		// Where several fall in one cell, a live vehicle beats a quiet one
		// (stale, out of service) and then the smaller id wins.
		var vp model.VehiclePosition
		for _, pl := range m.cells {
			vehicles.At(int(pl.slot), &vp)
			v := &vp
			mark, col, quiet, aged := m.markAged(v, asOf, stale)
			switch {
			case aged && quiet && (!l.anyStale || v.TS.After(l.newestStale)):
				l.anyStale, l.newestStale = true, v.TS
			case aged && !quiet && (!l.anyFresh || v.TS.Before(l.oldestFresh)):
				l.anyFresh, l.oldestFresh = true, v.TS
			}
			o := &m.owner[pl.cell]
			live := !quiet
			if o.id != "" && (o.live && !live || o.live == live && o.id < v.VehicleID) {
				continue
			}
			*o = cellOwner{id: v.VehicleID, live: live, mark: mark, color: col}
		}
	}
	top := uint32(1)
	if l.dense {
		for _, cell := range m.touched {
			top = max(top, m.count[cell])
		}
	}
	l.glyphs = make([]cellGlyph, 0, len(m.touched)+1)
	for _, cell := range m.touched {
		o := &m.owner[cell]
		if l.dense {
			lvl := heatLevel(m.count[cell], top)
			l.glyphs = append(l.glyphs, cellGlyph{cell, heatGlyphs[lvl], colHeat + geo.Color(lvl)})
		} else {
			l.glyphs = append(l.glyphs, cellGlyph{cell, o.mark, o.color})
		}
		*o = cellOwner{}
		m.count[cell] = 0
	}
	if selCell >= 0 {
		m.count[selCell] = 0 // counted, but maybe in no touched cell
		l.glyphs = append(l.glyphs, cellGlyph{selCell, markSelected, colLabel})
	}
	return l
}

// cellPass is a frame's pass over every vehicle: it puts each in its cell
// of the map and counts them. For a million vehicles it is most of the
// frame, so it does as little as it can per vehicle: a function of its own
// per chunk, where the compiler keeps its state in registers (in the body
// of a range over PointChunks it does not: the body is a closure), a loop
// without bits to find for a full chunk, and only a count once vehicles
// need not be kept (cells) nor the selected one looked for.
type cellPass struct {
	pr         *geo.Projector
	cols       int
	count      []uint32 // per cell, but the selected vehicle's
	cells      []placed // the vehicles counted while inView < cellsUntil
	cellsUntil int
	inView     int // while vehicles are kept, the selected one included
	selSlot    int
	selCell    int32 // where the selected vehicle is, -1 if not in view
}

// chunk counts the vehicles of a chunk whose first row is at slot base.
func (c *cellPass) chunk(base int, pc *model.PointChunk) {
	if c.inView < c.cellsUntil || uint(c.selSlot-base) < uint(len(pc.Pos)) {
		c.keep(base, pc)
		return
	}
	pr, cols, count := c.pr, c.cols, c.count
	if pc.Used != 1<<len(pc.Pos)-1 {
		for u := pc.Used; u != 0; u &= u - 1 {
			p := &pc.Pos[bits.TrailingZeros8(u)]
			if col, row, ok := pr.Cell(float64(p[0]), float64(p[1])); ok {
				count[row*cols+col]++
			}
		}
		return
	}
	// A full chunk, as most are: eight vehicles in a row, without finding
	// bits, which cost more than the rest of the loop (BENCHMARKS.md).
	for i := range pc.Pos {
		if col, row, ok := pr.Cell(float64(pc.Pos[i][0]), float64(pc.Pos[i][1])); ok {
			count[row*cols+col]++
		}
	}
}

// keep is chunk for a chunk that holds the selected vehicle or whose
// vehicles are to be kept in cells.
func (c *cellPass) keep(base int, pc *model.PointChunk) {
	for u := pc.Used; u != 0; u &= u - 1 {
		i := bits.TrailingZeros8(u)
		col, row, ok := c.pr.Cell(float64(pc.Pos[i][0]), float64(pc.Pos[i][1]))
		if !ok {
			continue
		}
		c.inView++
		cell := int32(row*c.cols + col)
		if slot := base + i; slot == c.selSlot {
			c.selCell = cell
			continue
		} else if c.inView < c.cellsUntil {
			c.cells = append(c.cells, placed{int32(slot), cell})
		}
		c.count[cell]++
	}
}

// heatLevel places a cell's count among the five shades on a log scale, so
// a city centre with hundreds does not flatten the suburbs with a few.
func heatLevel(n, top uint32) int {
	if top <= 1 {
		return 0
	}
	f := math.Log1p(float64(n)) / math.Log1p(float64(top))
	return max(0, min(len(heatGlyphs)-1, int(math.Ceil(f*float64(len(heatGlyphs))))-1))
}

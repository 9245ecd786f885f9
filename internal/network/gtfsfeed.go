package network

import (
	"archive/zip"
	"bytes"
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"
)

// LoadGTFS reads a static GTFS feed (a .zip file or a directory holding
// routes.txt, trips.txt, stops.txt, stop_times.txt and, optionally,
// shapes.txt) as a network: one line per route, drawn from its shapes (one
// per direction, or one when the two are the same track), and the stations
// its trips stop at, platforms folded into their parent station.
func LoadGTFS(path string) (*Network, error) {
	f, closeFn, err := openFeed(path)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	g := &gtfsReader{fsys: f, source: path}
	n, err := g.read()
	if err != nil {
		return nil, err
	}
	if n.Name == "" {
		n.Name = strings.TrimSuffix(filepath.Base(filepath.Clean(path)), ".zip")
	}
	return n, nil
}

func openFeed(path string) (fs.FS, func(), error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, nil, fmt.Errorf("gtfs %s: %w", path, err)
	}
	if st.IsDir() {
		return os.DirFS(path), func() {}, nil
	}
	z, err := zip.OpenReader(path)
	if err != nil {
		return nil, nil, fmt.Errorf("gtfs %s: not a zip file or directory: %w", path, err)
	}
	var fsys fs.FS = z
	// Some feeds are zipped with a top folder: look inside it.
	if _, err := fs.Stat(z, "routes.txt"); err != nil {
		if m, _ := fs.Glob(z, "*/routes.txt"); len(m) == 1 {
			if sub, err := fs.Sub(z, filepath.Dir(m[0])); err == nil {
				fsys = sub
			}
		}
	}
	return fsys, func() { z.Close() }, nil
}

type gtfsStop struct {
	name     string
	pos      orb.Point
	parent   string
	isParent bool
}

type gtfsTrip struct {
	route, shape, direction string
}

type gtfsReader struct {
	fsys   fs.FS
	source string
}

// row gives a CSV record's fields by column name.
type row struct {
	file   string
	line   int
	cols   map[string]int
	record []string
}

func (r row) get(col string) string {
	if i, ok := r.cols[col]; ok && i < len(r.record) {
		return strings.TrimSpace(r.record[i])
	}
	return ""
}

func (r row) errorf(field, value, format string, args ...any) error {
	return fmt.Errorf("%s line %d: %s %q: %s", r.file, r.line, field, value, fmt.Sprintf(format, args...))
}

func (r row) float(col string, lo, hi float64) (float64, error) {
	v := r.get(col)
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, r.errorf(col, v, "not a number")
	}
	if f < lo || f > hi {
		return 0, r.errorf(col, v, "out of range [%v,%v]", lo, hi)
	}
	return f, nil
}

func (r row) int(col string) (int, error) {
	v := r.get(col)
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, r.errorf(col, v, "not a whole number")
	}
	return n, nil
}

var errNoFile = errors.New("file missing")

// each streams a CSV file of the feed, row by row.
func (g *gtfsReader) each(name string, required []string, fn func(r row) error) error {
	f, err := g.fsys.Open(name)
	if err != nil {
		return errNoFile
	}
	defer f.Close()
	rd := csv.NewReader(f)
	rd.FieldsPerRecord = -1
	rd.ReuseRecord = true
	header, err := rd.Read()
	if err == io.EOF {
		return fmt.Errorf("%s: empty file", name)
	}
	if err != nil {
		return fmt.Errorf("%s line 1: %w", name, err)
	}
	cols := map[string]int{}
	for i, h := range header {
		if i == 0 {
			h = string(bytes.TrimPrefix([]byte(h), []byte("\ufeff")))
		}
		cols[strings.TrimSpace(h)] = i
	}
	for _, c := range required {
		if _, ok := cols[c]; !ok {
			return fmt.Errorf("%s: missing column %s", name, c)
		}
	}
	for {
		rec, err := rd.Read()
		if err == io.EOF {
			return nil
		}
		line, _ := rd.FieldPos(0)
		if err != nil {
			return fmt.Errorf("%s line %d: %w", name, line, err)
		}
		if err := fn(row{file: name, line: line, cols: cols, record: rec}); err != nil {
			return err
		}
	}
}

func (g *gtfsReader) wrap(err error, name string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, errNoFile) {
		return fmt.Errorf("gtfs %s: %s missing from the feed", g.source, name)
	}
	return fmt.Errorf("gtfs %s: %w", g.source, err)
}

var hexColor = regexp.MustCompile(`^[0-9a-fA-F]{6}$`)

func (g *gtfsReader) read() (*Network, error) {
	n := &Network{}
	_ = g.each("agency.txt", nil, func(r row) error {
		if n.Name == "" {
			n.Name = r.get("agency_name")
		}
		return nil
	})

	routes := map[string]*Line{}
	var order []string
	err := g.each("routes.txt", []string{"route_id"}, func(r row) error {
		id := r.get("route_id")
		if id == "" {
			return r.errorf("route_id", id, "empty")
		}
		name := cmp.Or(r.get("route_long_name"), r.get("route_short_name"), id)
		color := ""
		if c := r.get("route_color"); hexColor.MatchString(c) {
			color = "#" + strings.ToLower(c)
		}
		if _, dup := routes[id]; !dup {
			order = append(order, id)
		}
		routes[id] = &Line{ID: id, Name: name, Color: color}
		return nil
	})
	if err := g.wrap(err, "routes.txt"); err != nil {
		return nil, err
	}

	trips := map[string]gtfsTrip{}
	err = g.each("trips.txt", []string{"route_id", "trip_id"}, func(r row) error {
		t := gtfsTrip{route: r.get("route_id"), shape: r.get("shape_id"), direction: r.get("direction_id")}
		if _, ok := routes[t.route]; !ok {
			return r.errorf("route_id", t.route, "not in routes.txt")
		}
		trips[r.get("trip_id")] = t
		return nil
	})
	if err := g.wrap(err, "trips.txt"); err != nil {
		return nil, err
	}

	stops := map[string]*gtfsStop{}
	err = g.each("stops.txt", []string{"stop_id", "stop_lat", "stop_lon"}, func(r row) error {
		id := r.get("stop_id")
		lat, err := r.float("stop_lat", -90, 90)
		if err != nil {
			return err
		}
		lon, err := r.float("stop_lon", -180, 180)
		if err != nil {
			return err
		}
		stops[id] = &gtfsStop{name: cmp.Or(r.get("stop_name"), id), pos: orb.Point{lon, lat},
			parent: r.get("parent_station"), isParent: r.get("location_type") == "1"}
		return nil
	})
	if err := g.wrap(err, "stops.txt"); err != nil {
		return nil, err
	}
	station := func(id string) string {
		if p := stops[id].parent; p != "" && stops[p] != nil {
			return p
		}
		return id
	}

	shapes := map[string][]shapePt{}
	err = g.each("shapes.txt", []string{"shape_id", "shape_pt_lat", "shape_pt_lon", "shape_pt_sequence"}, func(r row) error {
		lat, err := r.float("shape_pt_lat", -90, 90)
		if err != nil {
			return err
		}
		lon, err := r.float("shape_pt_lon", -180, 180)
		if err != nil {
			return err
		}
		seq, err := r.int("shape_pt_sequence")
		if err != nil {
			return err
		}
		id := r.get("shape_id")
		shapes[id] = append(shapes[id], shapePt{seq, orb.Point{lon, lat}})
		return nil
	})
	if err != nil && !errors.Is(err, errNoFile) {
		return nil, g.wrap(err, "shapes.txt")
	}

	// Routes whose trips have no usable shape are drawn through the stops
	// of their longest trip, so only their trips' stop sequences are kept.
	shapeless := map[string]bool{}
	for id := range routes {
		shapeless[id] = true
	}
	for _, t := range trips {
		if len(shapes[t.shape]) >= 2 {
			shapeless[t.route] = false
		}
	}
	routeStations := map[string]map[string]bool{}
	tripStops := map[string][]shapePt{} // trip → (stop_sequence, station position), shapeless routes only
	err = g.each("stop_times.txt", []string{"trip_id", "stop_id", "stop_sequence"}, func(r row) error {
		tid, sid := r.get("trip_id"), r.get("stop_id")
		t, ok := trips[tid]
		if !ok {
			return r.errorf("trip_id", tid, "not in trips.txt")
		}
		if stops[sid] == nil {
			return r.errorf("stop_id", sid, "not in stops.txt")
		}
		seq, err := r.int("stop_sequence")
		if err != nil {
			return err
		}
		st := station(sid)
		if routeStations[t.route] == nil {
			routeStations[t.route] = map[string]bool{}
		}
		routeStations[t.route][st] = true
		if shapeless[t.route] {
			tripStops[tid] = append(tripStops[tid], shapePt{seq, stops[st].pos})
		}
		return nil
	})
	if err := g.wrap(err, "stop_times.txt"); err != nil {
		return nil, err
	}

	slices.Sort(order)
	kept := map[string]bool{}
	for _, id := range order {
		l := routes[id]
		if shapeless[id] {
			l.Paths = longestTrip(id, trips, tripStops)
		} else {
			l.Paths = routeShapes(id, trips, shapes)
		}
		if len(l.Paths) == 0 {
			continue // a route without trips draws nothing
		}
		kept[id] = true
		n.Lines = append(n.Lines, *l)
	}
	if len(n.Lines) == 0 {
		return nil, fmt.Errorf("gtfs %s: no route with trips and geometry", g.source)
	}
	served := map[string][]string{}
	for route, sts := range routeStations {
		if !kept[route] {
			continue
		}
		for st := range sts {
			served[st] = append(served[st], route)
		}
	}
	for id, lines := range served {
		slices.Sort(lines)
		s := stops[id]
		n.Stations = append(n.Stations, Station{ID: id, Name: s.name, Lines: lines, Pos: s.pos})
	}
	slices.SortFunc(n.Stations, func(a, b Station) int { return strings.Compare(a.ID, b.ID) })
	n.Bound = n.ComputeBound()
	return n, nil
}

type shapePt struct {
	seq int
	pt  orb.Point
}

func toLineString(pts []shapePt) orb.LineString {
	slices.SortStableFunc(pts, func(a, b shapePt) int { return cmp.Compare(a.seq, b.seq) })
	ls := make(orb.LineString, len(pts))
	for i, p := range pts {
		ls[i] = p.pt
	}
	return ls
}

// routeShapes picks, per direction, the shape most trips of the route use,
// and drops the second when it is the first run backwards.
func routeShapes(route string, trips map[string]gtfsTrip, shapes map[string][]shapePt) []orb.LineString {
	uses := map[string]map[string]int{} // direction → shape → trips
	for _, t := range trips {
		if t.route != route || len(shapes[t.shape]) < 2 {
			continue
		}
		if uses[t.direction] == nil {
			uses[t.direction] = map[string]int{}
		}
		uses[t.direction][t.shape]++
	}
	dirs := make([]string, 0, len(uses))
	for d := range uses {
		dirs = append(dirs, d)
	}
	slices.Sort(dirs)
	var paths []orb.LineString
	for _, d := range dirs {
		best, bestN := "", -1
		for shape, n := range uses[d] {
			if n > bestN || (n == bestN && shape < best) {
				best, bestN = shape, n
			}
		}
		ls := toLineString(slices.Clone(shapes[best]))
		if slices.ContainsFunc(paths, func(p orb.LineString) bool { return sameTrack(p, ls) }) {
			continue
		}
		paths = append(paths, ls)
	}
	return paths
}

// sameTrack reports whether b is a run along a the other way: ends swapped
// within 50 m and lengths within 10 %.
func sameTrack(a, b orb.LineString) bool {
	const near = 50.0
	if geo.Distance(a[0], b[len(b)-1]) > near || geo.Distance(a[len(a)-1], b[0]) > near {
		return false
	}
	la, lb := geo.Length(a), geo.Length(b)
	return math.Abs(la-lb) <= 0.1*math.Max(la, lb)
}

func longestTrip(route string, trips map[string]gtfsTrip, tripStops map[string][]shapePt) []orb.LineString {
	best, bestN := "", 0
	for id, pts := range tripStops {
		if trips[id].route != route {
			continue
		}
		if len(pts) > bestN || (len(pts) == bestN && id < best) {
			best, bestN = id, len(pts)
		}
	}
	if bestN < 2 {
		return nil
	}
	return []orb.LineString{toLineString(slices.Clone(tripStops[best]))}
}

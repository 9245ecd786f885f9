// Package network loads a transit network (lines, stations, zones) from
// GeoJSON. Both binaries share it: the simulator moves vehicles along its
// lines and the UI draws it.
package network

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/fleetwatch/fleetwatch/assets"
)

// Line is one route: its id, display name, colour and geometry.
type Line struct {
	ID    string
	Name  string
	Color string // "#rrggbb"; empty when the file gave none (see ColorFor)
	// Paths are the line's drawn geometry, one LineString per part.
	Paths []orb.LineString
}

// Station is a stop served by one or more lines.
type Station struct {
	ID    string
	Name  string
	Lines []string  // may name lines no file defines: the data can bring them
	Pos   orb.Point // lon, lat
}

// Zone is a named area (a geofence, or a weather area for the simulator).
type Zone struct {
	ID       string
	Name     string
	Geometry orb.Geometry // Polygon or MultiPolygon
}

// Network is a loaded network file, or several merged.
type Network struct {
	Name     string
	Lines    []Line
	Stations []Station
	Zones    []Zone
	// Bound is of every line and station, or of the zones when there are
	// neither, so that a map can always be fitted to it.
	Bound orb.Bound
}

// DefaultName is how the embedded network is named in messages.
const DefaultName = "embedded default network"

// Load reads a network file; an empty path means the embedded default.
func Load(path string) (*Network, error) {
	if path == "" {
		return Parse(assets.NetworkGeoJSON, DefaultName)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("open network %s: %w", path, err)
	}
	return Parse(data, path)
}

// LoadAll reads several network files as one network: lines with the same
// id share their paths (the first file to name or colour a line wins),
// stations with the same id are merged as within a file, and zones are
// all kept. No paths means the embedded default, as for Load.
func LoadAll(paths []string) (*Network, error) {
	if len(paths) == 0 {
		return Load("")
	}
	b := newBuilder()
	name := ""
	for i, path := range paths {
		n, err := Load(path)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			name = n.Name
		}
		b.addNetwork(n)
	}
	if len(paths) > 1 {
		name = fmt.Sprintf("%s + %d more", name, len(paths)-1)
	}
	return b.network(name), nil
}

// Default returns the embedded network. It panics if the embedded file is
// broken, which the package's tests rule out.
func Default() *Network {
	n, err := Load("")
	if err != nil {
		panic(err)
	}
	return n
}

// Parse reads GeoJSON as people make it: a FeatureCollection, a single
// Feature or a bare geometry, with the properties of hand-drawn files
// (geojson.io), GIS exports (QGIS), OpenStreetMap extracts (overpass
// turbo) or GTFS conversions. source names the data in errors, and its
// base name is the id of features that carry none.
func Parse(data []byte, source string) (*Network, error) {
	// Windows tools save UTF-8 with a byte-order mark, which encoding/json
	// refuses.
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	var top struct {
		Type       string            `json:"type"`
		Name       any               `json:"name"`
		Features   []json.RawMessage `json:"features"`
		Geometries []json.RawMessage `json:"geometries"`
	}
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("network %s: not GeoJSON: %w", source, err)
	}
	base := filepath.Base(source)
	p := &parser{source: source, base: strings.TrimSuffix(base, filepath.Ext(base)), b: newBuilder()}
	var err error
	switch top.Type {
	case "FeatureCollection":
		err = p.members(top.Features, geojson.UnmarshalFeature)
	case "Feature":
		err = p.members([]json.RawMessage{data}, geojson.UnmarshalFeature)
	case "GeometryCollection":
		err = p.members(top.Geometries, bareFeature)
	case "Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon":
		err = p.members([]json.RawMessage{data}, bareFeature)
	case "":
		return nil, fmt.Errorf("network %s: not GeoJSON: no \"type\" member", source)
	default:
		return nil, fmt.Errorf("network %s: not GeoJSON: type %q", source, top.Type)
	}
	if err != nil {
		return nil, err
	}
	if p.b.empty() {
		return nil, fmt.Errorf("network %s: no usable feature (a line needs two points or more, a station a Point, a zone a Polygon)", source)
	}
	name := text(top.Name)
	if name == "" {
		name = base
	}
	return p.b.network(name), nil
}

// bareFeature reads a geometry as a feature without properties.
func bareFeature(data []byte) (*geojson.Feature, error) {
	g, err := geojson.UnmarshalGeometry(data)
	if err != nil {
		return nil, err
	}
	return geojson.NewFeature(g.Geometry()), nil
}

// parser turns one file's features into a network.
type parser struct {
	source string
	base   string // the file name without extension, for features without an id
	// unnamedLines counts the line features that took their id from the
	// file name, so that the second and later get one of their own.
	unnamedLines int
	b            builder
}

// members decodes each member on its own so that an error names the
// feature it is in, which a whole-collection decode cannot.
func (p *parser) members(raw []json.RawMessage, decode func([]byte) (*geojson.Feature, error)) error {
	for i, r := range raw {
		f, err := decode(r)
		if err == nil {
			err = p.feature(i, f)
		}
		if err != nil {
			return fmt.Errorf("network %s: feature %d: %w", p.source, i, err)
		}
	}
	return nil
}

func (p *parser) feature(i int, f *geojson.Feature) error {
	var ps parts
	ps.add(f.Geometry)
	if err := ps.check(); err != nil {
		return err
	}
	props := f.Properties
	fid := text(f.ID)
	// A path of one point is what a bad export leaves of a line; the rest
	// of the file is still worth loading.
	paths := slices.DeleteFunc(ps.paths, func(l orb.LineString) bool { return len(l) < 2 })
	if len(paths) > 0 {
		id := cmp.Or(prop(props, "line", "route_id", "ref", "route_short_name", "name", "id", "@id"), fid)
		if id == "" {
			id = nth(p.base, p.unnamedLines)
			p.unnamedLines++
		}
		p.b.addLine(Line{
			ID:    id,
			Name:  cmp.Or(prop(props, "name", "long_name", "route_long_name"), id),
			Color: lineColor(props),
			Paths: paths,
		})
	}
	if len(ps.points) > 0 {
		name := prop(props, "name", "stop_name", "station_name")
		id := cmp.Or(prop(props, "station_id", "stop_id", "id", "ref", "@id"), fid, name, fmt.Sprintf("%s-%d", p.base, i))
		lines := stationLines(props)
		for k, pt := range ps.points {
			sid := nth(id, k)
			p.b.addStation(Station{ID: sid, Name: cmp.Or(name, sid), Lines: lines, Pos: pt})
		}
	}
	if len(ps.areas) > 0 {
		id := cmp.Or(prop(props, "zone", "name", "id"), fid, fmt.Sprintf("%s-%d", p.base, i))
		for k, g := range ps.areas {
			zid := nth(id, k)
			p.b.addZone(Zone{ID: zid, Name: cmp.Or(prop(props, "name"), zid), Geometry: g})
		}
	}
	return nil
}

// parts is a feature's geometry split by what each part becomes: the paths
// of a line, stations, zones. A GeometryCollection gives each of its
// members.
type parts struct {
	paths  []orb.LineString
	points []orb.Point
	areas  []orb.Geometry // Polygon or MultiPolygon
}

func (ps *parts) add(g orb.Geometry) {
	switch g := g.(type) {
	case orb.Point:
		ps.points = append(ps.points, g)
	case orb.MultiPoint:
		ps.points = append(ps.points, g...)
	case orb.LineString:
		ps.paths = append(ps.paths, g)
	case orb.MultiLineString:
		ps.paths = append(ps.paths, g...)
	case orb.Polygon, orb.MultiPolygon:
		ps.areas = append(ps.areas, g)
	case orb.Collection:
		for _, m := range g {
			ps.add(m)
		}
	}
}

// check catches, above all, files written [lat, lon]: their points would
// land far from the fleet, or nowhere.
func (ps *parts) check() error {
	if err := checkPoints(ps.points...); err != nil {
		return err
	}
	for _, l := range ps.paths {
		if err := checkPoints(l...); err != nil {
			return err
		}
	}
	for _, a := range ps.areas {
		polys, _ := a.(orb.MultiPolygon)
		if p, ok := a.(orb.Polygon); ok {
			polys = orb.MultiPolygon{p}
		}
		for _, p := range polys {
			for _, r := range p {
				if err := checkPoints(r...); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func checkPoints(ps ...orb.Point) error {
	for _, p := range ps {
		if !(p[1] >= -90 && p[1] <= 90) || !(p[0] >= -180 && p[0] <= 180) {
			return fmt.Errorf("coordinate [%v, %v] is not [lon, lat] in range", p[0], p[1])
		}
	}
	return nil
}

// prop returns the first of keys whose value reads as text.
func prop(p geojson.Properties, keys ...string) string {
	for _, k := range keys {
		if s := text(p[k]); s != "" {
			return s
		}
	}
	return ""
}

// text reads a property as text. Numbers count: exports write ids and refs
// as numbers (ref: 25) as often as strings.
func text(v any) string {
	switch v := v.(type) {
	case string:
		return strings.TrimSpace(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return ""
}

// nth names the k-th (from 0) of several things that would share id: the
// first keeps it, so a file with one such thing gets the plain id.
func nth(id string, k int) string {
	if k == 0 {
		return id
	}
	return fmt.Sprintf("%s-%d", id, k+1)
}

// lineColor takes the first usable colour, under the names this package,
// OSM, simplestyle (geojson.io) and GTFS give it.
func lineColor(p geojson.Properties) string {
	for _, k := range []string{"color", "colour", "stroke", "route_color"} {
		if c := parseColor(text(p[k])); c != "" {
			return c
		}
	}
	return ""
}

// stationLines reads the lines a station serves: a "lines" array, or one
// line, or a list separated by ';' as OSM's route_ref writes it.
func stationLines(p geojson.Properties) []string {
	var out []string
	arr, _ := p["lines"].([]any)
	for _, v := range arr {
		if s := text(v); s != "" {
			out = append(out, s)
		}
	}
	if len(out) > 0 {
		return out
	}
	for _, s := range strings.Split(prop(p, "lines", "line", "route_ref"), ";") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// builder gathers lines, stations and zones, merging what shares an id: a
// line drawn over several features or files is one line, and a station
// listed twice (once per line, say) is one station.
type builder struct {
	n         Network
	lineAt    map[string]int
	stationAt map[string]int
}

func newBuilder() builder {
	return builder{lineAt: map[string]int{}, stationAt: map[string]int{}}
}

// addLine keeps the first name and colour given. A name equal to the id is
// the fallback, not a name, so a later one replaces it.
func (b *builder) addLine(l Line) {
	k, ok := b.lineAt[l.ID]
	if !ok {
		b.lineAt[l.ID] = len(b.n.Lines)
		// Clipped, so that appending paths later copies rather than
		// writing into the caller's array.
		l.Paths = slices.Clip(l.Paths)
		b.n.Lines = append(b.n.Lines, l)
		return
	}
	m := &b.n.Lines[k]
	m.Paths = append(m.Paths, l.Paths...)
	if m.Name == m.ID {
		m.Name = l.Name
	}
	m.Color = cmp.Or(m.Color, l.Color)
}

// addStation lets a later listing move or rename a station, as a later
// file corrects an earlier one, and gathers the lines of all listings.
func (b *builder) addStation(s Station) {
	k, ok := b.stationAt[s.ID]
	if !ok {
		b.stationAt[s.ID] = len(b.n.Stations)
		s.Lines = union(nil, s.Lines)
		b.n.Stations = append(b.n.Stations, s)
		return
	}
	m := &b.n.Stations[k]
	if s.Name != s.ID {
		m.Name = s.Name
	}
	m.Pos = s.Pos
	m.Lines = union(m.Lines, s.Lines)
}

func (b *builder) addZone(z Zone) {
	b.n.Zones = append(b.n.Zones, z)
}

func (b *builder) addNetwork(n *Network) {
	for _, l := range n.Lines {
		b.addLine(l)
	}
	for _, s := range n.Stations {
		b.addStation(s)
	}
	for _, z := range n.Zones {
		b.addZone(z)
	}
}

func (b *builder) empty() bool {
	return len(b.n.Lines) == 0 && len(b.n.Stations) == 0 && len(b.n.Zones) == 0
}

func (b *builder) network(name string) *Network {
	n := b.n
	n.Name = name
	n.Bound = n.ComputeBound()
	return &n
}

// union appends to a the elements of b it lacks.
func union(a, b []string) []string {
	for _, x := range b {
		if !slices.Contains(a, x) {
			a = append(a, x)
		}
	}
	return a
}

// ComputeBound returns the bound of every line and station (of the zones when
// there are neither), for a network built in code, such as a learned one.
func (n *Network) ComputeBound() orb.Bound {
	var b orb.Bound
	first := true
	extend := func(p orb.Point) {
		if first {
			b, first = orb.Bound{Min: p, Max: p}, false
			return
		}
		b = b.Extend(p)
	}
	for _, l := range n.Lines {
		for _, p := range l.Paths {
			for _, pt := range p {
				extend(pt)
			}
		}
	}
	for _, s := range n.Stations {
		extend(s.Pos)
	}
	if !first {
		return b
	}
	for i, z := range n.Zones {
		if i == 0 {
			b = z.Geometry.Bound()
		} else {
			b = b.Union(z.Geometry.Bound())
		}
	}
	return b
}

// StationsOf returns the stations that list the line, in file order.
func (n *Network) StationsOf(line string) []Station {
	var out []Station
	for _, s := range n.Stations {
		if slices.Contains(s.Lines, line) {
			out = append(out, s)
		}
	}
	return out
}

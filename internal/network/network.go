// Package network loads a transit network (lines, stations, zones) from
// GeoJSON. Both binaries share it: the simulator moves vehicles along its
// lines and the UI draws it.
package network

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/fleetwatch/fleetwatch/assets"
)

// Line is one route: its id, display name, colour and geometry.
type Line struct {
	ID    string
	Name  string
	Color string // "#rrggbb"; empty when the file gave none
	// Paths are the line's drawn geometry, one LineString per part.
	Paths []orb.LineString
}

// Station is a stop served by one or more lines.
type Station struct {
	ID    string
	Name  string
	Lines []string
	Pos   orb.Point // lon, lat
}

// Zone is a named area (a geofence, or a weather area for the simulator).
type Zone struct {
	ID       string
	Name     string
	Geometry orb.Geometry // Polygon or MultiPolygon
}

// Network is a loaded network file.
type Network struct {
	Name     string
	Lines    []Line
	Stations []Station
	Zones    []Zone
	Bound    orb.Bound // of every line and station
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

// Default returns the embedded network. It panics if the embedded file is
// broken, which the package's tests rule out.
func Default() *Network {
	n, err := Load("")
	if err != nil {
		panic(err)
	}
	return n
}

var colorRE = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// Parse reads a GeoJSON FeatureCollection. source names the data in errors.
func Parse(data []byte, source string) (*Network, error) {
	fc, err := geojson.UnmarshalFeatureCollection(data)
	if err != nil {
		return nil, fmt.Errorf("network %s: not a GeoJSON FeatureCollection: %w", source, err)
	}
	n := &Network{Name: fc.ExtraMembers.MustString("name", "")}
	lineIdx := map[string]int{}
	seenStation := map[string]bool{}
	for i, f := range fc.Features {
		where := func(format string, args ...any) error {
			return fmt.Errorf("network %s: feature %d: %s", source, i, fmt.Sprintf(format, args...))
		}
		switch g := f.Geometry.(type) {
		case orb.LineString, orb.MultiLineString:
			id := strings.TrimSpace(f.Properties.MustString("line", ""))
			if id == "" {
				return nil, where("line feature without a \"line\" property")
			}
			color := f.Properties.MustString("color", "")
			if color != "" && !colorRE.MatchString(color) {
				return nil, where("line %q: color %q is not #rrggbb", id, color)
			}
			var paths []orb.LineString
			if ls, ok := g.(orb.LineString); ok {
				paths = []orb.LineString{ls}
			} else {
				paths = g.(orb.MultiLineString)
			}
			for _, p := range paths {
				if len(p) < 2 {
					return nil, where("line %q: a path needs at least two points", id)
				}
				if err := checkPoints(p); err != nil {
					return nil, where("line %q: %v", id, err)
				}
			}
			if k, ok := lineIdx[id]; ok {
				// A line split over several features is one line.
				n.Lines[k].Paths = append(n.Lines[k].Paths, paths...)
				continue
			}
			lineIdx[id] = len(n.Lines)
			n.Lines = append(n.Lines, Line{ID: id, Name: f.Properties.MustString("name", id), Color: color, Paths: paths})
		case orb.Point:
			id := strings.TrimSpace(f.Properties.MustString("station_id", ""))
			if id == "" {
				return nil, where("point feature without a \"station_id\" property")
			}
			if seenStation[id] {
				return nil, where("station %q appears twice", id)
			}
			seenStation[id] = true
			if err := checkPoints([]orb.Point{g}); err != nil {
				return nil, where("station %q: %v", id, err)
			}
			st := Station{ID: id, Name: f.Properties.MustString("name", id), Pos: g}
			if lines, ok := f.Properties["lines"].([]any); ok {
				for _, l := range lines {
					if s, ok := l.(string); ok && s != "" {
						st.Lines = append(st.Lines, s)
					}
				}
			} else if l := f.Properties.MustString("line", ""); l != "" {
				st.Lines = []string{l}
			}
			n.Stations = append(n.Stations, st)
		case orb.Polygon, orb.MultiPolygon:
			id := strings.TrimSpace(f.Properties.MustString("zone", ""))
			if id == "" {
				return nil, where("polygon feature without a \"zone\" property")
			}
			n.Zones = append(n.Zones, Zone{ID: id, Name: f.Properties.MustString("name", id), Geometry: g})
		}
	}
	if len(n.Lines) == 0 {
		return nil, fmt.Errorf("network %s: no line features (LineString with a \"line\" property)", source)
	}
	for _, st := range n.Stations {
		for _, l := range st.Lines {
			if _, ok := lineIdx[l]; !ok {
				return nil, fmt.Errorf("network %s: station %q names unknown line %q", source, st.ID, l)
			}
		}
	}
	n.Bound = n.computeBound()
	return n, nil
}

func checkPoints(ps []orb.Point) error {
	for _, p := range ps {
		if !(p[1] >= -90 && p[1] <= 90) || !(p[0] >= -180 && p[0] <= 180) {
			return fmt.Errorf("coordinate [%v, %v] is not [lon, lat] in range", p[0], p[1])
		}
	}
	return nil
}

func (n *Network) computeBound() orb.Bound {
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

package basemap

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// LoadGeoJSON reads a user basemap: roads, water or districts exported from
// OpenStreetMap (overpass), geojson.io or QGIS. The file may hold a
// FeatureCollection, a single Feature or a bare geometry. Lines are kept as
// they are, polygons as their rings, collections are flattened and points
// are ignored, since a basemap only draws outlines. Every path has Kind
// User.
//
// Coordinates must be lon/lat degrees (WGS 84, as GeoJSON requires): a file
// in a projected system such as Web Mercator metres is refused with the
// offending feature named, rather than drawn off the map. A file with
// nothing to draw is an error too, so that a wrong export is noticed at
// start-up and not as an empty map.
func LoadGeoJSON(path string) (*Basemap, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("basemap: %w", err)
	}
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("basemap %s: not GeoJSON: %w", path, err)
	}

	// geoms[i] is feature i's geometry; a bare geometry counts as feature 0.
	var geoms []orb.Geometry
	switch head.Type {
	case "FeatureCollection":
		fc, err := geojson.UnmarshalFeatureCollection(data)
		if err != nil {
			return nil, fmt.Errorf("basemap %s: not GeoJSON: %w", path, err)
		}
		for _, f := range fc.Features {
			geoms = append(geoms, f.Geometry)
		}
	case "Feature":
		f, err := geojson.UnmarshalFeature(data)
		if err != nil {
			return nil, fmt.Errorf("basemap %s: not GeoJSON: %w", path, err)
		}
		geoms = append(geoms, f.Geometry)
	case "":
		return nil, fmt.Errorf("basemap %s: not GeoJSON: no \"type\" member", path)
	default:
		g, err := geojson.UnmarshalGeometry(data)
		if err != nil {
			return nil, fmt.Errorf("basemap %s: not GeoJSON: type %q: %w", path, head.Type, err)
		}
		geoms = append(geoms, g.Geometry())
	}

	b := &Basemap{}
	for i, g := range geoms {
		if err := b.add(g); err != nil {
			return nil, fmt.Errorf("basemap %s: feature %d: %w", path, i, err)
		}
	}
	if len(b.Paths) == 0 {
		return nil, fmt.Errorf("basemap %s: no lines or polygons to draw in %d features", path, len(geoms))
	}
	return b, nil
}

var errRange = errors.New("coordinates are not lon/lat degrees")

// add appends g's lines and rings as User paths.
func (b *Basemap) add(g orb.Geometry) error {
	switch g := g.(type) {
	case orb.LineString:
		return b.addLine(g)
	case orb.MultiLineString:
		for _, ls := range g {
			if err := b.addLine(ls); err != nil {
				return err
			}
		}
	case orb.Ring:
		return b.addLine(orb.LineString(g))
	case orb.Polygon:
		for _, r := range g {
			if err := b.addLine(orb.LineString(r)); err != nil {
				return err
			}
		}
	case orb.MultiPolygon:
		for _, p := range g {
			if err := b.add(p); err != nil {
				return err
			}
		}
	case orb.Collection:
		for _, c := range g {
			if err := b.add(c); err != nil {
				return err
			}
		}
	}
	// Points, multipoints and null geometries (a feature with only
	// properties) have no outline.
	return nil
}

// addLine checks ls's coordinates and appends it without consecutive
// repeats, in pieces as the embedded map is. A segment that jumps more than
// 180° of longitude crosses the antimeridian (RFC 7946 asks writers to cut
// such lines, not all do): it is left out rather than drawn the long way
// round the map. A line that collapses to one point draws nothing and is
// dropped.
func (b *Basemap) addLine(ls orb.LineString) error {
	out := make(orb.LineString, 0, len(ls))
	start := 0
	for _, p := range ls {
		if !(p[0] >= -180 && p[0] <= 180 && p[1] >= -90 && p[1] <= 90) {
			return fmt.Errorf("%w: (%g, %g) is out of range", errRange, p[0], p[1])
		}
		if len(out) > start {
			last := out[len(out)-1]
			if last == p {
				continue
			}
			if math.Abs(last[0]-p[0]) > 180 {
				b.Paths = appendPieces(b.Paths, User, out[start:len(out):len(out)])
				start = len(out)
			}
		}
		out = append(out, p)
	}
	b.Paths = appendPieces(b.Paths, User, out[start:])
	return nil
}

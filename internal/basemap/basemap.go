// Package basemap holds the outlines drawn under the fleet: the embedded
// low-detail world map (Natural Earth land, lakes and rivers) and any user
// basemap loaded from GeoJSON. Everything is a polyline in lon/lat degrees;
// polygons are kept as their rings, since the map only draws outlines.
package basemap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/fleetwatch/fleetwatch/assets"
	"github.com/paulmach/orb"
)

// Kind says what a path outlines, so a renderer can style each differently.
type Kind uint8

// The kinds of path. The first three come from the embedded map and their
// values are the layer bytes of its format; User is anything loaded from a
// file.
const (
	Land Kind = iota + 1
	Lake
	River
	User
)

// String returns the kind's lower-case name.
func (k Kind) String() string {
	switch k {
	case Land:
		return "land"
	case Lake:
		return "lake"
	case River:
		return "river"
	case User:
		return "user"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Path is one polyline. Bound is precomputed so that a renderer can skip
// paths outside its viewport without looking at their points.
type Path struct {
	Kind   Kind
	Bound  orb.Bound
	Points orb.LineString
}

// Basemap is a set of paths. A Basemap returned by Embedded is shared by
// all callers and must not be modified.
type Basemap struct {
	Paths []Path
}

// Within calls fn for each path whose bound intersects bound, in order. A
// linear scan is enough: the embedded map has a few thousand paths, and a
// bound test costs a few nanoseconds.
func (b *Basemap) Within(bound orb.Bound, fn func(p *Path)) {
	if b == nil {
		return
	}
	for i := range b.Paths {
		if b.Paths[i].Bound.Intersects(bound) {
			fn(&b.Paths[i])
		}
	}
}

// Points returns the total number of points in all paths.
func (b *Basemap) Points() int {
	if b == nil {
		return 0
	}
	n := 0
	for i := range b.Paths {
		n += len(b.Paths[i].Points)
	}
	return n
}

// Merge returns a basemap holding the paths of all maps in order, later
// maps drawing on top of earlier ones. Nil maps are skipped. The paths'
// points are shared with the inputs, not copied.
func Merge(maps ...*Basemap) *Basemap {
	n := 0
	for _, m := range maps {
		if m != nil {
			n += len(m.Paths)
		}
	}
	out := &Basemap{Paths: make([]Path, 0, n)}
	for _, m := range maps {
		if m != nil {
			out.Paths = append(out.Paths, m.Paths...)
		}
	}
	return out
}

// embedded decodes assets.BasemapBin on first use only: a run that never
// draws the map (or a test of another package) pays nothing.
var embedded = sync.OnceValues(func() (*Basemap, error) {
	b, err := decode(assets.BasemapBin)
	if err != nil {
		return nil, fmt.Errorf("basemap: embedded data: %w", err)
	}
	return b, nil
})

// Embedded returns the built-in world basemap: Natural Earth land outlines
// at 1:10m, lakes and rivers at 1:50m. It is decoded once and shared; do
// not modify it.
func Embedded() (*Basemap, error) {
	return embedded()
}

// magic starts the embedded format; gen_basemap.py documents the rest.
const magic = "FWBM1"

var errTruncated = errors.New("truncated data")

// decode reads the format written by assets/gen_basemap.py.
func decode(raw []byte) (*Basemap, error) {
	if !bytes.HasPrefix(raw, []byte(magic)) {
		return nil, fmt.Errorf("bad magic (want %q)", magic)
	}
	buf := raw[len(magic):]
	units, i := uvarintAt(buf, 0)
	if i < 0 {
		return nil, errTruncated
	}
	if units == 0 {
		return nil, errors.New("zero units per degree")
	}
	scale := 1 / float64(units)

	// All points share one backing array, so decoding makes a handful of
	// allocations, not one per path. Every varint ends in a byte below 0x80
	// and a point is two varints, so counting those bytes sizes the array
	// within about 1% (the path headers), where len/2 would reserve twice
	// the memory the map needs for as long as it lives.
	varints := 0
	for _, c := range buf[i:] {
		if c < 0x80 {
			varints++
		}
	}
	pts := make([]orb.Point, 0, varints/2)
	type span struct {
		kind       Kind
		start, end int
	}
	var spans []span
	for i < len(buf) {
		kind := Kind(buf[i])
		if kind < Land || kind > River {
			return nil, fmt.Errorf("unknown layer %d", kind)
		}
		var count uint64
		if count, i = uvarintAt(buf, i+1); i < 0 || count > uint64(len(buf)-i) {
			return nil, fmt.Errorf("%s layer: %w", kind, errTruncated)
		}
		for range count {
			var n uint64
			// Each point takes at least two bytes: a larger count is damage,
			// and must not reach the loop below.
			if n, i = uvarintAt(buf, i); i < 0 || n > uint64(len(buf)-i)/2 {
				return nil, fmt.Errorf("%s layer: %w", kind, errTruncated)
			}
			start := len(pts)
			var x, y int64
			for range n {
				// The varints are read here rather than by binary.Varint:
				// the call per coordinate was half the time of the parse.
				var d [2]int64
				for axis := range d {
					var u uint64
					for shift := uint(0); ; shift += 7 {
						if i >= len(buf) || shift > 63 {
							return nil, fmt.Errorf("%s layer: %w", kind, errTruncated)
						}
						c := buf[i]
						i++
						u |= uint64(c&0x7f) << shift
						if c < 0x80 {
							break
						}
					}
					d[axis] = int64(u>>1) ^ -int64(u&1)
				}
				x, y = x+d[0], y+d[1]
				pts = append(pts, orb.Point{float64(x) * scale, float64(y) * scale})
			}
			spans = append(spans, span{kind, start, len(pts)})
		}
	}
	b := &Basemap{Paths: make([]Path, 0, len(spans)+len(pts)/(maxPathPoints-1))}
	for _, s := range spans {
		b.Paths = appendPieces(b.Paths, s.kind, pts[s.start:s.end:s.end])
	}
	return b, nil
}

// maxPathPoints caps the points of one Path. A continent's coast is a
// single line of some 60 000 points whose bound covers half the globe, so
// Within could never skip it; pieces of 128 points (a hundred km or so of
// 1:10m coast) keep bounds tight at city scale, for a few thousand more
// bound tests per frame.
const maxPathPoints = 128

// appendPieces appends ls to paths in pieces of at most maxPathPoints
// points. Consecutive pieces share their joining point, so the line stays
// unbroken, and share ls's backing array rather than copying it.
func appendPieces(paths []Path, kind Kind, ls orb.LineString) []Path {
	for len(ls) >= 2 {
		n := min(len(ls), maxPathPoints)
		// The full slice expression stops an append to one piece from
		// overwriting the next.
		piece := ls[:n:n]
		paths = append(paths, Path{Kind: kind, Bound: boundOf(piece), Points: piece})
		if n == len(ls) {
			break
		}
		ls = ls[n-1:]
	}
	return paths
}

// boundOf is ls.Bound() for a non-empty line, written out because orb's
// Extend, which also handles empty bounds, took a quarter of decode's time.
func boundOf(ls orb.LineString) orb.Bound {
	b := orb.Bound{Min: ls[0], Max: ls[0]}
	for _, p := range ls[1:] {
		if p[0] < b.Min[0] {
			b.Min[0] = p[0]
		} else if p[0] > b.Max[0] {
			b.Max[0] = p[0]
		}
		if p[1] < b.Min[1] {
			b.Min[1] = p[1]
		} else if p[1] > b.Max[1] {
			b.Max[1] = p[1]
		}
	}
	return b
}

// uvarintAt reads the unsigned varint at buf[i], returning it and the
// index after it, or -1 for the index if buf ends first.
func uvarintAt(buf []byte, i int) (uint64, int) {
	v, n := binary.Uvarint(buf[min(i, len(buf)):])
	if n <= 0 {
		return 0, -1
	}
	return v, i + n
}

package basemap

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetwatch/fleetwatch/assets"
	"github.com/paulmach/orb"
)

// nearestKm returns the distance in km from pt to the closest path of the
// given kind, looking only at paths within half a degree (Within does the
// looking), or +Inf when there is none.
func nearestKm(b *Basemap, kind Kind, pt orb.Point) float64 {
	box := orb.Bound{Min: orb.Point{pt[0] - 0.5, pt[1] - 0.5}, Max: orb.Point{pt[0] + 0.5, pt[1] + 0.5}}
	kx := 111.32 * math.Cos(pt[1]*math.Pi/180)
	const ky = 110.57
	best := math.Inf(1)
	b.Within(box, func(p *Path) {
		if p.Kind != kind {
			return
		}
		for i := 1; i < len(p.Points); i++ {
			// Local equirectangular plane: exact enough over a few km.
			ax, ay := (p.Points[i-1][0]-pt[0])*kx, (p.Points[i-1][1]-pt[1])*ky
			bx, by := (p.Points[i][0]-pt[0])*kx, (p.Points[i][1]-pt[1])*ky
			dx, dy := bx-ax, by-ay
			t := 0.0
			if l2 := dx*dx + dy*dy; l2 > 0 {
				t = max(0, min(1, -(ax*dx+ay*dy)/l2))
			}
			best = min(best, math.Hypot(ax+t*dx, ay+t*dy))
		}
	})
	return best
}

func TestEmbeddedDecodes(t *testing.T) {
	b, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := Embedded(); again != b {
		t.Error("Embedded decoded twice")
	}
	perKind := map[Kind]int{}
	for _, p := range b.Paths {
		perKind[p.Kind] += len(p.Points)
		if len(p.Points) < 2 || len(p.Points) > maxPathPoints {
			t.Fatalf("%s path with %d points, want 2..%d", p.Kind, len(p.Points), maxPathPoints)
		}
		if p.Bound != p.Points.Bound() {
			t.Fatalf("%s path bound %v, points span %v", p.Kind, p.Bound, p.Points.Bound())
		}
		for i, q := range p.Points {
			if q[0] < -180 || q[0] > 180 || q[1] < -90 || q[1] > 90 {
				t.Fatalf("%s path point %v out of range", p.Kind, q)
			}
			if i > 0 && q == p.Points[i-1] {
				t.Fatalf("%s path repeats point %v", p.Kind, q)
			}
			// The source cuts polygons along the antimeridian; those
			// edges are not coasts and must not be drawn.
			if i > 0 && math.Abs(q[0]) == 180 && q[0] == p.Points[i-1][0] {
				t.Fatalf("%s path runs along the antimeridian at %v", p.Kind, q)
			}
		}
	}
	// Natural Earth 1:10m land is about 400 000 points, 1:50m lakes and
	// rivers some 12 000 and 26 000: far fewer means a layer went missing.
	for kind, lo := range map[Kind]int{Land: 300_000, Lake: 8_000, River: 15_000} {
		if perKind[kind] < lo || perKind[kind] > 3*lo {
			t.Errorf("%s: %d points, want %d..%d", kind, perKind[kind], lo, 3*lo)
		}
	}
	t.Logf("%d paths, %d points, %d bytes embedded", len(b.Paths), b.Points(), len(assets.BasemapBin))
}

func TestEmbeddedKnownPlaces(t *testing.T) {
	b, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		kind  Kind
		at    orb.Point
		maxKm float64 // +Inf: nothing of that kind within half a degree
	}{
		// Land is 1:10m: a coast is within a couple of km.
		{"Coney Island beach", Land, orb.Point{-73.98, 40.572}, 2},
		{"Dover harbour", Land, orb.Point{1.32, 51.12}, 2},
		{"Sydney Heads", Land, orb.Point{151.29, -33.83}, 3},
		// Lakes and rivers are 1:50m, stored on a grid of about 3 by 2 km.
		{"Chicago lakefront", Lake, orb.Point{-87.61, 41.89}, 6},
		{"Lake Geneva at Geneva", Lake, orb.Point{6.15, 46.21}, 8},
		{"Mississippi at St. Louis", River, orb.Point{-90.18, 38.63}, 6},
		{"Nile at Cairo", River, orb.Point{31.23, 30.05}, 6},
		{"mid-Pacific", Land, orb.Point{-140, 0}, math.Inf(1)},
		{"mid-Atlantic", Lake, orb.Point{-35, 35}, math.Inf(1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := nearestKm(b, tc.kind, tc.at)
			if math.IsInf(tc.maxKm, 1) {
				if !math.IsInf(d, 1) {
					t.Errorf("%s %.1f km from %v, want none nearby", tc.kind, d, tc.at)
				}
				return
			}
			if d > tc.maxKm {
				t.Errorf("nearest %s %.1f km from %v, want within %g km", tc.kind, d, tc.at, tc.maxKm)
			}
		})
	}
}

func TestDecodeRejectsDamage(t *testing.T) {
	raw := assets.BasemapBin
	header := len(magic) + 2 // magic, then 10 000 units per degree in two bytes
	with := func(prefix []byte, tail ...byte) string {
		return string(append(append([]byte{}, prefix...), tail...))
	}
	for _, tc := range []struct {
		name, data, want string
	}{
		{"empty", "", "bad magic"},
		{"bad magic", with([]byte("FWBM9"), raw[len(magic):]...), "bad magic"},
		{"no units", magic, "truncated"},
		{"zero units", with([]byte(magic), 0), "zero units"},
		{"cut mid-path", string(raw[:len(raw)/2]), "truncated"},
		{"cut in the last point", string(raw[:len(raw)-1]), "truncated"},
		{"layer without count", with(raw[:header], 1), "truncated"},
		{"unknown layer", with(raw[:header], 9, 0), "unknown layer"},
		{"path longer than the data", with(raw[:header], 1, 1, 0xff, 0xff, 0x03, 2, 2), "truncated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decode([]byte(tc.data))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("decode: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestWithin(t *testing.T) {
	b, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		bound     orb.Bound
		wantKinds []Kind
	}{
		{"Chicago", orb.Bound{Min: orb.Point{-88.0, 41.6}, Max: orb.Point{-87.4, 42.1}}, []Kind{Lake}},
		{"New York", orb.Bound{Min: orb.Point{-74.3, 40.4}, Max: orb.Point{-73.6, 40.9}}, []Kind{Land}},
		{"St. Louis", orb.Bound{Min: orb.Point{-90.4, 38.5}, Max: orb.Point{-90.0, 38.8}}, []Kind{River}},
		{"open ocean", orb.Bound{Min: orb.Point{-141, -1}, Max: orb.Point{-139, 1}}, nil},
		{"empty bound", orb.Bound{Min: orb.Point{1, 1}, Max: orb.Point{0, 0}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := map[*Path]bool{}
			kinds := map[Kind]bool{}
			b.Within(tc.bound, func(p *Path) {
				got[p] = true
				kinds[p.Kind] = true
			})
			for i := range b.Paths {
				p := &b.Paths[i]
				if hit := p.Bound.Intersects(tc.bound); hit != got[p] {
					t.Fatalf("path %d (%s, %v): intersects %v, reported %v", i, p.Kind, p.Bound, hit, got[p])
				}
			}
			for _, k := range tc.wantKinds {
				if !kinds[k] {
					t.Errorf("no %s path within %v", k, tc.bound)
				}
			}
			if tc.wantKinds == nil && len(got) > 0 {
				t.Errorf("%d paths within %v, want none", len(got), tc.bound)
			}
			if len(got) >= len(b.Paths)/10 && len(got) > 0 {
				t.Errorf("%d of %d paths within a city-sized bound: the bounds do not filter", len(got), len(b.Paths))
			}
		})
	}
	var nilMap *Basemap
	nilMap.Within(orb.Bound{Max: orb.Point{1, 1}}, func(*Path) { t.Error("nil basemap called fn") })
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// longLine returns a GeoJSON LineString of n points heading east.
func longLine(n int) string {
	var sb strings.Builder
	sb.WriteString(`{"type":"LineString","coordinates":[`)
	for i := range n {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, "[%g,51.5]", float64(i)*0.001)
	}
	sb.WriteString("]}")
	return sb.String()
}

func TestLoadGeoJSON(t *testing.T) {
	for _, tc := range []struct {
		name      string
		content   string
		wantPaths int
		wantPts   int
	}{
		{"bare LineString with elevation", `{"type":"LineString","coordinates":[[-87.63,41.88,180],[-87.62,41.89,181],[-87.62,41.89,182]]}`, 1, 2},
		{"bare MultiLineString", `{"type":"MultiLineString","coordinates":[[[0,0],[1,1]],[[2,2],[3,3],[4,4]],[[5,5]]]}`, 2, 5},
		{"Feature with a holed MultiPolygon", `{"type":"Feature","properties":{"name":"park"},"geometry":{"type":"MultiPolygon","coordinates":[
			[[[0,0],[4,0],[4,4],[0,4],[0,0]],[[1,1],[2,1],[2,2],[1,1]]],
			[[[10,10],[11,10],[11,11],[10,10]]]]}}`, 3, 13},
		{"Feature with a GeometryCollection", `{"type":"Feature","properties":null,"geometry":{"type":"GeometryCollection","geometries":[
			{"type":"Point","coordinates":[0,0]},
			{"type":"LineString","coordinates":[[0,0],[0,1]]},
			{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}]}}`, 2, 6},
		{"line across the antimeridian", `{"type":"LineString","coordinates":[[178,0],[179,0],[-179,0],[-178,0]]}`, 2, 4},
		{"long line", longLine(300), 3, 302}, // pieces of 128, 128 and 46 points, each joint point twice
		{"FeatureCollection with points and a null geometry", `{"type":"FeatureCollection","features":[
			{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[1,2]}},
			{"type":"Feature","properties":{},"geometry":null},
			{"type":"Feature","properties":{},"geometry":{"type":"LineString","coordinates":[[-180,-90],[0,0],[180,90]]}}]}`, 1, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := LoadGeoJSON(writeFile(t, "map.geojson", tc.content))
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Paths) != tc.wantPaths || b.Points() != tc.wantPts {
				t.Errorf("%d paths, %d points; want %d, %d", len(b.Paths), b.Points(), tc.wantPaths, tc.wantPts)
			}
			for _, p := range b.Paths {
				if p.Kind != User || p.Bound != p.Points.Bound() {
					t.Errorf("path %v: kind %s, bound %v", p.Points, p.Kind, p.Bound)
				}
			}
		})
	}
}

// The repository's demo network is a real FeatureCollection: 141 station
// points (ignored), 8 lines and 4 zone polygons.
func TestLoadGeoJSONNetwork(t *testing.T) {
	b, err := LoadGeoJSON(filepath.Join("..", "..", "assets", "network.geojson"))
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Paths) != 12 {
		t.Errorf("%d paths, want 8 lines + 4 zone rings", len(b.Paths))
	}
	chicago := orb.Bound{Min: orb.Point{-88.0, 41.6}, Max: orb.Point{-87.4, 42.1}}
	for _, p := range b.Paths {
		if !chicago.Contains(p.Bound.Min) || !chicago.Contains(p.Bound.Max) {
			t.Errorf("path bound %v outside Chicago", p.Bound)
		}
	}
}

func TestLoadGeoJSONErrors(t *testing.T) {
	for _, tc := range []struct {
		name, content string
		want          []string // substrings of the error, besides the file name
	}{
		{"not JSON", `<osm version="0.6"></osm>`, []string{"not GeoJSON"}},
		{"no type", `{"features":[]}`, []string{"not GeoJSON", `no "type"`}},
		{"unknown geometry", `{"type":"Circle","coordinates":[0,0]}`, []string{"not GeoJSON", "Circle"}},
		{"broken FeatureCollection", `{"type":"FeatureCollection","features":{}}`, []string{"not GeoJSON"}},
		{"empty FeatureCollection", `{"type":"FeatureCollection","features":[]}`, []string{"no lines or polygons", "0 features"}},
		{"points only", `{"type":"MultiPoint","coordinates":[[0,0],[1,1]]}`, []string{"no lines or polygons"}},
		{"Web Mercator metres", `{"type":"FeatureCollection","features":[
			{"type":"Feature","properties":{},"geometry":{"type":"LineString","coordinates":[[0,0],[1,1]]}},
			{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[-9754000,5142000],[-9753000,5142000],[-9753000,5143000],[-9754000,5142000]]]}}]}`,
			[]string{"feature 1", "not lon/lat", "-9.754e+06"}},
		{"latitude past the pole", `{"type":"LineString","coordinates":[[0,0],[0,91]]}`, []string{"feature 0", "not lon/lat"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, "bad-"+strings.ReplaceAll(tc.name, " ", "-")+".geojson", tc.content)
			b, err := LoadGeoJSON(path)
			if err == nil {
				t.Fatalf("loaded %d paths, want an error", len(b.Paths))
			}
			for _, w := range append(tc.want, path) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}

	missing := filepath.Join(t.TempDir(), "missing.geojson")
	if _, err := LoadGeoJSON(missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing file: %v, want an error naming %s", err, missing)
	}
}

func TestMerge(t *testing.T) {
	world, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	user, err := LoadGeoJSON(filepath.Join("..", "..", "assets", "network.geojson"))
	if err != nil {
		t.Fatal(err)
	}
	m := Merge(world, nil, user)
	if len(m.Paths) != len(world.Paths)+len(user.Paths) {
		t.Fatalf("%d paths, want %d + %d", len(m.Paths), len(world.Paths), len(user.Paths))
	}
	if m.Paths[0].Kind != Land || m.Paths[len(m.Paths)-1].Kind != User {
		t.Errorf("merged order: first %s, last %s; want the embedded map first, the user's on top",
			m.Paths[0].Kind, m.Paths[len(m.Paths)-1].Kind)
	}
	if got := Merge(); got == nil || len(got.Paths) != 0 {
		t.Errorf("Merge() = %v, want an empty basemap", got)
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{Land: "land", Lake: "lake", River: "river", User: "user", 0: "kind(0)"} {
		if k.String() != want {
			t.Errorf("Kind(%d).String() = %q, want %q", k, k.String(), want)
		}
	}
}

// BenchmarkEmbedded measures the start-up cost of the embedded map, without
// the sync.Once that hides it after the first call.
func BenchmarkEmbedded(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(assets.BasemapBin)))
	for b.Loop() {
		if _, err := decode(assets.BasemapBin); err != nil {
			b.Fatal(err)
		}
	}
}

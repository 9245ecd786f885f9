package network

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestDefaultNetwork(t *testing.T) {
	n, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	if len(n.Lines) < 3 {
		t.Fatalf("%d lines", len(n.Lines))
	}
	for _, l := range n.Lines {
		if l.Color == "" || l.Name == "" {
			t.Errorf("line %s has no colour or name", l.ID)
		}
		// The Yellow Line, a shuttle, has three.
		if got := len(n.StationsOf(l.ID)); got < 3 {
			t.Errorf("line %s has %d stations", l.ID, got)
		}
	}
	if len(n.Zones) == 0 {
		t.Error("no zones for weather areas")
	}
	if !n.Bound.Contains(n.Stations[0].Pos) {
		t.Error("bound does not contain the stations")
	}
}

// summary writes a network out line by line, so that a test states what it
// expects in the order the file gives it.
func summary(n *Network) []string {
	out := []string{"name " + n.Name}
	for _, l := range n.Lines {
		out = append(out, fmt.Sprintf("line %s %q %s %d", l.ID, l.Name, l.Color, len(l.Paths)))
	}
	for _, s := range n.Stations {
		out = append(out, fmt.Sprintf("station %s %q %v %v,%v", s.ID, s.Name, s.Lines, s.Pos[0], s.Pos[1]))
	}
	for _, z := range n.Zones {
		out = append(out, fmt.Sprintf("zone %s %q", z.ID, z.Name))
	}
	return out
}

func checkSummary(t *testing.T, n *Network, want []string) {
	t.Helper()
	if got := summary(n); !slices.Equal(got, want) {
		t.Errorf("got\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
	for _, s := range n.Stations {
		if !n.Bound.Contains(s.Pos) {
			t.Errorf("bound %v lacks station %s", n.Bound, s.ID)
		}
	}
	for _, l := range n.Lines {
		for _, p := range l.Paths {
			if !n.Bound.Contains(p[0]) || !n.Bound.Contains(p[len(p)-1]) {
				t.Errorf("bound %v lacks line %s", n.Bound, l.ID)
			}
		}
	}
}

func TestLoadFilesAsExported(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{"drawn.geojson", []string{ // geojson.io: one route, no properties
			"name drawn.geojson",
			`line drawn "drawn"  1`,
		}},
		{"feature.geojson", []string{ // a bare Feature, simplestyle stroke
			"name feature.geojson",
			`line Harbour loop "Harbour loop" #00aa00 2`,
		}},
		{"linestring.geojson", []string{
			"name linestring.geojson",
			`line linestring "linestring"  1`,
		}},
		{"collection.geojson", []string{ // members are features; the one-point line is skipped
			"name collection.geojson",
			`line collection "collection"  1`,
			`line collection-2 "collection-2"  1`,
			`station collection-1 "collection-1" [] -87.64,41.86`,
			`zone collection-3 "collection-3"`,
		}},
		{"qgis.geojson", []string{ // numeric route_id, OSM colour, unusable colour ignored
			"name bus_routes",
			`line 25 "Harbour - Central" #ff0000 2`,
			`line 26 "26"  1`,
		}},
		{"overpass.geojson", []string{ // ref before @id; colour by CSS name and #rgb
			"name overpass.geojson",
			`line 25 "Bus 25: Harbour => Central" #ff0000 2`,
			`line relation/125 "relation/125" #3366cc 1`,
			`station node/1 "Harbour" [25 26] -87.61,41.88`,
			`station node/2 "Central" [25] -87.63,41.9`,
		}},
		{"stations.geojson", []string{ // no lines at all; S1 listed twice is merged
			"name stations.geojson",
			`station S1 "Central" [25 26 27] -87.631,41.901`,
			`station Harbour "Harbour" [] -87.61,41.88`,
			`station P "P" [] -87.62,41.87`,
			`station P-2 "P-2" [] -87.62,41.86`,
			`station stations-4 "stations-4" [] -87.64,41.85`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			n, err := Load(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			checkSummary(t, n, tt.want)
		})
	}
}

func TestLoadAllMergesFiles(t *testing.T) {
	n, err := LoadAll([]string{"testdata/route-25.geojson", "testdata/route-26.geojson", "testdata/stations.geojson"})
	if err != nil {
		t.Fatal(err)
	}
	// Line 25 keeps its first name and takes its colour from the file that
	// gives one; S1 is renamed and moved by the later file, its lines gathered.
	checkSummary(t, n, []string{
		"name route-25.geojson + 2 more",
		`line 25 "Route 25" #abcdef 2`,
		`line 26 "26" #0000ff 1`,
		`station S1 "Central" [26 25 27] -87.631,41.901`,
		`station Harbour "Harbour" [] -87.61,41.88`,
		`station P "P" [] -87.62,41.87`,
		`station P-2 "P-2" [] -87.62,41.86`,
		`station stations-4 "stations-4" [] -87.64,41.85`,
	})
	if got := n.StationsOf("25"); len(got) != 1 || got[0].ID != "S1" {
		t.Errorf("stations of 25: %+v", got)
	}

	one, err := LoadAll([]string{"testdata/qgis.geojson"})
	if err != nil || one.Name != "bus_routes" || len(one.Lines) != 2 {
		t.Errorf("one file: %v %+v", err, one)
	}
	def, err := LoadAll(nil)
	if err != nil || def.Name != Default().Name || len(def.Lines) != len(Default().Lines) {
		t.Errorf("no file is not the default network: %v", err)
	}
}

func TestLoadErrorsNameFileAndFeature(t *testing.T) {
	tests := []struct {
		paths []string
		want  []string
	}{
		{[]string{"testdata/notjson.geojson"}, []string{"network testdata/notjson.geojson: not GeoJSON: "}},
		{[]string{"testdata/badcoords.geojson"}, []string{"network testdata/badcoords.geojson: feature 1: coordinate [200, 95] is not [lon, lat] in range"}},
		{[]string{"testdata/empty.geojson"}, []string{"network testdata/empty.geojson: no usable feature"}},
		{[]string{"testdata/missing.geojson"}, []string{"open network testdata/missing.geojson"}},
		{[]string{"testdata/drawn.geojson", "testdata/badcoords.geojson"}, []string{"testdata/badcoords.geojson: feature 1:"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.paths, "+"), func(t *testing.T) {
			_, err := LoadAll(tt.paths)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

const lineAB = `{"type":"Feature","properties":{"line":"a","color":"#ff0000"},"geometry":{"type":"LineString","coordinates":[[0,0],[1,1]]}}`

func collection(features ...string) string {
	return `{"type":"FeatureCollection","features":[` + strings.Join(features, ",") + `]}`
}

func TestParseErrorsNameTheProblem(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"not geojson", `{"type":`, "not GeoJSON"},
		{"not an object", `[1, 2]`, "not GeoJSON"},
		{"no type", `{"features":[]}`, `not GeoJSON: no "type" member`},
		{"other type", `{"type":"Topology"}`, `not GeoJSON: type "Topology"`},
		{"no features", collection(), "no usable feature"},
		{"only null geometries", collection(`{"type":"Feature","properties":{"line":"a"},"geometry":null}`), "no usable feature"},
		{"only a short path", collection(`{"type":"Feature","properties":{"line":"a"},"geometry":{"type":"LineString","coordinates":[[0,0]]}}`), "no usable feature"},
		{"swapped coordinates", collection(`{"type":"Feature","properties":{"line":"a"},"geometry":{"type":"LineString","coordinates":[[41.8,-87.6],[41.9,-187.6]]}}`), "feature 0: coordinate [41.9, -187.6] is not [lon, lat]"},
		{"station out of range", collection(lineAB, `{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[0,95]}}`), "feature 1: coordinate [0, 95]"},
		{"zone out of range", collection(lineAB, `{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[0,0],[181,0],[0,1],[0,0]]]}}`), "feature 1: coordinate [181, 0]"},
		{"bad geometry", collection(lineAB, `{"type":"Feature","properties":{},"geometry":{"type":"Circle","coordinates":[0,0]}}`), "feature 1: geojson: invalid geometry"},
		{"bad member", `{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[0,0]},{"type":"Point","coordinates":"x"}]}`, "feature 1:"},
		{"bad bare feature", `{"type":"Feature","properties":[],"geometry":null}`, "feature 0:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc), "test.geojson")
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), "network test.geojson: ") || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q lacks the file name or %q", err, tt.want)
			}
		})
	}
}

// These files were errors when the loader took only its own properties.
func TestParseLenient(t *testing.T) {
	point := func(props string, lon float64) string {
		return `{"type":"Feature","properties":` + props + `,"geometry":{"type":"Point","coordinates":[` + strconv.FormatFloat(lon, 'f', -1, 64) + `,0]}}`
	}
	tests := []struct {
		name, doc string
		want      []string
	}{
		{"line without id", collection(`{"type":"Feature","properties":{},"geometry":{"type":"LineString","coordinates":[[0,0],[1,1]]}}`),
			[]string{"name test.geojson", `line test "test"  1`}},
		{"lines without id", collection(
			`{"type":"Feature","properties":null,"geometry":{"type":"LineString","coordinates":[[0,0],[1,1]]}}`,
			`{"type":"Feature","properties":{"stroke":5},"geometry":{"type":"LineString","coordinates":[[1,1],[2,2]]}}`),
			[]string{"name test.geojson", `line test "test"  1`, `line test-2 "test-2"  1`}},
		{"feature id", `{"type":"Feature","id":7,"properties":{"long_name":"Seven"},"geometry":{"type":"LineString","coordinates":[[0,0],[1,1]]}}`,
			[]string{"name test.geojson", `line 7 "Seven"  1`}},
		{"gtfs properties", collection(`{"type":"Feature","properties":{"route_short_name":"X9","route_long_name":"Express","route_color":"C60C30"},"geometry":{"type":"LineString","coordinates":[[0,0],[1,1]]}}`),
			[]string{"name test.geojson", `line X9 "Express" #c60c30 1`}},
		{"short path beside a long one", collection(`{"type":"Feature","properties":{"line":"a"},"geometry":{"type":"MultiLineString","coordinates":[[[0,0]],[[0,0],[1,1]]]}}`),
			[]string{"name test.geojson", `line a "a"  1`}},
		{"station without id", collection(lineAB, point(`{"name":"x"}`, 0)),
			[]string{"name test.geojson", `line a "a" #ff0000 1`, `station x "x" [] 0,0`}},
		{"station without anything", collection(lineAB, point(`{}`, 0)),
			[]string{"name test.geojson", `line a "a" #ff0000 1`, `station test-1 "test-1" [] 0,0`}},
		{"duplicate station", collection(lineAB, point(`{"station_id":"s","name":"S","line":"a"}`, 0), point(`{"station_id":"s","lines":["b","a"]}`, 1)),
			[]string{"name test.geojson", `line a "a" #ff0000 1`, `station s "S" [a b] 1,0`}},
		{"unknown line", collection(lineAB, point(`{"station_id":"s","lines":["zz"]}`, 0)),
			[]string{"name test.geojson", `line a "a" #ff0000 1`, `station s "s" [zz] 0,0`}},
		{"byte-order mark", "\ufeff" + `{"type":"LineString","coordinates":[[0,0],[1,1]]}`,
			[]string{"name test.geojson", `line test "test"  1`}},
		{"numbers as ids", collection(point(`{"stop_id":1001,"lines":[25,"26"]}`, 0)),
			[]string{"name test.geojson", `station 1001 "1001" [25 26] 0,0`}},
		{"zones", collection(
			`{"type":"Feature","properties":{"name":"Harbour"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}`,
			`{"type":"Feature","properties":{},"geometry":{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]]]}}`),
			[]string{"name test.geojson", `zone Harbour "Harbour"`, `zone test-1 "test-1"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := Parse([]byte(tt.doc), "test.geojson")
			if err != nil {
				t.Fatal(err)
			}
			checkSummary(t, n, tt.want)
		})
	}
}

func TestLineColour(t *testing.T) {
	tests := []struct{ props, want string }{
		{`{"color":"#c60c30"}`, "#c60c30"},
		{`{"color":"#C60C30"}`, "#c60c30"},
		{`{"colour":"#abc"}`, "#aabbcc"},
		{`{"stroke":"00A1DE"}`, "#00a1de"},
		{`{"route_color":"009B3A"}`, "#009b3a"},
		{`{"color":" Grey "}`, "#808080"},
		{`{"color":"red"}`, "#ff0000"},
		{`{"color":"nonsense","colour":"blue"}`, "#0000ff"},
		{`{"color":"abc"}`, ""},
		{`{"color":"#abcd"}`, ""},
		{`{"color":"#gggggg"}`, ""},
		{`{"color":true}`, ""},
		{`{}`, ""},
	}
	for _, tt := range tests {
		doc := `{"type":"Feature","properties":` + tt.props + `,"geometry":{"type":"LineString","coordinates":[[0,0],[1,1]]}}`
		n, err := Parse([]byte(doc), "test.geojson")
		if err != nil {
			t.Fatalf("%s: %v", tt.props, err)
		}
		if got := n.Lines[0].Color; got != tt.want {
			t.Errorf("%s: colour %q, want %q", tt.props, got, tt.want)
		}
	}
}

func TestZonesOnlyHaveABound(t *testing.T) {
	n, err := Parse([]byte(`{"type":"Polygon","coordinates":[[[-88,41],[-87,41],[-87,42],[-88,41]]]}`), "area.json")
	if err != nil {
		t.Fatal(err)
	}
	if n.Bound.Min != [2]float64{-88, 41} || n.Bound.Max != [2]float64{-87, 42} {
		t.Errorf("bound %v", n.Bound)
	}
}

func TestColorFor(t *testing.T) {
	seen := map[string]bool{}
	for i := range 50 {
		id := "line-" + strconv.Itoa(i)
		c := ColorFor(id)
		if c != ColorFor(id) {
			t.Fatalf("ColorFor(%q) is not stable", id)
		}
		if !slices.Contains(palette[:], c) {
			t.Fatalf("ColorFor(%q) = %q, not in the palette", id, c)
		}
		seen[c] = true
	}
	if len(seen) < len(palette)/2 {
		t.Errorf("50 ids share %d colours", len(seen))
	}
	for _, c := range palette {
		if parseColor(c) != c {
			t.Errorf("%q is not #rrggbb", c)
		}
		var r, g, b int
		fmt.Sscanf(c, "#%02x%02x%02x", &r, &g, &b)
		// Readable on black, and not a grey: some channel is bright, and
		// the channels differ.
		if max(r, g, b) < 0xa0 || max(r, g, b)-min(r, g, b) < 0x40 {
			t.Errorf("%s is too dark or too grey for a line", c)
		}
	}
}

func TestLineSplitOverFeaturesAndSingleLineProperty(t *testing.T) {
	doc := `{"type":"FeatureCollection","name":"Tiny","features":[
	{"type":"Feature","properties":{"line":"a","name":"A"},"geometry":{"type":"LineString","coordinates":[[0,0],[1,1]]}},
	{"type":"Feature","properties":{"line":"a"},"geometry":{"type":"MultiLineString","coordinates":[[[1,1],[2,2]],[[2,2],[3,3]]]}},
	{"type":"Feature","properties":{"station_id":"s","line":"a"},"geometry":{"type":"Point","coordinates":[1,1]}},
	{"type":"Feature","properties":{"zone":"z"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[3,0],[3,3],[0,0]]]}}]}`
	n, err := Parse([]byte(doc), "tiny")
	if err != nil {
		t.Fatal(err)
	}
	if n.Name != "Tiny" || len(n.Lines) != 1 || len(n.Lines[0].Paths) != 3 || n.Lines[0].Name != "A" {
		t.Fatalf("%+v", n.Lines)
	}
	if len(n.Stations) != 1 || n.Stations[0].Lines[0] != "a" || len(n.Zones) != 1 || n.Zones[0].Name != "z" {
		t.Fatalf("stations %+v zones %+v", n.Stations, n.Zones)
	}
}

package network

import (
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
		if got := len(n.StationsOf(l.ID)); got < 8 {
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

func TestParseErrorsNameTheProblem(t *testing.T) {
	line := `{"type":"Feature","properties":{"line":"a","color":"#ff0000"},"geometry":{"type":"LineString","coordinates":[[0,0],[1,1]]}}`
	tests := []struct {
		name, doc, want string
	}{
		{"not geojson", `{"type":`, "not a GeoJSON FeatureCollection"},
		{"no lines", `{"type":"FeatureCollection","features":[]}`, "no line features"},
		{"line without id", `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"LineString","coordinates":[[0,0],[1,1]]}}]}`, `feature 0: line feature without a "line" property`},
		{"bad colour", `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"line":"a","color":"red"},"geometry":{"type":"LineString","coordinates":[[0,0],[1,1]]}}]}`, `color "red" is not #rrggbb`},
		{"short path", `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"line":"a"},"geometry":{"type":"LineString","coordinates":[[0,0]]}}]}`, "at least two points"},
		{"swapped coordinates", `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"line":"a"},"geometry":{"type":"LineString","coordinates":[[41.8,-87.6],[41.9,-187.6]]}}]}`, "not [lon, lat]"},
		{"station without id", `{"type":"FeatureCollection","features":[` + line + `,{"type":"Feature","properties":{"name":"x"},"geometry":{"type":"Point","coordinates":[0,0]}}]}`, `feature 1: point feature without a "station_id"`},
		{"duplicate station", `{"type":"FeatureCollection","features":[` + line + `,{"type":"Feature","properties":{"station_id":"s"},"geometry":{"type":"Point","coordinates":[0,0]}},{"type":"Feature","properties":{"station_id":"s"},"geometry":{"type":"Point","coordinates":[0,0]}}]}`, `station "s" appears twice`},
		{"unknown line", `{"type":"FeatureCollection","features":[` + line + `,{"type":"Feature","properties":{"station_id":"s","lines":["zz"]},"geometry":{"type":"Point","coordinates":[0,0]}}]}`, `names unknown line "zz"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc), "test.geojson")
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), "test.geojson") || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q lacks the file name or %q", err, tt.want)
			}
		})
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

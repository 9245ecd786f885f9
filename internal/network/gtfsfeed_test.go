package network

import (
	"archive/zip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paulmach/orb"
)

const smallFeed = "testdata/gtfs/small"

// zipDir writes the files of dir into a zip in a temp dir, optionally under a top folder.
func zipDir(t *testing.T, dir, top string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "feed.zip")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		w, _ := zw.Create(filepath.Join(top, e.Name()))
		w.Write(data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return out
}

func TestLoadGTFS(t *testing.T) {
	for _, src := range []struct{ name, path string }{
		{"directory", smallFeed},
		{"zip", zipDir(t, smallFeed, "")},
		{"zip with a top folder", zipDir(t, smallFeed, "feed")},
	} {
		t.Run(src.name, func(t *testing.T) {
			n, err := LoadGTFS(src.path)
			if err != nil {
				t.Fatal(err)
			}
			if n.Name != "Tiny Transit" {
				t.Errorf("name %q", n.Name)
			}
			if len(n.Lines) != 3 {
				t.Fatalf("%d lines: %+v", len(n.Lines), n.Lines)
			}
			r1, r2, r3 := n.Lines[0], n.Lines[1], n.Lines[2]
			if r1.ID != "R1" || r1.Name != "Lake Shore, Express" || r1.Color != "#c60c30" {
				t.Errorf("R1 %+v", r1)
			}
			// The two directions of R1 run one track: one path, in shape order.
			if len(r1.Paths) != 1 || len(r1.Paths[0]) != 5 || r1.Paths[0][0] != (orb.Point{-87.65, 41.9}) ||
				r1.Paths[0][4] != (orb.Point{-87.63, 41.88}) {
				t.Errorf("R1 paths %v", r1.Paths)
			}
			if r2.Color != "#00a1de" || r2.Name != "Crosstown" || len(r2.Paths) != 1 || len(r2.Paths[0]) != 3 {
				t.Errorf("R2 %+v", r2)
			}
			// No shapes: drawn through the stops of its longest trip; no colour from "zz".
			if r3.Name != "3" || r3.Color != "" || len(r3.Paths) != 1 || len(r3.Paths[0]) != 3 ||
				r3.Paths[0][2] != (orb.Point{-87.61, 41.86}) {
				t.Errorf("R3 %+v", r3)
			}
			byID := map[string]Station{}
			for _, s := range n.Stations {
				byID[s.ID] = s
			}
			if len(n.Stations) != 7 {
				t.Errorf("%d stations: %+v", len(n.Stations), n.Stations)
			}
			// Platforms fold into their parent station.
			if p := byID["P1"]; p.Name != "Alpha Station" || strings.Join(p.Lines, ",") != "R1" {
				t.Errorf("P1 %+v", p)
			}
			if _, ok := byID["P1a"]; ok {
				t.Error("platform P1a listed as a station")
			}
			if b := byID["B"]; strings.Join(b.Lines, ",") != "R1,R2" {
				t.Errorf("B lines %v", b.Lines)
			}
			if c := byID["C"]; strings.Join(c.Lines, ",") != "R1,R3" {
				t.Errorf("C lines %v", c.Lines)
			}
			if !n.Bound.Contains(orb.Point{-87.6, 41.88}) || !n.Bound.Contains(orb.Point{-87.66, 41.9}) {
				t.Errorf("bound %v", n.Bound)
			}
		})
	}
}

// writeFeed copies the small feed into a temp dir with some files replaced.
func writeFeed(t *testing.T, replace map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	entries, _ := os.ReadDir(smallFeed)
	for _, e := range entries {
		data, _ := os.ReadFile(filepath.Join(smallFeed, e.Name()))
		if r, ok := replace[e.Name()]; ok {
			if r == "" {
				continue // removed
			}
			data = []byte(r)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadGTFSErrorsNameFileLineAndField(t *testing.T) {
	stops := "stop_id,stop_name,stop_lat,stop_lon\nB,Bravo,41.89,-87.64\n"
	tests := []struct {
		name    string
		replace map[string]string
		want    []string
	}{
		{"bad number", map[string]string{"stops.txt": stops + "C,Charlie,abc,-87.63\n"},
			[]string{"stops.txt line 3", `stop_lat "abc"`, "not a number"}},
		{"latitude out of range", map[string]string{"stops.txt": stops + "C,Charlie,141.88,-87.63\n"},
			[]string{"stops.txt line 3", `stop_lat "141.88"`, "out of range"}},
		{"missing column", map[string]string{"trips.txt": "route_id,service_id\nR1,wk\n"},
			[]string{"trips.txt", "missing column trip_id"}},
		{"missing file", map[string]string{"stop_times.txt": ""},
			[]string{"stop_times.txt missing"}},
		{"unknown stop", map[string]string{"stop_times.txt": "trip_id,stop_id,stop_sequence\nT1,P1a,1\nT1,X9,2\n"},
			[]string{"stop_times.txt line 3", `stop_id "X9"`, "not in stops.txt"}},
		{"unknown trip", map[string]string{"stop_times.txt": "trip_id,stop_id,stop_sequence\nT99,B,1\n"},
			[]string{"stop_times.txt line 2", `trip_id "T99"`, "not in trips.txt"}},
		{"unknown route", map[string]string{"trips.txt": "route_id,trip_id\nR9,T1\n"},
			[]string{"trips.txt line 2", `route_id "R9"`}},
		{"bad sequence", map[string]string{"shapes.txt": "shape_id,shape_pt_lat,shape_pt_lon,shape_pt_sequence\nS1,41.9,-87.65,first\n"},
			[]string{"shapes.txt line 2", `shape_pt_sequence "first"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFeed(t, tt.replace)
			_, err := LoadGTFS(dir)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range append(tt.want, "gtfs "+dir) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	if _, err := LoadGTFS(filepath.Join(t.TempDir(), "nope.zip")); err == nil || !strings.Contains(err.Error(), "nope.zip") {
		t.Errorf("missing feed: %v", err)
	}
}

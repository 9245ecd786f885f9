package view

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"github.com/fleetwatch/fleetwatch/internal/model"
	"github.com/fleetwatch/fleetwatch/internal/network"
)

var update = flag.Bool("update", false, "rewrite golden files")

var fixedTime = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// fixedSnapshot builds a fleet by hand: two vehicles per line placed on the
// line's own geometry, a stopped one, arrivals, entries and weather.
func fixedSnapshot(net *network.Network) model.Snapshot {
	f := model.NewFleet()
	for i, l := range net.Lines {
		path := l.Paths[0]
		for j, frac := range []float64{0.25, 0.7} {
			p := path[int(frac*float64(len(path)-1))]
			v := model.VehiclePosition{VehicleID: l.ID + "-0" + string(rune('1'+j)), Line: l.ID, Lat: p[1], Lon: p[0],
				SpeedKmh: float64(30 + 5*i + j), Status: model.StatusInTransit, TS: fixedTime, Has: model.HasSpeed}
			if j == 1 && i == 0 {
				v.Status, v.SpeedKmh = model.StatusStoppedAt, 0
			}
			f.Apply(v)
		}
		stations := net.StationsOf(l.ID)
		for k, st := range stations[:3] {
			f.Apply(model.StationInfo{StationID: st.ID, Name: st.Name, Lines: st.Lines})
			f.Apply(model.Turnstile{StationID: st.ID, Entries: int64(10*(i+1) + k), TS: fixedTime})
		}
		st := stations[1].ID
		f.Apply(model.Arrival{StationID: st, VehicleID: l.ID + "-01", Line: l.ID, Direction: "a", TS: fixedTime})
		f.Apply(model.Arrival{StationID: st, VehicleID: l.ID + "-02", Line: l.ID, Direction: "a", TS: fixedTime.Add(time.Duration(300+30*i) * time.Second)})
	}
	f.Apply(model.Weather{Area: "loop", TempC: -3.5, WindKmh: 22, Humidity: 71, Condition: "snow", TS: fixedTime})
	f.Apply(model.Weather{Area: "north", TempC: -4, WindKmh: 30, Humidity: 80, Condition: "cloudy", TS: fixedTime})
	f.AddCounters(model.KindVehicles, 1234, false)
	f.AddCounters(model.KindVehicles, 2, true)
	return f.Snapshot()
}

func fixedStatus() Status {
	return Status{Brokers: "127.0.0.1:9092", Connected: true, Topics: 3, Partitions: 18, Rate: 412, Live: true,
		Lag: [3]int64{12, 0, 3}, Rates: [3][]float64{{0, 100, 200, 400, 300, 410}, {5, 0, 5}, nil}}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/view -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("frame differs from %s (go test ./internal/view -update to accept):\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestGoldenFrame(t *testing.T) {
	net := network.Default()
	snap := fixedSnapshot(net)
	for _, size := range []struct {
		name string
		w, h int
	}{{"frame_100x30.golden", 100, 30}, {"frame_120x40.golden", 120, 40}, {"frame_50x16.golden", 50, 16}} {
		t.Run(size.name, func(t *testing.T) {
			s := NewScreen(net, termenv.Ascii, nil)
			got := s.Render(Frame{Snap: snap, Status: fixedStatus(), Now: fixedTime}, size.w, size.h)
			checkFits(t, got, size.w, size.h)
			if strings.ContainsRune(got, '\x1b') {
				t.Fatal("plain frame has escape sequences")
			}
			golden(t, size.name, got+"\n")
		})
	}
}

func checkFits(t *testing.T, frame string, w, h int) {
	t.Helper()
	rows := strings.Split(frame, "\n")
	if len(rows) != h {
		t.Fatalf("%d rows, want %d", len(rows), h)
	}
	for i, r := range rows {
		if got := ansi.StringWidth(r); got != w {
			t.Errorf("row %d is %d cells, want %d: %q", i, got, w, r)
		}
	}
}

// Colour output has the same layout: stripping the escapes gives the plain frame.
func TestColourFrameMatchesPlain(t *testing.T) {
	net := network.Default()
	snap := fixedSnapshot(net)
	f := Frame{Snap: snap, Status: fixedStatus(), Now: fixedTime}
	plain := NewScreen(net, termenv.Ascii, nil).Render(f, 100, 30)
	colour := NewScreen(net, termenv.TrueColor, nil).Render(f, 100, 30)
	if !strings.Contains(colour, "\x1b[38;2;") {
		t.Fatal("no true-colour escapes in a true-colour frame")
	}
	checkFits(t, colour, 100, 30)
	if ansi.Strip(colour) != plain {
		t.Fatalf("colour frame differs from plain once stripped:\n%s\n---\n%s", ansi.Strip(colour), plain)
	}
}

func TestUnreachableStatusLine(t *testing.T) {
	net := network.Default()
	s := NewScreen(net, termenv.Ascii, nil)
	f := Frame{Status: Status{Brokers: "localhost:9092",
		Err: "kafka: client has run out of available brokers to talk to: dial tcp [::1]:9092: connect: connection refused"}}
	rows := strings.Split(s.Render(f, 120, 20), "\n")
	last := rows[len(rows)-1]
	for _, want := range []string{"localhost:9092", "connection refused", "--demo"} {
		if !strings.Contains(last, want) {
			t.Errorf("status line %q lacks %q", last, want)
		}
	}
}

func TestSummaryJSONShape(t *testing.T) {
	net := network.Default()
	b, err := SummaryJSON(fixedSnapshot(net), [3]int64{5, 0, 0})
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{`"vehicles": [`, `"vehicle_id": "`, `"lines": [`, `"avg_speed_kmh"`, `"headway_s": 300`,
		`"stations": [`, `"arrivals"`, `"entries"`, `"weather": [`, `"temp_c": -3.5`, `"consumed": {`, `"rejected": {`,
		`"vehicles": 2`, `"ts": "2026-11-22T10:00:00.000Z"`, `"lag": {`, `"rejected_by_reason": {`} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %s", want)
		}
	}
	empty, _ := SummaryJSON(model.Snapshot{}, [3]int64{})
	if !strings.Contains(string(empty), `"vehicles": []`) {
		t.Errorf("empty summary should list empty arrays, got %s", empty)
	}
}

// Nothing from a message reaches the terminal raw: escapes, control and
// bidi characters in names and errors come out as visible replacement marks.
func TestHostileTextIsNeutralised(t *testing.T) {
	net := network.Default()
	f := model.NewFleet()
	evil := "\x1b[2J\x1b]0;pwned\x07bad\u202eeman\x9b31m\xff"
	f.Apply(model.StationInfo{StationID: "s\x1b[31m", Name: evil})
	f.Apply(model.Turnstile{StationID: "s\x1b[31m", Entries: 5})
	f.Apply(model.Weather{Area: "a\x1b[5m", Condition: "snow\r\n\x1b[H"})
	f.Apply(model.VehiclePosition{VehicleID: "v", Line: "l\x1b[1m", Lat: 41.88, Lon: -87.63, TS: fixedTime})
	frame := Frame{Snap: f.Snapshot(), Status: Status{Brokers: "b\x1b[2J:9092", Err: "dial: \x1b[31mred", LastReject: "x\x07"}}
	for _, profile := range []termenv.Profile{termenv.Ascii, termenv.TrueColor} {
		out := NewScreen(net, profile, nil).Render(frame, 120, 30)
		plain := ansi.Strip(out)
		if strings.ContainsFunc(plain, func(r rune) bool { return r < 0x20 && r != '\n' || r >= 0x7f && r < 0xa0 || r == 0x202e }) ||
			!utf8.ValidString(plain) {
			t.Fatalf("raw control bytes reached the frame (%v): %q", profile, plain)
		}
		if profile == termenv.Ascii && strings.ContainsRune(out, '\x1b') {
			t.Fatal("escape in a plain frame")
		}
		for _, want := range []string{"�[2J�]0;pwned", "snow���[H", "no broker reachable at b�[2J:9092 (�[31mred)"} {
			if !strings.Contains(plain, want) {
				t.Errorf("%v frame lacks the neutralised %q", profile, want)
			}
		}
		checkFits(t, out, 120, 30)
	}
}

func TestRejectsPanelShowsExcerptsHarmlessly(t *testing.T) {
	net := network.Default()
	f := Frame{Rejects: []Reject{{Where: "fleet.vehicles/0@5", Reason: "not_json: malformed JSON", Excerpt: "\x1b[2J{\"evil\""}}}
	out := NewScreen(net, termenv.Ascii, nil).Render(f, 120, 30)
	if !strings.Contains(out, "LAST REJECTED") || !strings.Contains(out, "fleet.vehicles/0@5") || !strings.Contains(out, "�[2J{\"evil\"") {
		t.Fatalf("rejects panel:\n%s", out)
	}
	if strings.ContainsRune(out, '\x1b') {
		t.Fatal("raw escape from a rejected message reached the frame")
	}
}

func TestSafeKeepsOrdinaryText(t *testing.T) {
	for _, s := range []string{"Clark/Lake", "O'Hare", "Zürich Hauptbahnhof", "東京", "café", "Ñuñoa", ""} {
		if got := safe(s); got != s {
			t.Errorf("safe(%q) = %q", s, got)
		}
	}
}

func TestVehicleMarks(t *testing.T) {
	net := network.Default()
	m := NewMap(net, termenv.Ascii)
	asOf := fixedTime
	base := model.VehiclePosition{VehicleID: "v", Line: net.Lines[0].ID, Status: model.StatusInTransit, TS: asOf.Add(-5 * time.Second)}
	tests := []struct {
		name  string
		edit  func(v *model.VehiclePosition)
		mark  rune
		quiet bool
	}{
		{"moving", func(*model.VehiclePosition) {}, markMoving, false},
		{"at a stop", func(v *model.VehiclePosition) { v.Status = model.StatusStoppedAt }, markStopped, false},
		{"late", func(v *model.VehiclePosition) { v.DelayS, v.Has = 400, model.HasDelay }, markLate, false},
		{"late but delay unknown", func(v *model.VehiclePosition) { v.DelayS = 400 }, markMoving, false},
		{"stale", func(v *model.VehiclePosition) { v.TS = asOf.Add(-2 * time.Minute) }, markStale, true},
		{"from the future is fresh", func(v *model.VehiclePosition) { v.TS = asOf.Add(time.Hour) }, markMoving, false},
		{"out of service", func(v *model.VehiclePosition) { v.Status = model.StatusOutOfService }, markOff, true},
	}
	for _, tt := range tests {
		v := base
		tt.edit(&v)
		if mark, _, quiet := m.mark(&v, asOf, time.Minute); mark != tt.mark || quiet != tt.quiet {
			t.Errorf("%s: mark %c quiet %v, want %c %v", tt.name, mark, quiet, tt.mark, tt.quiet)
		}
	}
}

// Zooming in shows less of the network, bigger; 0 brings the whole of it back.
func TestZoomPanFit(t *testing.T) {
	net := network.Default()
	m := NewMap(net, termenv.Ascii)
	whole := strings.Join(m.Render(model.Vehicles{}, fixedTime, time.Minute, "", 60, 20), "\n")
	m.ZoomBy(4)
	zoomed := strings.Join(m.Render(model.Vehicles{}, fixedTime, time.Minute, "", 60, 20), "\n")
	if zoomed == whole {
		t.Fatal("zoom changed nothing")
	}
	m.Pan(0.2, 0)
	panned := strings.Join(m.Render(model.Vehicles{}, fixedTime, time.Minute, "", 60, 20), "\n")
	if panned == zoomed {
		t.Fatal("pan changed nothing")
	}
	m.Fit()
	if back := strings.Join(m.Render(model.Vehicles{}, fixedTime, time.Minute, "", 60, 20), "\n"); back != whole {
		t.Fatalf("fit did not restore the whole network:\n%s\n---\n%s", back, whole)
	}
	for range 50 {
		m.ZoomBy(1 / 1.5)
	}
	if got := m.Render(model.Vehicles{}, fixedTime, time.Minute, "", 60, 20); len(got) != 20 {
		t.Fatal("zoomed far out: wrong size")
	}
}

// Stations seen only through arrivals (their reference record came before
// the screen started) are named from the network file.
func TestStationNamedFromNetwork(t *testing.T) {
	net := network.Default()
	f := model.NewFleet()
	f.Apply(model.Turnstile{StationID: "clark-lake", Entries: 9, TS: fixedTime})
	out := NewScreen(net, termenv.Ascii, nil).Render(Frame{Snap: f.Snapshot()}, 120, 30)
	if !regexp.MustCompile(`Clark/Lake\s+BG\s+0\s+9`).MatchString(out) {
		t.Fatalf("station board does not name clark-lake from the network:\n%s", out)
	}
}

func TestSparkline(t *testing.T) {
	tests := []struct {
		vals  []float64
		width int
		want  string
	}{
		{nil, 4, "    "},
		{[]float64{0, 0}, 3, " ▁▁"},
		{[]float64{0, 1, 2, 4}, 4, "▁▃▅█"},
		{[]float64{9, 9, 1, 2}, 2, "▅█"}, // only the newest that fit
		{[]float64{1}, 0, ""},
	}
	for _, tt := range tests {
		if got := sparkline(tt.vals, tt.width); got != tt.want {
			t.Errorf("sparkline(%v, %d) = %q, want %q", tt.vals, tt.width, got, tt.want)
		}
	}
}

// The panes tab moves through, and a vehicle's details, at a large and the
// smallest supported size.
func TestGoldenPanes(t *testing.T) {
	net := network.Default()
	snap := fixedSnapshot(net)
	snap.AsOf = fixedTime.Add(20 * time.Second)
	sel := snap.Vehicles.Rows()[3]
	history := []model.VehiclePosition{sel, sel, sel}
	for i := range history {
		history[i].TS = fixedTime.Add(time.Duration(i-2) * time.Second)
		history[i].SpeedKmh = float64(10 * i)
	}
	for _, tt := range []struct {
		name string
		pane Pane
		sort SortKey
	}{{"vehicles", PaneVehicles, SortSpeed}, {"stations", PaneStations, SortID}, {"details", PaneDetails, SortID}} {
		for _, size := range [][2]int{{120, 40}, {80, 24}} {
			name := fmt.Sprintf("pane_%s_%dx%d.golden", tt.name, size[0], size[1])
			t.Run(name, func(t *testing.T) {
				f := Frame{Snap: snap, Status: fixedStatus(), Now: fixedTime, Pane: tt.pane, Sort: tt.sort,
					Selected: sel.VehicleID, SelectedStation: snap.Stations[2].StationID, History: history}
				got := NewScreen(net, termenv.Ascii, nil).Render(f, size[0], size[1])
				checkFits(t, got, size[0], size[1])
				golden(t, name, got+"\n")
			})
		}
	}
}

// The live screen does not sort the fleet each frame: the map must draw
// the same whatever order the vehicles come in, also where several share
// a cell.
func TestMapIgnoresVehicleOrder(t *testing.T) {
	net := network.Default()
	snap := fixedSnapshot(net)
	// Crowd one cell: three vehicles on one spot, one of them stale.
	rows := snap.Vehicles.Rows()
	p := rows[0]
	for i, id := range []string{"zz-late", "aa-first", "mm-stale"} {
		v := p
		v.VehicleID = id
		if i == 2 {
			v.TS = fixedTime.Add(-time.Hour)
		}
		rows = append(rows, v)
	}
	render := func(vs []model.VehiclePosition) string {
		s := snap
		s.Vehicles = model.VehiclesOf(vs)
		return NewScreen(net, termenv.TrueColor, nil).Render(Frame{Snap: s, Now: fixedTime}, 120, 40)
	}
	want := render(rows)
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		vs := slices.Clone(rows)
		rng.Shuffle(len(vs), func(i, j int) { vs[i], vs[j] = vs[j], vs[i] })
		if got := render(vs); got != want {
			t.Fatal("the map changed with the order of the vehicles")
		}
	}
}

// The summary written vehicle by vehicle is byte for byte the summary
// marshalled whole.
func TestSummaryStreamedEqualsWhole(t *testing.T) {
	net := network.Default()
	for _, snap := range []model.Snapshot{fixedSnapshot(net), {}} {
		whole := struct {
			Vehicles []summaryVehicle `json:"vehicles"`
			summaryRest
		}{Vehicles: []summaryVehicle{}, summaryRest: summaryOf(snap, [3]int64{1, 2, 3})}
		for _, v := range snap.Vehicles.Rows() {
			whole.Vehicles = append(whole.Vehicles, vehicleOf(&v))
		}
		want, err := json.MarshalIndent(whole, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		got, err := SummaryJSON(snap, [3]int64{1, 2, 3})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("streamed summary differs:\n%s\nwant:\n%s", got, want)
		}
	}
}

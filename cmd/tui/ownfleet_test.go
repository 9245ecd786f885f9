package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fleetwatch/fleetwatch/internal/testutil"
)

// londonBusData is the busData topic of a small pykafka project: one bus
// per bus_line, a per-message uuid in "key", Python's datetime text as the
// timestamp. No Kafka key, no vehicle id, no network file.
func londonBusData(t *testing.T, addr, topic string) {
	t.Helper()
	tracks := [][3][2]float64{
		{{51.5154, -0.1410}, {51.5150, -0.1380}, {51.5147, -0.1350}},
		{{51.5142, -0.1290}, {51.5130, -0.1240}, {51.5120, -0.1200}},
		{{51.5170, -0.0870}, {51.5160, -0.0840}, {51.5150, -0.0810}},
	}
	now := time.Now().UTC()
	var b strings.Builder
	for i := range 3 {
		for bus, tr := range tracks {
			line := fmt.Sprintf("%05d", bus+1)
			fmt.Fprintf(&b, `|{"bus_line": "%s", "key": "%s_5f0c9a1e-%04d", "timestamp": "%s", "latitude": %v, "longitude": %v}`+"\n",
				line, line, i, now.Add(time.Duration(i-3)*time.Second).Format("2006-01-02 15:04:05.000000"), tr[i][0], tr[i][1])
		}
	}
	testutil.KcatProduce(t, addr, topic, b.String())
}

// mapCols is the map's width on a 120-column screen beside the overview.
const mapCols = 76

// markers counts the vehicle markers in the map part of a screen.
func markers(screen string, cols int) int {
	return strings.Count(mapArea(screen, cols), "●")
}

func TestOwnBusTopicWithoutNetwork(t *testing.T) {
	bin := testutil.Binary(t, "./cmd/tui", "fleetwatch")
	addr := testutil.EmbeddedBroker(t)
	londonBusData(t, addr, "busData")
	s := startTmux(t, 120, 32, bin+" -b "+addr+" --from earliest --vehicles-topic busData")
	sc := s.waitFor(30*time.Second, "three buses", func(sc string) bool { return strings.Contains(sc, "3 vehicles on 3 lines") })
	head := strings.SplitN(sc, "\n", 2)[0]
	if !strings.Contains(head, "busData @ "+addr) || strings.Contains(sc, "Chicago") || strings.Contains(sc, "demo") {
		t.Fatalf("want the topic and cluster named, and no Chicago:\n%s", sc)
	}
	sc = s.waitFor(10*time.Second, "the three buses apart on a fitted map", func(sc string) bool { return markers(sc, mapCols) == 3 })
	if strings.Contains(sc, "outside the view") {
		t.Fatalf("the fitted view leaves buses out:\n%s", sc)
	}
	// Panning stops following the data; 0 fits the fleet again.
	s.keys("l", "l", "l", "l", "l", "l", "l")
	s.waitFor(10*time.Second, "panned away from the buses", func(sc string) bool { return markers(sc, mapCols) == 0 })
	s.keys("0")
	s.waitFor(10*time.Second, "0 refits the fleet", func(sc string) bool { return markers(sc, mapCols) == 3 })
	s.keys("q")
	s.waitFor(10*time.Second, "exit", func(sc string) bool { return strings.Contains(sc, "EXITED 0") })
}

func TestOwnBusTopicWithDrawnRoute(t *testing.T) {
	bin := testutil.Binary(t, "./cmd/tui", "fleetwatch")
	addr := testutil.EmbeddedBroker(t)
	londonBusData(t, addr, "busData")
	// As geojson.io saves a line drawn on it: a FeatureCollection, empty properties.
	route := filepath.Join(t.TempDir(), "route.geojson")
	if err := os.WriteFile(route, []byte(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},
	"geometry":{"coordinates":[[-0.1455,51.5157],[-0.1350,51.5147],[-0.1200,51.5120],[-0.0870,51.5170],[-0.0780,51.5150]],"type":"LineString"}}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startTmux(t, 120, 32, bin+" -b "+addr+" --from earliest --vehicles-topic busData --network "+route)
	sc := s.waitFor(30*time.Second, "three buses on the route", func(sc string) bool {
		return strings.Contains(sc, "3 vehicles on 3 lines") && markers(sc, mapCols) == 3
	})
	if strings.Contains(sc, "EXITED") || !hasBraille(mapArea(sc, mapCols)) {
		t.Fatalf("want the route drawn under the buses:\n%s", sc)
	}
	s.keys("q")
	s.waitFor(10*time.Second, "exit", func(sc string) bool { return strings.Contains(sc, "EXITED 0") })
}

// A ride-hailing fleet around New York, from fleetsim --roam: no lines, so
// the side table counts drivers by zone, and crowded markers turn into the
// density view.
func TestRoamingFleetDensityAndZones(t *testing.T) {
	bin := testutil.Binary(t, "./cmd/tui", "fleetwatch")
	sim := testutil.Binary(t, "./cmd/sim", "fleetsim")
	addr := testutil.EmbeddedBroker(t)
	zones := filepath.Join(testutil.RepoRoot(), "internal", "view", "testdata", "nyc-zones.geojson")
	out, err := exec.Command(sim, "-b", addr, "--vehicles", "0", "--roam", "3000", "--roam-area", "-74.03,40.58,-73.86,40.82",
		"--speedup", "max", "--duration", "30s", "--seed", "3").CombinedOutput()
	if err != nil {
		t.Fatalf("fleetsim: %v: %s", err, out)
	}
	s := startTmux(t, 120, 40, bin+" -b "+addr+" --from earliest --zones "+zones)
	sc := s.waitFor(30*time.Second, "3000 drivers by zone", func(sc string) bool {
		return strings.Contains(sc, "3000 vehicles") && strings.Contains(sc, "Manhattan") && strings.Contains(sc, "Brooklyn")
	})
	if strings.Contains(sc, "LINE ") || strings.Contains(sc, "Chicago") {
		t.Fatalf("a fleet without lines shows line tables or Chicago:\n%s", sc)
	}
	// Density shades cells with the heat ramp, not vehicle markers.
	heat := func(sc string) bool { return strings.ContainsAny(mapArea(sc, mapCols), "⣿⣶⣤") }
	sc = s.waitFor(10*time.Second, "the density view", heat)
	if markers(sc, mapCols) > 0 {
		t.Fatalf("density view and markers at once:\n%s", sc)
	}
	s.keys("d") // density on, then
	s.keys("d") // markers
	s.waitFor(10*time.Second, "markers when asked for", func(sc string) bool { return markers(sc, mapCols) > 0 })
	s.keys("q")
	s.waitFor(10*time.Second, "exit", func(sc string) bool { return strings.Contains(sc, "EXITED 0") })
}

func TestMisspelledTopicIsNamedWithSuggestion(t *testing.T) {
	bin := testutil.Binary(t, "./cmd/tui", "fleetwatch")
	addr := testutil.EmbeddedBroker(t)
	londonBusData(t, addr, "busData")
	want := "busDta not found; did you mean busData?"
	s := startTmux(t, 120, 30, bin+" -b "+addr+" --vehicles-topic busDta")
	s.waitFor(30*time.Second, "the typo named on the status bar", func(sc string) bool { return strings.Contains(sc, want) })
	s.keys("q")
	s.waitFor(10*time.Second, "exit", func(sc string) bool { return strings.Contains(sc, "EXITED 0") })

	// snapshot says it on stderr, one line, and still exits 0: a missing
	// topic reads as empty.
	out, err := exec.Command(bin, "snapshot", "-b", addr, "--vehicles-topic", "busDta", "--json").Output()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	if exit != nil {
		t.Fatalf("exit %d: %s", exit.ExitCode(), exit.Stderr)
	}
	cmd := exec.Command(bin, "snapshot", "-b", addr, "--vehicles-topic", "busDta")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("snapshot: %v: %s", err, stderr.String())
	}
	if got := strings.TrimSpace(stderr.String()); got != "fleetwatch: "+want {
		t.Errorf("stderr %q, want the one line %q", got, want)
	}
	if !strings.Contains(string(out), `"vehicles": []`) && !strings.Contains(string(out), `"vehicles":[]`) {
		t.Errorf("a missing topic must read as empty: %s", out)
	}
}

// A new user's cluster has its own topic names and none of ours: fleetwatch
// finds the streams by what their records look like and says how to pin them.
func TestTopicsDetectedWithoutFlags(t *testing.T) {
	bin := testutil.Binary(t, "./cmd/tui", "fleetwatch")
	addr := testutil.EmbeddedBroker(t)
	londonBusData(t, addr, "busData")
	testutil.KcatProduce(t, addr, "city.weather", `|{"area":"london","temp_c":7.5,"condition":"rain"}`+"\n")
	testutil.KcatProduce(t, addr, "app.logs", "|GET /index.html 200\n|GET /favicon.ico 404\n")

	cmd := exec.Command(bin, "snapshot", "-b", addr, "--json")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("snapshot: %v: %s", err, stderr.String())
	}
	for _, want := range []string{"vehicles in busData", "weather in city.weather", "--vehicles-topic busData", "--weather-topic city.weather"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr %q lacks %q", stderr.String(), want)
		}
	}
	if strings.Contains(stderr.String(), "app.logs") || strings.Count(strings.TrimSpace(stderr.String()), "\n") != 0 {
		t.Errorf("stderr %q: want one line, without the log topic", stderr.String())
	}
	if !strings.Contains(string(out), `"vehicle_id": "00003"`) || !strings.Contains(string(out), `"area": "london"`) {
		t.Errorf("the detected topics were not read:\n%s", out)
	}

	// Explicit flags win: no detection, no notice.
	cmd = exec.Command(bin, "snapshot", "-b", addr, "--vehicles-topic", "busData", "--json")
	stderr.Reset()
	cmd.Stderr = &stderr
	if _, err := cmd.Output(); err != nil || stderr.Len() != 0 {
		t.Errorf("with --vehicles-topic: %v, stderr %q", err, stderr.String())
	}

	s := startTmux(t, 160, 30, bin+" -b "+addr+" --from earliest")
	sc := s.waitFor(30*time.Second, "the detected buses and the notice", func(sc string) bool {
		return strings.Contains(sc, "3 vehicles on 3 lines") && strings.Contains(sc, "detected vehicles in busData")
	})
	if !strings.Contains(strings.SplitN(sc, "\n", 2)[0], "busData @ ") {
		t.Errorf("the title does not name the detected topic:\n%s", sc)
	}
	s.keys("q")
	s.waitFor(10*time.Second, "exit", func(sc string) bool { return strings.Contains(sc, "EXITED 0") })
}

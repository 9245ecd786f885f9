package cli_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/fleetwatch/fleetwatch/internal/testutil"
)

// The Python client tests: messages written with kafka-python,
// confluent-kafka and pykafka, each the way its own documentation shows,
// through a real Apache Kafka, must be read by `fleetwatch snapshot` and
// counted exactly. So must Avro from confluent-kafka's AvroSerializer, through
// a schema registry the test serves (franz-go's srfake), and GTFS-realtime
// feeds built with gtfs-realtime-bindings, one of them sent by kcat -P. So
// must the pipelines of issue 16, unchanged: the CTA example's Avro (per-person
// turnstile events, arrivals, city-wide weather in Fahrenheit keyed by
// {"timestamp"}, its stations table as Debezium change events) and a
// kafka-python weather producer sending several cities per message. The
// producers are tests/python/produce_*.py, run with the
// clients of tests/python/requirements.txt from the virtual environment
// scripts/python-clients.sh builds at .cache/pyenv.
//
// The broker is Kafka 3.9.1, not the 4.x of the other tests: pykafka 2.8.0
// speaks protocol versions (Produce v0-v2, Metadata v0) that Kafka 4 removed,
// and 3.9 is a version fleetwatch must read from all the same. It is a
// private cluster on port 39092, apart from the shared broker (9092) and the
// fault tests (29092). Starting it takes most of the test's time, so the test
// runs when FLEETWATCH_TEST_PYTHON=1 (.ci/run sets it).

const pyKafkaPort = 39092

// pyStation is what the snapshot must say of one station.
type pyStation struct {
	name              string
	arrivals, entries int64
}

// pyWeather is what the snapshot must say of one weather area.
type pyWeather struct {
	tempC     float64
	condition string
}

// pyCase is one client's producer script and what fleetwatch must make of
// what it sent. Every count is written out here, not taken from the script,
// so that a script sending less, or fleetwatch reading less, fails.
type pyCase struct {
	client, script string
	// registry: the script's third argument is the URL of a schema registry
	// (franz-go's srfake, served by the test), and the snapshot reads Avro
	// through it.
	registry bool
	// kcat: the script's third argument is a file it writes one more
	// GTFS-realtime feed to, which the test then sends as one message with
	// kcat -P, a client that is not Python; it counts as one more vehicles
	// record than the script sent.
	kcat bool
	// topics, when set, gives the snapshot's topic flags for the case's
	// topic prefix, in place of PREFIX{vehicles,stations,weather}.
	topics func(prefix string) []string
	// flags are more snapshot flags the case needs.
	flags    []string
	sent     map[string]int64            // records of each stream the broker acknowledged
	rejected map[string]map[string]int64 // stream → category → records
	vehicles map[string]string           // vehicle id → line, every vehicle shown
	lines    map[string]int              // line → vehicles
	stations map[string]pyStation
	// stationLines, when set, are the lines each station must list.
	stationLines map[string][]string
	weather      map[string]pyWeather
}

var pyCases = []pyCase{
	{
		client: "kafka-python", script: "produce_kafka_python.py",
		// Vehicles: 6 buses × 4 reports, 3 trams × 3, 6 broken. Stations: 3
		// references, 5 arrivals, 4 turnstile counts, 2 broken. Weather: 2 and
		// 1 broken.
		sent: map[string]int64{"vehicles": 39, "stations": 14, "weather": 3},
		rejected: map[string]map[string]int64{
			// not_json: a JSON string, NaN, 41 levels of nesting; too_large: a 300-byte id.
			"vehicles": {"not_json": 3, "out_of_range": 1, "missing_id": 1, "too_large": 1},
			"stations": {"out_of_range": 1, "missing_id": 1},
			"weather":  {"out_of_range": 1},
		},
		vehicles: map[string]string{"17": "8", "18": "22", "19": "36", "20": "8", "21": "22", "22": "36",
			"T-1": "T4", "T-2": "T4", "T-3": "T4"},
		lines: map[string]int{"22": 2, "36": 2, "8": 2, "T4": 3},
		// Arrivals name the train in "train_id"; they must neither be lost
		// nor wipe the station's name.
		stations: map[string]pyStation{
			"S1": {"Central", 3, 17}, "S2": {"Riverside", 2, 7}, "S3": {"Old Town", 0, 30},
		},
		weather: map[string]pyWeather{"Springfield": {21.5, "cloudy"}, "Shelbyville": {19, "cloudy"}},
	},
	{
		client: "confluent-kafka", script: "produce_confluent.py",
		// Vehicles: 6 × 5 reports, 3 uuid-stamped reports, 1 tombstone, 6
		// broken. Stations: 6 arrivals, 3 counts, 1 broken. Weather: 2 and 1
		// broken.
		sent: map[string]int64{"vehicles": 40, "stations": 10, "weather": 3},
		rejected: map[string]map[string]int64{
			// not_json: CSV and NaN; wrong_type: numbers as strings; too_large: a 2 MB message.
			"vehicles": {"not_json": 2, "out_of_range": 1, "missing_id": 1, "wrong_type": 1, "too_large": 1},
			"stations": {"out_of_range": 1},
			"weather":  {"not_json": 1},
		},
		// V-105 was removed by its tombstone.
		vehicles: map[string]string{"V-100": "M1", "V-101": "M2", "V-102": "M1", "V-103": "M2", "V-104": "M1",
			"bus-1": "N1", "bus-2": "N2", "bus-3": "N3"},
		lines: map[string]int{"M1": 3, "M2": 2, "N1": 1, "N2": 1, "N3": 1},
		stations: map[string]pyStation{
			"ST-0": {"", 2, 10}, "ST-1": {"", 2, 20}, "ST-2": {"", 2, 30},
		},
		weather: map[string]pyWeather{"north": {3.5, "rain"}, "south": {5, "fog"}},
	},
	{
		client: "pykafka", script: "produce_pykafka.py",
		// Vehicles: 4 trains × 3 reports, 1 shuttle, 5 broken. Stations: 1
		// reference, 4 arrivals, 1 count, 1 broken. Weather: 1 and 1 broken.
		sent: map[string]int64{"vehicles": 18, "stations": 7, "weather": 2},
		rejected: map[string]map[string]int64{
			// not_json: text and Infinity; wrong_type: a list for an id.
			"vehicles": {"not_json": 2, "out_of_range": 1, "missing_id": 1, "wrong_type": 1},
			"stations": {"wrong_type": 1},
			"weather":  {"missing_id": 1},
		},
		// The shuttle has no line, so it is in no line's count.
		vehicles: map[string]string{"IC-1": "R2", "IC-2": "R1", "IC-3": "R2", "IC-4": "R1", "shuttle": ""},
		lines:    map[string]int{"R1": 2, "R2": 2},
		stations: map[string]pyStation{"WAW": {"Warszawa Centralna", 4, 120}},
		weather:  map[string]pyWeather{"mazowieckie": {-2, "snow"}},
	},
	{
		client: "confluent-kafka-avro", script: "produce_avro.py", registry: true,
		// 4 buses × 3 reports and a van, Avro through AvroSerializer, and one
		// record framed by hand with a schema id the registry never gave.
		sent:     map[string]int64{"vehicles": 14},
		rejected: map[string]map[string]int64{"vehicles": {"unknown_format": 1}},
		// The van's route is the union's null: no line.
		vehicles: map[string]string{"avro-0": "A1", "avro-1": "A2", "avro-2": "A1", "avro-3": "A2", "van": ""},
		lines:    map[string]int{"A1": 2, "A2": 2},
	},
	{
		client: "gtfs-realtime-bindings", script: "produce_gtfsrt.py", kcat: true,
		// Two feeds from kafka-python (4 vehicles and a trip update; 4
		// vehicles and a deletion), one from kcat (2 vehicles).
		sent: map[string]int64{"vehicles": 2},
		// bus-gone was deleted by the second feed; 4711 has only a label.
		vehicles: map[string]string{"g-1": "10", "g-2": "10", "g-3": "25", "4711": "25", "kcat-1": "K", "kcat-2": "K"},
		lines:    map[string]int{"10": 2, "25": 2, "K": 2},
	},
	{
		// The CTA example pipeline, unchanged (issue 16): Avro through the
		// registry, keyed by an Avro {"timestamp"}; its stations on several
		// topics, read by pattern; its weather city-wide and in Fahrenheit.
		client: "confluent-kafka-cta", script: "produce_cta.py", registry: true,
		topics: func(prefix string) []string {
			return []string{"--stations-topic", "re:^" + regexp.QuoteMeta(prefix+"stations."), "--weather-topic", prefix + "weather"}
		},
		flags: []string{"--temp-unit", "F", "--weather-area", "chicago"},
		// Stations: 9 change events and a tombstone of the table in Avro
		// (5 stops read, 2 renamed, 1 deleted), 6 through the JsonConverter
		// (2 + 1 stops read, 1 deleted, its tombstone, a TRUNCATE), 8
		// turnstile events, 3 arrivals. Weather: 3 readings.
		sent:     map[string]int64{"stations": 26, "weather": 3},
		rejected: map[string]map[string]int64{"stations": {"unknown_format": 1}},
		// Harlem and Jackson were deleted; a station's lines are those of
		// its stops, in the order of the stops' ids.
		stations: map[string]pyStation{
			"40380": {"Clark/Lake", 2, 5}, "40010": {"Austin-Forest Park", 1, 3}, "41400": {"Roosevelt", 0, 0},
		},
		stationLines: map[string][]string{"40380": {"green", "blue"}, "40010": {"blue"}, "41400": {"red"}},
		// Two Blue Line trains at Clark/Lake give the line a headway, and
		// the line a row, with no vehicle reports.
		lines: map[string]int{"blue": 0},
		// 59 °F, the newest reading by the time in its key.
		weather: map[string]pyWeather{"chicago": {15, "sunny"}},
	},
	{
		// A weather producer that sends both its cities in one message,
		// with kafka-python's JSON serializer for key and value.
		client: "kafka-python-cities", script: "produce_weather_cities.py",
		// 4 messages of two cities (one with a bad city, which is skipped),
		// an area-less reading, a message with a temperature in words.
		sent:     map[string]int64{"weather": 6},
		rejected: map[string]map[string]int64{"weather": {"wrong_type": 1}},
		weather: map[string]pyWeather{"Winnipeg": {-12, ""}, "Vancouver": {8, "light rain"},
			"py.kafka-python-cities.weather": {21.5, "sunny"}},
	},
}

// pySummary is the part of the JSON summary the Python client tests read.
type pySummary struct {
	Vehicles []struct {
		VehicleID string  `json:"vehicle_id"`
		Line      string  `json:"line"`
		Lat       float64 `json:"lat"`
		Lon       float64 `json:"lon"`
		TS        string  `json:"ts"`
	} `json:"vehicles"`
	Lines []struct {
		Line     string `json:"line"`
		Vehicles int    `json:"vehicles"`
	} `json:"lines"`
	Stations []struct {
		StationID string   `json:"station_id"`
		Name      string   `json:"name"`
		Lines     []string `json:"lines"`
		Arrivals  int64    `json:"arrivals"`
		Entries   int64    `json:"entries"`
	} `json:"stations"`
	Weather []struct {
		Area      string  `json:"area"`
		TempC     float64 `json:"temp_c"`
		Condition string  `json:"condition"`
	} `json:"weather"`
	Stats struct {
		Consumed         map[string]int64            `json:"consumed"`
		Rejected         map[string]int64            `json:"rejected"`
		RejectedByReason map[string]map[string]int64 `json:"rejected_by_reason"`
		Lag              map[string]int64            `json:"lag"`
		FutureClamped    map[string]int64            `json:"future_clamped"`
	} `json:"stats"`
}

func TestPythonClients(t *testing.T) {
	if os.Getenv("FLEETWATCH_TEST_PYTHON") == "" {
		t.Skip("FLEETWATCH_TEST_PYTHON not set: the Python client tests start their own Kafka 3.9.1 (about 20 s)")
	}
	python := filepath.Join(testutil.RepoRoot(), ".cache", "pyenv", "bin", "python")
	if _, err := os.Stat(python); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s missing (.ci/run builds it with scripts/python-clients.sh)", python)
		}
		t.Skipf("%s missing: run scripts/python-clients.sh", python)
	}
	testutil.Require(t, "java")
	testutil.Require(t, "mvn")
	bin := testutil.Binary(t, "./cmd/tui", "fleetwatch")
	brokers := startKafka391(t)

	for _, tc := range pyCases {
		t.Run(tc.client, func(t *testing.T) {
			prefix := "py." + tc.client + "."
			var scriptArgs, snapArgs []string
			if tc.registry {
				registry := srfake.New()
				t.Cleanup(registry.Close)
				scriptArgs = append(scriptArgs, registry.URL())
				snapArgs = append(snapArgs, "--schema-registry", registry.URL())
			}
			feed := filepath.Join(t.TempDir(), "feed.pb")
			if tc.kcat {
				scriptArgs = append(scriptArgs, feed)
			}
			sent := runProducer(t, python, tc.script, brokers, prefix, scriptArgs...)
			if !maps.Equal(sent, tc.sent) {
				t.Fatalf("%s sent %v, the test expects %v", tc.script, sent, tc.sent)
			}
			if tc.kcat {
				// With files named, kcat -P sends each file whole as one message.
				cmd := exec.Command(testutil.Require(t, "kcat"), "-P", "-b", brokers, "-t", prefix+"vehicles", "-k", "agency-1", "-X", "acks=all", feed)
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("kcat -P %s: %v\n%s", feed, err, out)
				}
				sent["vehicles"]++
			}
			topics := []string{"--vehicles-topic", prefix + "vehicles", "--stations-topic", prefix + "stations", "--weather-topic", prefix + "weather"}
			if tc.topics != nil {
				topics = tc.topics(prefix)
			}
			args := append([]string{"snapshot", "-b", brokers, "--until-caught-up", "--json"}, topics...)
			args = append(append(args, tc.flags...), snapArgs...)
			out, errOut, code := run(t, bin, args...)
			if code != 0 {
				t.Fatalf("snapshot: exit %d: %s", code, errOut)
			}
			var s pySummary
			if err := json.Unmarshal([]byte(out), &s); err != nil {
				t.Fatalf("snapshot: not JSON: %v\n%s", err, out)
			}
			checkPySummary(t, tc, sent, s)
		})
	}
}

// startKafka391 starts a private single-node Kafka 3.9.1 and returns its
// address; the cluster is stopped when the test ends.
func startKafka391(t *testing.T) string {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", pyKafkaPort)
	// kafka-local.sh waits for the port to open, so a broker left over from
	// an interrupted run would pass for this one, with its old topics.
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Fatalf("something already listens on %s; a leftover test broker? (ps aux | grep kafka.Kafka)", addr)
	}
	env := append(os.Environ(), "KAFKA_VERSION=3.9.1", "KAFKA_NODES=1", fmt.Sprintf("KAFKA_PORT=%d", pyKafkaPort),
		"KAFKA_RUN="+t.TempDir(), "KAFKA_SECURE=0")
	script := func(arg string) {
		cmd := exec.Command(filepath.Join(testutil.RepoRoot(), "scripts", "kafka-local.sh"), arg)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("kafka-local.sh %s: %v\n%s", arg, err, out)
		}
	}
	start := time.Now()
	script("up")
	t.Cleanup(func() { script("down") })
	t.Logf("Kafka 3.9.1 up in %v", time.Since(start).Round(time.Millisecond))
	return addr
}

// runProducer runs one producer script and returns what it says it sent:
// its last line of output is {"client":..., "sent": {"vehicles": n, ...}}.
func runProducer(t *testing.T, python, script, brokers, prefix string, args ...string) map[string]int64 {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(python, append([]string{filepath.Join(testutil.RepoRoot(), "tests", "python", script), brokers, prefix}, args...)...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s%s", script, err, stdout.String(), stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var res struct {
		Client  string           `json:"client"`
		Version string           `json:"version"`
		Sent    map[string]int64 `json:"sent"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
		t.Fatalf("%s: last line is not its summary: %v\n%s", script, err, stdout.String())
	}
	t.Logf("%s %s sent %v in %v", res.Client, res.Version, res.Sent, time.Since(start).Round(time.Millisecond))
	return res.Sent
}

func checkPySummary(t *testing.T, tc pyCase, sent map[string]int64, s pySummary) {
	// Counts: every record sent is consumed, the broken ones rejected, each
	// under the category of what is wrong with it.
	for _, stream := range []string{"vehicles", "stations", "weather"} {
		if got := s.Stats.Consumed[stream]; got != sent[stream] {
			t.Errorf("%s: consumed %d, sent %d", stream, got, sent[stream])
		}
		want := tc.rejected[stream]
		var n int64
		for _, k := range want {
			n += k
		}
		if got := s.Stats.Rejected[stream]; got != n {
			t.Errorf("%s: rejected %d, want %d", stream, got, n)
		}
		if got := s.Stats.RejectedByReason[stream]; !maps.Equal(got, want) {
			t.Errorf("%s: rejected by reason %v, want %v", stream, got, want)
		}
		if s.Stats.Lag[stream] != 0 {
			t.Errorf("%s: lag %d after --until-caught-up", stream, s.Stats.Lag[stream])
		}
		// The producers write times within the last two minutes in every
		// form they use; a misread zone or unit lands far from now.
		if s.Stats.FutureClamped[stream] != 0 {
			t.Errorf("%s: %d times clamped as in the future", stream, s.Stats.FutureClamped[stream])
		}
	}

	// Vehicles: exactly these, on these lines, where they were, when they were.
	now := time.Now()
	got := map[string]string{}
	for _, v := range s.Vehicles {
		got[v.VehicleID] = v.Line
		if v.Lat < 52 || v.Lat > 53 || v.Lon < 20.5 || v.Lon > 21.5 {
			t.Errorf("vehicle %s at %v,%v, not in the producers' area", v.VehicleID, v.Lat, v.Lon)
		}
		ts, err := time.Parse(time.RFC3339Nano, v.TS)
		if err != nil || ts.Before(now.Add(-5*time.Minute)) || ts.After(now) {
			t.Errorf("vehicle %s: time %q, not within the last 5 minutes of %v", v.VehicleID, v.TS, now.UTC())
		}
	}
	if !maps.Equal(got, tc.vehicles) {
		t.Errorf("vehicles (id → line)\n got %v\nwant %v", got, tc.vehicles)
	}
	lines := map[string]int{}
	for _, l := range s.Lines {
		lines[l.Line] = l.Vehicles
	}
	if !maps.Equal(lines, tc.lines) {
		t.Errorf("lines (line → vehicles)\n got %v\nwant %v", lines, tc.lines)
	}

	stations := map[string]pyStation{}
	for _, st := range s.Stations {
		stations[st.StationID] = pyStation{st.Name, st.Arrivals, st.Entries}
	}
	if !maps.Equal(stations, tc.stations) {
		t.Errorf("stations (id → name, arrivals, entries)\n got %v\nwant %v", stations, tc.stations)
	}
	if tc.stationLines != nil {
		lines := map[string][]string{}
		for _, st := range s.Stations {
			lines[st.StationID] = st.Lines
		}
		if !maps.EqualFunc(lines, tc.stationLines, slices.Equal) {
			t.Errorf("station lines\n got %v\nwant %v", lines, tc.stationLines)
		}
	}

	weather := map[string]pyWeather{}
	for _, w := range s.Weather {
		weather[w.Area] = pyWeather{w.TempC, w.Condition}
	}
	if !maps.Equal(weather, tc.weather) {
		t.Errorf("weather (area → temp_c, condition)\n got %v\nwant %v", weather, tc.weather)
	}
}

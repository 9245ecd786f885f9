package cli_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/fleetwatch/fleetwatch/internal/testutil"
)

// fleetState is what a snapshot's JSON says of the fleet, to compare a
// live snapshot with one from history.
type fleetState struct {
	Vehicles []struct {
		VehicleID string  `json:"vehicle_id"`
		Line      string  `json:"line"`
		Lat       float64 `json:"lat"`
		Lon       float64 `json:"lon"`
		Speed     float64 `json:"speed_kmh"`
		Status    string  `json:"status"`
		StopID    string  `json:"stop_id"`
		TS        string  `json:"ts"`
	} `json:"vehicles"`
	Lines []struct {
		Line     string  `json:"line"`
		Vehicles int     `json:"vehicles"`
		Headway  float64 `json:"headway_s"`
	} `json:"lines"`
	Stations []struct {
		StationID      string `json:"station_id"`
		Name           string `json:"name"`
		Arrivals       int64  `json:"arrivals"`
		Entries        int64  `json:"entries"`
		ArrivalsWindow int64  `json:"arrivals_window"`
		EntriesWindow  int64  `json:"entries_window"`
	} `json:"stations"`
	Weather []struct {
		Area  string  `json:"area"`
		TempC float64 `json:"temp_c"`
		TS    string  `json:"ts"`
	} `json:"weather"`
}

// lastJSONLine decodes the last line of a command's stderr, its summary.
func lastJSONLine(t *testing.T, stderr string, v any) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), v); err != nil {
		t.Fatalf("summary line: %v in %q", err, stderr)
	}
}

func queryInt(t *testing.T, db, sql string) int64 {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int64
	if err := conn.QueryRow(ctx, sql).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// fleetsim produces through Kafka, record stores it in PostgreSQL exactly
// once (a second run adds nothing), snapshot --at the end equals the live
// snapshot of the same topics, and history prints a vehicle's track.
func TestRecordSnapshotAtAndHistory(t *testing.T) {
	db := testutil.FreshDB(t)
	fw := testutil.Binary(t, "./cmd/tui", "fleetwatch")
	sim := testutil.Binary(t, "./cmd/sim", "fleetsim")
	addr := testutil.EmbeddedBroker(t)
	_, errOut, code := run(t, sim, "-b", addr, "--speedup", "max", "--duration", "3m", "--seed", "9", "--vehicles", "20",
		"--start", "2026-11-22T08:00:00Z")
	if code != 0 {
		t.Fatalf("fleetsim exit %d: %s", code, errOut)
	}
	var produced struct {
		Produced map[string]int64 `json:"produced"`
	}
	lastJSONLine(t, errOut, &produced)

	var rec struct {
		Recorded map[string]int64 `json:"recorded"`
		Rejected int64            `json:"rejected"`
	}
	_, errOut, code = run(t, fw, "record", "--db", db, "-b", addr, "--until-caught-up", "--progress", "0")
	if code != 0 {
		t.Fatalf("record exit %d: %s", code, errOut)
	}
	lastJSONLine(t, errOut, &rec)
	for _, k := range []string{"vehicles", "stations", "weather"} {
		if rec.Recorded[k] == 0 || rec.Recorded[k] != produced.Produced[k] {
			t.Errorf("%s: recorded %d, fleetsim produced %d", k, rec.Recorded[k], produced.Produced[k])
		}
	}
	rows := queryInt(t, db, `SELECT count(*) FROM vehicle_positions`)
	distinct := queryInt(t, db, `SELECT count(DISTINCT (topic, partition, "offset")) FROM vehicle_positions`)
	if rows != produced.Produced["vehicles"] || distinct != rows {
		t.Fatalf("vehicle_positions: %d rows, %d distinct records, fleetsim produced %d", rows, distinct, produced.Produced["vehicles"])
	}

	// Again, in the same group: everything is stored, nothing is written twice.
	_, errOut, code = run(t, fw, "record", "--db", db, "-b", addr, "--until-caught-up", "--progress", "0")
	if code != 0 {
		t.Fatalf("second record exit %d: %s", code, errOut)
	}
	lastJSONLine(t, errOut, &rec)
	if rec.Recorded["vehicles"] != 0 || queryInt(t, db, `SELECT count(*) FROM vehicle_positions`) != rows {
		t.Errorf("a second recorder wrote again: %+v", rec)
	}

	// A new database, the same group: the group's committed offsets are
	// only a hint, so everything is recorded again there.
	db2 := testutil.FreshDB(t)
	_, errOut, code = run(t, fw, "record", "--db", db2, "-b", addr, "--until-caught-up", "--progress", "0")
	if code != 0 {
		t.Fatalf("record into a new database exit %d: %s", code, errOut)
	}
	lastJSONLine(t, errOut, &rec)
	if rec.Recorded["vehicles"] != produced.Produced["vehicles"] {
		t.Errorf("a new database with a group used before recorded %d vehicle records, want all %d", rec.Recorded["vehicles"], produced.Produced["vehicles"])
	}

	sameFleet(t, fw, addr, db, nil, 20)

	id := "red-01" // one of fleetsim's 20, spread over the lines
	out, errOut, code := run(t, fw, "history", "vehicle", id, "--db", db, "--since", "2026-11-22T07:00:00Z", "--format", "csv")
	if code != 0 {
		t.Fatalf("history exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if lines[0] != "ts,vehicle_id,line,lat,lon,speed_kmh,status,stop_id,delay_s" || len(lines) < 150 {
		t.Errorf("track of %s: %d lines, header %q", id, len(lines), lines[0])
	}
	for _, l := range lines[1:] {
		if !strings.Contains(l, ","+id+",") {
			t.Fatalf("another vehicle's row in %s's track: %q", id, l)
		}
	}
}

// A wrong password or a missing database is one clear line and exit 1.
func TestRecordRefusesBadDatabase(t *testing.T) {
	db := testutil.RealDB(t)
	fw := testutil.Binary(t, "./cmd/tui", "fleetwatch")
	u, _ := url.Parse(db)
	u.User = url.UserPassword("fleet", "wrong")
	bad := u.String()
	u, _ = url.Parse(db)
	u.Path = "/no_such_db"
	for _, c := range []struct{ url, want string }{{bad, "password authentication failed"}, {u.String(), "does not exist"}} {
		_, errOut, code := run(t, fw, "record", "--db", c.url, "-b", "127.0.0.1:1")
		if code != 1 || !strings.Contains(errOut, c.want) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("record --db %s: exit %d, stderr %q: want exit 1 and one line saying %q", c.url, code, errOut, c.want)
		}
	}
}

// sameFleet checks that the fleet recorded at its last moment is the
// fleet a live snapshot of the same topics reads, with this many vehicles.
func sameFleet(t *testing.T, fw, brokers, db string, topicFlags []string, vehicles int) {
	t.Helper()
	args := append([]string{"snapshot", "-b", brokers, "--json"}, topicFlags...)
	live, errOut, code := run(t, fw, args...)
	if code != 0 {
		t.Fatalf("live snapshot exit %d: %s", code, errOut)
	}
	var last time.Time
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	err = conn.QueryRow(ctx, `SELECT max(ts) FROM vehicle_positions`).Scan(&last)
	conn.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	past, errOut, code := run(t, fw, "snapshot", "--db", db, "--at", last.UTC().Format(time.RFC3339Nano), "--json")
	if code != 0 {
		t.Fatalf("snapshot --at exit %d: %s", code, errOut)
	}
	var a, b fleetState
	if err := json.Unmarshal([]byte(live), &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(past), &b); err != nil {
		t.Fatal(err)
	}
	if len(a.Vehicles) != vehicles || len(b.Vehicles) != len(a.Vehicles) {
		t.Fatalf("live %d vehicles, history %d", len(a.Vehicles), len(b.Vehicles))
	}
	for i := range a.Vehicles {
		if a.Vehicles[i] != b.Vehicles[i] {
			t.Errorf("vehicle %d: live %+v, history %+v", i, a.Vehicles[i], b.Vehicles[i])
		}
	}
	if len(a.Stations) != len(b.Stations) || len(a.Weather) != len(b.Weather) {
		t.Errorf("stations %d/%d, weather %d/%d", len(a.Stations), len(b.Stations), len(a.Weather), len(b.Weather))
	}
	for i := range min(len(a.Stations), len(b.Stations)) {
		if a.Stations[i] != b.Stations[i] {
			t.Errorf("station %d: live %+v, history %+v", i, a.Stations[i], b.Stations[i])
		}
	}
	for i := range min(len(a.Weather), len(b.Weather)) {
		if a.Weather[i] != b.Weather[i] {
			t.Errorf("weather %d: live %+v, history %+v", i, a.Weather[i], b.Weather[i])
		}
	}
}

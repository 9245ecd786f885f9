package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"

	"github.com/fleetwatch/fleetwatch/internal/codec"
	"github.com/fleetwatch/fleetwatch/internal/model"
	"github.com/fleetwatch/fleetwatch/internal/network"
	"github.com/fleetwatch/fleetwatch/internal/testutil"
)

// debeziumRow renders a row as Debezium's JsonConverter writes it (schemas
// off): each column by its SQL type.
func debeziumRow(t *testing.T, cols []tableColumn, row []any) string {
	t.Helper()
	m := map[string]any{}
	for i, c := range cols {
		switch v := row[i].(type) {
		case nil:
			m[c.name] = nil
		case []string:
			m[c.name] = v
		case *string:
			switch {
			case c.typ == "boolean":
				m[c.name] = *v == "true"
			case c.typ == "integer" || c.typ == "double precision":
				m[c.name] = json.RawMessage(*v)
			default:
				m[c.name] = *v
			}
		default:
			t.Fatalf("column %s: value of type %T", c.name, v)
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// tableOf is the layout fleetsim finds in a table of these columns.
func tableOf(t *testing.T, cols [][2]string) *stationsTable {
	t.Helper()
	var names, types []string
	for _, c := range cols {
		names = append(names, c[0])
		types = append(types, strings.TrimSuffix(c[1], " PRIMARY KEY"))
	}
	tab, err := newStationsTable(names, types)
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

// readBack decodes the rows as fleetwatch reads them from the topic.
func readBack(t *testing.T, tab *stationsTable, rows [][]any) map[string]model.StationInfo {
	t.Helper()
	out := map[string]model.StationInfo{}
	for _, r := range rows {
		val := `{"before":null,"after":` + debeziumRow(t, tab.cols, r) +
			`,"source":{"connector":"postgresql","schema":"public","table":"stations"},"op":"r","ts_ms":1795341600000}`
		evs, err := (&codec.Decoder{}).DecodeAll(model.Record{Kind: model.KindStations, Key: []byte(`{"stop_id":"x"}`), Value: []byte(val)}, nil)
		if err != nil || len(evs) != 1 {
			t.Fatalf("decode %s: %v, %v", val, evs, err)
		}
		s, ok := evs[0].(model.StationInfo)
		if !ok {
			t.Fatalf("decode %s: %T", val, evs[0])
		}
		out[s.StationID] = s
	}
	return out
}

func sameLines(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// The rows fleetsim writes read back, through fleetwatch's decoder, as the
// network's stations: names, positions and every line, whether a line has
// a boolean column, only the lines column, or no column at all.
func TestStationRowsReadBack(t *testing.T) {
	demo, err := network.Load("")
	if err != nil {
		t.Fatal(err)
	}
	gtfs := &network.Network{
		Lines: []network.Line{{ID: "Red", Name: "Red Line"}, {ID: "Brn", Name: "Brown Line"}, {ID: "M1"}},
		Stations: []network.Station{
			{ID: "40380", Name: "Clark/Lake", Lines: []string{"Brn", "M1"}, Pos: orb.Point{-87.630886, 41.885737}},
			{ID: "40900", Name: "Howard", Lines: []string{"Red"}, Pos: orb.Point{-87.672892, 42.019063}},
		},
	}
	// The CTA's own table has integer ids: the demo network, numbered.
	numbered := *demo
	numbered.Stations = slices.Clone(demo.Stations)
	for i := range numbered.Stations {
		numbered.Stations[i].ID = strconv.Itoa(40000 + i)
	}
	cta := [][2]string{{"stop_id", "integer"}, {"direction_id", "character(1)"}, {"stop_name", "character varying(100)"},
		{"station_name", "character varying(100)"}, {"station_descriptive_name", "character varying(200)"},
		{"station_id", "integer"}, {"order", "integer"}, {"red", "boolean"}, {"blue", "boolean"}, {"green", "boolean"}}
	tests := []struct {
		name      string
		n         *network.Network
		cols      [][2]string
		unmatched []string // lines the table cannot carry
		nullLines bool     // every row's lines column is null: the booleans say it all
	}{
		{"demo network, fleetsim's table", demo, stationsColumns, nil, true},
		{"GTFS ids, fleetsim's table", gtfs, stationsColumns, nil, false},
		{"demo network, the CTA pipeline's own table", &numbered, cta, []string{"brown", "orange", "pink", "purple", "yellow"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab := tableOf(t, tt.cols)
			rows, unmatched := tab.rows(tt.n)
			slices.Sort(unmatched)
			if !slices.Equal(unmatched, tt.unmatched) {
				t.Errorf("lines without a column: %v, want %v", unmatched, tt.unmatched)
			}
			if len(rows) != len(tt.n.Stations) {
				t.Fatalf("%d rows for %d stations", len(rows), len(tt.n.Stations))
			}
			got := readBack(t, tab, rows)
			for _, s := range tt.n.Stations {
				g, ok := got[s.ID]
				if !ok {
					t.Fatalf("station %s not read back", s.ID)
				}
				want := slices.DeleteFunc(slices.Clone(s.Lines), func(l string) bool { return slices.Contains(tt.unmatched, l) })
				if g.Name != s.Name || g.Stop != s.ID || !sameLines(g.Lines, want) {
					t.Errorf("station %s read back as %+v; want name %q, lines %v", s.ID, g, s.Name, want)
				}
				if tab.has(colLat) && (!g.HasPos || math.Abs(g.Lat-s.Pos.Lat()) > 1e-9 || math.Abs(g.Lon-s.Pos.Lon()) > 1e-9) {
					t.Errorf("station %s at %v,%v; want %v", s.ID, g.Lat, g.Lon, s.Pos)
				}
			}
			if i := slices.IndexFunc(tab.cols, func(c tableColumn) bool { return c.kind == colLines }); i >= 0 {
				nulls := 0
				for _, r := range rows {
					if r[i] == nil {
						nulls++
					}
				}
				if (nulls == len(rows)) != tt.nullLines {
					t.Errorf("%d of %d rows with a null lines column", nulls, len(rows))
				}
			}
		})
	}

	// fleetwatch record's history table is not mistaken for one.
	_, err = newStationsTable([]string{"station_id", "name", "lines", "lat", "lon", "updated_at", "topic", "partition", "offset"},
		[]string{"text", "text", "text[]", "double precision", "double precision", "timestamp with time zone", "text", "integer", "bigint"})
	if err == nil || !strings.Contains(err.Error(), "history table") {
		t.Errorf("history table: %v", err)
	}
}

// connectorConfig asks the Connect worker of FLEETWATCH_TEST_CONNECT for
// the stations connector's state and configuration, skipping the test when
// no worker is given or none answers there (failing it in CI, where .ci/run
// starts one). A worker whose connector is not running fails the test.
func connectorConfig(t *testing.T) map[string]string {
	t.Helper()
	api := os.Getenv("FLEETWATCH_TEST_CONNECT")
	if api == "" {
		t.Skip("FLEETWATCH_TEST_CONNECT not set (make connect-up, then FLEETWATCH_TEST_CONNECT=http://127.0.0.1:8083)")
	}
	get := func(path string, v any) {
		t.Helper()
		c := http.Client{Timeout: 10 * time.Second}
		resp, err := c.Get(strings.TrimSuffix(api, "/") + path)
		switch {
		case err != nil && os.Getenv("CI") != "":
			t.Fatalf("Kafka Connect at %s: %v (.ci/run starts it with make connect-up)", api, err)
		case err != nil:
			t.Skipf("no Kafka Connect at FLEETWATCH_TEST_CONNECT=%s (make connect-up): %v", api, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || json.Unmarshal(body, v) != nil {
			t.Fatalf("GET %s%s: %s %s", api, path, resp.Status, body)
		}
	}
	var status struct {
		Connector struct{ State string } `json:"connector"`
		Tasks     []struct{ State, Trace string }
	}
	get("/connectors/stations/status", &status)
	if status.Connector.State != "RUNNING" || len(status.Tasks) != 1 || status.Tasks[0].State != "RUNNING" {
		t.Fatalf("connector stations not running: %+v", status)
	}
	var cfg map[string]string
	get("/connectors/stations/config", &cfg)
	return cfg
}

// Real PostgreSQL, real Kafka Connect with the Debezium source, real Kafka:
// fleetsim seeds the table, fleetwatch shows its stations with names and
// lines; a rename and a delete made in SQL reach the snapshot, and so does
// fleetsim putting a renamed station back. The table is shared (it is the
// one make connect-up captures): the test seeds it idempotently, asserts on
// the stations it knows, and removes the rows it inserts.
func TestConnectStations(t *testing.T) {
	brokers := testutil.RealKafka(t)
	base := testutil.RealDB(t)
	cfg := connectorConfig(t)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + cfg["database.dbname"]
	db := u.String()
	topic := cfg["topic.prefix"] + ".public.stations"
	if cfg["table.include.list"] != "public.stations" {
		t.Fatalf("the connector captures %q, not public.stations", cfg["table.include.list"])
	}
	sim := testutil.Binary(t, "./cmd/sim", "fleetsim")
	fw := testutil.Binary(t, "./cmd/tui", "fleetwatch")
	demo, err := network.Load("")
	if err != nil {
		t.Fatal(err)
	}

	seed := func() stationsSummary {
		t.Helper()
		_, errOut, code := runBin(t, sim, "stations", "--db", db)
		lines := strings.Split(strings.TrimSpace(errOut), "\n")
		var sum stationsSummary
		if code != 0 || json.Unmarshal([]byte(lines[len(lines)-1]), &sum) != nil {
			t.Fatalf("fleetsim stations: exit %d: %s", code, errOut)
		}
		return sum
	}
	// The first run puts back whatever an earlier run left changed; the
	// second has nothing left to do.
	if sum := seed(); sum.Stations != len(demo.Stations) || sum.Inserted+sum.Updated+sum.Unchanged != sum.Stations {
		t.Fatalf("first seed: %+v", sum)
	}
	if sum := seed(); sum != (stationsSummary{Stations: len(demo.Stations), Unchanged: len(demo.Stations)}) {
		t.Fatalf("second seed changed rows: %+v", sum)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := conn.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	own := "zz-test-" + hex.EncodeToString(rnd[:])
	keep, drop := own+"-keep", own+"-drop"
	t.Cleanup(func() {
		// A fresh connection: the test's may be gone with its context.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, db); err == nil {
			c.Exec(ctx, "DELETE FROM public.stations WHERE stop_id LIKE $1", own+"%")
			c.Close(ctx)
		}
	})
	exec(`INSERT INTO public.stations (stop_id, station_id, stop_name, station_name, red, blue, green) VALUES
		($1, $1, 'Kept', 'Kept', true, false, false), ($2, $2, 'Dropped', 'Dropped', false, true, true)`, keep, drop)

	// snapshot is what fleetwatch shows of the topic, by station id.
	snapshot := func() map[string]summaryStationJSON {
		t.Helper()
		out, errOut, code := runBin(t, fw, "snapshot", "-b", brokers, "--json", "--until-caught-up", "--stations-topic", topic,
			"--vehicles-topic", own+".vehicles", "--weather-topic", own+".weather")
		var s struct {
			Stations []summaryStationJSON `json:"stations"`
			Stats    struct {
				Rejected map[string]int64 `json:"rejected"`
			} `json:"stats"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &s) != nil {
			t.Fatalf("snapshot: exit %d: %s", code, errOut)
		}
		if n := s.Stats.Rejected["stations"]; n != 0 {
			t.Fatalf("snapshot rejected %d records of %s: %s", n, topic, out)
		}
		m := map[string]summaryStationJSON{}
		for _, st := range s.Stations {
			m[st.StationID] = st
		}
		return m
	}
	// until polls the snapshot until cond holds of it, and returns it.
	until := func(what string, cond func(map[string]summaryStationJSON) bool) map[string]summaryStationJSON {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			s := snapshot()
			if cond(s) {
				return s
			}
			if time.Now().After(deadline) {
				t.Fatalf("after 60 s, fleetwatch does not show %s", what)
			}
			time.Sleep(300 * time.Millisecond)
		}
	}

	start := time.Now()
	s := until("the demo stations and the inserted ones", func(s map[string]summaryStationJSON) bool {
		return s[keep].Name == "Kept" && s[drop].Name == "Dropped" && len(s) >= len(demo.Stations)
	})
	t.Logf("inserted rows shown after %v", time.Since(start).Round(time.Millisecond))
	for _, d := range demo.Stations {
		g, ok := s[d.ID]
		switch {
		case !ok:
			t.Errorf("station %s not in the snapshot", d.ID)
		case g.Name != d.Name || !sameLines(g.Lines, d.Lines) || g.Lat == nil || math.Abs(*g.Lat-d.Pos.Lat()) > 1e-9:
			t.Errorf("station %s shown as %+v; want %q, lines %v", d.ID, g, d.Name, d.Lines)
		}
	}
	if g := s[drop]; !sameLines(g.Lines, []string{"blue", "green"}) || !sameLines(s[keep].Lines, []string{"red"}) {
		t.Errorf("inserted stations' lines: %v, %v", s[keep].Lines, g.Lines)
	}

	// A rename and a delete in SQL, and a demo station renamed by hand.
	start = time.Now()
	exec("UPDATE public.stations SET station_name = 'Renamed', stop_name = 'Renamed' WHERE stop_id = $1", keep)
	exec("DELETE FROM public.stations WHERE stop_id = $1", drop)
	exec("UPDATE public.stations SET station_name = $1 WHERE stop_id = 'howard'", "Howard "+own)
	until("the rename and the delete", func(s map[string]summaryStationJSON) bool {
		_, dropped := s[drop]
		return s[keep].Name == "Renamed" && !dropped && s["howard"].Name == "Howard "+own
	})
	t.Logf("rename and delete shown after %v", time.Since(start).Round(time.Millisecond))

	// fleetsim puts the demo station back, touching nothing else.
	if sum := seed(); sum.Updated != 1 || sum.Inserted != 0 {
		t.Errorf("seed after a rename: %+v, want one row updated", sum)
	}
	until("Howard named again", func(s map[string]summaryStationJSON) bool {
		return s["howard"].Name == "Howard" && s[keep].Name == "Renamed"
	})
}

// runBin runs a binary, returning its stdout, stderr and exit code (the
// black-box tests' run, which lives in package cli_test).
func runBin(t *testing.T, bin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return out.String(), errOut.String(), exit.ExitCode()
	case err != nil:
		t.Fatalf("run %s: %v", bin, err)
	}
	return out.String(), errOut.String(), 0
}

// summaryStationJSON is a station of fleetwatch's JSON summary.
type summaryStationJSON struct {
	StationID string   `json:"station_id"`
	Name      string   `json:"name"`
	Lines     []string `json:"lines"`
	Lat       *float64 `json:"lat"`
	Lon       *float64 `json:"lon"`
}

package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/spf13/pflag"

	"github.com/fleetwatch/fleetwatch/internal/network"
)

// `fleetsim stations` writes a network's stations into a PostgreSQL table of
// the CTA pipeline's shape, which Kafka Connect's Debezium source streams
// into pg.public.stations (make connect-up, scripts/connect-local.sh). The
// table's preparation for capture lives here only: connect-local.sh runs
// `fleetsim stations --if-empty` (or --prepare-only) rather than keep a copy
// of this SQL.

// The names Debezium is configured with in scripts/connect-local.sh: the
// topic is <prefix>.<schema>.<table>, so the table must be public.stations.
const (
	stationsTableName   = "public.stations"
	stationsPublication = "dbz_stations"
)

// stationsColumns are the table's columns when fleetsim creates it: the CTA
// pipeline's (stop_id … "order", red, blue, green), the CTA's other lines as
// boolean columns too (so each of the demo network's eight lines is a
// column), lines for any line without a column (a GTFS
// feed's routes), and the position. Ids are text: the demo network's are
// names ("clark-lake"); a table whose ids are integers, as the CTA's are,
// takes any feed whose ids are numbers. One row per station: a network has
// no per-direction platforms, so stop_id is the station's id and
// direction_id is null. lines is null unless a line of the row has no
// boolean column: then it lists every line of the row, since readers take
// it over the booleans.
var stationsColumns = [][2]string{
	{"stop_id", "text PRIMARY KEY"},
	{"direction_id", "text"},
	{"stop_name", "text"},
	{"station_name", "text"},
	{"station_descriptive_name", "text"},
	{"station_id", "text"},
	{"order", "integer"},
	{"red", "boolean"},
	{"blue", "boolean"},
	{"green", "boolean"},
	{"brown", "boolean"},
	{"purple", "boolean"},
	{"yellow", "boolean"},
	{"pink", "boolean"},
	{"orange", "boolean"},
	{"lines", "text[]"},
	{"lat", "double precision"},
	{"lon", "double precision"},
}

// createStationsSQL creates the table of stationsColumns when missing.
func createStationsSQL() string {
	var cols []string
	for _, c := range stationsColumns {
		cols = append(cols, pgx.Identifier{c[0]}.Sanitize()+" "+c[1])
	}
	return "CREATE TABLE IF NOT EXISTS " + stationsTableName + " (" + strings.Join(cols, ", ") + ")"
}

// lineSpellings are the boolean columns a stations table may name a line
// by, and the line each stands for: the spellings fleetwatch's decoder
// reads (internal/codec), which are the CTA's own (G, BRN, P, Pexp, Y, Pnk,
// O). Writing, "org" (the CTA's GTFS route id for the Orange line) also
// finds the orange column.
var lineSpellings = map[string]string{
	"red": "red", "blue": "blue", "green": "green", "g": "green", "brown": "brown", "brn": "brown",
	"purple": "purple", "p": "purple", "pexp": "purple", "yellow": "yellow", "y": "yellow",
	"pink": "pink", "pnk": "pink", "orange": "orange", "o": "orange",
}

// colKind is what fleetsim writes into a column of the table.
type colKind int

const (
	colStopID colKind = iota
	colStationID
	colStopName
	colStationName
	colDescriptive
	colOrder
	colLat
	colLon
	colLines
	colLine // a boolean column of one line
)

// namedColumns are the columns fleetsim fills by name; the table may lack
// any but stop_id, and other columns are left to their defaults.
var namedColumns = map[string]colKind{
	"stop_id": colStopID, "station_id": colStationID, "stop_name": colStopName, "station_name": colStationName,
	"station_descriptive_name": colDescriptive, "order": colOrder, "lat": colLat, "latitude": colLat,
	"lon": colLon, "lng": colLon, "longitude": colLon, "lines": colLines,
}

// tableColumn is a column of the table that fleetsim writes.
type tableColumn struct {
	name string // as the table spells it
	typ  string // its SQL type (format_type), which values are cast to
	kind colKind
	line string // colLine: the line it stands for
}

// stationsTable is the layout of the table found in the database.
type stationsTable struct {
	cols []tableColumn
}

// newStationsTable picks, from the table's columns (name and SQL type, in
// table order), those fleetsim writes.
func newStationsTable(names, types []string) (*stationsTable, error) {
	t := &stationsTable{}
	seen := map[colKind]bool{}
	for i, name := range names {
		c := tableColumn{name: name, typ: types[i]}
		if k, ok := namedColumns[name]; ok {
			c.kind = k
		} else if l, ok := lineSpellings[strings.ToLower(name)]; ok && types[i] == "boolean" {
			c.kind, c.line = colLine, l
		} else {
			continue
		}
		if c.kind != colLine {
			// latitude beside lat: the first of them gets the value.
			if seen[c.kind] {
				continue
			}
			seen[c.kind] = true
		}
		t.cols = append(t.cols, c)
	}
	if !slices.ContainsFunc(t.cols, func(c tableColumn) bool { return c.kind == colStopID }) {
		if slices.Contains(names, "updated_at") && slices.Contains(names, "offset") {
			return nil, fmt.Errorf("%s here is fleetwatch record's history table, not a table of stops; "+
				"point --db at a database of its own (make connect-up captures database cta)", stationsTableName)
		}
		return nil, fmt.Errorf("%s has no stop_id column, which fleetsim writes rows by", stationsTableName)
	}
	return t, nil
}

// hasLine tells whether a boolean column stands for exactly this line, so
// that a reader of the row gets the line's own id back.
func (t *stationsTable) hasLine(line string) bool {
	return slices.ContainsFunc(t.cols, func(c tableColumn) bool { return c.kind == colLine && c.line == line })
}

func (t *stationsTable) has(k colKind) bool {
	return slices.ContainsFunc(t.cols, func(c tableColumn) bool { return c.kind == k })
}

// lineOf is the line a boolean column stands for that a network's line id
// may be written in: its own spelling, whatever the case, or "org".
func lineOf(id string) string {
	id = strings.ToLower(id)
	if id == "org" {
		return "orange"
	}
	return lineSpellings[id]
}

// rows returns the table's rows for the network's stations, one per
// station, as values for t.cols in order: strings (nil for null), cast to
// the column's type by the statement, and []string for lines. unmatched
// lists the lines that no column can carry (no boolean column of their
// own and no lines column), which the rows then lack.
func (t *stationsTable) rows(n *network.Network) (rows [][]any, unmatched []string) {
	lineNames := map[string]string{}
	for _, l := range n.Lines {
		lineNames[l.ID] = l.Name
	}
	order := map[string]map[string]int{} // line → station → 1-based position
	text := func(s string) any { return &s }
	for _, s := range n.Stations {
		exact := true
		for _, l := range s.Lines {
			if !t.hasLine(l) {
				exact = false
				if !t.has(colLines) && !slices.Contains(unmatched, l) {
					unmatched = append(unmatched, l)
				}
			}
		}
		row := make([]any, len(t.cols))
		for i, c := range t.cols {
			switch c.kind {
			case colStopID, colStationID:
				row[i] = text(s.ID)
			case colStopName, colStationName:
				row[i] = text(s.Name)
			case colDescriptive:
				var names []string
				for _, l := range s.Lines {
					names = append(names, cmp.Or(lineNames[l], l))
				}
				d := s.Name
				if len(names) > 0 {
					d += " (" + strings.Join(names, ", ") + ")"
				}
				row[i] = text(d)
			case colOrder:
				if len(s.Lines) == 0 {
					continue
				}
				l := s.Lines[0]
				if order[l] == nil {
					order[l] = map[string]int{}
					for k, st := range n.StationsOf(l) {
						order[l][st.ID] = k + 1
					}
				}
				row[i] = text(strconv.Itoa(order[l][s.ID]))
			case colLat:
				row[i] = text(strconv.FormatFloat(s.Pos.Lat(), 'g', -1, 64))
			case colLon:
				row[i] = text(strconv.FormatFloat(s.Pos.Lon(), 'g', -1, 64))
			case colLines:
				if !exact {
					row[i] = slices.Clone(s.Lines)
				}
			case colLine:
				on := slices.ContainsFunc(s.Lines, func(l string) bool { return lineOf(l) == c.line })
				row[i] = text(strconv.FormatBool(on))
			}
		}
		rows = append(rows, row)
	}
	return rows, unmatched
}

// upsertSQL inserts a row, or updates the row of its stop_id where it
// differs: a row that is already as written is not touched, so running
// twice changes nothing and Debezium sees no change events. It returns
// whether the row was inserted, and no row when nothing changed.
func (t *stationsTable) upsertSQL() string {
	var cols, vals, set, old, new []string
	for i, c := range t.cols {
		id := pgx.Identifier{c.name}.Sanitize()
		cast := "::text::" + c.typ
		if c.kind == colLines {
			cast = "::text[]::" + c.typ
		}
		cols = append(cols, id)
		vals = append(vals, "$"+strconv.Itoa(i+1)+cast)
		if c.kind != colStopID {
			set = append(set, id+" = EXCLUDED."+id)
			old = append(old, "s."+id)
			new = append(new, "EXCLUDED."+id)
		}
	}
	q := "INSERT INTO " + stationsTableName + " AS s (" + strings.Join(cols, ", ") + ") VALUES (" + strings.Join(vals, ", ") + ")" +
		" ON CONFLICT (stop_id) DO "
	if len(set) == 0 {
		return q + "NOTHING RETURNING true"
	}
	return q + "UPDATE SET " + strings.Join(set, ", ") +
		" WHERE (" + strings.Join(old, ", ") + ") IS DISTINCT FROM (" + strings.Join(new, ", ") + ")" +
		" RETURNING (xmax = 0)"
}

// stationsSummary is the one JSON line `fleetsim stations` prints on exit.
type stationsSummary struct {
	Stations  int `json:"stations"`
	Inserted  int `json:"inserted"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
}

func runStations(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet(simProg+" stations", pflag.ContinueOnError)
	var c connFlags
	db := fs.String("db", "", "PostgreSQL URL of the database whose public.stations to write (FLEETWATCH_DB is not read: it names the history database, whose stations table is another)")
	fs.StringArrayVar(&c.networks, "network", nil, "network GeoJSON file; repeatable, the files are merged (default the embedded Chicago network)")
	fs.StringVar(&c.gtfs, "gtfs", "", "static GTFS feed (.zip or directory) whose stations to write instead")
	ifEmpty := fs.Bool("if-empty", false, "write the stations only when the table has no rows (make connect-up seeds with it)")
	prepareOnly := fs.Bool("prepare-only", false, "create and prepare the table for capture, write no rows")
	if err := parse(fs, args, stdout); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return usagef("unexpected argument %q; see --help", fs.Arg(0))
	case *db == "":
		return usagef("--db URL is needed")
	case *ifEmpty && *prepareOnly:
		return usagef("--if-empty and --prepare-only: give one of them")
	}
	n, err := c.loadNetwork(true)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	conn, err := connectStations(ctx, *db)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())

	sum := stationsSummary{}
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		t, err := prepareStations(ctx, tx)
		if err != nil || *prepareOnly {
			return err
		}
		if *ifEmpty {
			var hasRows bool
			if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+stationsTableName+")").Scan(&hasRows); err != nil {
				return fmt.Errorf("stations: %w", err)
			}
			if hasRows {
				fmt.Fprintf(stderr, "%s: stations: %s has rows already; left as they are (--if-empty)\n", simProg, stationsTableName)
				return nil
			}
		}
		rows, unmatched := t.rows(n)
		if len(unmatched) > 0 {
			what := "line " + unmatched[0] + " (a boolean column named after it"
			if len(unmatched) > 1 {
				what = "lines " + strings.Join(unmatched, ", ") + " (boolean columns named after them"
			}
			fmt.Fprintf(stderr, "%s: stations: %s has no column for %s, or lines text[]); rows are written without them\n",
				simProg, stationsTableName, what)
		}
		sum.Stations = len(rows)
		return upsertStations(ctx, tx, t, n, rows, &sum)
	})
	if err != nil {
		return err
	}
	b, _ := json.Marshal(sum)
	fmt.Fprintf(stderr, "%s\n", b)
	return nil
}

// connectStations connects to the database, saying in one line which
// server failed and why.
func connectStations(ctx context.Context, url string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		// pgconn masks the password in its message.
		return nil, usagef("--db: bad database URL: %v", err)
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	if _, ok := cfg.RuntimeParams["application_name"]; !ok {
		cfg.RuntimeParams["application_name"] = simProg
	}
	addr := fmt.Sprintf("%s@%s/%s", cfg.User, net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))), cfg.Database)
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err == nil {
		return conn, nil
	}
	var pg *pgconn.PgError
	switch {
	case errors.As(err, &pg) && pg.Code == "3D000": // invalid_catalog_name
		return nil, fmt.Errorf("stations: connect %s: %s; create it (make connect-up creates database cta)", addr, pg.Message)
	case errors.As(err, &pg):
		return nil, fmt.Errorf("stations: connect %s: %s", addr, pg.Message)
	case errors.Is(err, syscall.ECONNREFUSED):
		return nil, fmt.Errorf("stations: connect %s: connection refused; is PostgreSQL running there (make pg-up)?", addr)
	}
	// pgconn's text may span lines, one per address tried; the last says why.
	msg := err.Error()
	if i := strings.LastIndex(msg, "\n"); i >= 0 {
		msg = msg[i+1:]
	}
	return nil, fmt.Errorf("stations: connect %s: %s", addr, strings.TrimSpace(msg))
}

// prepareStations makes public.stations ready for Debezium, whoever
// created it: the table (when missing); REPLICA IDENTITY FULL, without
// which updates carry no row before and deletes only the key; and the
// publication, created here by the table's owner because connectors that
// create it themselves at once collide (../shared/CONNECT.md). It returns
// the table's layout.
func prepareStations(ctx context.Context, tx pgx.Tx) (*stationsTable, error) {
	wrap := func(what string, err error) error { return fmt.Errorf("stations: %s: %w", what, err) }
	// Two preparers at once (make connect-up beside a test) would race on
	// CREATE TABLE IF NOT EXISTS: one waits for the other.
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext('fleetsim stations'))"); err != nil {
		return nil, wrap("lock", err)
	}
	if _, err := tx.Exec(ctx, createStationsSQL()); err != nil {
		return nil, wrap("create "+stationsTableName, err)
	}
	var names, types []string
	err := tx.QueryRow(ctx, `SELECT array_agg(attname::text ORDER BY attnum), array_agg(format_type(atttypid, atttypmod) ORDER BY attnum)
		FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped`, stationsTableName).Scan(&names, &types)
	if err != nil {
		return nil, wrap("read the columns of "+stationsTableName, err)
	}
	t, err := newStationsTable(names, types)
	if err != nil {
		return nil, fmt.Errorf("stations: %w", err)
	}
	var ident string
	if err := tx.QueryRow(ctx, "SELECT relreplident::text FROM pg_class WHERE oid = $1::regclass", stationsTableName).Scan(&ident); err != nil {
		return nil, wrap("read the replica identity", err)
	}
	// Only when needed: the ALTER locks the table against Debezium's reads.
	if ident != "f" {
		if _, err := tx.Exec(ctx, "ALTER TABLE "+stationsTableName+" REPLICA IDENTITY FULL"); err != nil {
			return nil, wrap("set replica identity full", err)
		}
	}
	var all, member bool
	err = tx.QueryRow(ctx, `SELECT p.puballtables, EXISTS (SELECT 1 FROM pg_publication_tables t
		WHERE t.pubname = p.pubname AND t.schemaname = 'public' AND t.tablename = 'stations')
		FROM pg_publication p WHERE p.pubname = $1`, stationsPublication).Scan(&all, &member)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		_, err = tx.Exec(ctx, "CREATE PUBLICATION "+stationsPublication+" FOR TABLE "+stationsTableName)
	case err == nil && !all && !member:
		// A table dropped and created again has left its publication.
		_, err = tx.Exec(ctx, "ALTER PUBLICATION "+stationsPublication+" ADD TABLE "+stationsTableName)
	}
	if err != nil {
		return nil, wrap("publication "+stationsPublication, err)
	}
	return t, nil
}

// upsertStations writes the rows in one batch, counting what changed.
func upsertStations(ctx context.Context, tx pgx.Tx, t *stationsTable, n *network.Network, rows [][]any, sum *stationsSummary) error {
	q := t.upsertSQL()
	var b pgx.Batch
	for _, r := range rows {
		b.Queue(q, r...)
	}
	res := tx.SendBatch(ctx, &b)
	defer res.Close()
	for i := range rows {
		var inserted bool
		err := res.QueryRow().Scan(&inserted)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			sum.Unchanged++
		case err != nil:
			var pg *pgconn.PgError
			if errors.As(err, &pg) && pg.Code == "42P10" { // invalid_column_reference: no unique index for ON CONFLICT
				return fmt.Errorf("stations: %s has no primary key or unique index on stop_id, which fleetsim writes rows by", stationsTableName)
			}
			return fmt.Errorf("stations: write station %q: %w", n.Stations[i].ID, err)
		case inserted:
			sum.Inserted++
		default:
			sum.Updated++
		}
	}
	return res.Close()
}

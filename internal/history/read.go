package history

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/fleetwatch/fleetwatch/internal/model"
)

// since is a lower time bound; the zero time means none.
func since(t time.Time) pgtype.Timestamptz {
	if t.IsZero() {
		return pgtype.Timestamptz{InfinityModifier: pgtype.NegativeInfinity, Valid: true}
	}
	return pgtype.Timestamptz{Time: t, Valid: true}
}

// positionCols and scanPosition read a vehicle_positions row.
const positionCols = `vehicle_id, removed, line, lat, lon, speed_kmh, heading, status, stop_id, delay_s, occupancy, ts`

type positionScan struct {
	v                                   model.VehiclePosition
	removed                             bool
	line, status, stop                  pgtype.Text
	lat, lon, speed, heading, delay, oc pgtype.Float8
}

func (p *positionScan) dest() []any {
	return []any{&p.v.VehicleID, &p.removed, &p.line, &p.lat, &p.lon, &p.speed, &p.heading, &p.status, &p.stop,
		&p.delay, &p.oc, &p.v.TS}
}

// position returns the scanned row as the report it was stored from.
func (p *positionScan) position() model.VehiclePosition {
	v := model.VehiclePosition{VehicleID: p.v.VehicleID, Line: p.line.String, Lat: p.lat.Float64, Lon: p.lon.Float64,
		Status: model.Status(p.status.String), StopID: p.stop.String, TS: p.v.TS.UTC()}
	if p.speed.Valid {
		v.SpeedKmh, v.Has = p.speed.Float64, v.Has|model.HasSpeed
	}
	if p.heading.Valid {
		v.Heading, v.Has = p.heading.Float64, v.Has|model.HasHeading
	}
	if p.delay.Valid {
		v.DelayS, v.Has = p.delay.Float64, v.Has|model.HasDelay
	}
	if p.oc.Valid {
		v.Occupancy, v.Has = p.oc.Float64, v.Has|model.HasOccupancy
	}
	return v
}

// FleetAt returns the fleet as it was at a moment: each vehicle's last
// report at or before at and no older than expire (0: however old), in
// vehicle id order. A vehicle whose last record then was a tombstone is
// not in it. Among reports with the same time the later record wins, as
// on the live screen.
func (s *Store) FleetAt(ctx context.Context, at time.Time, expire time.Duration) ([]model.VehiclePosition, error) {
	// DISTINCT ON over the window would read and sort every report in it:
	// 6 M rows and 10 s for 10 000 vehicles reporting each second and a
	// 10-minute expire. Instead walk the (vehicle_id, ts) index from one
	// vehicle to the next (bounded by whole days, so that only the day
	// partitions of the window are read and each step is one probe), and
	// take each vehicle's last report with one more: a quarter of a second
	// for the same fleet.
	var lo, dayLo time.Time
	if expire > 0 {
		lo = at.Add(-expire)
		dayLo = dayStart(unixDay(lo))
	}
	dayHi := dayStart(unixDay(at) + 1)
	rows, err := s.pool.Query(ctx, `
		WITH RECURSIVE ids(id) AS (
			(SELECT vehicle_id FROM vehicle_positions WHERE ts >= $3 AND ts < $4 ORDER BY vehicle_id LIMIT 1)
			UNION ALL
			SELECT (SELECT vehicle_id FROM vehicle_positions WHERE vehicle_id > ids.id AND ts >= $3 AND ts < $4
				ORDER BY vehicle_id LIMIT 1)
			FROM ids WHERE ids.id IS NOT NULL
		)
		SELECT p.* FROM ids CROSS JOIN LATERAL (
			SELECT `+positionCols+` FROM vehicle_positions
			WHERE vehicle_id = ids.id AND ts <= $1 AND ts >= $2
			ORDER BY ts DESC, "offset" DESC, idx DESC LIMIT 1) p
		WHERE NOT p.removed
		ORDER BY p.vehicle_id`, at, since(lo), since(dayLo), dayHi)
	if err != nil {
		return nil, fmt.Errorf("history: fleet at %s: %w", at.Format(time.RFC3339), err)
	}
	var (
		p   positionScan
		out = []model.VehiclePosition{}
	)
	if _, err := pgx.ForEachRow(rows, p.dest(), func() error {
		out = append(out, p.position())
		return nil
	}); err != nil {
		return nil, fmt.Errorf("history: fleet at %s: %w", at.Format(time.RFC3339), err)
	}
	return out, nil
}

// VehicleTrack returns a vehicle's reports at or after from (the zero time:
// the start) in time order.
func (s *Store) VehicleTrack(ctx context.Context, id string, from time.Time) ([]model.VehiclePosition, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+positionCols+` FROM vehicle_positions
		WHERE vehicle_id = $1 AND ts >= $2 AND NOT removed ORDER BY ts, "offset", idx`, id, since(from))
	var p positionScan
	return collect(rows, err, "track of "+id, p.dest(), p.position)
}

// collect reads every row of a query into a slice: each is scanned into
// dest, and row makes the result of it. An empty result is an empty slice,
// as the live snapshot's lists are.
func collect[T any](rows pgx.Rows, err error, what string, dest []any, row func() T) ([]T, error) {
	if err != nil {
		return nil, fmt.Errorf("history: %s: %w", what, err)
	}
	out := []T{}
	if _, err := pgx.ForEachRow(rows, dest, func() error {
		out = append(out, row())
		return nil
	}); err != nil {
		return nil, fmt.Errorf("history: %s: %w", what, err)
	}
	return out, nil
}

// StationsAt returns the stations as they were at a moment, in id order:
// each station with an event at or before at, with its latest reference
// record by then, its arrivals and entries up to at, and those of the
// window before at. The window is counted in whole minutes, the minute of
// at included, as the live station board counts it.
func (s *Store) StationsAt(ctx context.Context, at time.Time, window time.Duration) ([]model.StationState, error) {
	if window <= 0 {
		window = model.DefaultWindow
	}
	n := max(int64(window/time.Minute), 1)
	winStart := time.Unix((at.Unix()/60-n+1)*60, 0)
	rows, err := s.pool.Query(ctx, `
		WITH ev AS (
			SELECT station_id,
				count(*) FILTER (WHERE type = 'arrival') AS arrivals,
				coalesce(sum(entries) FILTER (WHERE type = 'turnstile'), 0)::bigint AS entries,
				max(ts) FILTER (WHERE type = 'arrival') AS last_arrival,
				count(*) FILTER (WHERE type = 'arrival' AND ts >= $2) AS arrivals_w,
				coalesce(sum(entries) FILTER (WHERE type = 'turnstile' AND ts >= $2), 0)::bigint AS entries_w
			FROM station_events WHERE ts <= $1 GROUP BY station_id
		), ref AS (
			SELECT DISTINCT ON (station_id) station_id, name, lines, lat, lon
			FROM station_events WHERE type = 'station' AND ts <= $1
			ORDER BY station_id, ts DESC, "offset" DESC, idx DESC
		)
		SELECT ev.station_id, ref.name, ref.lines, ref.lat, ref.lon,
			arrivals, entries, last_arrival, arrivals_w, entries_w
		FROM ev LEFT JOIN ref USING (station_id) ORDER BY ev.station_id`, at, winStart)
	if err != nil {
		return nil, fmt.Errorf("history: stations at %s: %w", at.Format(time.RFC3339), err)
	}
	var (
		st       model.StationState
		name     pgtype.Text
		lat, lon pgtype.Float8
		last     pgtype.Timestamptz
		out      = []model.StationState{}
	)
	_, err = pgx.ForEachRow(rows, []any{&st.StationID, &name, &st.Lines, &lat, &lon,
		&st.Arrivals, &st.Entries, &last, &st.ArrivalsWindow, &st.EntriesWindow}, func() error {
		x := st
		x.Name, x.Lat, x.Lon, x.HasPos = name.String, lat.Float64, lon.Float64, lat.Valid && lon.Valid
		if last.Valid {
			x.LastArrival = last.Time.UTC()
		}
		out = append(out, x)
		st.Lines = nil // scanned into afresh: the appended copy keeps its own
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("history: stations at %s: %w", at.Format(time.RFC3339), err)
	}
	return out, nil
}

const weatherCols = `area, temp_c, wind_kmh, humidity, condition, ts`

type weatherScan struct {
	w                    model.Weather
	temp, wind, humidity pgtype.Float8
	cond                 pgtype.Text
}

func (w *weatherScan) dest() []any {
	return []any{&w.w.Area, &w.temp, &w.wind, &w.humidity, &w.cond, &w.w.TS}
}

func (w *weatherScan) weather() model.Weather {
	return model.Weather{Area: w.w.Area, TempC: w.temp.Float64, WindKmh: w.wind.Float64, Humidity: w.humidity.Float64,
		Condition: w.cond.String, TS: w.w.TS.UTC()}
}

func (s *Store) queryWeather(ctx context.Context, what, sql string, args ...any) ([]model.Weather, error) {
	rows, err := s.pool.Query(ctx, sql, args...)
	var w weatherScan
	return collect(rows, err, what, w.dest(), w.weather)
}

// WeatherAt returns each area's latest reading at or before at, in area
// order.
func (s *Store) WeatherAt(ctx context.Context, at time.Time) ([]model.Weather, error) {
	// The areas are few and the readings many: walk the (area, ts) index
	// from area to area rather than reading every reading before at.
	return s.queryWeather(ctx, "weather at "+at.Format(time.RFC3339), `
		WITH RECURSIVE areas(area) AS (
			SELECT min(area) FROM weather
			UNION ALL
			SELECT (SELECT min(area) FROM weather WHERE area > a.area) FROM areas a WHERE a.area IS NOT NULL
		)
		SELECT w.* FROM areas a CROSS JOIN LATERAL (
			SELECT `+weatherCols+` FROM weather WHERE area = a.area AND ts <= $1
			ORDER BY ts DESC, "offset" DESC, idx DESC LIMIT 1) w
		ORDER BY w.area`, at)
}

// WeatherSince returns the readings of an area ("" for every area) taken
// at or after from (the zero time: from the start), in time order.
func (s *Store) WeatherSince(ctx context.Context, area string, from time.Time) ([]model.Weather, error) {
	if area == "" {
		return s.queryWeather(ctx, "weather", `SELECT `+weatherCols+` FROM weather WHERE ts >= $1
			ORDER BY ts, area, "offset", idx`, since(from))
	}
	return s.queryWeather(ctx, "weather of "+area, `SELECT `+weatherCols+` FROM weather WHERE area = $1 AND ts >= $2
		ORDER BY ts, "offset", idx`, area, since(from))
}

const stationEventCols = `topic, partition, "offset", idx, ts, station_id, type, vehicle_id, line, direction,
	prev_station_id, entries, name, lines, lat, lon`

type stationEventScan struct {
	e                              StationEvent
	vehicle, line, dir, prev, name pgtype.Text
	entries                        pgtype.Int8
	lat, lon                       pgtype.Float8
}

func (x *stationEventScan) dest() []any {
	e := &x.e
	return []any{&e.Topic, &e.Partition, &e.Offset, &e.Idx, &e.TS, &e.StationID, &e.Type, &x.vehicle, &x.line, &x.dir,
		&x.prev, &x.entries, &x.name, &e.Lines, &x.lat, &x.lon}
}

func (x *stationEventScan) event() StationEvent {
	e := x.e
	e.TS = e.TS.UTC()
	e.VehicleID, e.Line, e.Direction, e.PrevStationID, e.Name = x.vehicle.String, x.line.String, x.dir.String, x.prev.String, x.name.String
	e.Entries, e.Lat, e.Lon, e.HasPos = x.entries.Int64, x.lat.Float64, x.lon.Float64, x.lat.Valid && x.lon.Valid
	x.e.Lines = nil // the returned copy keeps the slice
	return e
}

// StationEventsSince returns a station's events ("" for every station's)
// at or after from (the zero time: from the start), in time order.
func (s *Store) StationEventsSince(ctx context.Context, stationID string, from time.Time) ([]StationEvent, error) {
	var (
		rows pgx.Rows
		err  error
	)
	if stationID == "" {
		rows, err = s.pool.Query(ctx, `SELECT `+stationEventCols+` FROM station_events WHERE ts >= $1
			ORDER BY ts, topic, partition, "offset", idx`, since(from))
	} else {
		rows, err = s.pool.Query(ctx, `SELECT `+stationEventCols+` FROM station_events WHERE station_id = $1 AND ts >= $2
			ORDER BY ts, topic, partition, "offset", idx`, stationID, since(from))
	}
	var x stationEventScan
	return collect(rows, err, "station events", x.dest(), x.event)
}

// ArrivalsBetween returns every station's arrivals with from <= ts <= to,
// in time order: the window before a moment, however much was recorded
// after it.
func (s *Store) ArrivalsBetween(ctx context.Context, from, to time.Time) ([]StationEvent, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+stationEventCols+` FROM station_events
		WHERE type = 'arrival' AND ts >= $1 AND ts <= $2
		ORDER BY ts, topic, partition, "offset", idx`, since(from), to)
	var x stationEventScan
	return collect(rows, err, "arrivals", x.dest(), x.event)
}

// Stations returns the stations table: each station's newest reference
// record, in id order.
func (s *Store) Stations(ctx context.Context) ([]Station, error) {
	rows, err := s.pool.Query(ctx, `SELECT station_id, name, lines, lat, lon, updated_at, topic, partition, "offset"
		FROM stations ORDER BY station_id`)
	if err != nil {
		return nil, fmt.Errorf("history: stations: %w", err)
	}
	var (
		st       Station
		name     pgtype.Text
		lat, lon pgtype.Float8
		out      = []Station{}
	)
	_, err = pgx.ForEachRow(rows, []any{&st.StationID, &name, &st.Lines, &lat, &lon, &st.UpdatedAt, &st.Topic,
		&st.Partition, &st.Offset}, func() error {
		x := st
		x.Name, x.Lat, x.Lon, x.HasPos, x.UpdatedAt = name.String, lat.Float64, lon.Float64, lat.Valid && lon.Valid, st.UpdatedAt.UTC()
		out = append(out, x)
		st.Lines = nil
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("history: stations: %w", err)
	}
	return out, nil
}

// Span returns the times of the first and the last stored event (zero
// times when there is none): the extent of a replay's time bar. Station
// reference records are left out: they carry the time they were loaded,
// not a time in the data, and a simulated morning loaded this afternoon
// would stretch the bar over hours of nothing.
func (s *Store) Span(ctx context.Context) (first, last time.Time, err error) {
	var lo, hi pgtype.Timestamptz
	err = s.pool.QueryRow(ctx, `SELECT least(
			(SELECT min(ts) FROM vehicle_positions), (SELECT min(ts) FROM station_events WHERE type <> 'station'),
			(SELECT min(ts) FROM weather)),
		greatest(
			(SELECT max(ts) FROM vehicle_positions), (SELECT max(ts) FROM station_events WHERE type <> 'station'),
			(SELECT max(ts) FROM weather))`).
		Scan(&lo, &hi)
	if err != nil {
		return first, last, fmt.Errorf("history: span: %w", err)
	}
	if lo.Valid {
		first = lo.Time.UTC()
	}
	if hi.Valid {
		last = hi.Time.UTC()
	}
	return first, last, nil
}

// Events calls fn with every stored event whose time is in [from, to), in
// time order, for a replay: vehicle reports and tombstones, station
// reference records, arrivals and turnstile counts, and weather. The rows
// stream from the server as fn consumes them; an error from fn stops the
// walk and is returned.
func (s *Store) Events(ctx context.Context, from, to time.Time, fn func(model.Event) error) error {
	rows, err := s.pool.Query(ctx, `
		SELECT 1 AS k, ts, vehicle_id AS a, line AS b, status AS c, stop_id AS d, NULL::text AS e, NULL::text AS f,
			NULL::text AS g, NULL::text[] AS lines, removed, lat, lon, speed_kmh, heading, delay_s, occupancy, NULL::bigint AS entries
		FROM vehicle_positions WHERE ts >= $1 AND ts < $2
		UNION ALL
		SELECT 2, ts, station_id, type, vehicle_id, line, direction, prev_station_id,
			name, lines, false, lat, lon, NULL, NULL, NULL, NULL, entries
		FROM station_events WHERE ts >= $1 AND ts < $2
		UNION ALL
		SELECT 3, ts, area, condition, NULL, NULL, NULL, NULL,
			NULL, NULL, false, temp_c, wind_kmh, humidity, NULL, NULL, NULL, NULL
		FROM weather WHERE ts >= $1 AND ts < $2
		ORDER BY ts`, from, to)
	if err != nil {
		return fmt.Errorf("history: events: %w", err)
	}
	var (
		k       int32
		ts      time.Time
		a       string
		b, c, d pgtype.Text
		e, f, g pgtype.Text
		lines   []string
		removed bool
		n       [6]pgtype.Float8
		entries pgtype.Int8
	)
	_, err = pgx.ForEachRow(rows, []any{&k, &ts, &a, &b, &c, &d, &e, &f, &g, &lines, &removed,
		&n[0], &n[1], &n[2], &n[3], &n[4], &n[5], &entries}, func() error {
		ts = ts.UTC()
		var ev model.Event
		switch k {
		case 1:
			if removed {
				ev = model.VehicleRemoved{VehicleID: a}
				break
			}
			p := positionScan{line: b, status: c, stop: d,
				lat: n[0], lon: n[1], speed: n[2], heading: n[3], delay: n[4], oc: n[5]}
			p.v.VehicleID, p.v.TS = a, ts
			ev = p.position()
		case 2:
			x := StationEvent{Type: b.String, TS: ts, StationID: a, VehicleID: c.String, Line: d.String,
				Direction: e.String, PrevStationID: f.String, Name: g.String, Entries: entries.Int64, Lines: lines,
				Lat: n[0].Float64, Lon: n[1].Float64, HasPos: n[0].Valid && n[1].Valid}
			ev = x.Event()
			lines = nil // the event keeps the slice
		case 3:
			ev = model.Weather{Area: a, Condition: b.String, TempC: n[0].Float64, WindKmh: n[1].Float64,
				Humidity: n[2].Float64, TS: ts}
		}
		return fn(ev)
	})
	if err != nil {
		return fmt.Errorf("history: events: %w", err)
	}
	return nil
}

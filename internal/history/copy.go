package history

import "github.com/fleetwatch/fleetwatch/internal/model"

// The COPY sources: each hands pgx one row at a time from a batch's slice,
// reusing one []any, so a batch is not first copied into [][]any.

var positionColumns = []string{"topic", "partition", "offset", "idx", "ts", "vehicle_id", "removed", "line",
	"lat", "lon", "speed_kmh", "heading", "status", "stop_id", "delay_s", "occupancy"}

type positionRows struct {
	rows []Position
	i    int
	vals []any
}

func (r *positionRows) Next() bool { r.i++; return r.i <= len(r.rows) }
func (r *positionRows) Err() error { return nil }

func (r *positionRows) Values() ([]any, error) {
	p := &r.rows[r.i-1]
	v := append(r.vals[:0], p.Topic, p.Partition, p.Offset, p.Idx, p.TS, p.VehicleID, p.Removed)
	if p.Removed {
		v = append(v, nil, nil, nil, nil, nil, nil, nil, nil, nil)
	} else {
		v = append(v, nullText(p.Line), p.Lat, p.Lon,
			optional(p.Has&model.HasSpeed != 0, p.SpeedKmh), optional(p.Has&model.HasHeading != 0, p.Heading),
			nullText(string(p.Status)), nullText(p.StopID),
			optional(p.Has&model.HasDelay != 0, p.DelayS), optional(p.Has&model.HasOccupancy != 0, p.Occupancy))
	}
	r.vals = v
	return v, nil
}

var stationEventColumns = []string{"topic", "partition", "offset", "idx", "ts", "station_id", "type", "vehicle_id",
	"line", "direction", "prev_station_id", "entries", "name", "lines", "lat", "lon"}

type stationEventRows struct {
	rows []StationEvent
	i    int
	vals []any
}

func (r *stationEventRows) Next() bool { r.i++; return r.i <= len(r.rows) }
func (r *stationEventRows) Err() error { return nil }

func (r *stationEventRows) Values() ([]any, error) {
	e := &r.rows[r.i-1]
	var entries, lines any
	if e.Type == TypeTurnstile {
		entries = e.Entries
	}
	if e.Type == TypeStation && e.Lines != nil {
		lines = e.Lines
	}
	r.vals = append(r.vals[:0], e.Topic, e.Partition, e.Offset, e.Idx, e.TS, e.StationID, e.Type, nullText(e.VehicleID),
		nullText(e.Line), nullText(e.Direction), nullText(e.PrevStationID), entries, nullText(e.Name), lines,
		optional(e.HasPos, e.Lat), optional(e.HasPos, e.Lon))
	return r.vals, nil
}

var weatherColumns = []string{"topic", "partition", "offset", "idx", "ts", "area", "temp_c", "wind_kmh", "humidity", "condition"}

type weatherRows struct {
	rows []WeatherRow
	i    int
	vals []any
}

func (r *weatherRows) Next() bool { r.i++; return r.i <= len(r.rows) }
func (r *weatherRows) Err() error { return nil }

func (r *weatherRows) Values() ([]any, error) {
	w := &r.rows[r.i-1]
	r.vals = append(r.vals[:0], w.Topic, w.Partition, w.Offset, w.Idx, w.TS, w.Area, w.TempC, w.WindKmh, w.Humidity,
		nullText(w.Condition))
	return r.vals, nil
}

var rejectedColumns = []string{"topic", "partition", "offset", "stream", "category", "reason", "partial", "size", "excerpt", "at"}

type rejectedRows struct {
	rows []Rejected
	i    int
	vals []any
}

func (r *rejectedRows) Next() bool { r.i++; return r.i <= len(r.rows) }
func (r *rejectedRows) Err() error { return nil }

func (r *rejectedRows) Values() ([]any, error) {
	x := &r.rows[r.i-1]
	r.vals = append(r.vals[:0], x.Topic, x.Partition, x.Offset, x.Stream, x.Category, storableText(x.Reason), x.Partial,
		int32(x.Size), x.Excerpt, x.At)
	return r.vals, nil
}

// nullText stores an absent (empty) text as NULL, which is how SQL says
// "not given".
func nullText(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func optional(has bool, f float64) any {
	if !has {
		return nil
	}
	return f
}

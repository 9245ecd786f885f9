package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Record is one message as read from a stream, before decoding.
type Record struct {
	Kind  Kind      // which stream the record belongs to
	Key   []byte    // the message key; a tombstone's vehicle id
	Value []byte    // nil for a tombstone
	Time  time.Time // the broker's record timestamp; used where the value has no ts
}

// DecodeError says why a record was rejected.
type DecodeError struct {
	Field  string
	Reason string
}

func (e *DecodeError) Error() string {
	if e.Field == "" {
		return e.Reason
	}
	return e.Field + ": " + e.Reason
}

func fieldErr(field, format string, args ...any) error {
	return &DecodeError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// epochMillisThreshold separates epoch seconds from epoch milliseconds: a
// number above it would be a date past the year 5138 in seconds.
const epochMillisThreshold = 1e11

// Decode turns one record of the given stream into an event. Errors are
// *DecodeError values: the caller counts the record as rejected and goes on.
func Decode(rec Record) (Event, error) {
	switch rec.Kind {
	case KindVehicles:
		return decodeVehicle(rec)
	case KindStations:
		return decodeStation(rec)
	case KindWeather:
		return decodeWeather(rec)
	}
	return nil, fieldErr("", "unknown stream kind %d", rec.Kind)
}

type vehicleWire struct {
	VehicleID string          `json:"vehicle_id"`
	Line      string          `json:"line"`
	Lat       *float64        `json:"lat"`
	Lon       *float64        `json:"lon"`
	Heading   *float64        `json:"heading"`
	SpeedKmh  *float64        `json:"speed_kmh"`
	Status    string          `json:"status"`
	StopID    string          `json:"stop_id"`
	DelayS    *float64        `json:"delay_s"`
	Occupancy *float64        `json:"occupancy"`
	TS        json.RawMessage `json:"ts"`
}

func decodeVehicle(rec Record) (Event, error) {
	if rec.Value == nil {
		if len(rec.Key) == 0 {
			return nil, fieldErr("key", "tombstone without a vehicle id key")
		}
		return VehicleRemoved{VehicleID: string(rec.Key)}, nil
	}
	var w vehicleWire
	if err := unmarshalObject(rec.Value, &w); err != nil {
		return nil, err
	}
	v := VehiclePosition{VehicleID: strings.TrimSpace(w.VehicleID), Line: w.Line, StopID: w.StopID}
	if v.VehicleID == "" {
		return nil, fieldErr("vehicle_id", "missing or empty")
	}
	var err error
	if v.Lat, v.Lon, err = latLon(w.Lat, w.Lon); err != nil {
		return nil, err
	}
	opt := []struct {
		name string
		src  *float64
		dst  *float64
		bit  Fields
	}{
		{"heading", w.Heading, &v.Heading, HasHeading},
		{"speed_kmh", w.SpeedKmh, &v.SpeedKmh, HasSpeed},
		{"delay_s", w.DelayS, &v.DelayS, HasDelay},
		{"occupancy", w.Occupancy, &v.Occupancy, HasOccupancy},
	}
	for _, o := range opt {
		if o.src == nil {
			continue
		}
		if !finite(*o.src) {
			return nil, fieldErr(o.name, "not a finite number")
		}
		*o.dst = *o.src
		v.Has |= o.bit
	}
	if v.Has&HasSpeed != 0 && v.SpeedKmh < 0 {
		return nil, fieldErr("speed_kmh", "negative")
	}
	switch Status(w.Status) {
	case "":
		v.Status = StatusInTransit
	case StatusInTransit, StatusStoppedAt, StatusOutOfService:
		v.Status = Status(w.Status)
	default:
		return nil, fieldErr("status", "unknown status %q", w.Status)
	}
	if v.TS, err = timestamp(w.TS, rec.Time); err != nil {
		return nil, err
	}
	return v, nil
}

type stationWire struct {
	Type          string          `json:"type"`
	StationID     string          `json:"station_id"`
	Name          string          `json:"name"`
	Lines         []string        `json:"lines"`
	Line          string          `json:"line"`
	Lat           *float64        `json:"lat"`
	Lon           *float64        `json:"lon"`
	VehicleID     string          `json:"vehicle_id"`
	Direction     string          `json:"direction"`
	PrevStationID string          `json:"prev_station_id"`
	Entries       *float64        `json:"entries"`
	TS            json.RawMessage `json:"ts"`
}

func decodeStation(rec Record) (Event, error) {
	if rec.Value == nil {
		return nil, fieldErr("", "tombstone on the stations stream")
	}
	var w stationWire
	if err := unmarshalObject(rec.Value, &w); err != nil {
		return nil, err
	}
	id := strings.TrimSpace(w.StationID)
	if id == "" {
		return nil, fieldErr("station_id", "missing or empty")
	}
	typ := w.Type
	if typ == "" {
		// Producers that write one kind of record per topic often leave the
		// type out; the fields say what it is.
		switch {
		case w.Entries != nil:
			typ = "turnstile"
		case w.VehicleID != "":
			typ = "arrival"
		default:
			typ = "station"
		}
	}
	switch typ {
	case "station":
		s := StationInfo{StationID: id, Name: w.Name, Lines: w.Lines}
		if len(s.Lines) == 0 && w.Line != "" {
			s.Lines = []string{w.Line}
		}
		if w.Lat != nil || w.Lon != nil {
			lat, lon, err := latLon(w.Lat, w.Lon)
			if err != nil {
				return nil, err
			}
			s.Lat, s.Lon, s.HasPos = lat, lon, true
		}
		return s, nil
	case "arrival":
		ts, err := timestamp(w.TS, rec.Time)
		if err != nil {
			return nil, err
		}
		return Arrival{StationID: id, VehicleID: w.VehicleID, Line: w.Line, Direction: w.Direction,
			PrevStationID: w.PrevStationID, TS: ts}, nil
	case "turnstile":
		if w.Entries == nil {
			return nil, fieldErr("entries", "missing")
		}
		e := *w.Entries
		if !finite(e) || e < 0 || e != math.Trunc(e) || e > math.MaxInt32 {
			return nil, fieldErr("entries", "not a non-negative whole number")
		}
		ts, err := timestamp(w.TS, rec.Time)
		if err != nil {
			return nil, err
		}
		return Turnstile{StationID: id, Entries: int64(e), TS: ts}, nil
	}
	return nil, fieldErr("type", "unknown station record type %q", typ)
}

type weatherWire struct {
	Area      string          `json:"area"`
	TempC     *float64        `json:"temp_c"`
	WindKmh   *float64        `json:"wind_kmh"`
	Humidity  *float64        `json:"humidity"`
	Condition string          `json:"condition"`
	TS        json.RawMessage `json:"ts"`
}

func decodeWeather(rec Record) (Event, error) {
	if rec.Value == nil {
		return nil, fieldErr("", "tombstone on the weather stream")
	}
	var w weatherWire
	if err := unmarshalObject(rec.Value, &w); err != nil {
		return nil, err
	}
	out := Weather{Area: strings.TrimSpace(w.Area), Condition: w.Condition}
	if out.Area == "" {
		return nil, fieldErr("area", "missing or empty")
	}
	for _, f := range []struct {
		name string
		src  *float64
		dst  *float64
	}{{"temp_c", w.TempC, &out.TempC}, {"wind_kmh", w.WindKmh, &out.WindKmh}, {"humidity", w.Humidity, &out.Humidity}} {
		if f.src == nil {
			continue
		}
		if !finite(*f.src) {
			return nil, fieldErr(f.name, "not a finite number")
		}
		*f.dst = *f.src
	}
	if out.Humidity < 0 || out.Humidity > 100 {
		return nil, fieldErr("humidity", "out of range [0,100]")
	}
	var err error
	if out.TS, err = timestamp(w.TS, rec.Time); err != nil {
		return nil, err
	}
	return out, nil
}

// unmarshalObject decodes a JSON object, reporting anything else as a
// DecodeError so that one bad producer is counted, not fatal.
func unmarshalObject(data []byte, dst any) error {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return fieldErr("", "value is not a JSON object")
	}
	if err := json.Unmarshal(trimmed, dst); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return fieldErr(typeErr.Field, "wrong type: %s", typeErr.Value)
		}
		return fieldErr("", "malformed JSON: %v", err)
	}
	return nil
}

func latLon(lat, lon *float64) (float64, float64, error) {
	if lat == nil {
		return 0, 0, fieldErr("lat", "missing")
	}
	if lon == nil {
		return 0, 0, fieldErr("lon", "missing")
	}
	if !finite(*lat) || *lat < -90 || *lat > 90 {
		return 0, 0, fieldErr("lat", "out of range [-90,90]")
	}
	if !finite(*lon) || *lon < -180 || *lon > 180 {
		return 0, 0, fieldErr("lon", "out of range [-180,180]")
	}
	return *lat, *lon, nil
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// timestamp reads a contract timestamp: an RFC 3339 string, epoch seconds
// (integer or fractional) or epoch milliseconds (an integer above 1e11).
// Absent or null, the record's own timestamp stands in.
func timestamp(raw json.RawMessage, fallback time.Time) (time.Time, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return fallback, nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return time.Time{}, fieldErr("ts", "malformed string")
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return time.Time{}, fieldErr("ts", "not an RFC 3339 time: %q", s)
		}
		return t.UTC(), nil
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || !finite(f) || f < 0 {
		return time.Time{}, fieldErr("ts", "not a time: %s", raw)
	}
	if f > epochMillisThreshold {
		ms := int64(f)
		return time.UnixMilli(ms).UTC(), nil
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1e9))).UTC(), nil
}

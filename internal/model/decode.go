package model

import (
	"bytes"
	"encoding/json"
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
	// Where the record was read, to point at a rejected one.
	Topic     string
	Partition int32
	Offset    int64
}

// DecodeError says why a record was rejected.
type DecodeError struct {
	Field    string
	Reason   string
	Category Category
}

// Category groups rejections for counting: what went wrong, not where.
type Category string

// The rejection categories.
const (
	CatNotJSON       Category = "not_json"
	CatWrongType     Category = "wrong_type"
	CatOutOfRange    Category = "out_of_range"
	CatMissingID     Category = "missing_id"
	CatTooLarge      Category = "too_large"
	CatUnknownFormat Category = "unknown_format"
)

// Categories lists every category, in display order.
var Categories = [...]Category{CatNotJSON, CatWrongType, CatOutOfRange, CatMissingID, CatTooLarge, CatUnknownFormat}

func (c Category) index() int {
	for i, x := range Categories {
		if x == c {
			return i
		}
	}
	return len(Categories) - 1 // unknown_format
}

// categorize files a rejection under its category, from what the decoders
// say; keeping the rule in one place keeps the decoders' messages free.
func categorize(field, reason string) Category {
	switch {
	case strings.HasPrefix(reason, "malformed"), strings.Contains(reason, "not a JSON object"),
		strings.Contains(reason, "nested deeper"), strings.Contains(reason, "UTF-8"):
		return CatNotJSON
	case strings.HasPrefix(reason, "wrong type"), strings.HasPrefix(reason, "not a list"):
		return CatWrongType
	case strings.Contains(reason, "too large"), strings.Contains(reason, "longer than"):
		return CatTooLarge
	case strings.Contains(reason, "range"), strings.Contains(reason, "finite"), strings.Contains(reason, "negative"),
		strings.Contains(reason, "whole number"), strings.HasPrefix(reason, "not a time"), strings.HasPrefix(reason, "not an RFC"):
		return CatOutOfRange
	case strings.HasPrefix(reason, "missing"), strings.HasPrefix(reason, "tombstone without"):
		if field == "vehicle_id" || field == "station_id" || field == "area" || field == "key" {
			return CatMissingID
		}
		return CatOutOfRange
	}
	return CatUnknownFormat
}

func (e *DecodeError) Error() string {
	if e.Field == "" {
		return e.Reason
	}
	return e.Field + ": " + e.Reason
}

func fieldErr(field, format string, args ...any) error {
	reason := fmt.Sprintf(format, args...)
	return &DecodeError{Field: field, Reason: reason, Category: categorize(field, reason)}
}

// Limits on what one message may be: beyond them it is refused unread.
const (
	MaxMessageBytes = 1 << 20
	MaxIDBytes      = 256
)

func checkIDs(ids ...[2]string) error {
	for _, id := range ids {
		if len(id[1]) > MaxIDBytes {
			return fieldErr(id[0], "longer than %d bytes", MaxIDBytes)
		}
	}
	return nil
}

// epochMillisThreshold separates epoch seconds from epoch milliseconds: a
// number above it would be a date past the year 5138 in seconds.
const epochMillisThreshold = 1e11

// Decode turns one record of the given stream into an event. Errors are
// *DecodeError values: the caller counts the record as rejected and goes on.
func Decode(rec Record) (Event, error) {
	if len(rec.Value) > MaxMessageBytes {
		return nil, fieldErr("", "message too large (%d bytes, limit %d)", len(rec.Value), MaxMessageBytes)
	}
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

// field readers: each takes one member's value, leaves the destination
// alone for null, and reports a wrong type against the member's name.

func wrongType(name string, v value) error { return fieldErr(name, "wrong type: %s", v.kind) }

// readText reads a string member.
func readText(name string, v value, dst *string) error {
	switch v.kind {
	case kindNull:
		return nil
	case kindString:
		s, ok := v.str()
		if !ok {
			return fieldErr(name, "malformed string")
		}
		*dst = s
		return nil
	}
	return wrongType(name, v)
}

// readID reads an identifier: producers write ids as strings or as numbers.
func readID(name string, v value, dst *string) error {
	if v.kind == kindNumber {
		*dst = string(v.raw)
		return nil
	}
	return readText(name, v, dst)
}

// readNumber reads a number member; has tells whether one was present.
func readNumber(name string, v value, dst *float64, has *bool) error {
	switch v.kind {
	case kindNull:
		return nil
	case kindNumber:
		f, err := v.float()
		if err != nil {
			return fieldErr(name, "%v", err)
		}
		*dst, *has = f, true
		return nil
	}
	return wrongType(name, v)
}

// readTime keeps a timestamp member's raw value for timestamp().
func readTime(v value, dst *[]byte) error {
	switch v.kind {
	case kindNull, kindString, kindNumber:
		*dst = v.raw
		return nil
	}
	return wrongType("ts", v)
}

type coords struct {
	lat, lon       float64
	hasLat, hasLon bool
}

// read takes a position member in any of the usual spellings: lat/lon,
// latitude/longitude, lng, long, a nested {"lat","lon"} object (position,
// location, coords) or a GeoJSON Point geometry.
func (c *coords) read(key []byte, v value) (bool, error) {
	switch string(key) {
	case "lat", "latitude", "Latitude", "LAT":
		return true, readNumber("lat", v, &c.lat, &c.hasLat)
	case "lon", "lng", "long", "longitude", "Longitude", "LON":
		return true, readNumber("lon", v, &c.lon, &c.hasLon)
	case "position", "location", "coords", "coordinates", "geometry", "loc":
		if v.kind != kindObject {
			return v.kind == kindNull, nil
		}
		return true, c.readNested(v.raw)
	}
	return false, nil
}

func (c *coords) readNested(raw []byte) error {
	return walkObject(raw, func(key []byte, v value) error {
		if string(key) == "coordinates" && v.kind == kindArray {
			// GeoJSON: [lon, lat].
			var pt []float64
			if json.Unmarshal(v.raw, &pt) != nil || len(pt) < 2 {
				return fieldErr("geometry", "coordinates are not [lon, lat]")
			}
			c.lon, c.lat, c.hasLon, c.hasLat = pt[0], pt[1], true, true
			return nil
		}
		_, err := c.read(key, v)
		return err
	})
}

func (c *coords) check() (float64, float64, error) {
	var lat, lon *float64
	if c.hasLat {
		lat = &c.lat
	}
	if c.hasLon {
		lon = &c.lon
	}
	return latLon(lat, lon)
}

func decodeVehicle(rec Record) (Event, error) {
	if rec.Value == nil {
		if len(rec.Key) == 0 {
			return nil, fieldErr("key", "tombstone without a vehicle id key")
		}
		return VehicleRemoved{VehicleID: string(rec.Key)}, nil
	}
	var (
		v         VehiclePosition
		c         coords
		status    string
		ts        []byte
		has       [4]bool
		genericID string // "id": a vehicle id only when nothing better names one
	)
	err := walkObject(rec.Value, func(key []byte, val value) error {
		if ok, err := c.read(key, val); ok {
			return err
		}
		switch string(key) {
		case "vehicle_id", "vehicleId", "vehicleID", "VehicleId", "vehicle", "veh_id", "vid",
			"bus_id", "busId", "train_id", "trainId", "driver_id", "driverId", "trip_id", "tripId":
			if v.VehicleID != "" && string(key) != "vehicle_id" {
				return nil // the contract's own name, or the first alias, wins
			}
			return readID("vehicle_id", val, &v.VehicleID)
		case "id":
			return readID("vehicle_id", val, &genericID)
		case "line", "route", "route_id", "routeId", "line_id", "lineId", "bus_line", "route_short_name":
			if v.Line != "" && string(key) != "line" {
				return nil
			}
			return readID("line", val, &v.Line)
		case "heading", "bearing":
			return readNumber("heading", val, &v.Heading, &has[0])
		case "speed_kmh", "speed_kph", "speedKmh", "speed":
			return readNumber("speed_kmh", val, &v.SpeedKmh, &has[1])
		case "delay_s", "delay", "delay_seconds", "schedule_deviation":
			return readNumber("delay_s", val, &v.DelayS, &has[2])
		case "occupancy":
			return readNumber("occupancy", val, &v.Occupancy, &has[3])
		case "status", "train_status", "vehicle_status", "current_status":
			return readText("status", val, &status)
		case "stop_id", "next_stop", "stopId", "station_id":
			return readID("stop_id", val, &v.StopID)
		case "ts", "timestamp", "time", "event_time", "eventTime", "datetime", "recorded_at", "recordedAt":
			return readTime(val, &ts)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	v.VehicleID = strings.TrimSpace(v.VehicleID)
	if v.VehicleID == "" && !looksLikeUUID(genericID) {
		// A per-message uuid is no vehicle id; anything else called "id" is.
		v.VehicleID = strings.TrimSpace(genericID)
	}
	if v.VehicleID == "" {
		v.VehicleID = strings.TrimSpace(string(rec.Key)) // keyed by vehicle, as the contract asks
	}
	if v.VehicleID == "" {
		v.VehicleID = v.Line // a line run by one vehicle names it
	}
	if v.VehicleID == "" {
		return nil, fieldErr("vehicle_id", "missing or empty")
	}
	if err := checkIDs([2]string{"vehicle_id", v.VehicleID}, [2]string{"line", v.Line}, [2]string{"stop_id", v.StopID}); err != nil {
		return nil, err
	}
	if v.Lat, v.Lon, err = c.check(); err != nil {
		return nil, err
	}
	for i, bit := range [4]Fields{HasHeading, HasSpeed, HasDelay, HasOccupancy} {
		if has[i] {
			v.Has |= bit
		}
	}
	if v.Has&HasSpeed != 0 && v.SpeedKmh < 0 {
		return nil, fieldErr("speed_kmh", "negative")
	}
	st, ok := statusSynonyms[strings.ToLower(strings.TrimSpace(status))]
	if !ok {
		return nil, fieldErr("status", "unknown status %q", status)
	}
	v.Status = st
	if v.TS, err = timestamp(ts, rec.Time); err != nil {
		return nil, err
	}
	return v, nil
}

// statusSynonyms maps the status words of common feeds (GTFS-realtime, the
// CTA example, AVL systems) onto the contract's three.
var statusSynonyms = map[string]Status{
	"": StatusInTransit, "in_transit": StatusInTransit, "in_service": StatusInTransit, "in_transit_to": StatusInTransit,
	"incoming_at": StatusInTransit, "moving": StatusInTransit, "active": StatusInTransit, "running": StatusInTransit,
	"stopped_at": StatusStoppedAt, "stopped": StatusStoppedAt, "at_stop": StatusStoppedAt, "dwelling": StatusStoppedAt,
	"out_of_service": StatusOutOfService, "broken_down": StatusOutOfService, "inactive": StatusOutOfService,
	"not_in_service": StatusOutOfService, "offline": StatusOutOfService,
}

// looksLikeUUID reports an RFC 4122 text uuid, the usual per-message id.
func looksLikeUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range []byte(s) {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isHex(c) {
				return false
			}
		}
	}
	return true
}

func decodeStation(rec Record) (Event, error) {
	if rec.Value == nil {
		return nil, fieldErr("", "tombstone on the stations stream")
	}
	var (
		typ, id, name, line, vehicle, direction, prev string
		lines                                         []string
		c                                             coords
		entries                                       float64
		hasEntries                                    bool
		ts                                            []byte
	)
	err := walkObject(rec.Value, func(key []byte, val value) error {
		if ok, err := c.read(key, val); ok {
			return err
		}
		switch string(key) {
		case "type":
			return readText("type", val, &typ)
		case "station_id":
			return readID("station_id", val, &id)
		case "name":
			return readText("name", val, &name)
		case "line":
			return readID("line", val, &line)
		case "lines":
			switch val.kind {
			case kindNull:
				return nil
			case kindArray:
				lines = nil
				if json.Unmarshal(val.raw, &lines) != nil {
					return fieldErr("lines", "not a list of strings")
				}
				return nil
			}
			return wrongType("lines", val)
		case "vehicle_id":
			return readID("vehicle_id", val, &vehicle)
		case "direction":
			return readID("direction", val, &direction)
		case "prev_station_id":
			return readID("prev_station_id", val, &prev)
		case "entries":
			return readNumber("entries", val, &entries, &hasEntries)
		case "ts":
			return readTime(val, &ts)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	id = strings.TrimSpace(id)
	if id == "" {
		return nil, fieldErr("station_id", "missing or empty")
	}
	if err := checkIDs([2]string{"station_id", id}, [2]string{"vehicle_id", vehicle}, [2]string{"line", line}); err != nil {
		return nil, err
	}
	if typ == "" {
		// Producers that write one kind of record per topic often leave the
		// type out; the fields say what it is.
		switch {
		case hasEntries:
			typ = "turnstile"
		case vehicle != "":
			typ = "arrival"
		default:
			typ = "station"
		}
	}
	switch typ {
	case "station":
		s := StationInfo{StationID: id, Name: name, Lines: lines}
		if len(s.Lines) == 0 && line != "" {
			s.Lines = []string{line}
		}
		if c.hasLat || c.hasLon {
			lat, lon, err := c.check()
			if err != nil {
				return nil, err
			}
			s.Lat, s.Lon, s.HasPos = lat, lon, true
		}
		return s, nil
	case "arrival":
		t, err := timestamp(ts, rec.Time)
		if err != nil {
			return nil, err
		}
		return Arrival{StationID: id, VehicleID: vehicle, Line: line, Direction: direction, PrevStationID: prev, TS: t}, nil
	case "turnstile":
		if !hasEntries {
			return nil, fieldErr("entries", "missing")
		}
		if entries < 0 || entries != math.Trunc(entries) || entries > math.MaxInt32 {
			return nil, fieldErr("entries", "not a non-negative whole number")
		}
		t, err := timestamp(ts, rec.Time)
		if err != nil {
			return nil, err
		}
		return Turnstile{StationID: id, Entries: int64(entries), TS: t}, nil
	}
	return nil, fieldErr("type", "unknown station record type %q", typ)
}

func decodeWeather(rec Record) (Event, error) {
	if rec.Value == nil {
		return nil, fieldErr("", "tombstone on the weather stream")
	}
	var (
		out     Weather
		ts      []byte
		present bool
	)
	err := walkObject(rec.Value, func(key []byte, val value) error {
		switch string(key) {
		case "area", "city", "location", "region", "zone":
			if val.kind == kindObject {
				return nil // a nested position, not a name
			}
			return readID("area", val, &out.Area)
		case "temp_c", "temperature", "temp", "temperature_c":
			return readNumber("temp_c", val, &out.TempC, &present)
		case "wind_kmh", "wind", "wind_speed", "wind_kph":
			return readNumber("wind_kmh", val, &out.WindKmh, &present)
		case "humidity":
			return readNumber("humidity", val, &out.Humidity, &present)
		case "condition", "status", "weather", "conditions", "description":
			return readText("condition", val, &out.Condition)
		case "ts", "timestamp", "time", "event_time", "eventTime", "datetime", "recorded_at":
			return readTime(val, &ts)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out.Area = strings.TrimSpace(out.Area)
	if out.Area == "" {
		out.Area = strings.TrimSpace(string(rec.Key))
	}
	if out.Area == "" {
		return nil, fieldErr("area", "missing or empty")
	}
	if err := checkIDs([2]string{"area", out.Area}); err != nil {
		return nil, err
	}
	if out.Humidity < 0 || out.Humidity > 100 {
		return nil, fieldErr("humidity", "out of range [0,100]")
	}
	if out.TS, err = timestamp(ts, rec.Time); err != nil {
		return nil, err
	}
	return out, nil
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
func timestamp(raw []byte, fallback time.Time) (time.Time, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return fallback, nil
	}
	if raw[0] == '"' {
		s, ok := value{kind: kindString, raw: raw}.str()
		if !ok {
			return time.Time{}, fieldErr("ts", "malformed string")
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			// Python's str(datetime): "2026-11-22 10:00:00[.123456]", in UTC
			// when it carries no zone.
			t, err = time.Parse("2006-01-02 15:04:05.999999999", s)
		}
		if err != nil {
			t, err = time.Parse("2006-01-02 15:04:05.999999999Z07:00", s)
		}
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

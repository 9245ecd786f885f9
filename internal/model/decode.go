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

// field readers: each takes one member's value, leaves the destination
// alone for null, and reports a wrong type against the member's name.

func wrongType(name string, v value) error { return fieldErr(name, "wrong type: %s", v.kind) }

// readText reads a string member.
func readText(name string, v value, dst *string) error {
	switch v.kind {
	case kindNull:
		return nil
	case kindString:
		s, ok := v.text()
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
		*dst = intern(v.raw)
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

// vehicleField names the contract field a member of a position report fills.
type vehicleField uint8

const (
	vfNone vehicleField = iota
	vfVehicleID
	vfGenericID // "id": a vehicle id only when nothing better names one
	vfLine
	vfHeading
	vfSpeed
	vfDelay
	vfOccupancy
	vfStatus
	vfStopID
	vfTS
	vfLat
	vfLon
	vfPosition // a nested {"lat","lon"} object or a GeoJSON geometry
)

// vehicleFieldOf files a member name under its field: the contract's names
// and the common other spellings of producers.
func vehicleFieldOf(key []byte) vehicleField {
	switch string(key) {
	case "lat", "latitude", "Latitude", "LAT":
		return vfLat
	case "lon", "lng", "long", "longitude", "Longitude", "LON":
		return vfLon
	case "position", "location", "coords", "coordinates", "geometry", "loc":
		return vfPosition
	case "vehicle_id", "vehicleId", "vehicleID", "VehicleId", "vehicle", "veh_id", "vid",
		"bus_id", "busId", "train_id", "trainId", "driver_id", "driverId", "trip_id", "tripId":
		return vfVehicleID
	case "id":
		return vfGenericID
	case "line", "route", "route_id", "routeId", "line_id", "lineId", "bus_line", "route_short_name":
		return vfLine
	case "heading", "bearing":
		return vfHeading
	case "speed_kmh", "speed_kph", "speedKmh", "speed":
		return vfSpeed
	case "delay_s", "delay", "delay_seconds", "schedule_deviation":
		return vfDelay
	case "occupancy":
		return vfOccupancy
	case "status", "train_status", "vehicle_status", "current_status":
		return vfStatus
	case "stop_id", "next_stop", "stopId", "station_id":
		return vfStopID
	case "ts", "timestamp", "time", "event_time", "eventTime", "datetime", "recorded_at", "recordedAt":
		return vfTS
	}
	return vfNone
}

// vehicleReport collects a position report's members as they are read.
type vehicleReport struct {
	v         VehiclePosition
	c         coords
	status    string
	ts        []byte
	has       [4]bool
	genericID string
}

// set reads one member into the field f; key is the member's name, so that
// the contract's own name wins over an alias whatever their order.
func (r *vehicleReport) set(f vehicleField, key []byte, val value) error {
	switch f {
	case vfLat:
		return readNumber("lat", val, &r.c.lat, &r.c.hasLat)
	case vfLon:
		return readNumber("lon", val, &r.c.lon, &r.c.hasLon)
	case vfPosition:
		if val.kind != kindObject {
			return nil
		}
		return r.c.readNested(val.raw)
	case vfVehicleID:
		if r.v.VehicleID != "" && string(key) != "vehicle_id" {
			return nil // the contract's own name, or the first alias, wins
		}
		return readID("vehicle_id", val, &r.v.VehicleID)
	case vfGenericID:
		return readID("vehicle_id", val, &r.genericID)
	case vfLine:
		if r.v.Line != "" && string(key) != "line" {
			return nil
		}
		return readID("line", val, &r.v.Line)
	case vfHeading:
		return readNumber("heading", val, &r.v.Heading, &r.has[0])
	case vfSpeed:
		return readNumber("speed_kmh", val, &r.v.SpeedKmh, &r.has[1])
	case vfDelay:
		return readNumber("delay_s", val, &r.v.DelayS, &r.has[2])
	case vfOccupancy:
		return readNumber("occupancy", val, &r.v.Occupancy, &r.has[3])
	case vfStatus:
		return readText("status", val, &r.status)
	case vfStopID:
		return readID("stop_id", val, &r.v.StopID)
	case vfTS:
		return readTime(val, &r.ts)
	}
	return nil
}

func decodeVehicle(rec Record, fm *FieldMap) (Event, error) {
	if rec.Value == nil {
		if len(rec.Key) == 0 {
			return nil, fieldErr("key", "tombstone without a vehicle id key")
		}
		return VehicleRemoved{VehicleID: string(rec.Key)}, nil
	}
	var r vehicleReport
	// read reads the members of the fields not in skip: the mapped ones are
	// read from their paths instead.
	read := func(skip uint32) error {
		return walkObject(rec.Value, func(key []byte, val value) error {
			f := vehicleFieldOf(key)
			if skip&(1<<f) != 0 {
				return nil
			}
			return r.set(f, key, val)
		})
	}
	err := read(fm.mask[KindVehicles])
	if err == nil && fm.mask[KindVehicles] != 0 {
		var missing uint32
		missing, err = fm.apply(KindVehicles, rec.Value, func(f uint8, name string, val value) error {
			return r.set(vehicleField(f), []byte(name), val)
		})
		if err == nil && missing != 0 {
			err = read(^missing)
		}
	}
	if err != nil {
		return nil, err
	}
	v := r.v
	v.VehicleID = strings.TrimSpace(v.VehicleID)
	if v.VehicleID == "" && !looksLikeUUID(r.genericID) {
		// A per-message uuid is no vehicle id; anything else called "id" is.
		v.VehicleID = strings.TrimSpace(r.genericID)
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
	if v.Lat, v.Lon, err = r.c.check(); err != nil {
		return nil, err
	}
	for i, bit := range [4]Fields{HasHeading, HasSpeed, HasDelay, HasOccupancy} {
		if r.has[i] {
			v.Has |= bit
		}
	}
	if v.Has&HasSpeed != 0 && v.SpeedKmh < 0 {
		return nil, fieldErr("speed_kmh", "negative")
	}
	st, ok := statusSynonyms[strings.ToLower(strings.TrimSpace(r.status))]
	if !ok {
		return nil, fieldErr("status", "unknown status %q", r.status)
	}
	v.Status = st
	if v.TS, err = timestamp(r.ts, rec.Time); err != nil {
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

// stationField names the contract field a member of a station event fills.
type stationField uint8

const (
	sfNone stationField = iota
	sfType
	sfStationID
	sfName
	sfLine
	sfLines
	sfVehicleID
	sfDirection
	sfPrevStationID
	sfEntries
	sfTS
	sfLat
	sfLon
	sfPosition
)

func stationFieldOf(key []byte) stationField {
	switch string(key) {
	case "lat", "latitude", "Latitude", "LAT":
		return sfLat
	case "lon", "lng", "long", "longitude", "Longitude", "LON":
		return sfLon
	case "position", "location", "coords", "coordinates", "geometry", "loc":
		return sfPosition
	case "type":
		return sfType
	case "station_id":
		return sfStationID
	case "name":
		return sfName
	case "line":
		return sfLine
	case "lines":
		return sfLines
	case "vehicle_id", "vehicleId", "vehicleID", "train_id", "trainId", "bus_id", "busId":
		return sfVehicleID
	case "direction":
		return sfDirection
	case "prev_station_id":
		return sfPrevStationID
	case "entries":
		return sfEntries
	case "ts", "timestamp", "time", "event_time", "eventTime", "datetime", "recorded_at", "recordedAt":
		return sfTS
	}
	return sfNone
}

// stationEvent collects a station event's members as they are read.
type stationEvent struct {
	typ, id, name, line, vehicle, direction, prev string
	lines                                         []string
	c                                             coords
	entries                                       float64
	hasEntries                                    bool
	ts                                            []byte
}

func (e *stationEvent) set(f stationField, val value) error {
	switch f {
	case sfLat:
		return readNumber("lat", val, &e.c.lat, &e.c.hasLat)
	case sfLon:
		return readNumber("lon", val, &e.c.lon, &e.c.hasLon)
	case sfPosition:
		if val.kind != kindObject {
			return nil
		}
		return e.c.readNested(val.raw)
	case sfType:
		return readText("type", val, &e.typ)
	case sfStationID:
		return readID("station_id", val, &e.id)
	case sfName:
		return readText("name", val, &e.name)
	case sfLine:
		return readID("line", val, &e.line)
	case sfLines:
		switch val.kind {
		case kindNull:
			return nil
		case kindArray:
			e.lines = nil
			if json.Unmarshal(val.raw, &e.lines) != nil {
				return fieldErr("lines", "not a list of strings")
			}
			return nil
		}
		return wrongType("lines", val)
	case sfVehicleID:
		return readID("vehicle_id", val, &e.vehicle)
	case sfDirection:
		return readID("direction", val, &e.direction)
	case sfPrevStationID:
		return readID("prev_station_id", val, &e.prev)
	case sfEntries:
		return readNumber("entries", val, &e.entries, &e.hasEntries)
	case sfTS:
		return readTime(val, &e.ts)
	}
	return nil
}

func decodeStation(rec Record, fm *FieldMap) (Event, error) {
	if rec.Value == nil {
		return nil, fieldErr("", "tombstone on the stations stream")
	}
	var e stationEvent
	read := func(skip uint32) error {
		return walkObject(rec.Value, func(key []byte, val value) error {
			f := stationFieldOf(key)
			if skip&(1<<f) != 0 {
				return nil
			}
			return e.set(f, val)
		})
	}
	err := read(fm.mask[KindStations])
	if err == nil && fm.mask[KindStations] != 0 {
		var missing uint32
		missing, err = fm.apply(KindStations, rec.Value, func(f uint8, _ string, val value) error {
			return e.set(stationField(f), val)
		})
		if err == nil && missing != 0 {
			err = read(^missing)
		}
	}
	if err != nil {
		return nil, err
	}
	e.id = strings.TrimSpace(e.id)
	if e.id == "" {
		return nil, fieldErr("station_id", "missing or empty")
	}
	if err := checkIDs([2]string{"station_id", e.id}, [2]string{"vehicle_id", e.vehicle}, [2]string{"line", e.line}); err != nil {
		return nil, err
	}
	if e.typ == "" {
		// Producers that write one kind of record per topic often leave the
		// type out; the fields say what it is.
		switch {
		case e.hasEntries:
			e.typ = "turnstile"
		case e.vehicle != "":
			e.typ = "arrival"
		default:
			e.typ = "station"
		}
	}
	switch e.typ {
	case "station":
		s := StationInfo{StationID: e.id, Name: e.name, Lines: e.lines}
		if len(s.Lines) == 0 && e.line != "" {
			s.Lines = []string{e.line}
		}
		if e.c.hasLat || e.c.hasLon {
			lat, lon, err := e.c.check()
			if err != nil {
				return nil, err
			}
			s.Lat, s.Lon, s.HasPos = lat, lon, true
		}
		return s, nil
	case "arrival":
		t, err := timestamp(e.ts, rec.Time)
		if err != nil {
			return nil, err
		}
		return Arrival{StationID: e.id, VehicleID: e.vehicle, Line: e.line, Direction: e.direction, PrevStationID: e.prev, TS: t}, nil
	case "turnstile":
		if !e.hasEntries {
			return nil, fieldErr("entries", "missing")
		}
		if e.entries < 0 || e.entries != math.Trunc(e.entries) || e.entries > math.MaxInt32 {
			return nil, fieldErr("entries", "not a non-negative whole number")
		}
		t, err := timestamp(e.ts, rec.Time)
		if err != nil {
			return nil, err
		}
		return Turnstile{StationID: e.id, Entries: int64(e.entries), TS: t}, nil
	}
	return nil, fieldErr("type", "unknown station record type %q", e.typ)
}

// weatherField names the contract field a member of a weather reading fills.
type weatherField uint8

const (
	wfNone weatherField = iota
	wfArea
	wfTempC
	wfWindKmh
	wfHumidity
	wfCondition
	wfTS
)

func weatherFieldOf(key []byte) weatherField {
	switch string(key) {
	case "area", "city", "location", "region", "zone":
		return wfArea
	case "temp_c", "temperature", "temp", "temperature_c":
		return wfTempC
	case "wind_kmh", "wind", "wind_speed", "wind_kph":
		return wfWindKmh
	case "humidity":
		return wfHumidity
	case "condition", "status", "weather", "conditions", "description":
		return wfCondition
	case "ts", "timestamp", "time", "event_time", "eventTime", "datetime", "recorded_at":
		return wfTS
	}
	return wfNone
}

// weatherReading collects a weather reading's members as they are read.
type weatherReading struct {
	out     Weather
	ts      []byte
	present bool
}

func (w *weatherReading) set(f weatherField, val value) error {
	switch f {
	case wfArea:
		if val.kind == kindObject {
			return nil // a nested position, not a name
		}
		return readID("area", val, &w.out.Area)
	case wfTempC:
		return readNumber("temp_c", val, &w.out.TempC, &w.present)
	case wfWindKmh:
		return readNumber("wind_kmh", val, &w.out.WindKmh, &w.present)
	case wfHumidity:
		return readNumber("humidity", val, &w.out.Humidity, &w.present)
	case wfCondition:
		return readText("condition", val, &w.out.Condition)
	case wfTS:
		return readTime(val, &w.ts)
	}
	return nil
}

func decodeWeather(rec Record, fm *FieldMap) (Event, error) {
	if rec.Value == nil {
		return nil, fieldErr("", "tombstone on the weather stream")
	}
	var w weatherReading
	read := func(skip uint32) error {
		return walkObject(rec.Value, func(key []byte, val value) error {
			f := weatherFieldOf(key)
			if skip&(1<<f) != 0 {
				return nil
			}
			return w.set(f, val)
		})
	}
	err := read(fm.mask[KindWeather])
	if err == nil && fm.mask[KindWeather] != 0 {
		var missing uint32
		missing, err = fm.apply(KindWeather, rec.Value, func(f uint8, _ string, val value) error {
			return w.set(weatherField(f), val)
		})
		if err == nil && missing != 0 {
			err = read(^missing)
		}
	}
	if err != nil {
		return nil, err
	}
	w.out.Area = strings.TrimSpace(w.out.Area)
	if w.out.Area == "" {
		w.out.Area = strings.TrimSpace(string(rec.Key))
	}
	if w.out.Area == "" {
		return nil, fieldErr("area", "missing or empty")
	}
	if err := checkIDs([2]string{"area", w.out.Area}); err != nil {
		return nil, err
	}
	if w.out.Humidity < 0 || w.out.Humidity > 100 {
		return nil, fieldErr("humidity", "out of range [0,100]")
	}
	if w.out.TS, err = timestamp(w.ts, rec.Time); err != nil {
		return nil, err
	}
	return w.out, nil
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

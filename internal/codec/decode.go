// Package codec turns message bytes into the events of fleetwatch's model:
// JSON in the contract's shapes and the common other spellings, Avro in the
// Confluent wire format, GTFS-realtime feeds, and the shapes of pipelines
// users already run (Debezium change events, per-person turnstile events,
// area-less and multi-city weather). It holds no state beyond its options.
package codec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fleetwatch/fleetwatch/internal/model"
)

// categorize files a rejection under its category, from what the decoders
// say; keeping the rule in one place keeps the decoders' messages free.
func categorize(field, reason string) model.Category {
	switch {
	case strings.HasPrefix(reason, "malformed"), strings.Contains(reason, "not a JSON object"),
		strings.Contains(reason, "nested deeper"), strings.Contains(reason, "UTF-8"):
		return model.CatNotJSON
	case strings.HasPrefix(reason, "wrong type"), strings.HasPrefix(reason, "not a list"):
		return model.CatWrongType
	case strings.Contains(reason, "too large"), strings.Contains(reason, "longer than"):
		return model.CatTooLarge
	case strings.Contains(reason, "range"), strings.Contains(reason, "finite"), strings.Contains(reason, "negative"),
		strings.Contains(reason, "whole number"), strings.HasPrefix(reason, "not a time"), strings.HasPrefix(reason, "not an RFC"):
		return model.CatOutOfRange
	case strings.HasPrefix(reason, "missing"), strings.HasPrefix(reason, "tombstone without"):
		if field == "vehicle_id" || field == "station_id" || field == "area" || field == "key" {
			return model.CatMissingID
		}
		return model.CatOutOfRange
	}
	return model.CatUnknownFormat
}

func fieldErr(field, format string, args ...any) error {
	reason := fmt.Sprintf(format, args...)
	return &model.DecodeError{Field: field, Reason: reason, Category: categorize(field, reason)}
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
	v         model.VehiclePosition
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

func decodeVehicle(in input, fm *FieldMap) (model.Event, error) {
	rec := in.rec
	if rec.Value == nil {
		if len(rec.Key) == 0 {
			return nil, fieldErr("key", "tombstone without a vehicle id key")
		}
		return model.VehicleRemoved{VehicleID: string(rec.Key)}, nil
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
	err := read(fm.mask[model.KindVehicles])
	if err == nil && fm.mask[model.KindVehicles] != 0 {
		var missing uint32
		missing, err = fm.apply(model.KindVehicles, rec.Value, in.outer, func(m *mappedField, val value) error {
			return r.set(vehicleField(m.field), []byte(m.name), val)
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
	for i, bit := range [4]model.Fields{model.HasHeading, model.HasSpeed, model.HasDelay, model.HasOccupancy} {
		if r.has[i] {
			v.Has |= bit
		}
	}
	if v.Has&model.HasSpeed != 0 && v.SpeedKmh < 0 {
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
var statusSynonyms = map[string]model.Status{
	"": model.StatusInTransit, "in_transit": model.StatusInTransit, "in_service": model.StatusInTransit, "in_transit_to": model.StatusInTransit,
	"incoming_at": model.StatusInTransit, "moving": model.StatusInTransit, "active": model.StatusInTransit, "running": model.StatusInTransit,
	"stopped_at": model.StatusStoppedAt, "stopped": model.StatusStoppedAt, "at_stop": model.StatusStoppedAt, "dwelling": model.StatusStoppedAt,
	"out_of_service": model.StatusOutOfService, "broken_down": model.StatusOutOfService, "inactive": model.StatusOutOfService,
	"not_in_service": model.StatusOutOfService, "offline": model.StatusOutOfService,
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
	sfStopID     // a stop of the station: a platform, a direction
	sfStopName   // a name of the stop rather than of the station
	sfLineColumn // a boolean column per line, as the CTA's stations table has
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
	case "name", "station_name":
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
	case "stop_id", "stopId":
		return sfStopID
	case "stop_name", "station_descriptive_name":
		return sfStopName
	}
	if lineColumn(key) != "" {
		return sfLineColumn
	}
	return sfNone
}

// lineColumns are the boolean columns by which a table of stations says
// which lines serve a stop, as the CTA's data names them, and the line each
// stands for.
var lineColumns = map[string]string{
	"red": "red", "blue": "blue", "green": "green", "g": "green", "brown": "brown", "brn": "brown",
	"purple": "purple", "p": "purple", "pexp": "purple", "yellow": "yellow", "y": "yellow",
	"pink": "pink", "pnk": "pink", "orange": "orange", "o": "orange",
}

// lineColumn returns the line a column name stands for, whatever its case,
// or "" for none.
func lineColumn(key []byte) string {
	var buf [6]byte // the longest column name
	if len(key) > len(buf) {
		return ""
	}
	for i, c := range key {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return lineColumns[string(buf[:len(key)])]
}

// stationEvent collects a station event's members as they are read.
type stationEvent struct {
	typ, id, stop, name, line, vehicle, direction, prev string
	// nameRank is how good a name the event has: the contract's "name" (2)
	// over "station_name" (1) over a stop's name (0).
	nameRank        int
	lines, lineCols []string
	c               coords
	entries         float64
	hasEntries      bool
	hasStationName  bool
	// reference is set by the members only reference records have: the
	// contract's "name", a stop, a boolean line column.
	reference bool
	ts        []byte
}

// set reads one member into the field f; key is the member's name.
func (e *stationEvent) set(f stationField, key []byte, val value) error {
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
		var name string
		if err := readText("name", val, &name); err != nil || val.kind == kindNull {
			return err
		}
		rank := 2
		if string(key) == "station_name" {
			rank, e.hasStationName = 1, true
		} else {
			e.reference = true
		}
		if rank >= e.nameRank {
			e.name, e.nameRank = name, rank
		}
	case sfStopName:
		e.reference = true
		if string(key) == "stop_name" && e.name == "" {
			return readText("name", val, &e.name)
		}
	case sfStopID:
		if val.kind != kindNull {
			e.reference = true
		}
		return readID("stop_id", val, &e.stop)
	case sfLineColumn:
		if val.kind != kindBool {
			return nil // not a line column after all
		}
		e.reference = true
		if l := lineColumn(key); string(val.raw) == "true" && !slices.Contains(e.lineCols, l) {
			e.lineCols = append(e.lineCols, l)
		}
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

// noFields maps nothing: keys are read by their usual spellings only.
var noFields FieldMap

// readStation reads a station event's members from data, the mapped ones
// from their paths (in data, else in outer).
func readStation(data, outer []byte, fm *FieldMap) (stationEvent, error) {
	var e stationEvent
	read := func(skip uint32) error {
		return walkObject(data, func(key []byte, val value) error {
			f := stationFieldOf(key)
			if skip&(1<<f) != 0 {
				return nil
			}
			return e.set(f, key, val)
		})
	}
	mask := fm.mask[model.KindStations]
	err := read(mask)
	if err == nil && mask != 0 {
		var missing uint32
		missing, err = fm.apply(model.KindStations, data, outer, func(m *mappedField, val value) error {
			return e.set(stationField(m.field), []byte(m.name), val)
		})
		if err == nil && missing != 0 {
			err = read(^missing)
		}
	}
	return e, err
}

// ids returns the station the event is about and, when it names both, the
// stop of it: a table of stops names each row's parent station, which is
// what arrivals and turnstile counts name too. A stop alone is the station.
func (e *stationEvent) ids() (id, stop string) {
	id, stop = strings.TrimSpace(e.id), strings.TrimSpace(e.stop)
	if id == "" {
		return stop, ""
	}
	return id, stop
}

// checkedIDs is ids, refusing an event that names no station and ids too
// long to keep.
func (e *stationEvent) checkedIDs() (id, stop string, err error) {
	id, stop = e.ids()
	if id == "" {
		return "", "", fieldErr("station_id", "missing or empty")
	}
	err = checkIDs([2]string{"station_id", id}, [2]string{"stop_id", stop},
		[2]string{"vehicle_id", e.vehicle}, [2]string{"line", e.line})
	return id, stop, err
}

// isReference tells whether the event has what only a reference record has.
func (e *stationEvent) isReference() bool {
	return e.reference || e.c.hasLat || e.c.hasLon || len(e.lines) > 0
}

// event turns the members read into the event they make. Without a "type",
// producers that write one kind of record per topic leave the fields to say
// what it is:
//   - "entries": a turnstile count;
//   - a vehicle: an arrival;
//   - a "station_name" and nothing only a reference record has (a position,
//     "lines", the contract's "name", a stop, a boolean line column): one
//     person through a turnstile, as the CTA's turnstile events are, one
//     message per entry, {"station_id":40380,"station_name":"Clark/Lake",
//     "line":"blue"};
//   - anything else: a station reference record.
func (e *stationEvent) event(fallback time.Time) (model.Event, error) {
	id, stop, err := e.checkedIDs()
	if err != nil {
		return nil, err
	}
	typ := e.typ
	if typ == "" {
		switch {
		case e.hasEntries:
			typ = "turnstile"
		case e.vehicle != "":
			typ = "arrival"
		case e.hasStationName && !e.isReference():
			typ, e.entries, e.hasEntries = "turnstile", 1, true
		default:
			typ = "station"
		}
	}
	switch typ {
	case "station":
		return e.station(id, stop)
	case "arrival":
		t, err := timestamp(e.ts, fallback)
		if err != nil {
			return nil, err
		}
		return model.Arrival{StationID: id, VehicleID: e.vehicle, Line: e.line, Direction: e.direction, PrevStationID: e.prev, TS: t}, nil
	case "turnstile":
		if !e.hasEntries {
			return nil, fieldErr("entries", "missing")
		}
		if e.entries < 0 || e.entries != math.Trunc(e.entries) || e.entries > math.MaxInt32 {
			return nil, fieldErr("entries", "not a non-negative whole number")
		}
		t, err := timestamp(e.ts, fallback)
		if err != nil {
			return nil, err
		}
		return model.Turnstile{StationID: id, Entries: int64(e.entries), TS: t, Name: e.name}, nil
	}
	return nil, fieldErr("type", "unknown station record type %q", e.typ)
}

// station makes the reference record. Its lines are the "lines" given, else
// the boolean line columns that are true, else its one "line".
func (e *stationEvent) station(id, stop string) (model.Event, error) {
	s := model.StationInfo{StationID: id, Stop: stop, Name: e.name, Lines: e.lines}
	if len(s.Lines) == 0 {
		s.Lines = e.lineCols
	}
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
}

func (d *Decoder) decodeStation(in input, dst []model.Event) ([]model.Event, error) {
	rec := in.rec
	if rec.Value == nil {
		ev, err := d.stationTombstone(rec.Key)
		if err != nil {
			return dst, err
		}
		return append(dst, ev), nil
	}
	if ch, ok := changeEvent(rec.Value); ok {
		return d.stationChange(in, ch, dst)
	}
	e, err := readStation(rec.Value, in.outer, &d.Fields)
	if err != nil {
		return dst, err
	}
	ev, err := e.event(rec.Time)
	if err != nil {
		return dst, err
	}
	return append(dst, ev), nil
}

// stationTombstone reads a null value on the stations stream. Its key names
// the station whose record was deleted, as Kafka Connect writes one after
// each delete ({"station_id":2}, or a stop of one, {"stop_id":30074}, with or
// without the schema envelope, or Avro); a plain key is the station's id.
func (d *Decoder) stationTombstone(key []byte) (model.Event, error) {
	var id, stop string
	if obj, structured := d.structuredKey(key); !structured {
		id = strings.TrimSpace(string(key))
	} else if obj != nil {
		if e, err := readStation(obj, nil, &noFields); err == nil {
			id, stop = e.ids()
		}
	}
	if id == "" {
		return nil, fieldErr("key", "tombstone without a station id key")
	}
	if err := checkIDs([2]string{"station_id", id}, [2]string{"stop_id", stop}); err != nil {
		return nil, err
	}
	return model.StationRemoved{StationID: id, Stop: stop}, nil
}

// change is a Debezium change event: the operation, and the row before and
// after it (nil where null).
type change struct {
	op            string
	before, after []byte
}

// changeEvent recognises a Debezium change event, what its source connectors
// write for each row change: an "op" and the row "before" and "after" it.
// The JsonConverter's schema envelope is off by now, and Avro, read into
// JSON, has the same members.
func changeEvent(v []byte) (change, bool) {
	var ch change
	if !bytes.Contains(v, []byte(`"op"`)) {
		return ch, false // most station records: no second walk
	}
	var hasOp, hasRow bool
	err := walkObject(v, func(key []byte, val value) error {
		switch string(key) {
		case "op":
			ch.op, hasOp = val.text()
		case "before", "after":
			if val.kind != kindObject && val.kind != kindNull {
				return nil
			}
			hasRow = true
			var row []byte
			if val.kind == kindObject {
				row = val.raw
			}
			if key[0] == 'b' {
				ch.before = row
			} else {
				ch.after = row
			}
		}
		return nil
	})
	return ch, err == nil && hasOp && hasRow
}

// stationChange reads a change event of a stations table. Inserts, snapshot
// reads and updates ("c", "r", "u") describe the station as it is now; an
// update that moves the row to another station or stop also removes it from
// the one it was in. Deletes ("d") remove the station the row was (or, when
// the table's replica identity left only the key in it, the record's key
// names).
func (d *Decoder) stationChange(in input, ch change, dst []model.Event) ([]model.Event, error) {
	envelope := in.rec.Value
	switch ch.op {
	case "c", "r", "u":
		if ch.after == nil {
			return dst, fieldErr("station_id", "missing: a change event (op %q) without the row after it", ch.op)
		}
		e, err := readStation(ch.after, envelope, &d.Fields)
		if err != nil {
			return dst, err
		}
		id, stop, err := e.checkedIDs()
		if err != nil {
			return dst, err
		}
		ev, err := e.station(id, stop)
		if err != nil {
			return dst, err
		}
		if ch.before != nil {
			if old, err := readStation(ch.before, nil, &noFields); err == nil {
				if oid, ostop := old.ids(); oid != "" && (oid != id || ostop != stop) {
					dst = append(dst, model.StationRemoved{StationID: oid, Stop: ostop})
				}
			}
		}
		return append(dst, ev), nil
	case "d":
		var id, stop string
		if ch.before != nil {
			if old, err := readStation(ch.before, envelope, &d.Fields); err == nil {
				id, stop = old.ids()
			}
		}
		if id == "" {
			ev, err := d.stationTombstone(in.rec.Key)
			if err != nil {
				return dst, err
			}
			return append(dst, ev), nil
		}
		if err := checkIDs([2]string{"station_id", id}, [2]string{"stop_id", stop}); err != nil {
			return dst, err
		}
		return append(dst, model.StationRemoved{StationID: id, Stop: stop}), nil
	}
	return dst, fieldErr("op", "change event operation %q is not one stations follow (c, r, u, d)", ch.op)
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
	case "temp_c", "temperature", "temp", "temperature_c", "temp_f", "temperature_f":
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

// tempUnitOf says which unit a temperature member is in, by its name, and
// how surely: a name that says its unit (2) outranks one that does not (1),
// which is in the unit --temp-unit gives.
func tempUnitOf(key []byte, unsaid TempUnit) (TempUnit, int) {
	switch string(key) {
	case "temp_c", "temperature_c":
		return Celsius, 2
	case "temp_f", "temperature_f":
		return Fahrenheit, 2
	}
	return unsaid, 1
}

// weatherReading collects a weather reading's members as they are read.
type weatherReading struct {
	out      model.Weather
	ts       []byte
	present  bool // a temperature, wind or humidity was read
	hasArea  bool // an area member was there, even an empty one
	unit     TempUnit
	tempRank int
	// cities are the object members no field claims, kept when collect is
	// set: in a message of several cities, each is one city's reading.
	collect bool
	cities  []city
}

// city is one member of a message of several cities' readings.
type city struct {
	name string
	raw  []byte
}

func (w *weatherReading) set(f weatherField, key []byte, val value) error {
	switch f {
	case wfNone:
		if w.collect && val.kind == kindObject {
			w.cities = append(w.cities, city{name: string(key), raw: val.raw})
		}
	case wfArea:
		if val.kind == kindObject {
			return nil // a nested position, not a name
		}
		if val.kind != kindNull {
			w.hasArea = true
		}
		return readID("area", val, &w.out.Area)
	case wfTempC:
		var t float64
		var has bool
		if err := readNumber("temp_c", val, &t, &has); err != nil || !has {
			return err
		}
		if unit, rank := tempUnitOf(key, w.unit); rank >= w.tempRank {
			w.out.TempC, w.tempRank, w.present = unit.celsius(t), rank, true
		}
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

// hasReading tells whether the reading says anything of the weather.
func (w *weatherReading) hasReading() bool { return w.present || w.out.Condition != "" }

// readWeather reads a reading's members from data, the mapped ones from
// their paths (in data, else in outer).
func readWeather(w *weatherReading, data, outer []byte, fm *FieldMap) error {
	read := func(skip uint32) error {
		return walkObject(data, func(key []byte, val value) error {
			f := weatherFieldOf(key)
			if skip&(1<<f) != 0 {
				return nil
			}
			return w.set(f, key, val)
		})
	}
	mask := fm.mask[model.KindWeather]
	err := read(mask)
	if err == nil && mask != 0 {
		var missing uint32
		missing, err = fm.apply(model.KindWeather, data, outer, func(m *mappedField, val value) error {
			// The path's last member name says a temperature's unit, if any.
			return w.set(weatherField(m.field), []byte(m.path[len(m.path)-1]), val)
		})
		if err == nil && missing != 0 {
			err = read(^missing)
		}
	}
	return err
}

// decodeWeather reads one reading, or several: a message with no reading of
// its own whose object members have one each, {"Winnipeg":{"temperature":
// -12,…},"Vancouver":{…}}, is one reading per member, the member's name its
// area (unless the member names its own).
func (d *Decoder) decodeWeather(in input, dst []model.Event) ([]model.Event, error) {
	rec := in.rec
	if rec.Value == nil {
		return dst, fieldErr("", "tombstone on the weather stream")
	}
	w := weatherReading{unit: d.TempUnit, collect: true}
	if err := readWeather(&w, rec.Value, in.outer, &d.Fields); err != nil {
		return dst, err
	}
	if !w.hasReading() && len(w.cities) > 0 {
		n := len(dst)
		var first error
		for _, c := range w.cities {
			cw := weatherReading{unit: d.TempUnit}
			err := readWeather(&cw, c.raw, nil, &d.Fields)
			if err == nil && !cw.hasReading() {
				continue // an object of something else
			}
			if err == nil {
				if !cw.hasArea {
					cw.out.Area, cw.hasArea = c.name, true
				}
				if cw.ts == nil {
					cw.ts = w.ts // the message's time, for every city
				}
				var ev model.Event
				if ev, err = d.weather(&cw, rec); err == nil {
					dst = append(dst, ev)
					continue
				}
			}
			if first == nil {
				first = memberErr(c.name, err)
			}
		}
		if len(dst) > n || first != nil {
			return dst, first
		}
	}
	ev, err := d.weather(&w, rec)
	if err != nil {
		return dst, err
	}
	return append(dst, ev), nil
}

// weather completes a reading. Its area is its own, else its key's (a plain
// key is the area's name; a JSON key may have an area member); a reading
// that names none and has no area member at all belongs to --weather-area,
// else to its topic. Its time is its own, else its key's (a producer keying
// readings by {"timestamp": …}), else the record's.
func (d *Decoder) weather(w *weatherReading, rec model.Record) (model.Event, error) {
	out := w.out
	out.Area = strings.TrimSpace(out.Area)
	fallback := rec.Time
	if out.Area == "" || len(w.ts) == 0 {
		area, ts := d.weatherKey(rec.Key)
		if out.Area == "" {
			out.Area = area
		}
		if t, err := timestamp(ts, rec.Time); err == nil {
			fallback = t // a key's time that cannot be read is no time
		}
	}
	if out.Area == "" && !w.hasArea && w.hasReading() {
		out.Area = d.WeatherArea
		if out.Area == "" {
			out.Area = rec.Topic
		}
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
	var err error
	if out.TS, err = timestamp(w.ts, fallback); err != nil {
		return nil, err
	}
	return out, nil
}

// weatherKey reads the area and time a weather record's key gives: a plain
// key is the area's name; a structured one may have members of either.
func (d *Decoder) weatherKey(key []byte) (area string, ts []byte) {
	obj, structured := d.structuredKey(key)
	if !structured {
		return strings.TrimSpace(string(key)), nil
	}
	if obj == nil {
		return "", nil
	}
	var k weatherReading
	err := walkObject(obj, func(name []byte, val value) error {
		if f := weatherFieldOf(name); f == wfArea || f == wfTS {
			return k.set(f, name, val)
		}
		return nil
	})
	if err != nil {
		return "", nil // a key that cannot be read says nothing
	}
	return strings.TrimSpace(k.out.Area), k.ts
}

// memberErr names the member of a message an error is about.
func memberErr(name string, err error) error {
	de, ok := err.(*model.DecodeError)
	if !ok {
		return err
	}
	field := name
	if de.Field != "" {
		field += "." + de.Field
	}
	return &model.DecodeError{Field: field, Reason: de.Reason, Category: de.Category}
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

package model

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hamba/avro/v2"
)

// ValueFormat is the encoding of message values.
type ValueFormat uint8

// The value formats. FormatAuto tells them apart by their first bytes.
const (
	FormatAuto ValueFormat = iota
	FormatJSON
	FormatAvro   // Confluent wire format: 0x00, a 4-byte schema id, an Avro datum
	FormatGTFSRT // a GTFS-realtime FeedMessage (protobuf)
)

var formatNames = [...]string{FormatAuto: "auto", FormatJSON: "json", FormatAvro: "avro", FormatGTFSRT: "gtfs-rt"}

func (f ValueFormat) String() string {
	if int(f) < len(formatNames) {
		return formatNames[f]
	}
	return fmt.Sprintf("ValueFormat(%d)", uint8(f))
}

// ParseValueFormat reads a format name as the --value-format flag spells it.
func ParseValueFormat(s string) (ValueFormat, error) {
	for i, name := range formatNames {
		if s == name {
			return ValueFormat(i), nil
		}
	}
	return 0, fmt.Errorf("unknown value format %q; want one of %s", s, strings.Join(formatNames[:], ", "))
}

// SchemaSource finds the Avro writer schema of a Confluent schema id. It is
// called from several goroutines at once and should cache.
type SchemaSource interface {
	AvroSchema(id uint32) (avro.Schema, error)
}

// Decoder turns records into events under options. The zero Decoder reads
// every format it can detect with the built-in field spellings, and rejects
// Avro records, having no schema registry to read them with.
type Decoder struct {
	Fields  FieldMap     // explicit field locations, over the usual spellings
	Format  ValueFormat  // FormatAuto detects each record's format
	Schemas SchemaSource // the writer schemas of Avro records; nil: none
}

var defaultDecoder Decoder

// Decode turns one record into an event with the default options. Errors are
// *DecodeError values: the caller counts the record as rejected and goes on.
// A record that carries several events (a GTFS-realtime feed of many
// vehicles) is refused here: read those with Decoder.DecodeAll.
func Decode(rec Record) (Event, error) {
	return defaultDecoder.Decode(rec)
}

// Decode turns a record that carries one event into it; see DecodeAll.
func (d *Decoder) Decode(rec Record) (Event, error) {
	format, err := d.formatOf(rec)
	if err != nil {
		return nil, err
	}
	if format != FormatGTFSRT {
		// The common case goes straight to its decoder: no slice to fill.
		return d.decodeOne(rec, format)
	}
	evs, err := d.DecodeAll(rec, nil)
	switch {
	case err != nil:
		return nil, err
	case len(evs) != 1:
		return nil, formatErr("the record carries %d events, not one", len(evs))
	}
	return evs[0], nil
}

// DecodeAll appends the events of one record to dst and returns it. Most
// records carry one event; a GTFS-realtime feed carries one per vehicle.
// Errors are *DecodeError values. When some events were appended despite an
// error, the record was partly usable: the error says what was skipped.
func (d *Decoder) DecodeAll(rec Record, dst []Event) ([]Event, error) {
	format, err := d.formatOf(rec)
	if err != nil {
		return dst, err
	}
	if format == FormatGTFSRT {
		return decodeGTFSRT(rec, dst)
	}
	ev, err := d.decodeOne(rec, format)
	if err != nil {
		return dst, err
	}
	return append(dst, ev), nil
}

// formatOf says how to read the record's value, refusing the oversized
// ones unread.
func (d *Decoder) formatOf(rec Record) (ValueFormat, error) {
	if len(rec.Value) > MaxMessageBytes {
		return 0, fieldErr("", "message too large (%d bytes, limit %d)", len(rec.Value), MaxMessageBytes)
	}
	if rec.Value == nil {
		return FormatJSON, nil // a tombstone has no format; the JSON decoders handle it
	}
	if d.Format != FormatAuto {
		return d.Format, nil
	}
	return detectFormat(rec.Value)
}

// detectFormat tells the formats apart by their first bytes. JSON is tried
// first: its objects start with '{' after optional spaces, and a protobuf
// FeedMessage starts with its header's tag 0x0a, which is also a newline.
// Everything that may be text goes to the JSON decoder, which says what is
// wrong with it; binary that no decoder claims is refused here.
func detectFormat(v []byte) (ValueFormat, error) {
	if i := skipSpace(v, 0); i < len(v) && v[i] == '{' {
		return FormatJSON, nil
	}
	switch {
	case len(v) == 0:
		return FormatJSON, nil
	case v[0] == 0 && len(v) >= 5:
		return FormatAvro, nil
	case v[0] == 0x0a && isFeedMessage(v):
		return FormatGTFSRT, nil
	case v[0] >= 0x20 && v[0] < 0x7f, v[0] == '\t', v[0] == '\n', v[0] == '\r':
		return FormatJSON, nil
	}
	return 0, formatErr("value is neither JSON, Avro in the Confluent wire format nor a GTFS-realtime feed (first byte 0x%02x)", v[0])
}

// decodeOne decodes a record of a single-event format.
func (d *Decoder) decodeOne(rec Record, format ValueFormat) (Event, error) {
	if format == FormatAvro {
		js, err := d.avroToJSON(rec)
		if err != nil {
			return nil, err
		}
		// The same spellings and mapping as JSON apply to Avro fields.
		rec.Value = js
	}
	switch rec.Kind {
	case KindVehicles:
		return decodeVehicle(rec, &d.Fields)
	case KindStations:
		return decodeStation(rec, &d.Fields)
	case KindWeather:
		return decodeWeather(rec, &d.Fields)
	}
	return nil, fieldErr("", "unknown stream kind %d", rec.Kind)
}

// formatErr is a rejection for a value that fits none of the formats.
func formatErr(format string, args ...any) error {
	return &DecodeError{Reason: fmt.Sprintf(format, args...), Category: CatUnknownFormat}
}

// FieldMap says where a message keeps the fields it names, as dotted paths
// from the top-level object ("payload.unit.code"). A mapped field is read
// from its path, and its usual spellings are ignored, unless the path is
// not in the message.
type FieldMap struct {
	byKind [numKinds][]mappedField
	mask   [numKinds]uint32 // bit f set: field f of the kind is mapped
}

type mappedField struct {
	field uint8  // the kind's field number (vehicleField, stationField, ...)
	name  string // the contract's name of the field
	path  []string
}

// canonicalFields are the contract's field names of each stream, the names
// --field accepts.
var canonicalFields = [numKinds]map[string]uint8{
	KindVehicles: {
		"vehicle_id": uint8(vfVehicleID), "line": uint8(vfLine), "lat": uint8(vfLat), "lon": uint8(vfLon),
		"ts": uint8(vfTS), "speed_kmh": uint8(vfSpeed), "heading": uint8(vfHeading), "status": uint8(vfStatus),
		"stop_id": uint8(vfStopID), "delay_s": uint8(vfDelay), "occupancy": uint8(vfOccupancy),
	},
	KindStations: {
		"type": uint8(sfType), "station_id": uint8(sfStationID), "name": uint8(sfName), "line": uint8(sfLine),
		"lines": uint8(sfLines), "vehicle_id": uint8(sfVehicleID), "direction": uint8(sfDirection),
		"prev_station_id": uint8(sfPrevStationID), "entries": uint8(sfEntries), "lat": uint8(sfLat),
		"lon": uint8(sfLon), "ts": uint8(sfTS),
	},
	KindWeather: {
		"area": uint8(wfArea), "temp_c": uint8(wfTempC), "wind_kmh": uint8(wfWindKmh), "humidity": uint8(wfHumidity),
		"condition": uint8(wfCondition), "ts": uint8(wfTS),
	},
}

// FieldNames lists the names --field accepts, sorted.
func FieldNames() []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range canonicalFields {
		for name := range m {
			if !seen[name] {
				seen[name] = true
				out = append(out, name)
			}
		}
	}
	sort.Strings(out)
	return out
}

// ParseFieldMap reads name=path specifications. A name applies to every
// stream that has a field of that name (ts, lat, lon, line, vehicle_id are
// shared); a later specification of a name replaces an earlier one.
func ParseFieldMap(specs []string) (FieldMap, error) {
	var fm FieldMap
	for _, spec := range specs {
		name, path, ok := strings.Cut(spec, "=")
		name, path = strings.TrimSpace(name), strings.TrimSpace(path)
		if !ok || name == "" {
			return FieldMap{}, fmt.Errorf("%q: want name=path", spec)
		}
		if path == "" {
			return FieldMap{}, fmt.Errorf("%s: empty path", name)
		}
		segs := strings.Split(path, ".")
		for _, s := range segs {
			if s == "" {
				return FieldMap{}, fmt.Errorf("%s=%s: empty member name in the path", name, path)
			}
		}
		known := false
		for k, fields := range canonicalFields {
			f, ok := fields[name]
			if !ok {
				continue
			}
			known = true
			fm.mask[k] |= 1 << f
			list := fm.byKind[k][:0:0] // a fresh slice: drop an earlier mapping of the name
			for _, m := range fm.byKind[k] {
				if m.name != name {
					list = append(list, m)
				}
			}
			fm.byKind[k] = append(list, mappedField{field: f, name: name, path: segs})
		}
		if !known {
			return FieldMap{}, fmt.Errorf("%s: unknown field; fields are %s", name, strings.Join(FieldNames(), ", "))
		}
	}
	return fm, nil
}

// apply reads each mapped field of the kind from its path in data and hands
// it to set. It returns the mask of the mapped fields whose path is not in
// data: those are read from their usual spellings after all, so that one
// topic may mix producers that need a mapping with ones that do not.
func (fm *FieldMap) apply(kind Kind, data []byte, set func(field uint8, name string, v value) error) (uint32, error) {
	var missing uint32
	for _, m := range fm.byKind[kind] {
		v, ok, err := lookupPath(data, m.path)
		if err != nil {
			return 0, err
		}
		if !ok {
			missing |= 1 << m.field
			continue
		}
		if err := set(m.field, m.name, v); err != nil {
			return 0, err
		}
	}
	return missing, nil
}

// lookupPath finds the value at a path of member names in a JSON object;
// where a name repeats, the last one counts, as in the decoders.
func lookupPath(data []byte, path []string) (value, bool, error) {
	var (
		found value
		ok    bool
	)
	err := walkObject(data, func(key []byte, v value) error {
		if string(key) == path[0] {
			found, ok = v, true
		}
		return nil
	})
	if err != nil || !ok {
		return value{}, false, err
	}
	if len(path) == 1 {
		return found, true, nil
	}
	if found.kind != kindObject {
		return value{}, false, nil
	}
	return lookupPath(found.raw, path[1:])
}

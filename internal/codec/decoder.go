package codec

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/hamba/avro/v2"

	"github.com/fleetwatch/fleetwatch/internal/model"
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
	// TempUnit is the unit of temperatures whose member does not name one
	// ("temperature", "temp"); "temp_c" and "temp_f" always name theirs.
	TempUnit TempUnit
	// WeatherArea is the area of weather readings that name none, in their
	// value or their key. Empty, such a reading is named after its topic: a
	// city-wide feed has a topic of its own.
	WeatherArea string
}

// TempUnit is the unit of a temperature.
type TempUnit uint8

// The temperature units; Celsius is the contract's.
const (
	Celsius TempUnit = iota
	Fahrenheit
)

// ParseTempUnit reads a unit as the --temp-unit flag spells it: C or F.
func ParseTempUnit(s string) (TempUnit, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "C", "CELSIUS":
		return Celsius, nil
	case "F", "FAHRENHEIT":
		return Fahrenheit, nil
	}
	return 0, fmt.Errorf("unknown temperature unit %q; want C or F", s)
}

// celsius converts a temperature in the unit to degrees Celsius.
func (u TempUnit) celsius(t float64) float64 {
	if u == Fahrenheit {
		return (t - 32) * 5 / 9
	}
	return t
}

var defaultDecoder Decoder

// Decode turns one record into an event with the default options. Errors are
// *model.DecodeError values: the caller counts the record as rejected and
// goes on. A record that carries several events (a GTFS-realtime feed of
// many vehicles, a weather message of several cities) is refused here: read
// those with Decoder.DecodeAll.
func Decode(rec model.Record) (model.Event, error) {
	return defaultDecoder.Decode(rec)
}

// Decode turns a record that carries one event into it; see DecodeAll.
func (d *Decoder) Decode(rec model.Record) (model.Event, error) {
	format, err := d.formatOf(rec)
	if err != nil {
		return nil, err
	}
	if format != FormatGTFSRT && rec.Kind == model.KindVehicles {
		// The common case goes straight to its decoder: no slice to fill.
		return d.vehicle(rec, format)
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
// records carry one event; a GTFS-realtime feed carries one per vehicle, a
// weather message of several cities one per city, and a change event that
// moves a station two. Errors are *model.DecodeError values. When some
// events were appended despite an error, the record was partly usable: the
// error says what was skipped.
func (d *Decoder) DecodeAll(rec model.Record, dst []model.Event) ([]model.Event, error) {
	format, err := d.formatOf(rec)
	if err != nil {
		return dst, err
	}
	switch {
	case format == FormatGTFSRT:
		return decodeGTFSRT(rec, dst)
	case rec.Kind == model.KindVehicles:
		ev, err := d.vehicle(rec, format)
		if err != nil {
			return dst, err
		}
		return append(dst, ev), nil
	}
	in, err := d.input(rec, format)
	if err != nil {
		return dst, err
	}
	switch rec.Kind {
	case model.KindStations:
		return d.decodeStation(in, dst)
	case model.KindWeather:
		return d.decodeWeather(in, dst)
	}
	return dst, fieldErr("", "unknown stream kind %d", rec.Kind)
}

// vehicle decodes a position report or a vehicle's tombstone.
func (d *Decoder) vehicle(rec model.Record, format ValueFormat) (model.Event, error) {
	in, err := d.input(rec, format)
	if err != nil {
		return nil, err
	}
	return decodeVehicle(in, &d.Fields)
}

// input is a record made ready for the JSON decoders: an Avro value read
// into JSON, Kafka Connect's schema envelope taken off. outer is the value
// as it came, where --field paths written for the whole message are looked
// up when the unwrapped value lacks them.
type input struct {
	rec   model.Record
	outer []byte
}

func (d *Decoder) input(rec model.Record, format ValueFormat) (input, error) {
	if format == FormatAvro && rec.Value != nil {
		// The same spellings and mapping as JSON apply to Avro fields.
		js, err := d.avroToJSON(rec.Value)
		if err != nil {
			return input{}, err
		}
		rec.Value = js
	}
	in := input{rec: rec}
	if p, ok := schemaPayload(rec.Value); ok {
		in.outer, in.rec.Value = rec.Value, p
	}
	return in, nil
}

// schemaPayload returns the payload of Kafka Connect's JsonConverter
// envelope (schemas.enable=true): a value of exactly the members "schema"
// and "payload". A null payload is a null value, a tombstone.
func schemaPayload(v []byte) ([]byte, bool) {
	i := skipSpace(v, 0)
	if i >= len(v) || v[i] != '{' {
		return nil, false
	}
	// JsonConverter writes the schema first: looking at the first member
	// name keeps every other message clear of a second walk.
	if i = skipSpace(v, i+1); !bytes.HasPrefix(v[i:], []byte(`"schema"`)) {
		return nil, false
	}
	var (
		payload            value
		members            int
		schema, hasPayload bool
	)
	err := walkObject(v, func(key []byte, val value) error {
		members++
		switch string(key) {
		case "schema":
			schema = true
		case "payload":
			payload, hasPayload = val, true
		}
		return nil
	})
	if err != nil || members != 2 || !schema || !hasPayload {
		return nil, false
	}
	switch payload.kind {
	case kindNull:
		return nil, true
	case kindObject:
		return payload.raw, true
	}
	return nil, false
}

// structuredKey reads a record key that is not a plain name: a JSON object
// (Kafka Connect writes keys as such, with or without the schema envelope)
// or an Avro record in the Confluent wire format. It returns the key as a
// JSON object and true; nil and true for a key of that kind that cannot be
// read (Avro without a registry, a schema that is no record); false for a
// plain key, which is the name of what it keys.
func (d *Decoder) structuredKey(key []byte) ([]byte, bool) {
	if len(key) >= 5 && key[0] == 0 {
		if d.Schemas == nil {
			return nil, true
		}
		js, err := d.avroToJSON(key)
		if err != nil {
			return nil, true
		}
		return js, true
	}
	if i := skipSpace(key, 0); i >= len(key) || key[i] != '{' {
		return nil, false
	}
	if p, ok := schemaPayload(key); ok {
		return p, true
	}
	return key, true
}

// formatOf says how to read the record's value, refusing the oversized
// ones unread.
func (d *Decoder) formatOf(rec model.Record) (ValueFormat, error) {
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

// formatErr is a rejection for a value that fits none of the formats.
func formatErr(format string, args ...any) error {
	return &model.DecodeError{Reason: fmt.Sprintf(format, args...), Category: model.CatUnknownFormat}
}

// FieldMap says where a message keeps the fields it names, as dotted paths
// from the top-level object ("payload.unit.code"). A mapped field is read
// from its path, and its usual spellings are ignored, unless the path is
// not in the message.
type FieldMap struct {
	byKind [len(model.Kinds)][]mappedField
	mask   [len(model.Kinds)]uint32 // bit f set: field f of the kind is mapped
}

type mappedField struct {
	field uint8  // the kind's field number (vehicleField, stationField, ...)
	name  string // the contract's name of the field
	path  []string
}

// canonicalFields are the contract's field names of each stream, the names
// --field accepts.
var canonicalFields = [len(model.Kinds)]map[string]uint8{
	model.KindVehicles: {
		"vehicle_id": uint8(vfVehicleID), "line": uint8(vfLine), "lat": uint8(vfLat), "lon": uint8(vfLon),
		"ts": uint8(vfTS), "speed_kmh": uint8(vfSpeed), "heading": uint8(vfHeading), "status": uint8(vfStatus),
		"stop_id": uint8(vfStopID), "delay_s": uint8(vfDelay), "occupancy": uint8(vfOccupancy),
	},
	model.KindStations: {
		"type": uint8(sfType), "station_id": uint8(sfStationID), "name": uint8(sfName), "line": uint8(sfLine),
		"lines": uint8(sfLines), "vehicle_id": uint8(sfVehicleID), "direction": uint8(sfDirection),
		"prev_station_id": uint8(sfPrevStationID), "entries": uint8(sfEntries), "lat": uint8(sfLat),
		"lon": uint8(sfLon), "ts": uint8(sfTS),
	},
	model.KindWeather: {
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
//
// outer, when not nil, is the whole message data was taken from (a change
// event's row, the payload of a schema envelope): a path not in data is
// looked for there, as the user may have written it for the whole message.
func (fm *FieldMap) apply(kind model.Kind, data, outer []byte, set func(m *mappedField, v value) error) (uint32, error) {
	var missing uint32
	for i := range fm.byKind[kind] {
		m := &fm.byKind[kind][i]
		v, ok, err := lookupPath(data, m.path)
		if err == nil && !ok && outer != nil {
			v, ok, err = lookupPath(outer, m.path)
		}
		if err != nil {
			return 0, err
		}
		if !ok {
			missing |= 1 << m.field
			continue
		}
		if err := set(m, v); err != nil {
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

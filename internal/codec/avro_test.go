package codec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/fleetwatch/fleetwatch/internal/model"
)

// schemaMap is an in-memory SchemaSource.
type schemaMap map[uint32]avro.Schema

func (m schemaMap) AvroSchema(id uint32) (avro.Schema, error) {
	if s, ok := m[id]; ok {
		return s, nil
	}
	return nil, fmt.Errorf("unknown to the schema registry")
}

const positionSchema = `{"type":"record","name":"Position","namespace":"test","fields":[
 {"name":"vehicleId","type":"string"},
 {"name":"route","type":["null","string"],"default":null},
 {"name":"latitude","type":"double"},
 {"name":"longitude","type":"double"},
 {"name":"speed","type":["null","float"],"default":null},
 {"name":"status","type":{"type":"enum","name":"Status","symbols":["IN_TRANSIT_TO","STOPPED_AT"]}},
 {"name":"timestamp","type":{"type":"long","logicalType":"timestamp-millis"}},
 {"name":"meta","type":{"type":"record","name":"Meta","fields":[{"name":"unit","type":"string"},{"name":"tags","type":{"type":"map","values":"string"}}]}}
]}`

const weatherSchema = `{"type":"record","name":"Reading","fields":[{"name":"city","type":"string"},{"name":"temperature","type":"float"},
 {"name":"delay","type":{"type":"bytes","logicalType":"decimal","precision":6,"scale":2}}]}`

var avroSchemas = schemaMap{
	1: avro.MustParse(positionSchema),
	2: avro.MustParse(weatherSchema),
	3: avro.MustParse(`"string"`),
}

// confluent frames an Avro datum as the Confluent serializers do.
func confluent(t testing.TB, id uint32, v any) []byte {
	t.Helper()
	body, err := avro.Marshal(avroSchemas[id], v)
	if err != nil {
		t.Fatal(err)
	}
	out := []byte{0, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(out[1:], id)
	return append(out, body...)
}

func position(route any, speed any) map[string]any {
	return map[string]any{"vehicleId": "bus-1", "route": route, "latitude": 41.9, "longitude": -87.6, "speed": speed,
		"status": "STOPPED_AT", "timestamp": time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC),
		"meta": map[string]any{"unit": "U-77", "tags": map[string]any{"depot": "north"}}}
}

func TestAvro(t *testing.T) {
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		fields []string
		rec    model.Record
		want   model.Event
	}{
		{"spellings as in JSON, unions unwrapped, enum and timestamp-millis",
			nil, model.Record{Kind: model.KindVehicles, Value: confluent(t, 1, position(map[string]any{"string": "66"}, map[string]any{"float": float32(12.5)}))},
			model.VehiclePosition{VehicleID: "bus-1", Line: "66", Lat: 41.9, Lon: -87.6, SpeedKmh: 12.5, Has: model.HasSpeed, Status: model.StatusStoppedAt, TS: at}},
		{"null union branches are absent fields",
			nil, model.Record{Kind: model.KindVehicles, Value: confluent(t, 1, position(nil, nil))},
			model.VehiclePosition{VehicleID: "bus-1", Lat: 41.9, Lon: -87.6, Status: model.StatusStoppedAt, TS: at}},
		{"--field paths reach nested records and maps",
			[]string{"vehicle_id=meta.unit", "line=meta.tags.depot"}, model.Record{Kind: model.KindVehicles, Value: confluent(t, 1, position(nil, nil))},
			model.VehiclePosition{VehicleID: "U-77", Line: "north", Lat: 41.9, Lon: -87.6, Status: model.StatusStoppedAt, TS: at}},
		{"weather with a decimal",
			nil, model.Record{Kind: model.KindWeather, Time: recTime, Value: confluent(t, 2, map[string]any{"city": "chicago", "temperature": float32(-3.5), "delay": []byte{0x01, 0x00}})},
			model.Weather{Area: "chicago", TempC: -3.5, TS: recTime}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Decoder{Fields: mustFields(t, tt.fields...), Schemas: avroSchemas}
			ev, err := d.Decode(tt.rec)
			if err != nil {
				t.Fatal(err)
			}
			if !equalEvent(ev, tt.want) {
				t.Fatalf("got  %+v\nwant %+v", ev, tt.want)
			}
		})
	}
	if got := decimalFloat([]byte{0xff, 0x38}, 2); got != -2.0 {
		t.Errorf("decimal -200 scale 2: %v", got)
	}
}

func TestAvroRejects(t *testing.T) {
	good := confluent(t, 1, position(nil, nil))
	unknownID := append([]byte{0, 0, 0, 0, 9}, good[5:]...)
	tests := []struct {
		name    string
		schemas SchemaSource
		value   []byte
		reason  string
	}{
		{"no registry", nil, good, "no schema registry"},
		{"unknown schema id", avroSchemas, unknownID, "schema id 9: unknown to the schema registry"},
		{"cut short", avroSchemas, good[:len(good)-3], "does not fit schema id 1"},
		{"bytes left over", avroSchemas, append(append([]byte{}, good...), 0, 0), "bytes left over"},
		{"not a record", avroSchemas, confluent(t, 3, "hello"), "not a record"},
		{"an enum out of range", avroSchemas, corruptEnum(good), "enum symbol out of range"},
		{"array items past the limit", schemaMap{4: avro.MustParse(`{"type":"record","name":"R","fields":[{"name":"a","type":{"type":"array","items":"null"}}]}`)},
			[]byte{0, 0, 0, 0, 4, 0xfe, 0xff, 0xff, 0xff, 0x0f, 0}, "more array or map items"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Decoder{Format: FormatAvro, Schemas: tt.schemas}
			_, err := d.Decode(model.Record{Kind: model.KindVehicles, Value: tt.value})
			var de *model.DecodeError
			if !errors.As(err, &de) || de.Category != model.CatUnknownFormat || !strings.Contains(de.Reason, tt.reason) {
				t.Fatalf("error %v, want unknown_format saying %q", err, tt.reason)
			}
		})
	}
}

// corruptEnum sets the status enum index of an encoded position to 5.
func corruptEnum(good []byte) []byte {
	b := append([]byte{}, good...)
	// Header 5, vehicleId (1 length + 5), route null (1), two doubles (16), speed null (1).
	b[5+6+1+16+1] = 10 // zig-zag 5
	return b
}

// FuzzAvro feeds arbitrary datums under a fixed schema to the Avro decoder:
// it never panics, refuses only as unknown_format or with the JSON
// categories, and what it accepts is within the contract's ranges.
func FuzzAvro(f *testing.F) {
	f.Add(confluent(f, 1, position(map[string]any{"string": "66"}, map[string]any{"float": float32(12.5)}))[5:])
	f.Add(confluent(f, 1, position(nil, nil))[5:])
	f.Add([]byte{0xfe, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, datum []byte) {
		d := Decoder{Schemas: avroSchemas}
		ev, err := d.Decode(model.Record{Kind: model.KindVehicles, Value: append([]byte{0, 0, 0, 0, 1}, datum...), Time: recTime})
		if err != nil {
			var de *model.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		v, ok := ev.(model.VehiclePosition)
		if !ok || v.VehicleID == "" || math.Abs(v.Lat) > 90 || math.Abs(v.Lon) > 180 {
			t.Fatalf("out of contract: %+v", ev)
		}
	})
}

package codec

import (
	"errors"
	"strings"
	"testing"

	"github.com/fleetwatch/fleetwatch/internal/model"
)

func mustFields(t *testing.T, specs ...string) FieldMap {
	t.Helper()
	fm, err := ParseFieldMap(specs)
	if err != nil {
		t.Fatal(err)
	}
	return fm
}

func TestFieldMapping(t *testing.T) {
	tests := []struct {
		name   string
		fields []string
		kind   model.Kind
		value  string
		check  func(model.Event) bool
	}{
		{"nested paths", []string{"vehicle_id=payload.unit.code", "lat=pos.y", "lon=pos.x", "line=payload.route"}, model.KindVehicles,
			`{"payload":{"unit":{"code":"u-9"},"route":"66"},"pos":{"x":-87.6,"y":41.9}}`,
			func(e model.Event) bool {
				v := e.(model.VehiclePosition)
				return v.VehicleID == "u-9" && v.Line == "66" && v.Lat == 41.9 && v.Lon == -87.6
			}},
		{"a mapped field wins over the usual spelling", []string{"vehicle_id=fleet_no"}, model.KindVehicles,
			`{"vehicle_id":"ignored","fleet_no":4711,"lat":1,"lon":2}`,
			func(e model.Event) bool { return e.(model.VehiclePosition).VehicleID == "4711" }},
		{"the usual spellings of a mapped field are not read", []string{"vehicle_id=vehicle.id"}, model.KindVehicles,
			`{"vehicle":{"id":"v-1","label":"12"},"lat":1,"lon":2}`,
			func(e model.Event) bool { return e.(model.VehiclePosition).VehicleID == "v-1" }},
		{"speed, status, time from paths", []string{"speed_kmh=m.v", "status=m.s", "ts=m.t"}, model.KindVehicles,
			`{"id":"v","lat":1,"lon":2,"m":{"v":12.5,"s":"STOPPED_AT","t":1795341600}}`,
			func(e model.Event) bool {
				v := e.(model.VehiclePosition)
				return v.SpeedKmh == 12.5 && v.Has&model.HasSpeed != 0 && v.Status == model.StatusStoppedAt && v.TS.Unix() == 1795341600
			}},
		{"a missing path leaves the field unset: the key names the vehicle", []string{"vehicle_id=a.b"}, model.KindVehicles,
			`{"a":"not an object","lat":1,"lon":2}`,
			func(e model.Event) bool { return e.(model.VehiclePosition).VehicleID == "k" }},
		{"station fields", []string{"station_id=stop.code", "name=stop.label"}, model.KindStations,
			`{"type":"station","stop":{"code":"s1","label":"Clark"}}`,
			func(e model.Event) bool { s := e.(model.StationInfo); return s.StationID == "s1" && s.Name == "Clark" }},
		{"weather fields", []string{"area=where", "temp_c=obs.t"}, model.KindWeather,
			`{"where":"loop","obs":{"t":-2}}`,
			func(e model.Event) bool { w := e.(model.Weather); return w.Area == "loop" && w.TempC == -2 }},
		{"shared names apply to every stream", []string{"ts=meta.at"}, model.KindWeather,
			`{"area":"x","meta":{"at":"2026-11-22T10:00:00Z"}}`,
			func(e model.Event) bool { return e.(model.Weather).TS.Hour() == 10 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Decoder{Fields: mustFields(t, tt.fields...)}
			ev, err := d.Decode(rec(tt.kind, tt.value))
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(ev) {
				t.Fatalf("got %+v", ev)
			}
		})
	}
}

func TestFieldMappingRejects(t *testing.T) {
	d := Decoder{Fields: mustFields(t, "lat=pos.y", "lon=pos.x")}
	_, err := d.Decode(rec(model.KindVehicles, `{"id":"v","pos":{"x":1,"y":"north"}}`))
	var de *model.DecodeError
	if !errors.As(err, &de) || de.Category != model.CatWrongType || de.Field != "lat" {
		t.Fatalf("wrong type at a mapped path: %v", err)
	}
}

// One topic may mix producers: where a mapped path is not in a message, the
// usual spellings of the field are read after all.
func TestFieldMappingFallsBack(t *testing.T) {
	d := Decoder{Fields: mustFields(t, "vehicle_id=unit.code", "lat=pos.y", "lon=pos.x")}
	ev, err := d.Decode(rec(model.KindVehicles, `{"vehicle_id":"plain","lat":1,"lon":2}`))
	if v, ok := ev.(model.VehiclePosition); err != nil || !ok || v.VehicleID != "plain" || v.Lat != 1 || v.Lon != 2 {
		t.Fatalf("%+v, %v", ev, err)
	}
	ev, err = d.Decode(rec(model.KindVehicles, `{"vehicle_id":"plain","unit":{"code":"mapped"},"lat":1,"lon":2,"pos":{"y":3}}`))
	if v, ok := ev.(model.VehiclePosition); err != nil || !ok || v.VehicleID != "mapped" || v.Lat != 3 || v.Lon != 2 {
		t.Fatalf("%+v, %v", ev, err)
	}
}

func TestParseFieldMap(t *testing.T) {
	for spec, want := range map[string]string{
		"bogus=a":       "bogus: unknown field",
		"vehicle_id=":   "vehicle_id: empty path",
		"vehicle_id":    "want name=path",
		"=a.b":          "want name=path",
		"lat=pos..y":    "empty member name",
		"speed=a":       "speed: unknown field", // an alias, not a contract name
		"vehicle_id= ":  "empty path",
		"temp_c=.x.y.z": "empty member name",
	} {
		_, err := ParseFieldMap([]string{spec})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", spec, err, want)
		}
	}
	fm := mustFields(t, "lat=a", "lat=b")
	if n := len(fm.byKind[model.KindVehicles]); n != 1 || fm.byKind[model.KindVehicles][0].path[0] != "b" {
		t.Errorf("a later mapping of a name replaces the earlier: %+v", fm.byKind[model.KindVehicles])
	}
}

func TestValueFormats(t *testing.T) {
	feed := feedBytes(t, vehicleEntity("e1", "bus-1", "66", 41.9, -87.6))
	tests := []struct {
		name   string
		format ValueFormat
		value  []byte
		cat    model.Category // "" for accepted
	}{
		{"auto: JSON", FormatAuto, []byte(`{"vehicle_id":"v","lat":1,"lon":2}`), ""},
		{"auto: JSON after a newline", FormatAuto, []byte("\n{\"vehicle_id\":\"v\",\"lat\":1,\"lon\":2}"), ""},
		{"auto: GTFS-realtime", FormatAuto, feed, ""},
		{"auto: Avro without a registry", FormatAuto, []byte{0, 0, 0, 0, 7, 2, 'v'}, model.CatUnknownFormat},
		{"auto: binary of no format", FormatAuto, []byte{0x82, 0x01, 0x02}, model.CatUnknownFormat},
		{"auto: broken JSON stays JSON's", FormatAuto, []byte(`{"vehicle_id":`), model.CatNotJSON},
		{"json: a feed is not JSON", FormatJSON, feed, model.CatNotJSON},
		{"gtfs-rt: JSON is not a feed", FormatGTFSRT, []byte(`{"vehicle_id":"v","lat":1,"lon":2}`), model.CatUnknownFormat},
		{"avro: JSON is not Confluent-framed", FormatAvro, []byte(`{"vehicle_id":"v","lat":1,"lon":2}`), model.CatUnknownFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Decoder{Format: tt.format}
			evs, err := d.DecodeAll(model.Record{Kind: model.KindVehicles, Key: []byte("k"), Value: tt.value, Time: recTime}, nil)
			if tt.cat == "" {
				if err != nil || len(evs) != 1 {
					t.Fatalf("%d events, error %v", len(evs), err)
				}
				return
			}
			var de *model.DecodeError
			if !errors.As(err, &de) || de.Category != tt.cat {
				t.Fatalf("error %v, want category %s", err, tt.cat)
			}
		})
	}
	for s, want := range map[string]ValueFormat{"auto": FormatAuto, "json": FormatJSON, "avro": FormatAvro, "gtfs-rt": FormatGTFSRT} {
		if f, err := ParseValueFormat(s); err != nil || f != want || f.String() != s {
			t.Errorf("%s: %v, %v", s, f, err)
		}
	}
	if _, err := ParseValueFormat("protobuf"); err == nil {
		t.Error("unknown format accepted")
	}
}

// A tombstone has no format: it removes the vehicle whatever the setting.
func TestTombstoneUnderEveryFormat(t *testing.T) {
	for _, f := range []ValueFormat{FormatAuto, FormatJSON, FormatAvro, FormatGTFSRT} {
		d := Decoder{Format: f}
		ev, err := d.Decode(model.Record{Kind: model.KindVehicles, Key: []byte("v1")})
		if err != nil || ev != (model.VehicleRemoved{VehicleID: "v1"}) {
			t.Errorf("%s: %v, %v", f, ev, err)
		}
	}
}

package codec

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/fleetwatch/fleetwatch/internal/model"
)

var fuzzSeeds = []string{
	`{"vehicle_id":"blue-07","line":"blue","lat":41.8781,"lon":-87.6298,"heading":90,"speed_kmh":32.5,"status":"in_transit","stop_id":"clark-lake","delay_s":45,"occupancy":0.63,"ts":"2026-11-22T10:00:00.123Z"}`,
	`{"vehicle_id":7,"lat":-1e-3,"lon":180,"ts":1795341600123}`,
	`{"vehicle_id":"a\u00e9\n","lat":1,"lon":2,"extra":{"deep":[1,[2,{"x":null}]]},"ts":null}`,
	`{"type":"station","station_id":"clark-lake","name":"Clark/Lake","lines":["blue","green"],"lat":41.8857,"lon":-87.6309}`,
	`{"type":"turnstile","station_id":"s","entries":3}`,
	`{"area":"chicago","temp_c":-3.5,"wind_kmh":22,"humidity":71,"condition":"snow","ts":"2026-11-22T10:00:00Z"}`,
	`{"vehicle_id":"v","lat":1e999,"lon":0}`, `[1,2]`, `{"a":}`, `{"a":1,}`, `{"a":"\x01"}`, "{\"a\":\"\xff\"}",
	`{"vehicle_id":"v","lat":1,"lon":2} trailing`, strings.Repeat(`{"a":`, 40) + `1` + strings.Repeat(`}`, 40),
	// The shapes of issue 16: a CTA turnstile event, a Debezium change
	// event in the JsonConverter envelope, several cities in one reading.
	`{"station_id":40380,"station_name":"Clark/Lake","line":"blue"}`,
	`{"schema":{"type":"struct"},"payload":{"before":null,"after":{"stop_id":30074,"station_id":40380,"station_name":"Clark/Lake","blue":true},"op":"c"}}`,
	`{"Winnipeg":{"temperature":-12,"wind_speed":20,"humidity":70},"Vancouver":{"temp_f":46,"status":"rain"}}`,
}

// FuzzDecode checks the hand-written decoder against encoding/json: it never
// panics, never accepts what encoding/json finds malformed, and what it
// accepts carries the same values.
func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds {
		for k := range 3 {
			f.Add([]byte(s), uint8(k))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, kind uint8) {
		rec := model.Record{Kind: model.Kind(kind % 3), Key: []byte("k"), Value: data, Time: time.Unix(1795341600, 0)}
		ev, err := Decode(rec)
		if err != nil {
			return
		}
		if !json.Valid(data) {
			t.Fatalf("accepted what encoding/json finds malformed: %q", data)
		}
		d := json.NewDecoder(bytes.NewReader(data))
		d.UseNumber()
		var m map[string]any
		if err := d.Decode(&m); err != nil {
			t.Fatalf("accepted a non-object: %q", data)
		}
		// Where the contract's own member is there, the decoder took it.
		text := func(name string) (string, bool) {
			switch v := m[name].(type) {
			case string:
				return strings.TrimSpace(v), true
			case json.Number:
				return v.String(), true
			}
			return "", false
		}
		num := func(name string) (float64, bool) {
			n, ok := m[name].(json.Number)
			if !ok {
				return 0, false
			}
			f, err := n.Float64()
			return f, err == nil
		}
		switch e := ev.(type) {
		case model.VehiclePosition:
			if id, ok := text("vehicle_id"); ok && id != "" && e.VehicleID != id {
				t.Fatalf("vehicle_id %q decoded as %q from %q", id, e.VehicleID, data)
			}
			if lat, ok := num("lat"); ok && !hasAny(m, "latitude", "Latitude", "LAT", "position", "location", "coords", "coordinates", "geometry", "loc") && e.Lat != lat {
				t.Fatalf("lat %v decoded as %v from %q", lat, e.Lat, data)
			}
		case model.Weather:
			if area, ok := text("area"); ok && area != "" && !hasAny(m, "city", "location", "region", "zone") && e.Area != area {
				t.Fatalf("area %q decoded as %q from %q", area, e.Area, data)
			}
		case model.StationInfo:
			if id, ok := text("station_id"); ok && id != "" && e.StationID != id {
				t.Fatalf("station_id %q decoded as %q from %q", id, e.StationID, data)
			}
		}
	})
}

func hasAny(m map[string]any, names ...string) bool {
	for _, n := range names {
		if _, ok := m[n]; ok {
			return true
		}
	}
	return false
}

func TestNumericIDsAndHostileShapes(t *testing.T) {
	ev, err := Decode(rec(model.KindVehicles, `{"vehicle_id":1234,"line":22,"lat":41.9,"lon":-87.6}`))
	if err != nil {
		t.Fatal(err)
	}
	if v := ev.(model.VehiclePosition); v.VehicleID != "1234" || v.Line != "22" {
		t.Fatalf("numeric ids: %+v", v)
	}
	for name, value := range map[string]string{
		"deep nesting":    `{"vehicle_id":"v","lat":1,"lon":2,"x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`,
		"invalid UTF-8":   "{\"vehicle_id\":\"v\xff\",\"lat\":1,\"lon\":2}",
		"trailing data":   `{"vehicle_id":"v","lat":1,"lon":2}{}`,
		"bad escape":      `{"vehicle_id":"v\q","lat":1,"lon":2}`,
		"raw control":     "{\"vehicle_id\":\"v\x07\",\"lat\":1,\"lon\":2}",
		"unquoted key":    `{vehicle_id:"v","lat":1,"lon":2}`,
		"truncated":       `{"vehicle_id":"v","lat":1,"lon":`,
		"leading zero":    `{"vehicle_id":"v","lat":01,"lon":2}`,
		"bool for number": `{"vehicle_id":"v","lat":true,"lon":2}`,
	} {
		if _, err := Decode(rec(model.KindVehicles, value)); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

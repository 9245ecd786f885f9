package detect_test

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"github.com/hamba/avro/v2"

	"github.com/fleetwatch/fleetwatch/internal/codec"
	"github.com/fleetwatch/fleetwatch/internal/detect"
	"github.com/fleetwatch/fleetwatch/internal/model"
)

// Payloads as the producers people point fleetwatch at write them.
const (
	// The London bus map example: the line in bus_line, a per-message uuid
	// in key, Python's str(datetime), latitude/longitude.
	londonBus = `{"bus_line": "25", "key": "9b2e4c1a-7d3f-4a8e-b1c2-5f6e7d8a9b0c", "timestamp": "2026-11-30 08:15:02.123456", "latitude": 51.5154, "longitude": -0.1410}`
	// A ride-hailing feed: numeric driver ids, lat/lng.
	rideHailing = `{"driver_id": 1042, "lat": 40.75, "lng": -73.98}`
	station     = `{"type":"station","station_id":"clark-lake","name":"Clark/Lake","lines":["blue","green"],"lat":41.8857,"lon":-87.6309}`
	arrival     = `{"type":"arrival","station_id":"clark-lake","vehicle_id":"blue-07","line":"blue","direction":"a","prev_station_id":"grand","ts":"2026-11-22T10:00:00Z"}`
	turnstile   = `{"type":"turnstile","station_id":"clark-lake","entries":3,"ts":"2026-11-22T10:00:00Z"}`
	weather     = `{"area":"chicago","temp_c":-3.5,"wind_kmh":22,"humidity":71,"condition":"snow","ts":"2026-11-22T10:00:00Z"}`
	// A sensor that leaves its area to the topic name.
	arealess = `{"temperature": 4.2, "humidity": 80}`
	garbage  = "GET / HTTP/1.1 -- not a record"
	// A contract vehicle with a status, which also reads as a weather
	// condition, and a city, which also reads as an area.
	cityVehicle = `{"vehicle_id":"blue-07","line":"blue","lat":41.8781,"lon":-87.6298,"status":"in_transit","city":"chicago"}`
)

func repeat(n int, payloads ...string) [][]byte {
	var out [][]byte
	for i := range n {
		out = append(out, []byte(payloads[i%len(payloads)]))
	}
	return out
}

// Each payload, decoded alone, goes to the stream it belongs to and to no
// other: checked first, so that a failure below is the classifier's.
func TestPayloadsDecodeAsExpected(t *testing.T) {
	for _, tc := range []struct {
		name, payload string
		want          string // the kind detected, "" for none
	}{
		{"london bus", londonBus, "vehicles"},
		{"ride hailing", rideHailing, "vehicles"},
		{"station", station, "stations"},
		{"arrival", arrival, "stations"},
		{"turnstile", turnstile, "stations"},
		{"weather", weather, "weather"},
		{"weather without area", arealess, "weather"},
		{"garbage", garbage, ""},
		{"vehicle with city", cityVehicle, "vehicles"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := detect.Classify(map[string][][]byte{"t": {[]byte(tc.payload)}}, nil)
			got := ""
			for _, k := range model.Kinds {
				if c.Topics[k] != "" {
					got = k.String()
				}
			}
			if got != tc.want {
				t.Errorf("detected %q, want %q (candidates %+v)", got, tc.want, c.Candidates)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	samples := map[string][][]byte{
		"busData":       repeat(20, londonBus),
		"rides":         repeat(10, rideHailing),
		"cta.stations":  repeat(12, station, arrival, turnstile),
		"city.weather":  repeat(5, weather),
		"logs":          repeat(8, garbage),
		"empty":         nil,
		"mostly.broken": append(repeat(4, rideHailing), repeat(6, garbage)...), // 40 %: not a candidate
	}
	c := detect.Classify(samples, nil)
	want := [3]string{"busData", "cta.stations", "city.weather"}
	if c.Topics != want {
		t.Fatalf("topics %q, want %q; candidates %+v", c.Topics, want, c.Candidates)
	}
	// busData and rides both read 100 % as vehicles: the one with more records wins.
	if s := c.Scores[model.KindVehicles]; s.Matched != 20 || s.Sampled != 20 {
		t.Errorf("vehicles score %+v", s)
	}
	var passed []string
	for _, s := range c.Candidates {
		if s.Kind == model.KindVehicles {
			passed = append(passed, s.Topic)
		}
	}
	if strings.Join(passed, ",") != "busData,rides" {
		t.Errorf("vehicle candidates %v, want busData,rides", passed)
	}
	if c.Sampled != 6 {
		t.Errorf("sampled %d topics, want 6 (the empty one has nothing to look at)", c.Sampled)
	}
	if got, want := c.Flags(), "--vehicles-topic busData --stations-topic cta.stations --weather-topic city.weather"; got != want {
		t.Errorf("flags %q, want %q", got, want)
	}
}

// A better fraction beats more records; 60 % is enough, less is not.
func TestClassifyThreshold(t *testing.T) {
	c := detect.Classify(map[string][][]byte{
		"big":   append(repeat(60, rideHailing), repeat(40, garbage)...), // 60 %
		"small": append(repeat(9, rideHailing), repeat(1, garbage)...),   // 90 %
	}, nil)
	if c.Topics[model.KindVehicles] != "small" {
		t.Errorf("vehicles in %q, want small (90 %% over 60 %%)", c.Topics[model.KindVehicles])
	}
	if len(c.Candidates) != 2 {
		t.Errorf("candidates %+v: 60 %% must count", c.Candidates)
	}
	c = detect.Classify(map[string][][]byte{"t": append(repeat(59, rideHailing), repeat(41, garbage)...)}, nil)
	if c.Topics[model.KindVehicles] != "" {
		t.Errorf("59 %% taken for a vehicles topic")
	}
}

// Vehicle records that also read as weather (a status, a city) make a
// vehicles topic, and the topic is not offered for weather as well.
func TestClassifyVehiclesFirst(t *testing.T) {
	c := detect.Classify(map[string][][]byte{"fleet": repeat(10, cityVehicle)}, nil)
	if c.Topics != [3]string{"fleet", "", ""} {
		t.Fatalf("topics %q, want fleet for vehicles only", c.Topics)
	}
	weatherToo := false
	for _, s := range c.Candidates {
		weatherToo = weatherToo || s.Kind == model.KindWeather
	}
	if !weatherToo {
		t.Error("the test's records should be weather candidates too, or it proves nothing")
	}
	c = detect.Classify(map[string][][]byte{"fleet": repeat(10, cityVehicle), "sensors": repeat(3, arealess)}, nil)
	if c.Topics != [3]string{"fleet", "", "sensors"} {
		t.Errorf("topics %q, want fleet and sensors", c.Topics)
	}
}

type schemas map[uint32]avro.Schema

func (m schemas) AvroSchema(id uint32) (avro.Schema, error) {
	if s, ok := m[id]; ok {
		return s, nil
	}
	return nil, fmt.Errorf("schema %d: not in the registry", id)
}

// Avro in the Confluent wire format is read through the decoder's schema
// registry, and passed over without one.
func TestClassifyAvro(t *testing.T) {
	schema := avro.MustParse(`{"type":"record","name":"Position","fields":[
	 {"name":"vehicleId","type":"string"},{"name":"latitude","type":"double"},{"name":"longitude","type":"double"}]}`)
	body, err := avro.Marshal(schema, map[string]any{"vehicleId": "bus-1", "latitude": 41.9, "longitude": -87.6})
	if err != nil {
		t.Fatal(err)
	}
	framed := binary.BigEndian.AppendUint32([]byte{0}, 7)
	framed = append(framed, body...)
	samples := map[string][][]byte{"avro.positions": {framed, framed, framed}}

	c := detect.Classify(samples, &codec.Decoder{Schemas: schemas{7: schema}})
	if c.Topics[model.KindVehicles] != "avro.positions" {
		t.Errorf("with the schema: topics %q, candidates %+v", c.Topics, c.Candidates)
	}
	if c = detect.Classify(samples, nil); c.Topics != [3]string{} {
		t.Errorf("without a registry: topics %q, want none", c.Topics)
	}
}

func TestDescribe(t *testing.T) {
	c := detect.Classify(map[string][][]byte{"busData": repeat(20, londonBus), "city.weather": repeat(5, weather)}, nil)
	want := "detected vehicles in busData (20/20 records), no stations topic, weather in city.weather (5/5); " +
		"pin with --vehicles-topic busData --weather-topic city.weather"
	if got := c.Describe(); got != want {
		t.Errorf("Describe\n got %q\nwant %q", got, want)
	}
	c = detect.Classify(map[string][][]byte{"logs": repeat(3, garbage), "empty": nil}, nil)
	if got, want := c.Describe(), "detected no vehicles, stations or weather topic among 1 topic with records"; got != want {
		t.Errorf("Describe %q, want %q", got, want)
	}
	if c.Flags() != "" {
		t.Errorf("flags %q for nothing detected", c.Flags())
	}
	if got := (detect.Choice{Topics: [3]string{"it's"}}).Flags(); got != `--vehicles-topic 'it'\''s'` {
		t.Errorf("flags %q: a name the shell would split is quoted", got)
	}
}

package codec

import (
	"encoding/binary"
	"errors"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/fleetwatch/fleetwatch/internal/model"
)

// The shapes of pipelines users already run (issue 16), read without
// changing their producers: the CTA example's turnstile events and weather,
// a weather producer that sends several cities in one message, and Debezium
// change events of a stations table, in JSON with and without Kafka
// Connect's schema envelope and in Avro.

// Schemas of the CTA example (its turnstile events and weather, keyed by
// {"timestamp"}) and of Debezium's Avro envelope of the CTA stations table.
var pipelineSchemas = schemaMap{
	11: avro.MustParse(`{"type":"record","name":"turnstile","namespace":"com.udacity","fields":[
		{"name":"station_id","type":"int"},{"name":"station_name","type":"string"},{"name":"line","type":"string"}]}`),
	12: avro.MustParse(`{"type":"record","name":"weather_key","namespace":"com.udacity","fields":[{"name":"timestamp","type":"long"}]}`),
	13: avro.MustParse(`{"type":"record","name":"weather_value","namespace":"com.udacity","fields":[
		{"name":"temperature","type":"float"},{"name":"status","type":"string"}]}`),
	14: avro.MustParse(`{"type":"record","name":"Envelope","namespace":"pg.public.stations","fields":[
		{"name":"before","type":["null",{"type":"record","name":"Value","fields":[
			{"name":"stop_id","type":"int"},{"name":"direction_id","type":["null","string"],"default":null},
			{"name":"stop_name","type":["null","string"],"default":null},{"name":"station_name","type":["null","string"],"default":null},
			{"name":"station_descriptive_name","type":["null","string"],"default":null},{"name":"station_id","type":["null","int"],"default":null},
			{"name":"order","type":["null","int"],"default":null},{"name":"red","type":["null","boolean"],"default":null},
			{"name":"blue","type":["null","boolean"],"default":null},{"name":"green","type":["null","boolean"],"default":null}]}],"default":null},
		{"name":"after","type":["null","Value"],"default":null},
		{"name":"source","type":{"type":"record","name":"Source","namespace":"io.debezium.connector.postgresql","fields":[
			{"name":"connector","type":"string"},{"name":"table","type":"string"}]}},
		{"name":"op","type":"string"},{"name":"ts_ms","type":["null","long"],"default":null}]}`),
	15: avro.MustParse(`{"type":"record","name":"Key","namespace":"pg.public.stations","fields":[{"name":"stop_id","type":"int"}]}`),
}

// framed frames an Avro datum of pipelineSchemas as the Confluent serializers do.
func framed(t testing.TB, id uint32, v any) []byte {
	t.Helper()
	body, err := avro.Marshal(pipelineSchemas[id], v)
	if err != nil {
		t.Fatal(err)
	}
	out := []byte{0, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(out[1:], id)
	return append(out, body...)
}

func decodeAll(t *testing.T, d *Decoder, r model.Record) ([]model.Event, error) {
	t.Helper()
	return d.DecodeAll(r, nil)
}

func TestCTATurnstileEvents(t *testing.T) {
	tests := []struct {
		name, value string
		want        model.Event
	}{
		{"one person through a turnstile", `{"station_id":40380,"station_name":"Clark/Lake","line":"blue"}`,
			model.Turnstile{StationID: "40380", Entries: 1, Name: "Clark/Lake", TS: recTime}},
		{"with its own time", `{"station_id":40380,"station_name":"Clark/Lake","line":"blue","timestamp":1795341600}`,
			model.Turnstile{StationID: "40380", Entries: 1, Name: "Clark/Lake", TS: time.Unix(1795341600, 0).UTC()}},
		{"a count with station_name counts its entries", `{"station_id":40380,"station_name":"Clark/Lake","entries":7}`,
			model.Turnstile{StationID: "40380", Entries: 7, Name: "Clark/Lake", TS: recTime}},
		// What tells a reference record: a position, lines, the contract's
		// name, a stop, a boolean line column, or its type.
		{"station_name with a position is a reference", `{"station_id":40380,"station_name":"Clark/Lake","lat":41.8857,"lon":-87.6309}`,
			model.StationInfo{StationID: "40380", Name: "Clark/Lake", Lat: 41.8857, Lon: -87.6309, HasPos: true}},
		{"station_name with lines is a reference", `{"station_id":40380,"station_name":"Clark/Lake","lines":["blue","green"]}`,
			model.StationInfo{StationID: "40380", Name: "Clark/Lake", Lines: []string{"blue", "green"}}},
		{"name wins over station_name and makes a reference", `{"station_id":1,"station_name":"B","name":"A","line":"red"}`,
			model.StationInfo{StationID: "1", Name: "A", Lines: []string{"red"}}},
		{"a typed station record stays one", `{"type":"station","station_id":1,"station_name":"A","line":"red"}`,
			model.StationInfo{StationID: "1", Name: "A", Lines: []string{"red"}}},
		{"a row of the CTA stations table", `{"stop_id":30074,"direction_id":"E","stop_name":"Clark/Lake (Inner Loop)","station_name":"Clark/Lake",
			"station_descriptive_name":"Clark/Lake (Blue/Brown/Green/Orange/Purple/Pink Lines)","station_id":40380,"order":5,"red":false,"blue":false,"green":true}`,
			model.StationInfo{StationID: "40380", Stop: "30074", Name: "Clark/Lake", Lines: []string{"green"}}},
		{"an id and a line alone stay a reference", `{"station_id":"x","line":"red"}`,
			model.StationInfo{StationID: "x", Lines: []string{"red"}}},
		{"a stop without a parent station is the station", `{"stop_id":"S-1","stop_name":"First","BLUE":true,"Pnk":true}`,
			model.StationInfo{StationID: "S-1", Name: "First", Lines: []string{"blue", "pink"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := Decode(rec(model.KindStations, tt.value))
			if err != nil {
				t.Fatal(err)
			}
			if !equalEvent(ev, tt.want) {
				t.Fatalf("got  %#v\nwant %#v", ev, tt.want)
			}
		})
	}

	// In Avro, as the CTA pipeline's confluent-kafka producer writes them.
	d := Decoder{Schemas: pipelineSchemas}
	ev, err := d.Decode(model.Record{Kind: model.KindStations, Time: recTime,
		Value: framed(t, 11, map[string]any{"station_id": 40380, "station_name": "Clark/Lake", "line": "blue"})})
	if err != nil || ev != (model.Turnstile{StationID: "40380", Entries: 1, Name: "Clark/Lake", TS: recTime}) {
		t.Fatalf("Avro turnstile event: %#v, %v", ev, err)
	}

	// Five of them: five entries, and the board names the station.
	f := model.NewFleet()
	for range 5 {
		ev, err := Decode(rec(model.KindStations, `{"station_id":40380,"station_name":"Clark/Lake","line":"blue"}`))
		if err != nil {
			t.Fatal(err)
		}
		f.Apply(ev)
	}
	st := f.Snapshot().Stations
	if len(st) != 1 || st[0].StationID != "40380" || st[0].Name != "Clark/Lake" || st[0].Entries != 5 {
		t.Fatalf("five turnstile events: %+v", st)
	}
}

func TestWeatherWithoutArea(t *testing.T) {
	const topic = "org.chicago.cta.weather.v1"
	f2c := func(f float64) float64 { return (f - 32) * 5 / 9 }
	tests := []struct {
		name  string
		dec   Decoder
		key   string
		value string
		want  model.Weather
	}{
		{"named after the topic, status as the condition", Decoder{}, "", `{"temperature":12.5,"status":"sunny"}`,
			model.Weather{Area: topic, TempC: 12.5, Condition: "sunny", TS: recTime}},
		{"--weather-area names it", Decoder{WeatherArea: "chicago"}, "", `{"temperature":12.5,"status":"sunny"}`,
			model.Weather{Area: "chicago", TempC: 12.5, Condition: "sunny", TS: recTime}},
		{"--temp-unit F converts", Decoder{TempUnit: Fahrenheit}, "", `{"temperature":55.3,"status":"sunny"}`,
			model.Weather{Area: topic, TempC: f2c(55.3), Condition: "sunny", TS: recTime}},
		{"temp_f is Fahrenheit whatever the flag", Decoder{}, "", `{"temp_f":212}`,
			model.Weather{Area: topic, TempC: 100, TS: recTime}},
		{"temperature_f too", Decoder{}, "", `{"temperature_f":32}`,
			model.Weather{Area: topic, TempC: 0, TS: recTime}},
		{"temp_c is Celsius whatever the flag", Decoder{TempUnit: Fahrenheit}, "", `{"temp_c":21}`,
			model.Weather{Area: topic, TempC: 21, TS: recTime}},
		{"temperature_c too", Decoder{TempUnit: Fahrenheit}, "", `{"temperature_c":-4}`,
			model.Weather{Area: topic, TempC: -4, TS: recTime}},
		{"a unit said outranks one unsaid, either order", Decoder{TempUnit: Fahrenheit}, "", `{"temp_c":20,"temperature":99}`,
			model.Weather{Area: topic, TempC: 20, TS: recTime}},
		{"a JSON key's epoch seconds are the time", Decoder{}, `{"timestamp":1795341600}`, `{"temperature":1,"status":"cloudy"}`,
			model.Weather{Area: topic, TempC: 1, Condition: "cloudy", TS: time.Unix(1795341600, 0).UTC()}},
		{"a JSON key's epoch milliseconds", Decoder{}, `{"timestamp":1795341600123}`, `{"temperature":1}`,
			model.Weather{Area: topic, TempC: 1, TS: time.UnixMilli(1795341600123).UTC()}},
		{"a JSON key's RFC 3339 time", Decoder{}, `{"timestamp":"2026-11-22T10:00:00Z"}`, `{"temperature":1}`,
			model.Weather{Area: topic, TempC: 1, TS: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)}},
		{"the value's own time wins over the key's", Decoder{}, `{"timestamp":1}`, `{"temperature":1,"ts":1795341600}`,
			model.Weather{Area: topic, TempC: 1, TS: time.Unix(1795341600, 0).UTC()}},
		{"a key's time that cannot be read is no time", Decoder{}, `{"timestamp":"noon"}`, `{"temperature":1}`,
			model.Weather{Area: topic, TempC: 1, TS: recTime}},
		{"a JSON key may name the area", Decoder{}, `{"city":"Evanston","timestamp":1795341600}`, `{"temperature":1}`,
			model.Weather{Area: "Evanston", TempC: 1, TS: time.Unix(1795341600, 0).UTC()}},
		{"a plain key is the area, as the contract keys", Decoder{WeatherArea: "chicago"}, "oak-park", `{"temperature":1}`,
			model.Weather{Area: "oak-park", TempC: 1, TS: recTime}},
		{"the value's area wins", Decoder{WeatherArea: "chicago"}, "oak-park", `{"area":"cicero","temperature":1}`,
			model.Weather{Area: "cicero", TempC: 1, TS: recTime}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := model.Record{Kind: model.KindWeather, Topic: topic, Value: []byte(tt.value), Time: recTime}
			if tt.key != "" {
				r.Key = []byte(tt.key)
			}
			ev, err := tt.dec.Decode(r)
			if err != nil {
				t.Fatal(err)
			}
			got := ev.(model.Weather)
			if math.Abs(got.TempC-tt.want.TempC) > 1e-9 {
				t.Fatalf("temp_c %v, want %v", got.TempC, tt.want.TempC)
			}
			got.TempC = tt.want.TempC
			if got != tt.want {
				t.Fatalf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}

	rejects := []struct{ name, key, value string }{
		// The topic's name is for readings; anything else stays refused.
		{"no reading and no area", `{"timestamp":1795341600}`, `{"note":"hello"}`},
		// An area member that is there but empty tried to name one.
		{"an empty area", "", `{"region":"","temperature_c":1}`},
	}
	for _, tt := range rejects {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := Decode(model.Record{Kind: model.KindWeather, Topic: topic, Key: []byte(tt.key), Value: []byte(tt.value), Time: recTime})
			var de *model.DecodeError
			if !errors.As(err, &de) || de.Category != model.CatMissingID {
				t.Fatalf("got %#v, %v; want a missing_id rejection", ev, err)
			}
		})
	}

	// The CTA example's weather in Avro, keyed by an Avro {"timestamp"}.
	d := Decoder{Schemas: pipelineSchemas, TempUnit: Fahrenheit}
	ev, err := d.Decode(model.Record{Kind: model.KindWeather, Topic: topic, Time: recTime,
		Key:   framed(t, 12, map[string]any{"timestamp": int64(1795341600)}),
		Value: framed(t, 13, map[string]any{"temperature": float32(50), "status": "precipitation"})})
	if err != nil {
		t.Fatal(err)
	}
	if w := ev.(model.Weather); w.Area != topic || math.Abs(w.TempC-10) > 1e-9 || w.Condition != "precipitation" || !w.TS.Equal(time.Unix(1795341600, 0)) {
		t.Fatalf("Avro weather: %+v", w)
	}
}

func TestWeatherOfSeveralCities(t *testing.T) {
	at := time.Unix(1795341600, 0).UTC()
	tests := []struct {
		name, value string
		want        []model.Weather
		errField    string
	}{
		{"one reading per city", `{"Winnipeg":{"temperature":-12,"wind_speed":20,"humidity":70},"Vancouver":{"temperature":8,"wind_speed":5,"humidity":85,"status":"rain"}}`,
			[]model.Weather{{Area: "Winnipeg", TempC: -12, WindKmh: 20, Humidity: 70, TS: recTime},
				{Area: "Vancouver", TempC: 8, WindKmh: 5, Humidity: 85, Condition: "rain", TS: recTime}}, ""},
		{"the message's time for every city", `{"ts":1795341600,"Winnipeg":{"temperature":-12},"Vancouver":{"temperature":8,"ts":1795341660}}`,
			[]model.Weather{{Area: "Winnipeg", TempC: -12, TS: at}, {Area: "Vancouver", TempC: 8, TS: at.Add(time.Minute)}}, ""},
		{"a city naming itself", `{"wpg":{"city":"Winnipeg","temperature":-12}}`,
			[]model.Weather{{Area: "Winnipeg", TempC: -12, TS: recTime}}, ""},
		{"objects of something else are not cities", `{"Winnipeg":{"temperature":-12},"meta":{"source":"x"}}`,
			[]model.Weather{{Area: "Winnipeg", TempC: -12, TS: recTime}}, ""},
		{"a bad city spoils only itself", `{"Winnipeg":{"temperature":-12},"Vancouver":{"temperature":8,"humidity":140}}`,
			[]model.Weather{{Area: "Winnipeg", TempC: -12, TS: recTime}}, "Vancouver.humidity"},
		{"a reading of its own is one reading", `{"area":"a","temperature":3,"extra":{"temperature":4}}`,
			[]model.Weather{{Area: "a", TempC: 3, TS: recTime}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, err := decodeAll(t, &Decoder{}, model.Record{Kind: model.KindWeather, Topic: "w", Value: []byte(tt.value), Time: recTime})
			var de *model.DecodeError
			switch {
			case tt.errField == "" && err != nil:
				t.Fatal(err)
			case tt.errField != "" && (!errors.As(err, &de) || de.Field != tt.errField):
				t.Fatalf("error %v, want one about %s", err, tt.errField)
			}
			if len(evs) != len(tt.want) {
				t.Fatalf("%d events, want %d: %+v", len(evs), len(tt.want), evs)
			}
			for i, ev := range evs {
				if ev != tt.want[i] {
					t.Errorf("event %d: got %+v, want %+v", i, ev, tt.want[i])
				}
			}
		})
	}
	// Decode, for one event only, refuses a message of two.
	if _, err := Decode(rec(model.KindWeather, `{"A":{"temperature":1},"B":{"temperature":2}}`)); err == nil {
		t.Error("Decode accepted two readings")
	}
}

// Debezium change events as CONNECT.md shows them: the plain form
// (schemas.enable=false) and the JsonConverter's envelope around it.
const (
	dbzRow   = `{"station_id":2,"name":"Hauptbahnhof","lines":["S3","S5","U5"],"lat":52.5251,"lon":13.3694}`
	dbzMoved = `{"station_id":2,"name":"Berlin Hbf","lines":["S3","S5","U5"],"lat":52.5250,"lon":13.3690}`
	dbzSrc   = `"source":{"version":"3.6.1.Final","connector":"postgresql","name":"pg","schema":"public","table":"stations"},"transaction":null`
)

func dbz(op, before, after string) string {
	return `{"before":` + before + `,"after":` + after + `,` + dbzSrc + `,"op":"` + op + `","ts_ms":1795341600000}`
}

func enveloped(payload string) string {
	return `{"schema":{"type":"struct","fields":[{"type":"struct","fields":[],"optional":true,"field":"before"}],"optional":false,"name":"pg.public.stations.Envelope"},"payload":` + payload + `}`
}

func TestDebeziumStations(t *testing.T) {
	hbf := model.StationInfo{StationID: "2", Name: "Hauptbahnhof", Lines: []string{"S3", "S5", "U5"}, Lat: 52.5251, Lon: 13.3694, HasPos: true}
	moved := model.StationInfo{StationID: "2", Name: "Berlin Hbf", Lines: []string{"S3", "S5", "U5"}, Lat: 52.5250, Lon: 13.3690, HasPos: true}
	ctaRow := func(stop, station int, green bool) string {
		g := "false"
		if green {
			g = "true"
		}
		return `{"stop_id":` + strconv.Itoa(stop) + `,"direction_id":"E","stop_name":"Clark/Lake (Inner Loop)","station_name":"Clark/Lake",` +
			`"station_descriptive_name":"Clark/Lake (Blue/Brown/Green/Orange/Purple/Pink Lines)","station_id":` + strconv.Itoa(station) +
			`,"order":5,"red":false,"blue":true,"green":` + g + `}`
	}
	tests := []struct {
		name     string
		key, val string // val "" is a tombstone
		want     []model.Event
	}{
		{"snapshot read", `{"station_id":2}`, dbz("r", "null", dbzRow), []model.Event{hbf}},
		{"insert", `{"station_id":2}`, dbz("c", "null", dbzRow), []model.Event{hbf}},
		{"update renames and moves", `{"station_id":2}`, dbz("u", dbzRow, dbzMoved), []model.Event{moved}},
		{"update without the row before (replica identity default)", `{"station_id":2}`, dbz("u", "null", dbzMoved), []model.Event{moved}},
		{"delete", `{"station_id":2}`, dbz("d", dbzRow, "null"), []model.Event{model.StationRemoved{StationID: "2"}}},
		{"tombstone after the delete", `{"station_id":2}`, "", []model.Event{model.StationRemoved{StationID: "2"}}},
		{"insert, enveloped", enveloped(`{"station_id":2}`), enveloped(dbz("c", "null", dbzRow)), []model.Event{hbf}},
		{"update, enveloped", enveloped(`{"station_id":2}`), enveloped(dbz("u", dbzRow, dbzMoved)), []model.Event{moved}},
		{"delete, enveloped", enveloped(`{"station_id":2}`), enveloped(dbz("d", dbzRow, "null")), []model.Event{model.StationRemoved{StationID: "2"}}},
		{"tombstone, enveloped key", enveloped(`{"stop_id":30074}`), "", []model.Event{model.StationRemoved{StationID: "30074"}}},
		{"tombstone, plain key", "clark-lake", "", []model.Event{model.StationRemoved{StationID: "clark-lake"}}},
		// The CTA's table: a row per stop, the parent station its id.
		{"CTA row", `{"stop_id":30074}`, dbz("r", "null", ctaRow(30074, 40380, true)),
			[]model.Event{model.StationInfo{StationID: "40380", Stop: "30074", Name: "Clark/Lake", Lines: []string{"blue", "green"}}}},
		{"CTA row moved to another station", `{"stop_id":30074}`, dbz("u", ctaRow(30074, 40380, true), ctaRow(30074, 40381, true)),
			[]model.Event{model.StationRemoved{StationID: "40380", Stop: "30074"},
				model.StationInfo{StationID: "40381", Stop: "30074", Name: "Clark/Lake", Lines: []string{"blue", "green"}}}},
		{"CTA row deleted", `{"stop_id":30074}`, dbz("d", ctaRow(30074, 40380, true), "null"),
			[]model.Event{model.StationRemoved{StationID: "40380", Stop: "30074"}}},
		{"CTA row deleted, only the key in the row", `{"stop_id":30074}`, dbz("d", `{"stop_id":30074,"station_id":null,"red":null}`, "null"),
			[]model.Event{model.StationRemoved{StationID: "30074"}}},
		{"delete without a row before: the key", `{"station_id":7}`, dbz("d", "null", "null"),
			[]model.Event{model.StationRemoved{StationID: "7"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := model.Record{Kind: model.KindStations, Key: []byte(tt.key), Time: recTime}
			if tt.val != "" {
				r.Value = []byte(tt.val)
			}
			evs, err := decodeAll(t, &Decoder{}, r)
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != len(tt.want) {
				t.Fatalf("got %#v\nwant %#v", evs, tt.want)
			}
			for i := range evs {
				if !equalEvent(evs[i], tt.want[i]) {
					t.Fatalf("event %d: got  %#v\nwant %#v", i, evs[i], tt.want[i])
				}
			}
		})
	}

	rejects := []struct {
		name, key, val string
		cat            model.Category
	}{
		{"truncate", `{"station_id":2}`, dbz("t", "null", "null"), model.CatUnknownFormat},
		{"insert without a row", `{"station_id":2}`, dbz("c", "null", "null"), model.CatMissingID},
		{"row without an id", `{"station_id":2}`, dbz("c", "null", `{"name":"x"}`), model.CatMissingID},
		{"delete naming nothing", `{"other":1}`, dbz("d", "null", "null"), model.CatMissingID},
		{"tombstone with a key naming nothing", `{"other":1}`, "", model.CatMissingID},
		{"tombstone with an Avro key and no registry", "\x00\x00\x00\x00\x0f\x02", "", model.CatMissingID},
	}
	for _, tt := range rejects {
		t.Run(tt.name, func(t *testing.T) {
			r := model.Record{Kind: model.KindStations, Key: []byte(tt.key), Time: recTime}
			if tt.val != "" {
				r.Value = []byte(tt.val)
			}
			evs, err := decodeAll(t, &Decoder{}, r)
			var de *model.DecodeError
			if len(evs) != 0 || !errors.As(err, &de) || de.Category != tt.cat {
				t.Fatalf("got %#v, %v; want a %s rejection", evs, err, tt.cat)
			}
		})
	}
}

// Debezium through the Avro converter: the same envelope, read through
// the registry, and an Avro key on the tombstone.
func TestDebeziumAvro(t *testing.T) {
	row := map[string]any{"stop_id": 30074, "direction_id": map[string]any{"string": "E"},
		"stop_name": map[string]any{"string": "Clark/Lake (Inner Loop)"}, "station_name": map[string]any{"string": "Clark/Lake"},
		"station_descriptive_name": nil, "station_id": map[string]any{"int": 40380}, "order": map[string]any{"int": 5},
		"red": map[string]any{"boolean": false}, "blue": map[string]any{"boolean": true}, "green": map[string]any{"boolean": true}}
	envelope := func(op string, before, after any) []byte {
		return framed(t, 14, map[string]any{"before": before, "after": after, "op": op, "ts_ms": nil,
			"source": map[string]any{"connector": "postgresql", "table": "stations"}})
	}
	wrap := func(v map[string]any) any { return map[string]any{"pg.public.stations.Value": v} }
	key := framed(t, 15, map[string]any{"stop_id": 30074})
	d := Decoder{Schemas: pipelineSchemas}
	info := model.StationInfo{StationID: "40380", Stop: "30074", Name: "Clark/Lake", Lines: []string{"blue", "green"}}
	for _, tt := range []struct {
		name  string
		value []byte
		want  model.Event
	}{
		{"snapshot read", envelope("r", nil, wrap(row)), info},
		{"delete", envelope("d", wrap(row), nil), model.StationRemoved{StationID: "40380", Stop: "30074"}},
		{"tombstone with an Avro key", nil, model.StationRemoved{StationID: "30074"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := d.Decode(model.Record{Kind: model.KindStations, Key: key, Value: tt.value, Time: recTime})
			if err != nil {
				t.Fatal(err)
			}
			if !equalEvent(ev, tt.want) {
				t.Fatalf("got  %#v\nwant %#v", ev, tt.want)
			}
		})
	}
}

// The schema envelope comes off whatever the stream, and --field paths
// written for the whole message still find their member.
func TestSchemaEnvelope(t *testing.T) {
	v := enveloped(`{"vehicle_id":"v1","lat":41.9,"lon":-87.6,"unit":{"route":"66"}}`)
	for _, fields := range [][]string{nil, {"line=payload.unit.route"}, {"line=unit.route"}} {
		d := Decoder{Fields: mustFields(t, fields...)}
		ev, err := d.Decode(model.Record{Kind: model.KindVehicles, Value: []byte(v), Time: recTime})
		if err != nil {
			t.Fatalf("%v: %v", fields, err)
		}
		want := "66"
		if fields == nil {
			want = ""
		}
		if p := ev.(model.VehiclePosition); p.VehicleID != "v1" || p.Lat != 41.9 || p.Line != want {
			t.Fatalf("%v: %+v", fields, p)
		}
	}
	// A message with more members than the envelope's is no envelope.
	if _, err := Decode(model.Record{Kind: model.KindVehicles, Value: []byte(`{"schema":1,"payload":{"vehicle_id":"v","lat":1,"lon":2},"x":1}`)}); err == nil {
		t.Fatal("a three-member object read as an envelope")
	}
}

// Stations through the fleet: a table of stops makes one station with the
// lines of all its stops, which goes with its last stop.
func TestStationChangesThroughTheFleet(t *testing.T) {
	f := model.NewFleet()
	apply := func(key, val string) {
		t.Helper()
		r := model.Record{Kind: model.KindStations, Key: []byte(key), Time: recTime}
		if val != "" {
			r.Value = []byte(val)
		}
		evs, err := (&Decoder{}).DecodeAll(r, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			f.Apply(ev)
		}
	}
	stations := func() map[string]model.StationState {
		out := map[string]model.StationState{}
		for _, st := range f.Snapshot().Stations {
			out[st.StationID] = st
		}
		return out
	}
	blue := `{"stop_id":30374,"station_name":"Clark/Lake","station_id":40380,"red":false,"blue":true,"green":false}`
	green := `{"stop_id":30074,"station_name":"Clark/Lake","station_id":40380,"red":false,"blue":false,"green":true}`
	apply(`{"stop_id":30374}`, dbz("r", "null", blue))
	apply(`{"stop_id":30074}`, dbz("r", "null", green))
	apply("", `{"station_id":40380,"station_name":"Clark/Lake","line":"blue"}`)
	st := stations()["40380"]
	if st.Name != "Clark/Lake" || len(st.Lines) != 2 || st.Lines[0] != "green" || st.Lines[1] != "blue" || st.Entries != 1 {
		t.Fatalf("two stops: %+v", st)
	}
	apply(`{"stop_id":30074}`, dbz("d", green, "null"))
	apply(`{"stop_id":30074}`, "")
	if st := stations()["40380"]; len(st.Lines) != 1 || st.Lines[0] != "blue" {
		t.Fatalf("one stop left: %+v", st)
	}
	// The last stop goes by its key alone (replica identity default).
	apply(`{"stop_id":30374}`, dbz("d", `{"stop_id":30374,"station_id":null}`, "null"))
	if _, ok := stations()["40380"]; ok {
		t.Fatalf("the station outlived its last stop: %+v", stations())
	}
}

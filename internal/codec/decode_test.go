package codec

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/fleetwatch/fleetwatch/internal/model"
)

var recTime = time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)

func rec(kind model.Kind, value string) model.Record {
	return model.Record{Kind: kind, Key: []byte("k"), Value: []byte(value), Time: recTime}
}

func TestDecodeShapes(t *testing.T) {
	ts := time.Date(2026, 11, 22, 10, 0, 0, 123e6, time.UTC)
	tests := []struct {
		name string
		rec  model.Record
		want model.Event
	}{
		{"vehicle, every field", rec(model.KindVehicles, `{"vehicle_id":"blue-07","line":"blue","lat":41.8781,"lon":-87.6298,"heading":90,
			"speed_kmh":32.5,"status":"in_transit","stop_id":"clark-lake","delay_s":45,"occupancy":0.63,"ts":"2026-11-22T10:00:00.123Z"}`),
			model.VehiclePosition{VehicleID: "blue-07", Line: "blue", Lat: 41.8781, Lon: -87.6298, Heading: 90, SpeedKmh: 32.5,
				Status: model.StatusInTransit, StopID: "clark-lake", DelayS: 45, Occupancy: 0.63, TS: ts,
				Has: model.HasHeading | model.HasSpeed | model.HasDelay | model.HasOccupancy}},
		{"vehicle, required only", rec(model.KindVehicles, `{"vehicle_id":"v1","lat":0,"lon":0}`),
			model.VehiclePosition{VehicleID: "v1", Status: model.StatusInTransit, TS: recTime}},
		{"vehicle stopped", rec(model.KindVehicles, `{"vehicle_id":"v1","lat":1,"lon":2,"status":"stopped_at","stop_id":"s"}`),
			model.VehiclePosition{VehicleID: "v1", Lat: 1, Lon: 2, Status: model.StatusStoppedAt, StopID: "s", TS: recTime}},
		{"tombstone", model.Record{Kind: model.KindVehicles, Key: []byte("blue-07"), Time: recTime},
			model.VehicleRemoved{VehicleID: "blue-07"}},
		{"station reference", rec(model.KindStations, `{"type":"station","station_id":"clark-lake","name":"Clark/Lake","lines":["blue","green"],"lat":41.8857,"lon":-87.6309}`),
			model.StationInfo{StationID: "clark-lake", Name: "Clark/Lake", Lines: []string{"blue", "green"}, Lat: 41.8857, Lon: -87.6309, HasPos: true}},
		{"station with one line", rec(model.KindStations, `{"type":"station","station_id":"s","name":"S","line":"red"}`),
			model.StationInfo{StationID: "s", Name: "S", Lines: []string{"red"}}},
		{"arrival", rec(model.KindStations, `{"type":"arrival","station_id":"clark-lake","vehicle_id":"blue-07","line":"blue","direction":"a","prev_station_id":"grand","ts":"2026-11-22T10:00:00.123Z"}`),
			model.Arrival{StationID: "clark-lake", VehicleID: "blue-07", Line: "blue", Direction: "a", PrevStationID: "grand", TS: ts}},
		{"turnstile", rec(model.KindStations, `{"type":"turnstile","station_id":"clark-lake","entries":3,"ts":"2026-11-22T10:00:00.123Z"}`),
			model.Turnstile{StationID: "clark-lake", Entries: 3, TS: ts}},
		{"turnstile without type", rec(model.KindStations, `{"station_id":"x","entries":0}`),
			model.Turnstile{StationID: "x", Entries: 0, TS: recTime}},
		{"arrival without type", rec(model.KindStations, `{"station_id":"x","vehicle_id":"v"}`),
			model.Arrival{StationID: "x", VehicleID: "v", TS: recTime}},
		// Python producers name the vehicle of an arrival as they name it in
		// their position reports; read as a station, it would wipe the name.
		{"arrival by train_id", rec(model.KindStations, `{"station_id":"x","train_id":"R-1","line":"22"}`),
			model.Arrival{StationID: "x", VehicleID: "R-1", Line: "22", TS: recTime}},
		{"arrival by vehicleId", rec(model.KindStations, `{"station_id":"x","vehicleId":17}`),
			model.Arrival{StationID: "x", VehicleID: "17", TS: recTime}},
		{"weather", rec(model.KindWeather, `{"area":"chicago","temp_c":-3.5,"wind_kmh":22,"humidity":71,"condition":"snow","ts":"2026-11-22T10:00:00.123Z"}`),
			model.Weather{Area: "chicago", TempC: -3.5, WindKmh: 22, Humidity: 71, Condition: "snow", TS: ts}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(tt.rec)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !equalEvent(got, tt.want) {
				t.Fatalf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func equalEvent(a, b model.Event) bool {
	return reflect.DeepEqual(a, b)
}

func TestTimestampForms(t *testing.T) {
	tests := []struct {
		ts   string
		want time.Time
	}{
		{`"2026-11-22T10:00:00Z"`, time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)},
		{`"2026-11-22T10:00:00.123Z"`, time.Date(2026, 11, 22, 10, 0, 0, 123e6, time.UTC)},
		{`"2026-11-22T04:00:00-06:00"`, time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)},
		{`1795341600`, time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)},        // epoch seconds, int
		{`1795341600.5`, time.Date(2026, 11, 22, 10, 0, 0, 5e8, time.UTC)},    // epoch seconds, float
		{`1795341600123`, time.Date(2026, 11, 22, 10, 0, 0, 123e6, time.UTC)}, // epoch milliseconds
		{`null`, recTime}, // falls back to the record
	}
	for _, tt := range tests {
		t.Run(tt.ts, func(t *testing.T) {
			ev, err := Decode(rec(model.KindWeather, `{"area":"a","ts":`+tt.ts+`}`))
			if err != nil {
				t.Fatal(err)
			}
			if got := ev.(model.Weather).TS; !got.Equal(tt.want) {
				t.Fatalf("ts %s: got %v, want %v", tt.ts, got, tt.want)
			}
		})
	}
	// Absent ts: the record's timestamp.
	ev, err := Decode(rec(model.KindWeather, `{"area":"a"}`))
	if err != nil || !ev.(model.Weather).TS.Equal(recTime) {
		t.Fatalf("absent ts: got %v, %v; want record time", ev, err)
	}
}

func TestDecodeRejects(t *testing.T) {
	tests := []struct {
		name  string
		rec   model.Record
		field string
	}{
		{"not JSON", rec(model.KindVehicles, `{"vehicle_id":`), ""},
		{"not an object", rec(model.KindVehicles, `[1,2]`), ""},
		{"empty value", rec(model.KindVehicles, ``), ""},
		{"blank id", model.Record{Kind: model.KindVehicles, Value: []byte(`{"vehicle_id":"  ","lat":1,"lon":2}`)}, "vehicle_id"},
		{"missing lat", rec(model.KindVehicles, `{"vehicle_id":"v","lon":2}`), "lat"},
		{"missing lon", rec(model.KindVehicles, `{"vehicle_id":"v","lat":2}`), "lon"},
		{"lat too big", rec(model.KindVehicles, `{"vehicle_id":"v","lat":90.0001,"lon":2}`), "lat"},
		{"lat too small", rec(model.KindVehicles, `{"vehicle_id":"v","lat":-91,"lon":2}`), "lat"},
		{"lon too big", rec(model.KindVehicles, `{"vehicle_id":"v","lat":1,"lon":180.5}`), "lon"},
		{"lon too small", rec(model.KindVehicles, `{"vehicle_id":"v","lat":1,"lon":-181}`), "lon"},
		{"lat a string", rec(model.KindVehicles, `{"vehicle_id":"v","lat":"x","lon":1}`), "lat"},
		{"number overflow", rec(model.KindVehicles, `{"vehicle_id":"v","lat":1e999,"lon":1}`), "lat"},
		{"negative speed", rec(model.KindVehicles, `{"vehicle_id":"v","lat":1,"lon":1,"speed_kmh":-3}`), "speed_kmh"},
		{"unknown status", rec(model.KindVehicles, `{"vehicle_id":"v","lat":1,"lon":1,"status":"flying"}`), "status"},
		{"bad ts string", rec(model.KindVehicles, `{"vehicle_id":"v","lat":1,"lon":1,"ts":"yesterday"}`), "ts"},
		{"negative ts", rec(model.KindVehicles, `{"vehicle_id":"v","lat":1,"lon":1,"ts":-5}`), "ts"},
		{"ts an object", rec(model.KindVehicles, `{"vehicle_id":"v","lat":1,"lon":1,"ts":{}}`), "ts"},
		{"tombstone without key", model.Record{Kind: model.KindVehicles}, "key"},
		{"station without id", rec(model.KindStations, `{"type":"station","name":"x"}`), "station_id"},
		{"station bad type", rec(model.KindStations, `{"type":"party","station_id":"x"}`), "type"},
		{"station lat out of range", rec(model.KindStations, `{"type":"station","station_id":"x","lat":100,"lon":0}`), "lat"},
		{"turnstile negative", rec(model.KindStations, `{"type":"turnstile","station_id":"x","entries":-1}`), "entries"},
		{"turnstile fraction", rec(model.KindStations, `{"type":"turnstile","station_id":"x","entries":1.5}`), "entries"},
		{"turnstile missing entries", rec(model.KindStations, `{"type":"turnstile","station_id":"x"}`), "entries"},
		{"station tombstone without key", model.Record{Kind: model.KindStations}, "key"},
		{"weather without area or key", model.Record{Kind: model.KindWeather, Value: []byte(`{"temp_c":1}`)}, "area"},
		{"vehicle without id, key or line", model.Record{Kind: model.KindVehicles, Value: []byte(`{"lat":1,"lon":2}`)}, "vehicle_id"},
		{"weather humidity", rec(model.KindWeather, `{"area":"a","humidity":140}`), "humidity"},
		{"weather tombstone", model.Record{Kind: model.KindWeather, Key: []byte("a")}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := Decode(tt.rec)
			if err == nil {
				t.Fatalf("accepted %#v", ev)
			}
			var de *model.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %v is not a *model.DecodeError", err)
			}
			if de.Field != tt.field {
				t.Fatalf("field %q, want %q (%v)", de.Field, tt.field, err)
			}
		})
	}
}

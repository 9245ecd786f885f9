package codec

import (
	"testing"
	"time"

	"github.com/fleetwatch/fleetwatch/internal/model"
)

// Messages as other people's producers write them, understood without
// configuration.
func TestCommonSpellings(t *testing.T) {
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name, key, value string
		want             model.VehiclePosition
	}{
		{"camelCase and latitude/longitude", "", `{"vehicleId":"bus-1","route":"66","latitude":41.9,"longitude":-87.6,"timestamp":"2026-11-22T10:00:00Z"}`,
			model.VehiclePosition{VehicleID: "bus-1", Line: "66", Lat: 41.9, Lon: -87.6}},
		{"lng and epoch ms time", "", `{"bus_id":17,"line_id":"x","lat":41.9,"lng":-87.6,"time":1795341600000}`,
			model.VehiclePosition{VehicleID: "17", Line: "x", Lat: 41.9, Lon: -87.6}},
		{"GeoJSON geometry", "", `{"vehicle":"v9","geometry":{"type":"Point","coordinates":[-87.6,41.9]},"event_time":1795341600}`,
			model.VehiclePosition{VehicleID: "v9", Lat: 41.9, Lon: -87.6}},
		{"nested position", "", `{"trip_id":"t1","position":{"latitude":41.9,"longitude":-87.6},"ts":"2026-11-22 10:00:00"}`,
			model.VehiclePosition{VehicleID: "t1", Lat: 41.9, Lon: -87.6}},
		{"Python datetime with micros", "", `{"train_id":"BL000","line":"blue","lat":41.9,"lon":-87.6,"train_status":"in_service","time":"2026-11-22 10:00:00.000000"}`,
			model.VehiclePosition{VehicleID: "BL000", Line: "blue", Lat: 41.9, Lon: -87.6}},
		{"id from the record key", "bus-7", `{"lat":41.9,"lon":-87.6,"ts":1795341600}`,
			model.VehiclePosition{VehicleID: "bus-7", Lat: 41.9, Lon: -87.6}},
		{"a message uuid is not the vehicle", "bus-8", `{"id":"0f8fad5b-d9cb-469f-a165-70867728950e","lat":41.9,"lon":-87.6,"ts":1795341600}`,
			model.VehiclePosition{VehicleID: "bus-8", Lat: 41.9, Lon: -87.6}},
		{"a plain id is", "", `{"id":"car-3","lat":41.9,"lon":-87.6,"ts":1795341600}`,
			model.VehiclePosition{VehicleID: "car-3", Lat: 41.9, Lon: -87.6}},
		{"only a line", "", `{"line":"red","lat":41.9,"lon":-87.6,"ts":1795341600}`,
			model.VehiclePosition{VehicleID: "red", Line: "red", Lat: 41.9, Lon: -87.6}},
		{"contract name wins over an alias", "", `{"bus_id":"alias","vehicle_id":"real","lat":41.9,"lon":-87.6,"ts":1795341600}`,
			model.VehiclePosition{VehicleID: "real", Lat: 41.9, Lon: -87.6}},
		{"GTFS-rt status", "", `{"vehicle_id":"v","lat":41.9,"lon":-87.6,"current_status":"STOPPED_AT","ts":1795341600}`,
			model.VehiclePosition{VehicleID: "v", Lat: 41.9, Lon: -87.6, Status: model.StatusStoppedAt}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := Decode(model.Record{Kind: model.KindVehicles, Key: []byte(tt.key), Value: []byte(tt.value), Time: at.Add(time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			v := ev.(model.VehiclePosition)
			want := tt.want
			if want.Status == "" {
				want.Status = model.StatusInTransit
			}
			if v.VehicleID != want.VehicleID || v.Line != want.Line || v.Lat != want.Lat || v.Lon != want.Lon || v.Status != want.Status {
				t.Fatalf("got %+v, want %+v", v, want)
			}
			if !v.TS.Equal(at) {
				t.Fatalf("time %v, want %v", v.TS, at)
			}
		})
	}
	// The CTA example's weather: temperature and status.
	ev, err := Decode(model.Record{Kind: model.KindWeather, Key: []byte("chicago"), Value: []byte(`{"temperature":-2.5,"status":"partly_cloudy"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if w := ev.(model.Weather); w.Area != "chicago" || w.TempC != -2.5 || w.Condition != "partly_cloudy" {
		t.Fatalf("weather %+v", w)
	}
}

package codec

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/MobilityData/gtfs-realtime-bindings/golang/gtfs"
	"google.golang.org/protobuf/proto"

	"github.com/fleetwatch/fleetwatch/internal/model"
)

const feedTime = 1795341600 // 2026-11-22T10:00:00Z

func vehicleEntity(entityID, vehicleID, route string, lat, lon float32) *gtfs.FeedEntity {
	return &gtfs.FeedEntity{Id: proto.String(entityID), Vehicle: &gtfs.VehiclePosition{
		Vehicle:  &gtfs.VehicleDescriptor{Id: proto.String(vehicleID)},
		Trip:     &gtfs.TripDescriptor{RouteId: proto.String(route)},
		Position: &gtfs.Position{Latitude: proto.Float32(lat), Longitude: proto.Float32(lon)},
	}}
}

func feedBytes(t testing.TB, entities ...*gtfs.FeedEntity) []byte {
	t.Helper()
	b, err := proto.Marshal(&gtfs.FeedMessage{
		Header: &gtfs.FeedHeader{GtfsRealtimeVersion: proto.String("2.0"), Timestamp: proto.Uint64(feedTime)},
		Entity: entities,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestGTFSRealtime(t *testing.T) {
	full := vehicleEntity("e1", "bus-1", "66", 41.9, -87.6)
	full.Vehicle.Position.Bearing = proto.Float32(90)
	full.Vehicle.Position.Speed = proto.Float32(10) // m/s
	full.Vehicle.CurrentStatus = gtfs.VehiclePosition_STOPPED_AT.Enum()
	full.Vehicle.StopId = proto.String("clark-lake")
	full.Vehicle.Timestamp = proto.Uint64(feedTime + 30)
	full.Vehicle.OccupancyPercentage = proto.Uint32(40)

	labelled := vehicleEntity("e2", "", "", 41.8, -87.7)
	labelled.Vehicle.Vehicle = &gtfs.VehicleDescriptor{Label: proto.String("1234")}
	anonymous := vehicleEntity("e3", "", "x", 41.8, -87.7)
	anonymous.Vehicle.Vehicle = nil
	deleted := &gtfs.FeedEntity{Id: proto.String("e4"), IsDeleted: proto.Bool(true),
		Vehicle: &gtfs.VehiclePosition{Vehicle: &gtfs.VehicleDescriptor{Id: proto.String("bus-9")}}}
	tripUpdate := &gtfs.FeedEntity{Id: proto.String("tu"), TripUpdate: &gtfs.TripUpdate{Trip: &gtfs.TripDescriptor{TripId: proto.String("t")}}}
	noPosition := &gtfs.FeedEntity{Id: proto.String("e5"), Vehicle: &gtfs.VehiclePosition{Vehicle: &gtfs.VehicleDescriptor{Id: proto.String("bus-5")}}}
	offMap := vehicleEntity("e6", "bus-6", "66", 95, 0)

	at := time.Unix(feedTime, 0).UTC()
	tests := []struct {
		name     string
		entities []*gtfs.FeedEntity
		want     []model.Event
		errField string // the skipped entity's error, "" for none
	}{
		{"every field", []*gtfs.FeedEntity{full}, []model.Event{model.VehiclePosition{VehicleID: "bus-1", Line: "66",
			Lat: float64(float32(41.9)), Lon: float64(float32(-87.6)), Heading: 90, SpeedKmh: 36, Status: model.StatusStoppedAt,
			StopID: "clark-lake", Occupancy: 0.4, TS: at.Add(30 * time.Second), Has: model.HasHeading | model.HasSpeed | model.HasOccupancy}}, ""},
		{"label, then entity id, name the vehicle; the header's time stands in",
			[]*gtfs.FeedEntity{labelled, anonymous}, []model.Event{
				model.VehiclePosition{VehicleID: "1234", Lat: float64(float32(41.8)), Lon: float64(float32(-87.7)), Status: model.StatusInTransit, TS: at},
				model.VehiclePosition{VehicleID: "e3", Line: "x", Lat: float64(float32(41.8)), Lon: float64(float32(-87.7)), Status: model.StatusInTransit, TS: at},
			}, ""},
		{"a deleted entity removes its vehicle; trip updates are skipped",
			[]*gtfs.FeedEntity{deleted, tripUpdate}, []model.Event{model.VehicleRemoved{VehicleID: "bus-9"}}, ""},
		{"a bad entity spoils only itself",
			[]*gtfs.FeedEntity{noPosition, vehicleEntity("e7", "bus-7", "", 1, 2), offMap}, []model.Event{
				model.VehiclePosition{VehicleID: "bus-7", Lat: 1, Lon: 2, Status: model.StatusInTransit, TS: at},
			}, "entity e5 lat"},
		{"an empty feed is no error", nil, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d Decoder
			evs, err := d.DecodeAll(model.Record{Kind: model.KindVehicles, Value: feedBytes(t, tt.entities...), Time: recTime}, nil)
			if tt.errField == "" && err != nil {
				t.Fatal(err)
			}
			if tt.errField != "" {
				var de *model.DecodeError
				if !errors.As(err, &de) || de.Field != tt.errField {
					t.Fatalf("error %v, want one about %q", err, tt.errField)
				}
			}
			if len(evs) != len(tt.want) {
				t.Fatalf("%d events, want %d: %+v", len(evs), len(tt.want), evs)
			}
			for i := range evs {
				if !equalEvent(evs[i], tt.want[i]) {
					t.Errorf("event %d:\n got  %+v\n want %+v", i, evs[i], tt.want[i])
				}
			}
		})
	}
}

func TestGTFSRealtimeRejects(t *testing.T) {
	nan := vehicleEntity("e", "v", "", float32(math.NaN()), 0)
	tests := []struct {
		name  string
		rec   model.Record
		cat   model.Category
		field string
	}{
		{"on the stations stream", model.Record{Kind: model.KindStations, Value: feedBytes(t, vehicleEntity("e", "v", "", 1, 2))}, model.CatUnknownFormat, ""},
		{"not a feed", model.Record{Kind: model.KindVehicles, Value: []byte{0x0a, 0x02, 0x08}}, model.CatUnknownFormat, ""},
		{"a feed with no header", model.Record{Kind: model.KindVehicles, Value: []byte{0x12, 0x00}}, model.CatUnknownFormat, ""},
		{"latitude not a number", model.Record{Kind: model.KindVehicles, Value: feedBytes(t, nan)}, model.CatOutOfRange, "entity e lat"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Decoder{Format: FormatGTFSRT}
			evs, err := d.DecodeAll(tt.rec, nil)
			var de *model.DecodeError
			if len(evs) != 0 || !errors.As(err, &de) || de.Category != tt.cat || de.Field != tt.field {
				t.Fatalf("%d events, error %#v", len(evs), err)
			}
		})
	}
	// One event per call: a feed of two is refused by the single-event form.
	if _, err := Decode(model.Record{Kind: model.KindVehicles, Value: feedBytes(t, vehicleEntity("a", "a", "", 1, 2), vehicleEntity("b", "b", "", 1, 2))}); err == nil {
		t.Error("Decode took a feed of two vehicles")
	}
}

var gtfsSeed = []*gtfs.FeedEntity{
	vehicleEntity("e1", "bus-1", "66", 41.9, -87.6),
	{Id: proto.String("e2"), IsDeleted: proto.Bool(true)},
	{Id: proto.String("tu"), TripUpdate: &gtfs.TripUpdate{Trip: &gtfs.TripDescriptor{TripId: proto.String("t")}}},
}

// FuzzGTFSRT feeds arbitrary bytes to the GTFS-realtime decoder: it never
// panics, and what it returns is within the contract's ranges.
func FuzzGTFSRT(f *testing.F) {
	f.Add(feedBytes(f, gtfsSeed...))
	f.Add(feedBytes(f))
	f.Add([]byte{0x0a, 0x05, 0x0a, 0x03, '2', '.', '0'})
	f.Fuzz(func(t *testing.T, data []byte) {
		d := Decoder{Format: FormatGTFSRT}
		evs, err := d.DecodeAll(model.Record{Kind: model.KindVehicles, Value: data, Time: recTime}, nil)
		if err != nil {
			var de *model.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error of type %T: %v", err, err)
			}
		}
		for _, ev := range evs {
			switch v := ev.(type) {
			case model.VehiclePosition:
				if v.VehicleID == "" || math.Abs(v.Lat) > 90 || math.Abs(v.Lon) > 180 || v.SpeedKmh < 0 || !finite(v.Heading) {
					t.Fatalf("out of contract: %+v", v)
				}
			case model.VehicleRemoved:
				if v.VehicleID == "" {
					t.Fatal("removal without an id")
				}
			default:
				t.Fatalf("unexpected event %T", ev)
			}
		}
	})
}

package cli_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"strings"
	"testing"

	"github.com/IBM/sarama"
	"github.com/MobilityData/gtfs-realtime-bindings/golang/gtfs"
	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"
	"google.golang.org/protobuf/proto"

	"github.com/fleetwatch/fleetwatch/internal/kafka"
	"github.com/fleetwatch/fleetwatch/internal/testutil"
)

const avroPosition = `{"type":"record","name":"Position","namespace":"example","fields":[
 {"name":"vehicleId","type":"string"},{"name":"route","type":["null","string"],"default":null},
 {"name":"latitude","type":"double"},{"name":"longitude","type":"double"},
 {"name":"timestamp","type":{"type":"long","logicalType":"timestamp-millis"}}]}`

// Data from any producer, end to end: one vehicles topic carries a
// GTFS-realtime feed of three vehicles, two Avro records in the Confluent
// wire format (schema in a registry), two JSON records of a nested shape read
// with --field, and one record of no format. fleetwatch snapshot, the built
// binary, detects each record's format and counts them all.
func TestSnapshotReadsEveryFormat(t *testing.T) {
	fw := testutil.Binary(t, "./cmd/tui", "fleetwatch")
	broker, err := kafka.StartEmbedded("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()

	// The registry double: franz-go's srfake; the schema is registered
	// through the registry API (POST /subjects/{subject}/versions), as a
	// producer's serializer would.
	registry := srfake.New()
	defer registry.Close()
	client, err := sr.NewClient(sr.URLs(registry.URL()))
	if err != nil {
		t.Fatal(err)
	}
	ss, err := client.CreateSchema(context.Background(), "fleet.vehicles-value", sr.Schema{Schema: avroPosition})
	if err != nil {
		t.Fatal(err)
	}
	avroRecord := func(id, route string) []byte {
		body, err := avro.Marshal(avro.MustParse(avroPosition), map[string]any{"vehicleId": id, "route": map[string]any{"string": route},
			"latitude": 41.88, "longitude": -87.63, "timestamp": int64(1795341600000)})
		if err != nil {
			t.Fatal(err)
		}
		return append(binary.BigEndian.AppendUint32([]byte{0}, uint32(ss.ID)), body...)
	}

	entity := func(id string, lat float32) *gtfs.FeedEntity {
		return &gtfs.FeedEntity{Id: proto.String("e-" + id), Vehicle: &gtfs.VehiclePosition{
			Vehicle:   &gtfs.VehicleDescriptor{Id: proto.String(id)},
			Trip:      &gtfs.TripDescriptor{RouteId: proto.String("66")},
			Position:  &gtfs.Position{Latitude: proto.Float32(lat), Longitude: proto.Float32(-87.65), Speed: proto.Float32(5)},
			Timestamp: proto.Uint64(1795341600)}}
	}
	feed, err := proto.Marshal(&gtfs.FeedMessage{Header: &gtfs.FeedHeader{GtfsRealtimeVersion: proto.String("2.0")},
		Entity: []*gtfs.FeedEntity{entity("gtfs-1", 41.90), entity("gtfs-2", 41.91), entity("gtfs-3", 41.92)}})
	if err != nil {
		t.Fatal(err)
	}

	cfg := sarama.NewConfig()
	cfg.Producer.Return.Successes = true
	producer, err := sarama.NewSyncProducer([]string{broker.Addr()}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range [][]byte{
		feed,
		avroRecord("avro-1", "blue"),
		avroRecord("avro-2", "blue"),
		[]byte(`{"payload":{"unit":{"code":"json-1"},"route":"red"},"pos":{"y":41.85,"x":-87.62},"ts":1795341600}`),
		[]byte(`{"payload":{"unit":{"code":"json-2"},"route":"red"},"pos":{"y":41.86,"x":-87.62},"ts":1795341600}`),
		{0x93, 0x01, 0x02, 0x03}, // no format
	} {
		if _, _, err := producer.SendMessage(&sarama.ProducerMessage{Topic: "fleet.vehicles", Value: sarama.ByteEncoder(v)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := producer.Close(); err != nil {
		t.Fatal(err)
	}

	out, errOut, code := run(t, fw, "snapshot", "-b", broker.Addr(), "--json", "--until-caught-up",
		"--schema-registry", registry.URL(), "--field", "vehicle_id=payload.unit.code", "--field", "line=payload.route",
		"--field", "lat=pos.y", "--field", "lon=pos.x")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var s summary
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	lines := map[string]string{}
	for _, v := range s.Vehicles {
		lines[v.VehicleID] = v.Line
	}
	want := map[string]string{"gtfs-1": "66", "gtfs-2": "66", "gtfs-3": "66", "avro-1": "blue", "avro-2": "blue", "json-1": "red", "json-2": "red"}
	if len(lines) != len(want) {
		t.Fatalf("vehicles %v, want %v", lines, want)
	}
	for id, line := range want {
		if lines[id] != line {
			t.Errorf("vehicle %s on line %q, want %q", id, lines[id], line)
		}
	}
	if s.Stats.Consumed["vehicles"] != 6 || s.Stats.Rejected["vehicles"] != 1 || s.Stats.RejectedByReason["vehicles"]["unknown_format"] != 1 {
		t.Fatalf("stats %+v", s.Stats)
	}
}

// Without a registry, or with one that is down, Avro records are rejected
// as unknown_format and the rest is read: never fatal.
func TestAvroWithoutRegistryIsRejectedNotFatal(t *testing.T) {
	fw := testutil.Binary(t, "./cmd/tui", "fleetwatch")
	broker, err := kafka.StartEmbedded("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()
	cfg := sarama.NewConfig()
	cfg.Producer.Return.Successes = true
	producer, err := sarama.NewSyncProducer([]string{broker.Addr()}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range [][]byte{{0, 0, 0, 0, 1, 0x0c, 'a', 'v', 'r', 'o'}, []byte(`{"vehicle_id":"ok","lat":41.9,"lon":-87.6}`)} {
		if _, _, err := producer.SendMessage(&sarama.ProducerMessage{Topic: "fleet.vehicles", Value: sarama.ByteEncoder(v)}); err != nil {
			t.Fatal(err)
		}
	}
	producer.Close()
	for _, args := range [][]string{nil, {"--schema-registry", "http://" + testutil.FreeAddr(t)}} {
		out, errOut, code := run(t, fw, append([]string{"snapshot", "-b", broker.Addr(), "--json"}, args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		var s summary
		if err := json.Unmarshal([]byte(out), &s); err != nil {
			t.Fatal(err)
		}
		if len(s.Vehicles) != 1 || s.Stats.RejectedByReason["vehicles"]["unknown_format"] != 1 {
			t.Fatalf("%v: vehicles %+v stats %+v", args, s.Vehicles, s.Stats)
		}
	}
}

func TestFormatFlagErrors(t *testing.T) {
	fw := testutil.Binary(t, "./cmd/tui", "fleetwatch")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"snapshot", "--field", "bogus=a.b"}, "--field bogus: unknown field"},
		{[]string{"snapshot", "--field", "vehicle_id="}, "--field vehicle_id: empty path"},
		{[]string{"--field", "lat"}, "want name=path"},
		{[]string{"serve", "--insecure-no-auth", "--field", "speed=a"}, "--field speed: unknown field"},
		{[]string{"snapshot", "--value-format", "xml"}, `--value-format: unknown value format "xml"`},
		{[]string{"snapshot", "--value-format", "avro"}, "needs --schema-registry"},
		{[]string{"snapshot", "--schema-registry", "registry:8081"}, "want an http:// or https:// URL"},
		{[]string{"snapshot", "--temp-unit", "K"}, `--temp-unit: unknown temperature unit "K"; want C or F`},
	} {
		_, errOut, code := run(t, fw, tt.args...)
		// serve warns of --insecure-no-auth first; the error is its last line.
		lines := strings.Split(strings.TrimSpace(errOut), "\n")
		if code != 2 || !strings.Contains(lines[len(lines)-1], tt.want) || (tt.args[0] != "serve" && len(lines) != 1) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 saying %q", tt.args, code, errOut, tt.want)
		}
	}
}

package ingest

import (
	"strings"
	"testing"
	"time"

	"github.com/fleetwatch/fleetwatch/internal/codec"
	"github.com/fleetwatch/fleetwatch/internal/model"
)

// malformed is a corpus of broken and hostile messages, each with the
// category it must be counted under. Every one is rejected, none stops
// the store, and the counts add up exactly.
var malformed = []struct {
	kind  model.Kind
	key   string
	value string
	cat   model.Category
}{
	{model.KindVehicles, "k", `not json`, model.CatNotJSON},
	{model.KindVehicles, "k", ``, model.CatNotJSON},
	{model.KindVehicles, "k", `   `, model.CatNotJSON},
	{model.KindVehicles, "k", `[1,2,3]`, model.CatNotJSON},
	{model.KindVehicles, "k", `"a string"`, model.CatNotJSON},
	{model.KindVehicles, "k", `42`, model.CatNotJSON},
	{model.KindVehicles, "k", `{"vehicle_id":"v","lat":1,"lon":2`, model.CatNotJSON},
	{model.KindVehicles, "k", `{"vehicle_id":"v","lat":1,"lon":2}}`, model.CatNotJSON},
	{model.KindVehicles, "k", `{'vehicle_id':'v'}`, model.CatNotJSON},
	{model.KindVehicles, "k", `{"vehicle_id":"v","lat":NaN,"lon":2}`, model.CatNotJSON},
	{model.KindVehicles, "k", `{"vehicle_id":"v","lat":Infinity,"lon":2}`, model.CatNotJSON},
	{model.KindVehicles, "k", "{\"vehicle_id\":\"\xc3\x28\",\"lat\":1,\"lon\":2}", model.CatNotJSON},
	{model.KindVehicles, "k", `{"vehicle_id":"v","x":` + strings.Repeat("[", 500) + strings.Repeat("]", 500) + `,"lat":1,"lon":2}`, model.CatNotJSON},
	{model.KindVehicles, "k", `{"vehicle_id":"v","lat":"41.9","lon":2}`, model.CatWrongType},
	{model.KindVehicles, "k", `{"vehicle_id":"v","lat":1,"lon":[2]}`, model.CatWrongType},
	{model.KindVehicles, "k", `{"vehicle_id":{"a":1},"lat":1,"lon":2}`, model.CatWrongType},
	{model.KindVehicles, "k", `{"vehicle_id":"v","lat":1,"lon":2,"status":7}`, model.CatWrongType},
	{model.KindVehicles, "k", `{"vehicle_id":"v","lat":1,"lon":2,"ts":true}`, model.CatWrongType},
	{model.KindVehicles, "k", `{"vehicle_id":"v","lat":91,"lon":2}`, model.CatOutOfRange},
	{model.KindVehicles, "k", `{"vehicle_id":"v","lat":1,"lon":-180.01}`, model.CatOutOfRange},
	{model.KindVehicles, "k", `{"vehicle_id":"v","lat":1e400,"lon":2}`, model.CatOutOfRange},
	{model.KindVehicles, "k", `{"vehicle_id":"v","lat":1,"lon":2,"speed_kmh":-1}`, model.CatOutOfRange},
	{model.KindVehicles, "k", `{"vehicle_id":"v","lat":1,"lon":2,"ts":"yesterday"}`, model.CatOutOfRange},
	{model.KindVehicles, "k", `{"vehicle_id":"v","lat":1,"lon":2,"ts":-1}`, model.CatOutOfRange},
	{model.KindVehicles, "k", `{"vehicle_id":"v","lon":2}`, model.CatOutOfRange},
	{model.KindVehicles, "", `{"lat":1,"lon":2}`, model.CatMissingID},
	{model.KindVehicles, "", `{"vehicle_id":"  ","lat":1,"lon":2}`, model.CatMissingID},
	{model.KindVehicles, "", ``, model.CatNotJSON},
	{model.KindVehicles, "k", `{"vehicle_id":"` + strings.Repeat("x", 300) + `","lat":1,"lon":2}`, model.CatTooLarge},
	{model.KindVehicles, "k", `{"vehicle_id":"v","lat":1,"lon":2,"pad":"` + strings.Repeat("x", codec.MaxMessageBytes) + `"}`, model.CatTooLarge},
	{model.KindVehicles, "k", `{"vehicle_id":"v","lat":1,"lon":2,"status":"flying"}`, model.CatUnknownFormat},
	{model.KindStations, "k", `{"type":"party","station_id":"s"}`, model.CatUnknownFormat},
	{model.KindStations, "k", `{"type":"station","name":"no id"}`, model.CatMissingID},
	{model.KindStations, "k", `{"type":"turnstile","station_id":"s","entries":-3}`, model.CatOutOfRange},
	{model.KindStations, "k", `{"type":"turnstile","station_id":"s","entries":"many"}`, model.CatWrongType},
	{model.KindStations, "k", `{"type":"station","station_id":"s","lines":"red"}`, model.CatWrongType},
	// A reading without an area member is named after its topic; an empty one is refused.
	{model.KindWeather, "", `{"area":" ","temp_c":1}`, model.CatMissingID},
	{model.KindWeather, "k", `{"area":"a","humidity":101}`, model.CatOutOfRange},
	{model.KindWeather, "k", `{"area":"a","temp_c":"cold"}`, model.CatWrongType},
}

func TestMalformedCorpusIsRejectedAndCounted(t *testing.T) {
	if len(malformed) < 30 {
		t.Fatalf("corpus has %d messages, want at least 30", len(malformed))
	}
	s := NewStore(Options{})
	var wantRejected [3]int64
	var wantByReason [3][6]int64
	batch := []model.Record{}
	for i, m := range malformed {
		var value []byte
		if m.value != "" || m.key != "" {
			value = []byte(m.value)
		}
		if m.value == "" && m.key == "" {
			value = []byte{} // an empty value, not a tombstone
		}
		batch = append(batch, model.Record{Kind: m.kind, Key: []byte(m.key), Value: value, Topic: "t", Offset: int64(i)})
		wantRejected[m.kind]++
		for c, cat := range model.Categories {
			if cat == m.cat {
				wantByReason[m.kind][c]++
			}
		}
		// Each one alone, to name the culprit when a category is wrong.
		one := NewStore(Options{})
		one.Handle(batch[len(batch)-1:])
		got := one.Rejects()
		if len(got) != 1 {
			t.Errorf("message %d accepted: %.80q", i, m.value)
			continue
		}
		if got[0].Category != m.cat {
			t.Errorf("message %d: category %s (%s), want %s", i, got[0].Category, got[0].Reason, m.cat)
		}
	}
	// A good record among them still lands.
	batch = append(batch, model.Record{Kind: model.KindVehicles, Key: []byte("ok"), Value: []byte(`{"vehicle_id":"ok","lat":1,"lon":2}`)})
	s.Handle(batch)
	snap := s.Snapshot(time.Now())
	if snap.Counters.Rejected != wantRejected {
		t.Errorf("rejected %v, want %v", snap.Counters.Rejected, wantRejected)
	}
	if snap.Counters.ByReason != wantByReason {
		t.Errorf("by reason %v, want %v", snap.Counters.ByReason, wantByReason)
	}
	if snap.Counters.Consumed[model.KindVehicles] != wantRejected[model.KindVehicles]+1 || snap.Vehicles.Len() != 1 {
		t.Errorf("consumed %v, %d vehicles", snap.Counters.Consumed, snap.Vehicles.Len())
	}
	if r := s.Rejects(); len(r) != keepRejects || r[len(r)-1].Offset != int64(len(malformed)-1) || len(r[0].Excerpt) > excerptBytes {
		t.Errorf("kept rejects: %d, last offset %d", len(r), r[len(r)-1].Offset)
	}
}

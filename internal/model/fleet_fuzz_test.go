package model_test

// FuzzApply decodes its records with the codecs, which import model: it is
// an external test so that model's own tests need no codec.

import (
	"bytes"
	"testing"
	"time"

	"github.com/fleetwatch/fleetwatch/internal/codec"
	"github.com/fleetwatch/fleetwatch/internal/model"
)

// applySeeds are one record of each stream, as the contract writes them.
var applySeeds = []string{
	`{"vehicle_id":"blue-07","line":"blue","lat":41.8781,"lon":-87.6298,"heading":90,"speed_kmh":32.5,"status":"in_transit","stop_id":"clark-lake","delay_s":45,"occupancy":0.63,"ts":"2026-11-22T10:00:00.123Z"}`,
	`{"type":"station","station_id":"clark-lake","name":"Clark/Lake","lines":["blue","green"],"lat":41.8857,"lon":-87.6309}`,
	`{"type":"turnstile","station_id":"s","entries":3}`,
	`{"area":"chicago","temp_c":-3.5,"wind_kmh":22,"humidity":71,"condition":"snow","ts":"2026-11-22T10:00:00Z"}`,
}

// FuzzApply folds a sequence of decoded records (split from the input at
// newlines, each on the stream its first byte picks) into a fleet, with
// tombstones, expiry and snapshots in between. The state never panics,
// never holds a vehicle at an impossible position, never counts below
// zero, and a snapshot always agrees with itself.
func FuzzApply(f *testing.F) {
	f.Add([]byte("0" + applySeeds[0] + "\n1" + applySeeds[1] + "\n1" + applySeeds[2] + "\n2" + applySeeds[3]))
	f.Add([]byte("0{\"vehicle_id\":\"a\",\"lat\":1,\"lon\":2,\"ts\":5}\n0{\"vehicle_id\":\"a\",\"lat\":3,\"lon\":2,\"ts\":4}\n9a\n1{\"type\":\"arrival\",\"station_id\":\"s\",\"vehicle_id\":\"a\",\"line\":\"l\",\"ts\":1e12}"))
	f.Add([]byte("1{\"type\":\"turnstile\",\"station_id\":\"s\",\"entries\":-5,\"ts\":-1}\n1{\"type\":\"arrival\",\"station_id\":\"s\",\"vehicle_id\":\"b\",\"line\":\"l\",\"ts\":253402300799}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fl := model.NewFleet()
		fl.SetWindow(15 * time.Minute)
		for i, line := range bytes.Split(data, []byte("\n")) {
			if len(line) == 0 {
				continue
			}
			switch line[0] {
			case '9': // a tombstone for the rest of the line as key
				fl.Apply(model.VehicleRemoved{VehicleID: string(line[1:])})
				continue
			case '8':
				fl.Expire(time.Unix(int64(len(line))*1e6, 0))
				continue
			}
			rec := model.Record{Kind: model.Kind(line[0] % 3), Key: []byte("k"), Value: line[1:], Time: time.Unix(1795341600+int64(i), 0)}
			ev, err := codec.Decode(rec)
			if err != nil {
				fl.Reject(rec.Kind, model.CatNotJSON)
				continue
			}
			fl.AddCounters(rec.Kind, 1, false)
			fl.Apply(ev)
			if i%3 == 0 {
				checkSnapshot(t, fl.Snapshot())
			}
		}
		checkSnapshot(t, fl.Snapshot())
	})
}

func checkSnapshot(t *testing.T, s model.Snapshot) {
	t.Helper()
	total := 0
	for i, v := range s.Vehicles.Rows() {
		if v.Lat < -90 || v.Lat > 90 || v.Lon < -180 || v.Lon > 180 || v.Lat != v.Lat || v.Lon != v.Lon {
			t.Fatalf("vehicle %q at an impossible position %v,%v", v.VehicleID, v.Lat, v.Lon)
		}
		if i > 0 && s.Vehicles.Rows()[i-1].VehicleID >= v.VehicleID {
			t.Fatalf("vehicles not sorted by id or duplicated: %q then %q", s.Vehicles.Rows()[i-1].VehicleID, v.VehicleID)
		}
	}
	for _, l := range s.Lines {
		total += l.Vehicles
		if l.Vehicles < 0 || l.Bunched < 0 || l.HeadwayMaxS < l.HeadwayS-1e-6 && l.HeadwayS > 0 {
			t.Fatalf("line %+v does not add up", l)
		}
	}
	withLine := 0
	for _, v := range s.Vehicles.Rows() {
		if v.Line != "" {
			withLine++
		}
	}
	if total != withLine {
		t.Fatalf("lines count %d vehicles, the fleet has %d with a line", total, withLine)
	}
	for _, st := range s.Stations {
		if st.Arrivals < 0 || st.ArrivalsWindow < 0 || st.ArrivalsWindow > st.Arrivals {
			t.Fatalf("station %q arrivals %d, in the window %d", st.StationID, st.Arrivals, st.ArrivalsWindow)
		}
	}
	for k := range s.Counters.Consumed {
		if s.Counters.Consumed[k] < 0 || s.Counters.Rejected[k] < 0 || s.Counters.Stale[k] < 0 {
			t.Fatalf("negative counters %+v", s.Counters)
		}
	}
}

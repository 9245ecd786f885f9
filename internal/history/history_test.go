package history

import (
	"github.com/fleetwatch/fleetwatch/internal/testutil"

	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fleetwatch/fleetwatch/internal/model"
)

const (
	topicV = "fleet.vehicles"
	topicS = "fleet.stations"
	topicW = "fleet.weather"
	group  = "fleetwatch-record"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 123000000, time.UTC)

func record(kind model.Kind, topic string, partition int32, offset int64, at time.Time) model.Record {
	return model.Record{Kind: kind, Topic: topic, Partition: partition, Offset: offset, Time: at,
		Value: []byte(fmt.Sprintf(`{"n":%d}`, offset))}
}

const allFields = model.HasHeading | model.HasSpeed | model.HasDelay | model.HasOccupancy

// sampleBatch is one of every kind of row, and a record that failed to
// decode, over four partitions.
func sampleBatch() Batch {
	var b Batch
	b.Add(record(model.KindVehicles, topicV, 0, 0, t0), []model.Event{model.VehiclePosition{
		VehicleID: "blue-07", Line: "blue", Lat: 41.8781, Lon: -87.6298, Heading: 90, SpeedKmh: 32.5,
		Status: model.StatusInTransit, StopID: "clark-lake", DelayS: 45, Occupancy: 0.63, TS: t0, Has: allFields}}, nil)
	bad := record(model.KindVehicles, topicV, 0, 1, t0)
	bad.Value = []byte(`{"vehicle_id": "blue-08", "lat": "north"`)
	b.Add(bad, nil, &model.DecodeError{Field: "lat", Reason: "wrong type: string", Category: model.CatWrongType})
	b.Add(record(model.KindVehicles, topicV, 1, 5, t0.Add(time.Second)), []model.Event{model.VehiclePosition{
		VehicleID: "red-1", Lat: 41.9, Lon: -87.7, TS: t0}}, nil)
	tomb := record(model.KindVehicles, topicV, 1, 6, t0.Add(2*time.Second))
	tomb.Value = nil
	b.Add(tomb, []model.Event{model.VehicleRemoved{VehicleID: "red-1"}}, nil)
	b.Add(record(model.KindStations, topicS, 0, 0, t0.Add(-time.Hour)), []model.Event{model.StationInfo{
		StationID: "clark-lake", Name: "Clark/Lake", Lines: []string{"blue", "green"}, Lat: 41.8857, Lon: -87.6309, HasPos: true}}, nil)
	b.Add(record(model.KindStations, topicS, 0, 1, t0), []model.Event{model.Arrival{
		StationID: "clark-lake", VehicleID: "blue-07", Line: "blue", Direction: "a", PrevStationID: "grand", TS: t0}}, nil)
	b.Add(record(model.KindStations, topicS, 0, 2, t0), []model.Event{model.Turnstile{StationID: "clark-lake", Entries: 3, TS: t0}}, nil)
	b.Add(record(model.KindWeather, topicW, 0, 0, t0), []model.Event{model.Weather{
		Area: "chicago", TempC: -3.5, WindKmh: 22, Humidity: 71, Condition: "snow", TS: t0}}, nil)
	return b
}

func TestMigrateIsIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := Open(ctx, testutil.FreshDB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.CheckSchema(ctx); !errors.Is(err, ErrNoSchema) {
		t.Fatalf("CheckSchema on an empty database: %v, want ErrNoSchema", err)
	}
	for range 2 {
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if v, err := s.SchemaVersion(ctx); err != nil || v != LatestVersion() || v < 1 {
		t.Fatalf("SchemaVersion = %d, %v; want %d", v, err, LatestVersion())
	}
	if err := s.CheckSchema(ctx); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"vehicle_positions", "station_events", "weather", "stations", "rejected", "consumer_offsets"} {
		if n := count(t, s, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename = $1`, table); n != 1 {
			t.Errorf("table %s missing", table)
		}
	}
	// Two processes starting at once take turns.
	s2, err := Open(ctx, testutil.FreshDB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Go(func() { errs[i] = s2.Migrate(ctx) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent Migrate: %v", err)
	}
}

func TestNewerSchemaIsRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTest(t)
	next := LatestVersion() + 1
	if _, err := s.pool.Exec(ctx, `INSERT INTO `+versionTable+` (version_id, is_applied) VALUES ($1, true)`, next); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("history: database schema version %d is newer than this fleetwatch (%d); upgrade fleetwatch", next, LatestVersion())
	for name, check := range map[string]func(context.Context) error{"Migrate": s.Migrate, "CheckSchema": s.CheckSchema} {
		err := check(ctx)
		if !errors.Is(err, ErrSchemaTooNew) || err.Error() != want {
			t.Errorf("%s: %v; want %q", name, err, want)
		}
		if Retryable(err) {
			t.Errorf("%s: a newer schema is not worth retrying", name)
		}
	}
}

func TestWriteAndOffsets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTest(t)
	if got, err := s.Offsets(ctx, group); err != nil || len(got) != 0 {
		t.Fatalf("Offsets of a new database = %v, %v", got, err)
	}
	if err := s.Write(ctx, group, sampleBatch()); err != nil {
		t.Fatal(err)
	}
	want := map[TopicPartition]int64{{topicV, 0}: 2, {topicV, 1}: 7, {topicS, 0}: 3, {topicW, 0}: 1}
	got, err := s.Offsets(ctx, group)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Offsets = %v, %v; want %v", got, err, want)
	}
	if got, _ := s.Offsets(ctx, "another-group"); len(got) != 0 {
		t.Errorf("another group's offsets = %v, want none", got)
	}
	for table, n := range map[string]int64{"vehicle_positions": 3, "station_events": 3, "weather": 1, "stations": 1, "rejected": 1} {
		if c := count(t, s, `SELECT count(*) FROM `+table); c != n {
			t.Errorf("%s: %d rows, want %d", table, c, n)
		}
	}
	var (
		cat, reason, stream string
		excerpt             []byte
		partial             bool
	)
	if err := s.pool.QueryRow(ctx, `SELECT category, reason, stream, excerpt, partial FROM rejected
		WHERE topic = $1 AND partition = 0 AND "offset" = 1`, topicV).Scan(&cat, &reason, &stream, &excerpt, &partial); err != nil {
		t.Fatal(err)
	}
	if cat != "wrong_type" || reason != "lat: wrong type: string" || stream != "vehicles" || partial ||
		string(excerpt) != `{"vehicle_id": "blue-08", "lat": "north"` {
		t.Errorf("rejected row = %q %q %q %q %v", cat, reason, stream, excerpt, partial)
	}
	// The contract's columns, by name.
	if n := count(t, s, `SELECT count(*) FROM vehicle_positions WHERE topic = $1 AND partition = 0 AND "offset" = 0
		AND vehicle_id = 'blue-07' AND line = 'blue' AND lat = 41.8781 AND lon = -87.6298 AND ts = $2`, topicV, t0); n != 1 {
		t.Errorf("the position is not stored as the contract says")
	}
	if n := count(t, s, `SELECT count(*) FROM vehicle_positions WHERE vehicle_id = 'red-1' AND removed AND lat IS NULL AND ts = $1`,
		t0.Add(2*time.Second)); n != 1 {
		t.Errorf("the tombstone is not stored as a removal at its record's time")
	}
	sts, err := s.Stations(ctx)
	if err != nil || len(sts) != 1 || sts[0].Name != "Clark/Lake" || !slices.Equal(sts[0].Lines, []string{"blue", "green"}) ||
		!sts[0].HasPos || !sts[0].UpdatedAt.Equal(t0.Add(-time.Hour)) {
		t.Errorf("Stations = %+v, %v", sts, err)
	}

	// The next batch carries on where the first ended.
	var b Batch
	b.Add(record(model.KindVehicles, topicV, 0, 2, t0), []model.Event{model.VehiclePosition{VehicleID: "blue-07", Lat: 1, Lon: 2, TS: t0.Add(time.Minute)}}, nil)
	// A newer reference record replaces the stored one; an older one does not.
	b.Add(record(model.KindStations, topicS, 0, 3, t0), []model.Event{model.StationInfo{StationID: "clark-lake", Name: "Clark & Lake"}}, nil)
	b.Add(record(model.KindStations, topicS, 0, 4, t0.Add(-2*time.Hour)), []model.Event{model.StationInfo{StationID: "clark-lake", Name: "old"}}, nil)
	if err := s.Write(ctx, group, b); err != nil {
		t.Fatal(err)
	}
	want[TopicPartition{topicV, 0}] = 3
	want[TopicPartition{topicS, 0}] = 5
	if got, err := s.Offsets(ctx, group); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Offsets = %v, %v; want %v", got, err, want)
	}
	if sts, _ := s.Stations(ctx); len(sts) != 1 || sts[0].Name != "Clark & Lake" || sts[0].HasPos || sts[0].Offset != 3 {
		t.Errorf("Stations after a newer and an older record = %+v", sts)
	}
}

func TestBatchWrittenTwiceFails(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTest(t)
	b := sampleBatch()
	if err := s.Write(ctx, group, b); err != nil {
		t.Fatal(err)
	}
	tables := []string{"vehicle_positions", "station_events", "weather", "rejected"}
	counts := func() []int64 {
		var out []int64
		for _, table := range tables {
			out = append(out, count(t, s, `SELECT count(*) FROM `+table))
		}
		return out
	}
	before := counts()
	offsets, _ := s.Offsets(ctx, group)

	err := s.Write(ctx, group, b)
	if !errors.Is(err, ErrAlreadyWritten) || !strings.Contains(err.Error(), "has recorded up to") {
		t.Fatalf("writing a batch twice: %v, want ErrAlreadyWritten", err)
	}
	if Retryable(err) {
		t.Error("a batch written twice is not worth retrying")
	}
	// A batch that overlaps the last one's end is refused all the same.
	var overlap Batch
	overlap.Add(record(model.KindVehicles, topicV, 0, 1, t0), nil, errors.New("junk"))
	overlap.Add(record(model.KindVehicles, topicV, 0, 2, t0), []model.Event{model.VehiclePosition{VehicleID: "x", TS: t0}}, nil)
	if err := s.Write(ctx, group, overlap); !errors.Is(err, ErrAlreadyWritten) {
		t.Fatalf("an overlapping batch: %v, want ErrAlreadyWritten", err)
	}
	// Another group recording the same records into the same database hits
	// the unique constraints.
	err = s.Write(ctx, "another-group", b)
	if !errors.Is(err, ErrAlreadyWritten) || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("the same records by another group: %v, want ErrAlreadyWritten from the constraint", err)
	}
	if after := counts(); !slices.Equal(before, after) {
		t.Errorf("rows %v after the refused writes, want %v", after, before)
	}
	if got, _ := s.Offsets(ctx, group); !reflect.DeepEqual(got, offsets) {
		t.Errorf("offsets moved: %v, want %v", got, offsets)
	}
	if got, _ := s.Offsets(ctx, "another-group"); len(got) != 0 {
		t.Errorf("the refused group's offsets were stored: %v", got)
	}

	// Two recorders that both believe they own a partition (a rebalance
	// one of them has not noticed) write the same next batch at once:
	// exactly one succeeds.
	var next Batch
	for i := range int64(100) {
		next.Add(record(model.KindVehicles, topicV, 0, 2+i, t0), []model.Event{model.VehiclePosition{VehicleID: "v", TS: t0.Add(time.Duration(i) * time.Second)}}, nil)
	}
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() { errs[i] = s.Write(ctx, group, next) })
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) {
		t.Fatalf("concurrent writes of one batch: %v / %v, want one success", errs[0], errs[1])
	}
	for _, err := range errs {
		if err != nil && !errors.Is(err, ErrAlreadyWritten) {
			t.Errorf("the loser: %v, want ErrAlreadyWritten", err)
		}
	}
	if n := count(t, s, `SELECT count(*) FROM vehicle_positions WHERE vehicle_id = 'v'`); n != 100 {
		t.Errorf("%d rows of the contested batch, want 100", n)
	}
}

func TestRecordWithSeveralEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTest(t)
	// A GTFS-realtime feed: several vehicles in one record, one of them
	// unusable. The others are stored under (offset, idx).
	var b Batch
	feed := record(model.KindVehicles, topicV, 0, 7, t0)
	events := []model.Event{
		model.VehiclePosition{VehicleID: "a", Lat: 1, Lon: 1, TS: t0},
		model.VehiclePosition{VehicleID: "b\x00", Lat: 2, Lon: 2, TS: t0},
		model.VehiclePosition{VehicleID: "c", Line: "\xff", Lat: 3, Lon: 3, TS: t0},
		model.VehiclePosition{VehicleID: "d", Lat: 4, Lon: 4, TS: t0},
	}
	b.Add(feed, events, &model.DecodeError{Reason: "entity 5: missing position", Category: model.CatOutOfRange})
	if len(b.Positions) != 2 || len(b.Rejected) != 1 {
		t.Fatalf("%d positions and %d rejected, want 2 and 1", len(b.Positions), len(b.Rejected))
	}
	if err := s.Write(ctx, group, b); err != nil {
		t.Fatal(err)
	}
	rows, err := s.pool.Query(ctx, `SELECT idx FROM vehicle_positions WHERE "offset" = 7 ORDER BY idx`)
	if err != nil {
		t.Fatal(err)
	}
	var idx []int32
	for rows.Next() {
		var i int32
		_ = rows.Scan(&i)
		idx = append(idx, i)
	}
	if !slices.Equal(idx, []int32{0, 3}) {
		t.Errorf("stored idx %v, want [0 3]", idx)
	}
	var (
		reason  string
		partial bool
	)
	if err := s.pool.QueryRow(ctx, `SELECT reason, partial FROM rejected WHERE "offset" = 7`).Scan(&reason, &partial); err != nil {
		t.Fatal(err)
	}
	if !partial || !strings.Contains(reason, "entity 5: missing position") || !strings.Contains(reason, "event 1: vehicle_id: contains a NUL byte") ||
		!strings.Contains(reason, "event 2: line: is not valid UTF-8") {
		t.Errorf("rejected: %q partial=%v", reason, partial)
	}
}

func TestPartitionsAcrossMidnight(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTest(t)
	midnight := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	var b Batch
	for i, ts := range []time.Time{midnight.Add(-time.Microsecond), midnight, midnight.Add(time.Microsecond), midnight.Add(-time.Hour)} {
		b.Add(record(model.KindVehicles, topicV, 0, int64(i), ts), []model.Event{model.VehiclePosition{VehicleID: "v", TS: ts}}, nil)
	}
	if err := s.Write(ctx, group, b); err != nil {
		t.Fatal(err)
	}
	rows, err := s.pool.Query(ctx, `SELECT tableoid::regclass::text, count(*) FROM vehicle_positions GROUP BY 1 ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var (
			name string
			n    int64
		)
		_ = rows.Scan(&name, &n)
		got = append(got, fmt.Sprintf("%s:%d", name, n))
	}
	want := []string{"vehicle_positions_p20261122:2", "vehicle_positions_p20261123:2"}
	if !slices.Equal(got, want) {
		t.Errorf("rows by partition %v, want %v", got, want)
	}
	// The same days again: the partitions are there already.
	b.Reset()
	b.Add(record(model.KindVehicles, topicV, 0, 4, midnight), []model.Event{model.VehiclePosition{VehicleID: "w", TS: midnight.Add(-time.Second)}}, nil)
	if err := s.Write(ctx, group, b); err != nil {
		t.Fatal(err)
	}
}

func TestRetainDropsOldDays(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	u := testutil.FreshDB(t)
	s := openAt(t, u)
	now := time.Now().UTC()
	old, recent := now.Add(-72*time.Hour), now.Add(-time.Minute)
	var b Batch
	for i, ts := range []time.Time{old, recent} {
		off := int64(i)
		b.Add(record(model.KindVehicles, topicV, 0, off, ts), []model.Event{model.VehiclePosition{VehicleID: "v", TS: ts}}, nil)
		b.Add(record(model.KindStations, topicS, 0, off, ts), []model.Event{model.Turnstile{StationID: "s", Entries: 1, TS: ts}}, nil)
		b.Add(record(model.KindWeather, topicW, 0, off, ts), []model.Event{model.Weather{Area: "a", TS: ts}}, nil)
		b.Add(record(model.KindWeather, topicW, 1, off, ts), nil, errors.New("junk"))
	}
	if err := s.Write(ctx, group, b); err != nil {
		t.Fatal(err)
	}
	// Another process has the old day's partition in its cache.
	s2 := openAt(t, u)
	b.Reset()
	b.Add(record(model.KindVehicles, topicV, 1, 0, old), []model.Event{model.VehiclePosition{VehicleID: "v2", TS: old}}, nil)
	if err := s2.Write(ctx, group, b); err != nil {
		t.Fatal(err)
	}

	st, err := s.Retain(ctx, 36*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{partitionName(unixDay(old))}; !slices.Equal(st.DroppedPartitions, want) || st.DeletedRows != 3 {
		t.Errorf("Retain = %+v, want %v dropped and 3 rows deleted", st, want)
	}
	for table, n := range map[string]int64{"vehicle_positions": 1, "station_events": 1, "weather": 1, "rejected": 1} {
		if c := count(t, s, `SELECT count(*) FROM `+table); c != n {
			t.Errorf("%s: %d rows after Retain, want %d", table, c, n)
		}
	}
	if n := count(t, s, `SELECT count(*) FROM pg_class WHERE relname = $1`, partitionName(unixDay(old))); n != 0 {
		t.Error("the old day's partition is still there")
	}
	// A late record of the dropped day, through the process that still
	// believes the partition exists, is stored all the same.
	b.Reset()
	b.Add(record(model.KindVehicles, topicV, 1, 1, old), []model.Event{model.VehiclePosition{VehicleID: "v2", TS: old}}, nil)
	if err := s2.Write(ctx, group, b); err != nil {
		t.Fatalf("writing into a day another process dropped: %v", err)
	}
	if st, err := s.Retain(ctx, 36*time.Hour); err != nil || len(st.DroppedPartitions) != 1 {
		t.Errorf("second Retain = %+v, %v", st, err)
	}
}

// liveRun is a generated stream of vehicle reports with the traps of real
// data: reports arriving late, several reports with the same time, missing
// fields, a vehicle leaving service.
type liveRun struct {
	recs   []model.Record
	events []model.Event
}

func generate(seed uint64, vehicles, reports int) liveRun {
	rng := rand.New(rand.NewPCG(seed, 1))
	var run liveRun
	clock := t0
	removed := map[string]time.Time{}
	for i := range reports {
		clock = clock.Add(time.Duration(rng.IntN(2000)) * time.Millisecond)
		id := fmt.Sprintf("v%02d", rng.IntN(vehicles))
		rec := record(model.KindVehicles, topicV, 0, int64(i), clock)
		if rng.IntN(200) == 0 {
			rec.Value = nil
			run.recs = append(run.recs, rec)
			run.events = append(run.events, model.VehicleRemoved{VehicleID: id})
			removed[id] = clock
			continue
		}
		ts := clock
		switch rng.IntN(10) {
		case 0: // late: an older report arrives after newer ones
			ts = ts.Add(-time.Duration(rng.IntN(60)) * time.Second)
		case 1: // the same time as the previous report
			ts = ts.Truncate(2 * time.Second)
		}
		if !ts.After(removed[id]) {
			ts = clock // a report from before a tombstone, read after it, is another story
		}
		ts = ts.Truncate(time.Microsecond)
		v := model.VehiclePosition{VehicleID: id, Line: fmt.Sprintf("L%d", rng.IntN(3)), Lat: rng.Float64(), Lon: rng.Float64(),
			Status: model.StatusInTransit, TS: ts}
		if rng.IntN(3) > 0 {
			v.SpeedKmh, v.Has = rng.Float64()*50, model.HasSpeed
		}
		if rng.IntN(3) > 0 {
			v.Heading, v.Occupancy, v.Has = rng.Float64()*360, rng.Float64(), v.Has|model.HasHeading|model.HasOccupancy
		}
		run.recs = append(run.recs, rec)
		run.events = append(run.events, v)
	}
	return run
}

// live folds the records read by at into a live fleet, as the screen would.
func (r liveRun) live(at time.Time, expire time.Duration) []model.VehiclePosition {
	f := model.NewFleet()
	for i, ev := range r.events {
		switch e := ev.(type) {
		case model.VehiclePosition:
			if !e.TS.After(at) {
				f.Apply(e)
			}
		case model.VehicleRemoved:
			if !r.recs[i].Time.After(at) {
				f.Apply(e)
			}
		}
	}
	if expire > 0 {
		f.Expire(at.Add(-expire))
	}
	return f.Snapshot().Vehicles.Rows()
}

func (r liveRun) write(t *testing.T, s *Store, per int) {
	t.Helper()
	for i := 0; i < len(r.recs); i += per {
		var b Batch
		for j := i; j < min(i+per, len(r.recs)); j++ {
			b.Add(r.recs[j], r.events[j:j+1], nil)
		}
		if err := s.Write(context.Background(), group, b); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFleetAtMatchesLive(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTest(t)
	run := generate(1, 30, 3000)
	run.write(t, s, 700)
	last := run.recs[len(run.recs)-1].Time
	compared := 0
	for _, expire := range []time.Duration{0, 10 * time.Minute, 30 * time.Second} {
		for _, at := range []time.Time{t0.Add(-time.Second), t0.Add(5 * time.Minute), t0.Add(17*time.Minute + 333*time.Millisecond), last, last.Add(time.Hour)} {
			got, err := s.FleetAt(ctx, at, expire)
			if err != nil {
				t.Fatal(err)
			}
			// As a fleet keeps them (to seven digits), which is how
			// snapshot --at and replay show them: the database keeps the
			// values as they came.
			got = model.VehiclesOf(got).Rows()
			want := run.live(at, expire)
			if len(got) > 0 {
				compared++
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("FleetAt(%s, %s): %d vehicles, live %d", at.Sub(t0), expire, len(got), len(want))
				for i := range min(len(got), len(want)) {
					if !reflect.DeepEqual(got[i], want[i]) {
						t.Errorf("first difference:\n got %+v\nlive %+v", got[i], want[i])
						break
					}
				}
			}
		}
	}
	if compared < 8 {
		t.Fatalf("only %d moments had vehicles: the test data is wrong", compared)
	}
	// Expire bounds the window on both sides of the reports' times.
	one := run.live(last, time.Nanosecond)
	got, err := s.FleetAt(ctx, last, time.Nanosecond)
	if err != nil || !reflect.DeepEqual(model.VehiclesOf(got).Rows(), one) {
		t.Errorf("FleetAt with a 1 ns expire = %v, %v; want %v", got, err, one)
	}
}

func TestStationsAndWeatherAtMatchLive(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTest(t)
	rng := rand.New(rand.NewPCG(2, 2))
	var (
		recs   []model.Record
		events []model.Event
	)
	clock := t0
	for i := range 2000 {
		clock = clock.Add(time.Duration(rng.IntN(3000)) * time.Millisecond).Truncate(time.Microsecond)
		st := fmt.Sprintf("s%d", rng.IntN(8))
		var ev model.Event
		kind, topic := model.KindStations, topicS
		switch rng.IntN(10) {
		case 0:
			ev = model.StationInfo{StationID: st, Name: "Station " + st + fmt.Sprint(i), Lines: []string{"a", "b"}[:rng.IntN(3)%2+1],
				Lat: rng.Float64(), Lon: rng.Float64(), HasPos: rng.IntN(2) == 0}
		case 1, 2:
			ev = model.Turnstile{StationID: st, Entries: int64(rng.IntN(20)), TS: clock}
		case 3:
			kind, topic = model.KindWeather, topicW
			ev = model.Weather{Area: fmt.Sprintf("area%d", rng.IntN(4)), TempC: rng.Float64() * 30, Condition: "rain", TS: clock}
		default:
			ev = model.Arrival{StationID: st, VehicleID: "v", Line: "a", Direction: "n", TS: clock}
		}
		if si, ok := ev.(model.StationInfo); ok && !si.HasPos {
			si.Lat, si.Lon = 0, 0
			ev = si
		}
		recs = append(recs, record(kind, topic, 0, int64(i), clock))
		events = append(events, ev)
	}
	for i := 0; i < len(recs); i += 500 {
		var b Batch
		for j := i; j < i+500; j++ {
			b.Add(recs[j], events[j:j+1], nil)
		}
		if err := s.Write(ctx, group, b); err != nil {
			t.Fatal(err)
		}
	}
	for _, window := range []time.Duration{model.DefaultWindow, 5 * time.Minute} {
		for _, n := range []int{10, 999, 1500, len(recs) - 1} {
			// At the time of an arrival or a turnstile count, the live
			// station clock stands where at does.
			for {
				if _, ok := events[n].(model.Arrival); ok {
					break
				}
				if _, ok := events[n].(model.Turnstile); ok {
					break
				}
				n--
			}
			at := recs[n].Time
			f := model.NewFleet()
			f.SetWindow(window)
			for i := range n + 1 {
				f.Apply(events[i])
			}
			snap := f.Snapshot()
			stations, err := s.StationsAt(ctx, at, window)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(stations, snap.Stations) {
				t.Errorf("StationsAt(event %d, %s):\n got %+v\nlive %+v", n, window, stations, snap.Stations)
			}
			weather, err := s.WeatherAt(ctx, at)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(weather, snap.Weather) {
				t.Errorf("WeatherAt(event %d):\n got %+v\nlive %+v", n, weather, snap.Weather)
			}
		}
	}
	// The per-area and per-station reads.
	w, err := s.WeatherSince(ctx, "area1", t0.Add(30*time.Minute))
	if err != nil || len(w) == 0 {
		t.Fatalf("WeatherSince = %d rows, %v", len(w), err)
	}
	for i, x := range w {
		if x.Area != "area1" || x.TS.Before(t0.Add(30*time.Minute)) || i > 0 && x.TS.Before(w[i-1].TS) {
			t.Fatalf("WeatherSince row %d: %+v", i, x)
		}
	}
	all, _ := s.WeatherSince(ctx, "", time.Time{})
	se, err := s.StationEventsSince(ctx, "s3", time.Time{})
	if err != nil || len(se) == 0 || len(all) == 0 {
		t.Fatalf("StationEventsSince = %d rows, %v; all weather %d", len(se), err, len(all))
	}
	for _, e := range se {
		if e.StationID != "s3" {
			t.Fatalf("StationEventsSince(s3) row %+v", e)
		}
	}
}

func TestEventsRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTest(t)
	b := sampleBatch()
	run := generate(3, 5, 200)
	for i, rec := range run.recs {
		rec.Offset += 100
		b.Add(rec, run.events[i:i+1], nil)
	}
	if err := s.Write(ctx, group, b); err != nil {
		t.Fatal(err)
	}
	var want []model.Event
	for _, p := range b.Positions {
		if p.Removed {
			want = append(want, model.VehicleRemoved{VehicleID: p.VehicleID})
		} else {
			want = append(want, p.VehiclePosition)
		}
	}
	for _, e := range b.StationEvents {
		want = append(want, e.Event())
	}
	for _, w := range b.Weather {
		want = append(want, w.Weather)
	}
	var (
		got  []model.Event
		prev time.Time
	)
	first, last, err := s.Span(ctx)
	if err != nil || first.IsZero() || last.Before(first) {
		t.Fatalf("Span = %s, %s, %v", first, last, err)
	}
	// Span leaves reference records out: read a day either side.
	err = s.Events(ctx, first.Add(-24*time.Hour), last.Add(24*time.Hour), func(ev model.Event) error {
		got = append(got, ev)
		var ts time.Time
		switch e := ev.(type) {
		case model.VehiclePosition:
			ts = e.TS
		case model.Weather:
			ts = e.TS
		case model.Arrival:
			ts = e.TS
		case model.Turnstile:
			ts = e.TS
		}
		if !ts.IsZero() {
			if ts.Before(prev) {
				return fmt.Errorf("events out of time order: %s after %s", ts, prev)
			}
			prev = ts
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	key := func(ev model.Event) string { return fmt.Sprintf("%T%+v", ev, ev) }
	gotKeys, wantKeys := make([]string, len(got)), make([]string, len(want))
	for i := range got {
		gotKeys[i] = key(got[i])
	}
	for i := range want {
		wantKeys[i] = key(want[i])
	}
	slices.Sort(gotKeys)
	slices.Sort(wantKeys)
	if !slices.Equal(gotKeys, wantKeys) {
		t.Errorf("Events returned %d events, stored %d; they differ", len(got), len(want))
		for i := range min(len(gotKeys), len(wantKeys)) {
			if gotKeys[i] != wantKeys[i] {
				t.Errorf("first difference:\n got %s\nwant %s", gotKeys[i], wantKeys[i])
				break
			}
		}
	}
	stop := errors.New("enough")
	n := 0
	if err := s.Events(ctx, first, last, func(model.Event) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Errorf("Events after fn fails: %v, %d calls", err, n)
	}
	track, err := s.VehicleTrack(ctx, "blue-07", time.Time{})
	if err != nil || len(track) != 1 || track[0] != b.Positions[0].VehiclePosition {
		t.Errorf("VehicleTrack = %+v, %v", track, err)
	}
}

func TestConnectErrors(t *testing.T) {
	t.Parallel()
	base, err := url.Parse(testutil.RealDB(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	wrongPW := *base
	wrongPW.User = url.UserPassword(base.User.Username(), "not-the-password")
	s, err := Open(ctx, wrongPW.String())
	switch {
	case err == nil:
		s.Close()
		t.Log("the server does not check passwords (trust); the wrong-password case is not tested")
	case !strings.Contains(err.Error(), "authentication failed") || strings.Contains(err.Error(), "not-the-password") ||
		strings.Contains(err.Error(), "\n") || Retryable(err):
		t.Errorf("wrong password: %q", err)
	default:
		t.Logf("wrong password: %v", err)
	}

	missing := *base
	missing.Path = "/no_such_database"
	_, err = Open(ctx, missing.String())
	if err == nil || !strings.Contains(err.Error(), `database "no_such_database" does not exist`) || strings.Contains(err.Error(), "\n") || Retryable(err) {
		t.Errorf("missing database: %v", err)
	} else {
		t.Logf("missing database: %v", err)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := *base
	refused.Host = l.Addr().String()
	l.Close()
	_, err = Open(ctx, refused.String())
	if err == nil || !strings.Contains(err.Error(), "connection refused") || !Retryable(err) {
		t.Errorf("nothing listening: %v", err)
	} else {
		t.Logf("nothing listening: %v", err)
	}

	if _, err := Open(ctx, "postgres://fleet:secret@127.0.0.1:notaport/fleet"); err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("bad URL: %v", err)
	}
}

func TestServerRestartIsRetryable(t *testing.T) {
	testutil.RealDB(t)
	if testing.Short() {
		t.Skip("starts a PostgreSQL of its own")
	}
	t.Parallel()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	// The server runs as the postgres user, which must reach its directory.
	dir, err := os.MkdirTemp("", "fleetwatch-pg-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	pg := func(cmd string) {
		t.Helper()
		c := exec.Command(filepath.Join(root, "scripts/pg-local.sh"), cmd)
		c.Env = append(os.Environ(), fmt.Sprintf("PG_PORT=%d", port), "PG_RUN="+filepath.Join(dir, "run"))
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("pg-local.sh %s: %v\n%s", cmd, err, out)
		}
	}
	pg("up")
	defer pg("down")

	ctx := context.Background()
	s := openAt(t, fmt.Sprintf("postgres://fleet:fleet@127.0.0.1:%d/fleet?sslmode=disable", port))
	batch := func(off int64) Batch {
		var b Batch
		b.Add(record(model.KindVehicles, topicV, 0, off, t0), []model.Event{model.VehiclePosition{VehicleID: "v", TS: t0}}, nil)
		return b
	}
	if err := s.Write(ctx, group, batch(0)); err != nil {
		t.Fatal(err)
	}
	pg("down")
	err = s.Write(ctx, group, batch(1))
	if err == nil || !Retryable(err) {
		t.Fatalf("Write with the server down: %v, want a retryable error", err)
	}
	t.Logf("server down: %v", err)
	pg("up")
	// The pool may hand out a connection that died with the server once.
	for i := 0; ; i++ {
		err = s.Write(ctx, group, batch(1))
		if err == nil {
			break
		}
		if !Retryable(err) || i == 3 {
			t.Fatalf("Write after the restart: %v", err)
		}
	}
	if got, _ := s.Offsets(ctx, group); got[TopicPartition{topicV, 0}] != 2 {
		t.Errorf("offsets after the restart = %v", got)
	}
	if n := count(t, s, `SELECT count(*) FROM vehicle_positions`); n != 2 {
		t.Errorf("%d rows, want 2", n)
	}
}

// Batches decoded apart and joined cover the union of their offsets and
// keep their rows in order.
func TestBatchAppend(t *testing.T) {
	var a, b Batch
	pos := func(id string) []model.Event { return []model.Event{model.VehiclePosition{VehicleID: id, TS: t0}} }
	a.Add(record(model.KindVehicles, topicV, 0, 5, t0), pos("a"), nil)
	b.Add(record(model.KindVehicles, topicV, 0, 6, t0), pos("b"), nil)
	b.Add(record(model.KindVehicles, topicV, 1, 2, t0), pos("c"), nil)
	b.Add(record(model.KindWeather, topicW, 0, 9, t0), []model.Event{model.Weather{Area: "x", TS: t0}}, nil)
	a.Append(&b)
	want := map[TopicPartition]Offset{{topicV, 0}: {5, 7}, {topicV, 1}: {2, 3}, {topicW, 0}: {9, 10}}
	if !reflect.DeepEqual(a.Offsets, want) {
		t.Errorf("offsets %v, want %v", a.Offsets, want)
	}
	var ids []string
	for _, p := range a.Positions {
		ids = append(ids, p.VehicleID)
	}
	if !slices.Equal(ids, []string{"a", "b", "c"}) || len(a.Weather) != 1 {
		t.Errorf("positions %v, %d weather rows", ids, len(a.Weather))
	}
}

// Two writers at once (record --writers), of disjoint partitions but the
// same stations (a stations topic given more partitions, unkeyed records):
// neither waits on the other for good, nor is refused as a deadlock.
func TestWritersAtOnceShareStations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTest(t)
	t0 := time.Now().UTC().Truncate(time.Second)
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for p := range int32(2) {
		wg.Go(func() {
			off := int64(0)
			for range 60 {
				var b Batch
				for k := range 30 {
					id := fmt.Sprintf("st-%d", k)
					b.Add(record(model.KindStations, "stations", p, off, t0.Add(time.Duration(off)*time.Millisecond)),
						[]model.Event{model.StationInfo{StationID: id, Name: id}}, nil)
					off++
				}
				if err := s.Write(ctx, "g", b); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	n := 0
	for err := range errs {
		if n < 3 {
			t.Error(err)
		}
		n++
	}
	if n > 0 {
		t.Errorf("%d writes failed", n)
	}
}

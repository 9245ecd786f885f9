package replay

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/fleetwatch/fleetwatch/internal/model"
)

// history is recorded events held in memory, answering as the database
// does; the database's own queries are tested in internal/history.
type history []model.Event

func (h history) FleetAt(_ context.Context, at time.Time, expire time.Duration) ([]model.VehiclePosition, error) {
	last := map[string]model.VehiclePosition{}
	for _, ev := range h {
		if v, ok := ev.(model.VehiclePosition); ok && !v.TS.After(at) && (expire == 0 || v.TS.After(at.Add(-expire))) {
			last[v.VehicleID] = v
		}
	}
	var out []model.VehiclePosition
	for _, v := range last {
		out = append(out, v)
	}
	return out, nil
}

func (h history) WeatherAt(_ context.Context, at time.Time) ([]model.Weather, error) { return nil, nil }

func (h history) Stations(_ context.Context, at time.Time) ([]model.StationInfo, error) {
	return []model.StationInfo{{StationID: "clark-lake", Name: "Clark/Lake"}}, nil
}

func (h history) Events(_ context.Context, from, to time.Time, fn func(model.Event) error) error {
	for _, ev := range h {
		if t := model.EventTime(ev); t.After(from) && !t.After(to) {
			if err := fn(ev); err != nil {
				return err
			}
		}
	}
	return nil
}

var t0 = time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)

// oneBus drives one bus east one step a second for an hour, arriving at
// Clark/Lake every ten minutes.
func oneBus() history {
	var h history
	for i := range 3600 {
		ts := t0.Add(time.Duration(i) * time.Second)
		h = append(h, model.VehiclePosition{VehicleID: "bus-1", Line: "25", Lat: 51.5, Lon: -0.2 + float64(i)*1e-4, TS: ts})
		if i%600 == 0 {
			h = append(h, model.Arrival{StationID: "clark-lake", VehicleID: "bus-1", Line: "25", TS: ts})
		}
	}
	return h
}

// settle takes snapshots until the loader has caught up and cond holds.
func settle(t *testing.T, p *Player, now *time.Time, step time.Duration, cond func(model.Snapshot) bool) model.Snapshot {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		*now = now.Add(step)
		s := p.Snapshot(*now)
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			p.mu.Lock()
			t.Logf("loadedTo %v pending %d gen %d", p.loadedTo, len(p.pending), p.gen)
			p.mu.Unlock()
			t.Fatalf("replay stuck at %v (clock %+v)", s.AsOf, p.Clock())
		}
		time.Sleep(time.Millisecond)
	}
}

func lonOf(s model.Snapshot) float64 {
	i := slices.IndexFunc(s.Vehicles.Rows(), func(v model.VehiclePosition) bool { return v.VehicleID == "bus-1" })
	if i < 0 {
		return 0
	}
	return s.Vehicles.Rows()[i].Lon
}

func TestPlayerPlaysPausesSeeksAndChangesSpeed(t *testing.T) {
	p := New(oneBus(), Options{From: t0.Add(5 * time.Minute), To: t0.Add(time.Hour), Speed: 10, Expire: 10 * time.Minute})
	defer p.Close()
	wall := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	// The state at From: the bus where it was at 08:05.
	s := settle(t, p, &wall, 0, func(s model.Snapshot) bool { return !p.Clock().Seeking && s.Vehicles.Len() == 1 })
	if got, want := lonOf(s), -0.2+300*1e-4; got < want-1e-9 || got > want+1e-9 {
		t.Fatalf("at From the bus is at %v, want %v", got, want)
	}
	// Ten times speed: 6 wall seconds are a data minute.
	s = settle(t, p, &wall, 100*time.Millisecond, func(s model.Snapshot) bool { return !s.AsOf.Before(t0.Add(6 * time.Minute)) })
	if s.AsOf.After(t0.Add(6*time.Minute + 2*time.Second)) {
		t.Errorf("clock ran to %v", s.AsOf)
	}
	if s.Stations[0].Arrivals != 0 {
		t.Errorf("arrivals %d before 08:10", s.Stations[0].Arrivals)
	}
	// Paused, the clock stands.
	p.TogglePause()
	before := p.Snapshot(wall).AsOf
	wall = wall.Add(time.Minute)
	if got := p.Snapshot(wall).AsOf; !got.Equal(before) {
		t.Errorf("paused clock moved from %v to %v", before, got)
	}
	p.TogglePause()
	// Forward ten minutes: the 08:10 arrival is counted once.
	p.Seek(10 * time.Minute)
	s = settle(t, p, &wall, 10*time.Millisecond, func(s model.Snapshot) bool {
		return !p.Clock().Seeking && !s.AsOf.Before(t0.Add(16*time.Minute))
	})
	if got := lonOf(s); got < -0.2+16*60*1e-4-1e-9 {
		t.Errorf("after seeking forward the bus is at %v", got)
	}
	// Back: the state is rebuilt at about 08:06, the bus with it.
	p.Seek(-10 * time.Minute)
	s = settle(t, p, &wall, 0, func(s model.Snapshot) bool { return !p.Clock().Seeking && s.AsOf.Before(t0.Add(7*time.Minute)) })
	if got := lonOf(s); got > -0.2+7*60*1e-4 {
		t.Errorf("after seeking back the bus is at %v, in the future", got)
	}
	// Before From is From.
	p.Seek(-time.Hour)
	s = settle(t, p, &wall, 0, func(s model.Snapshot) bool { return !p.Clock().Seeking })
	if !s.AsOf.Equal(t0.Add(5 * time.Minute)) {
		t.Errorf("seeking before the start gave %v", s.AsOf)
	}
	p.Faster()
	if c := p.Clock(); c.Speed != 30 {
		t.Errorf("faster than 10: %v", c.Speed)
	}
	p.Slower()
	p.Slower()
	if c := p.Clock(); c.Speed != 5 {
		t.Errorf("two steps slower than 30: %v", c.Speed)
	}
	// The clock stops at To.
	p.Seek(2 * time.Hour)
	s = settle(t, p, &wall, time.Second, func(s model.Snapshot) bool { return !p.Clock().Seeking && s.AsOf.Equal(t0.Add(time.Hour)) })
	if got := lonOf(s); got < -0.2+3599*1e-4-1e-9 {
		t.Errorf("at the end the bus is at %v", got)
	}
}

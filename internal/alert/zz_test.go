package alert

import (
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/fleetwatch/fleetwatch/internal/codec"
	"github.com/fleetwatch/fleetwatch/internal/model"
	"github.com/fleetwatch/fleetwatch/internal/network"
	"github.com/fleetwatch/fleetwatch/internal/sim"
)

func TestZZInterleaved(t *testing.T) {
	s, _ := sim.New(sim.Config{Network: network.Default(), NoLineVehicles: true, Roam: 10000, Seed: 1,
		Start: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)})
	for range 600 {
		s.Step(&recordSink{})
	}
	type variant struct {
		dec    codec.Decoder
		fleet  *model.Fleet
		det    *Detector
		evs    []model.Event
		times  []float64
		latest time.Time
	}
	vs := []*variant{{fleet: model.NewFleet()}, {fleet: model.NewFleet(), det: New(DefaultConfig(), network.Default())}}
	for round := range 120 {
		sink := &recordSink{}
		for range 10 {
			s.Step(sink)
		}
		order := vs
		if round%2 == 1 {
			order = []*variant{vs[1], vs[0]}
		}
		for _, v := range order {
			runtime.GC()
			start := time.Now()
			for _, r := range sink.recs {
				v.evs, _ = v.dec.DecodeAll(r, v.evs[:0])
				for _, ev := range v.evs {
					v.fleet.Apply(ev)
					if v.det != nil {
						v.det.Apply(ev)
						if p, ok := ev.(model.VehiclePosition); ok && p.TS.After(v.latest) {
							v.latest = p.TS
						}
					}
				}
			}
			if v.det != nil {
				v.det.Tick(v.latest)
			}
			v.times = append(v.times, float64(time.Since(start).Nanoseconds())/float64(len(sink.recs)))
		}
	}
	var ratios []float64
	for i := range vs[0].times {
		ratios = append(ratios, vs[1].times[i]/vs[0].times[i])
	}
	for _, v := range vs {
		slices.Sort(v.times)
	}
	slices.Sort(ratios)
	t.Logf("state ns/record min %.0f p50 %.0f; state+alerts min %.0f p50 %.0f; ratio p25 %.3f p50 %.3f p75 %.3f",
		vs[0].times[0], vs[0].times[len(vs[0].times)/2], vs[1].times[0], vs[1].times[len(vs[1].times)/2],
		ratios[len(ratios)/4], ratios[len(ratios)/2], ratios[len(ratios)*3/4])
}

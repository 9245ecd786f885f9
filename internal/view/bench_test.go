package view

import (
	"fmt"
	"testing"

	"github.com/muesli/termenv"

	"github.com/fleetwatch/fleetwatch/internal/model"
	"github.com/fleetwatch/fleetwatch/internal/network"
)

// BenchmarkRenderFrame measures one full redraw of a 200×60 colour frame,
// what the live screen does 15 times a second.
func BenchmarkRenderFrame(b *testing.B) {
	net := network.Default()
	snap := fixedSnapshot(net)
	s := NewScreen(net, termenv.TrueColor, nil)
	f := Frame{Snap: snap, Status: fixedStatus(), Now: fixedTime}
	s.Render(f, 200, 60) // builds the static layer once, as the first frame does
	b.ReportAllocs()
	for b.Loop() {
		s.Render(f, 200, 60)
	}
}

// BenchmarkRenderFrame10k draws 10 000 vehicles spread over the network's
// lines on a 200×60 colour frame (the target scale).
func BenchmarkRenderFrame10k(b *testing.B) {
	net := network.Default()
	f := model.NewFleet()
	i := 0
	for i < 10000 {
		for _, l := range net.Lines {
			path := l.Paths[0]
			p := path[i%len(path)]
			f.Apply(model.VehiclePosition{VehicleID: fmt.Sprintf("%s-%05d", l.ID, i), Line: l.ID,
				Lat: p[1] + float64(i%7)*1e-4, Lon: p[0] + float64(i%5)*1e-4, Status: model.StatusInTransit, TS: fixedTime})
			i++
		}
	}
	snap := f.Snapshot()
	s := NewScreen(net, termenv.TrueColor, nil)
	fr := Frame{Snap: snap, Status: fixedStatus(), Now: fixedTime}
	s.Render(fr, 200, 60)
	b.ReportAllocs()
	for b.Loop() {
		s.Render(fr, 200, 60)
	}
}

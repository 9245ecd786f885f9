package view

import (
	"testing"

	"github.com/muesli/termenv"

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

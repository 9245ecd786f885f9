package geo

import (
	"math"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"
)

func TestBrailleDots(t *testing.T) {
	tests := []struct {
		x, y int
		want rune
	}{
		{0, 0, '⠁'}, {0, 1, '⠂'}, {0, 2, '⠄'}, {0, 3, '⡀'},
		{1, 0, '⠈'}, {1, 1, '⠐'}, {1, 2, '⠠'}, {1, 3, '⢀'},
	}
	for _, tt := range tests {
		c := NewCanvas(1, 1)
		c.Set(tt.x, tt.y, 1)
		if got := string(c.AppendRow(nil, 0, nil, nil)); got != string(tt.want) {
			t.Errorf("dot (%d,%d): %q, want %q", tt.x, tt.y, got, string(tt.want))
		}
	}
	c := NewCanvas(1, 1)
	for x := range 2 {
		for y := range 4 {
			c.Set(x, y, 1)
		}
	}
	if got := string(c.AppendRow(nil, 0, nil, nil)); got != "⣿" {
		t.Errorf("full cell %q", got)
	}
}

func TestLineClippedAndContinuous(t *testing.T) {
	c := NewCanvas(10, 3)         // 20×12 dots
	c.Line(-50, 5, 70, 5, 1)      // far beyond both sides
	c.Line(100, 100, 200, 300, 1) // wholly outside: nothing
	row := string(c.AppendRow(nil, 1, nil, nil))
	if row != strings.Repeat("⠒", 10) { // y=5 is dot row 1 of cell row 1: bits 0x02|0x10
		t.Fatalf("row 1 %q", row)
	}
	for _, r := range []int{0, 2} {
		if got := string(c.AppendRow(nil, r, nil, nil)); strings.TrimSpace(got) != "" {
			t.Errorf("row %d not empty: %q", r, got)
		}
	}
	// A diagonal lights one dot per step, endpoints included.
	d := NewCanvas(4, 2)
	d.Line(0, 0, 7, 7, 1)
	lit := 0
	for _, m := range d.mask {
		for b := m; b != 0; b &= b - 1 {
			lit++
		}
	}
	if lit != 8 {
		t.Fatalf("diagonal lit %d dots, want 8", lit)
	}
}

func TestColourOnlyWhereItChanges(t *testing.T) {
	c := NewCanvas(4, 1)
	c.Set(0, 0, 1)
	c.Set(2, 0, 1)
	c.Set(4, 0, 2)
	pal := []string{"", "<1>", "<2>"}
	got := string(c.AppendRow(nil, 0, pal, pal))
	want := "<1>⠁⠁\x1b[0m<2>⠁ \x1b[0m"
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestGlyphOverlay(t *testing.T) {
	c := NewCanvas(6, 1)
	c.Line(0, 0, 11, 0, 1)
	c.Text(1, 0, "AB", 2)
	c.SetGlyph(99, 0, 'x', 1) // off canvas: ignored
	if got := string(c.AppendRow(nil, 0, nil, nil)); got != "⠉AB⠉⠉⠉" {
		t.Fatalf("got %q", got)
	}
	if c.Empty(1, 0) || c.Empty(0, 0) || c.Empty(99, 0) {
		t.Fatal("a cell with a glyph or dots reported empty")
	}
	if e := NewCanvas(2, 1); !e.Empty(1, 0) {
		t.Fatal("a blank cell reported full")
	}
}

// A circle on the ground stays a circle on screen: Mercator plus square
// braille dots (a terminal cell is about 1:2) needs no other correction.
func TestProjectionKeepsCirclesRound(t *testing.T) {
	center := orb.Point{-87.63, 41.88}
	var ring []orb.Point
	for a := 0.0; a < 360; a += 10 {
		ring = append(ring, geo.PointAtBearingAndDistance(center, a, 5000))
	}
	b := orb.MultiPoint(ring).Bound()
	vp := Fit(b, 200, 160, 0)
	minX, maxX, minY, maxY := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, p := range ring {
		x, y := vp.Project(p)
		minX, maxX = math.Min(minX, x), math.Max(maxX, x)
		minY, maxY = math.Min(minY, y), math.Max(maxY, y)
	}
	w, h := maxX-minX, maxY-minY
	if math.Abs(w-h)/w > 0.01 {
		t.Fatalf("circle is %.1f×%.1f dots", w, h)
	}
	if maxX > 200.001 || maxY > 160.001 || minX < -0.001 || minY < -0.001 {
		t.Fatalf("fit overflows: x %.1f..%.1f y %.1f..%.1f", minX, maxX, minY, maxY)
	}
	// North is up, east is right.
	nx, ny := vp.Project(geo.PointAtBearingAndDistance(center, 0, 1000))
	ex, ey := vp.Project(geo.PointAtBearingAndDistance(center, 90, 1000))
	cx, cy := vp.Project(center)
	if ny >= cy || math.Abs(nx-cx) > 0.01 || ex <= cx || math.Abs(ey-cy) > 0.01 {
		t.Fatal("orientation wrong")
	}
}

package geo

import (
	"math"
	"unicode/utf8"
)

// Color is an index into the caller's palette; 0 is the terminal default.
type Color uint8

// brailleBit gives the dot bit of (column, row) within a 2×4 cell.
var brailleBit = [2][4]uint8{{0x01, 0x02, 0x04, 0x40}, {0x08, 0x10, 0x20, 0x80}}

// Canvas is a grid of braille cells with one colour per cell and an overlay
// of glyphs (labels, markers) that replaces a cell's dots. Flat slices keep a
// full redraw allocation-free.
type Canvas struct {
	Cols, Rows int
	mask       []uint8
	color      []Color
	glyph      []rune // 0: show the braille dots
}

// NewCanvas returns an empty canvas of cols×rows cells (2·cols × 4·rows dots).
func NewCanvas(cols, rows int) *Canvas {
	cols, rows = max(cols, 0), max(rows, 0)
	n := cols * rows
	return &Canvas{Cols: cols, Rows: rows, mask: make([]uint8, n), color: make([]Color, n), glyph: make([]rune, n)}
}

// DotsW returns the width in dots.
func (c *Canvas) DotsW() int { return c.Cols * 2 }

// DotsH returns the height in dots.
func (c *Canvas) DotsH() int { return c.Rows * 4 }

// CopyFrom makes c a copy of src, which must have the same size; it is how a
// cached static layer is restored before vehicles are drawn.
func (c *Canvas) CopyFrom(src *Canvas) {
	copy(c.mask, src.mask)
	copy(c.color, src.color)
	copy(c.glyph, src.glyph)
}

// Set lights the dot at (x, y) and gives its cell the colour: the last dot
// drawn decides a cell's colour, so callers draw in order of importance.
func (c *Canvas) Set(x, y int, col Color) {
	if x < 0 || y < 0 || x >= c.DotsW() || y >= c.DotsH() {
		return
	}
	i := (y/4)*c.Cols + x/2
	c.mask[i] |= brailleBit[x%2][y%4]
	c.color[i] = col
}

// SetGlyph puts a rune over the cell at (col, row).
func (c *Canvas) SetGlyph(col, row int, r rune, color Color) {
	if col < 0 || row < 0 || col >= c.Cols || row >= c.Rows {
		return
	}
	i := row*c.Cols + col
	c.glyph[i] = r
	c.color[i] = color
}

// Empty reports whether a cell shows nothing: no dot and no glyph.
func (c *Canvas) Empty(col, row int) bool {
	if col < 0 || row < 0 || col >= c.Cols || row >= c.Rows {
		return false
	}
	i := row*c.Cols + col
	return c.mask[i] == 0 && c.glyph[i] == 0
}

// Text writes s from (col, row) rightwards, clipped to the canvas.
func (c *Canvas) Text(col, row int, s string, color Color) {
	for _, r := range s {
		c.SetGlyph(col, row, r, color)
		col++
	}
}

// Line draws a straight line between two dot positions, clipped to the
// canvas first so that far-off geometry costs nothing.
func (c *Canvas) Line(x0, y0, x1, y1 float64, col Color) {
	x0, y0, x1, y1, ok := clip(x0, y0, x1, y1, 0, 0, float64(c.DotsW()-1), float64(c.DotsH()-1))
	if !ok {
		return
	}
	ix0, iy0 := int(math.Round(x0)), int(math.Round(y0))
	ix1, iy1 := int(math.Round(x1)), int(math.Round(y1))
	// Bresenham: every step lights exactly one dot, so crossing lines never erase each other.
	dx, dy := abs(ix1-ix0), -abs(iy1-iy0)
	sx, sy := sign(ix1-ix0), sign(iy1-iy0)
	err := dx + dy
	for {
		c.Set(ix0, iy0, col)
		if ix0 == ix1 && iy0 == iy1 {
			return
		}
		e2 := 2 * err
		if e2 >= dy {
			err += dy
			ix0 += sx
		}
		if e2 <= dx {
			err += dx
			iy0 += sy
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func sign(v int) int {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

const (
	inside = 0
	left   = 1
	right  = 2
	bottom = 4
	top    = 8
)

func outcode(x, y, xmin, ymin, xmax, ymax float64) int {
	code := inside
	if x < xmin {
		code |= left
	} else if x > xmax {
		code |= right
	}
	if y < ymin {
		code |= top
	} else if y > ymax {
		code |= bottom
	}
	return code
}

// clip is Cohen–Sutherland line clipping to a rectangle.
func clip(x0, y0, x1, y1, xmin, ymin, xmax, ymax float64) (float64, float64, float64, float64, bool) {
	if math.IsNaN(x0 + y0 + x1 + y1) {
		return 0, 0, 0, 0, false
	}
	c0 := outcode(x0, y0, xmin, ymin, xmax, ymax)
	c1 := outcode(x1, y1, xmin, ymin, xmax, ymax)
	for {
		switch {
		case c0|c1 == 0:
			return x0, y0, x1, y1, true
		case c0&c1 != 0:
			return 0, 0, 0, 0, false
		}
		out := c0
		if out == 0 {
			out = c1
		}
		var x, y float64
		switch {
		case out&bottom != 0:
			x, y = x0+(x1-x0)*(ymax-y0)/(y1-y0), ymax
		case out&top != 0:
			x, y = x0+(x1-x0)*(ymin-y0)/(y1-y0), ymin
		case out&right != 0:
			x, y = xmax, y0+(y1-y0)*(xmax-x0)/(x1-x0)
		default:
			x, y = xmin, y0+(y1-y0)*(xmin-x0)/(x1-x0)
		}
		if out == c0 {
			x0, y0 = x, y
			c0 = outcode(x0, y0, xmin, ymin, xmax, ymax)
		} else {
			x1, y1 = x, y
			c1 = outcode(x1, y1, xmin, ymin, xmax, ymax)
		}
	}
}

// AppendRow appends one row of the canvas as text. dots[i] is the escape
// sequence that selects colour i for braille cells, glyphs[i] the one for
// overlay glyphs (markers, labels); nil palettes give plain text. An escape
// is written only where the style changes, so an unchanged row renders to
// the same bytes and the terminal renderer can skip it.
func (c *Canvas) AppendRow(buf []byte, row int, dots, glyphs []string) []byte {
	if row < 0 || row >= c.Rows {
		return buf
	}
	const none = -1
	cur := none // style in force: colour, plus 256 for glyph styles
	base := row * c.Cols
	for i := base; i < base+c.Cols; i++ {
		r := c.glyph[i]
		pal, style := dots, int(c.color[i])
		if r != 0 {
			pal, style = glyphs, style+256
		} else if c.mask[i] == 0 {
			r = ' '
		} else {
			r = rune(0x2800 + int(c.mask[i]))
		}
		if pal != nil && r != ' ' && style != cur {
			if cur != none {
				buf = append(buf, "\x1b[0m"...)
			}
			cur = style
			if int(c.color[i]) < len(pal) {
				buf = append(buf, pal[c.color[i]]...)
			}
		}
		buf = utf8.AppendRune(buf, r)
	}
	if cur != none {
		buf = append(buf, "\x1b[0m"...)
	}
	return buf
}

// Underlay shows under's dots in the cells of c that show nothing, and
// leaves the others alone: a basemap drawn this way never hides a line, a
// station, a label or a vehicle, nor lends them its dots.
func (c *Canvas) Underlay(under *Canvas) {
	for i := range c.mask {
		if c.mask[i] == 0 && c.glyph[i] == 0 && under.mask[i] != 0 {
			c.mask[i] = under.mask[i]
			c.color[i] = under.color[i]
		}
	}
}

// Clear empties the canvas for reuse.
func (c *Canvas) Clear() {
	clear(c.mask)
	clear(c.color)
	clear(c.glyph)
}

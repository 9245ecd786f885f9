package network

import (
	"hash/fnv"
	"strings"
)

// palette is for lines whose file gives no colour. Every entry is saturated
// and bright enough to read on a dark terminal, and none is a grey, so a line
// never looks like the basemap or like dimmed text.
var palette = [...]string{
	"#e6194b", // crimson
	"#3cb44b", // green
	"#ffe119", // yellow
	"#4c8bf5", // blue
	"#f58231", // orange
	"#b45ee8", // purple
	"#42d4f4", // cyan
	"#f032e6", // magenta
	"#bfef45", // lime
	"#ff7eb6", // pink
	"#2ab7a9", // teal
	"#c8a2ff", // lavender
}

// ColorFor returns a "#rrggbb" colour for a line that has none of its own.
// It depends on the id alone, not on the order lines were loaded or learned
// in, so a line keeps its colour across restarts, across both binaries and
// when other lines come and go.
func ColorFor(id string) string {
	h := fnv.New32a()
	h.Write([]byte(id))
	return palette[h.Sum32()%uint32(len(palette))]
}

// cssColors are the basic CSS names, as exports write colours by name too.
var cssColors = map[string]string{
	"red":    "#ff0000",
	"blue":   "#0000ff",
	"green":  "#008000",
	"brown":  "#a52a2a",
	"orange": "#ffa500",
	"purple": "#800080",
	"pink":   "#ffc0cb",
	"yellow": "#ffff00",
	"black":  "#000000",
	"white":  "#ffffff",
	"gray":   "#808080",
	"grey":   "#808080",
}

// parseColor normalises "#rgb", "#rrggbb", "rrggbb" (GTFS) and the basic
// CSS names to lowercase "#rrggbb". Anything else gives "": a colour is a
// nicety, and exports carry all sorts of strings in colour properties.
func parseColor(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if c, ok := cssColors[s]; ok {
		return c
	}
	hex, hash := strings.CutPrefix(s, "#")
	if strings.Trim(hex, "0123456789abcdef") != "" {
		return ""
	}
	switch {
	case len(hex) == 6:
		return "#" + hex
	case len(hex) == 3 && hash:
		return string([]byte{'#', hex[0], hex[0], hex[1], hex[1], hex[2], hex[2]})
	}
	return ""
}

package view

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
)

// TimeBar is a replay's clock, drawn in place of the status bar.
type TimeBar struct {
	Pos, From, To time.Time // To zero: up to the newest data
	Speed         float64
	Paused        bool
	Seeking       bool
	Err           string
}

// timeBar draws the replay's position in its range with the keys that
// move it.
func (s *Screen) timeBar(tb TimeBar, w int) string {
	state := "▶"
	switch {
	case tb.Err != "":
		return fit(" "+s.warn.Render("replay: "+safe(tb.Err)), w)
	case tb.Seeking:
		state = "…"
	case tb.Paused:
		state = "⏸"
	}
	left := fmt.Sprintf(" %s %s ×%s ", state, tb.Pos.UTC().Format("2006-01-02 15:04:05Z"), speedText(tb.Speed))
	to := tb.To
	if to.IsZero() {
		to = tb.Pos
	}
	right := fmt.Sprintf(" %s → %s", tb.From.UTC().Format("15:04"), to.UTC().Format("15:04"))
	keys := s.dim.Render(" · space pause · [ ] 1m · { } 10m · < > speed · ? help")
	barW := w - ansi.StringWidth(left) - ansi.StringWidth(right) - ansi.StringWidth(keys) - 2
	if barW < 10 {
		keys, barW = "", w-ansi.StringWidth(left)-ansi.StringWidth(right)-2
	}
	bar := ""
	if barW > 0 {
		at := 0
		if span := to.Sub(tb.From); span > 0 {
			at = int(float64(barW-1) * float64(tb.Pos.Sub(tb.From)) / float64(span))
		}
		at = max(0, min(barW-1, at))
		bar = "[" + s.ok.Render(strings.Repeat("━", at)) + s.bold.Render("●") + s.dim.Render(strings.Repeat("─", barW-1-at)) + "]"
	}
	return fit(s.bold.Render(left)+bar+right+keys, w)
}

func speedText(x float64) string {
	if x == float64(int(x)) {
		return fmt.Sprintf("%d", int(x))
	}
	return fmt.Sprintf("%g", x)
}

package view

import (
	"fmt"
	"strings"
	"time"

	"github.com/fleetwatch/fleetwatch/internal/alert"
	"github.com/fleetwatch/fleetwatch/internal/geo"
)

// vehicleStates ranks each vehicle's open alerts into the one its marker
// shows, the most urgent first (alert.Kinds' order); a vehicle of a line
// whose feed is silent is stale.
func vehicleStates(open []alert.Alert) (map[string]alert.Kind, map[string]bool) {
	rank := make(map[alert.Kind]int, len(alert.Kinds))
	for i, k := range alert.Kinds {
		rank[k] = i + 1
	}
	states := map[string]alert.Kind{}
	silent := map[string]bool{}
	for _, a := range open {
		switch {
		case a.Kind == alert.FeedSilent && a.VehicleID == "":
			silent[a.Line] = true // "" for the whole stream
		case a.VehicleID != "" && a.Kind != alert.ZoneEnter && a.Kind != alert.ZoneLeave:
			if old, ok := states[a.VehicleID]; !ok || rank[a.Kind] < rank[old] {
				states[a.VehicleID] = a.Kind
			}
		}
	}
	return states, silent
}

// Markers of vehicles with an alert: a shape per judgement, so that it
// reads without colour too.
const (
	markOffRoute   = '◆'
	markNoProgress = '!'
	markEarly      = '▼'
	markBunched    = '◎'
)

// alertMark is the marker of a vehicle's most urgent alert; ok is false for
// none (the vehicle is drawn as its report says).
func alertMark(k alert.Kind) (rune, geo.Color, bool) {
	switch k {
	case alert.OffRoute:
		return markOffRoute, colAlert, true
	case alert.NoProgress:
		return markNoProgress, colAlert, true
	case alert.Late:
		return markLate, colAlert, true
	case alert.Early:
		return markEarly, colWarn, true
	case alert.Bunched, alert.Gapped:
		return markBunched, colWarn, true
	case alert.Stale:
		return markStale, colStale, true
	}
	return 0, 0, false
}

// alertsPanel lists the open alerts, newest first, with their age, kind,
// vehicle or line and what is wrong; the cursor marks the selected one.
func (s *Screen) alertsPanel(f Frame, w, h int) []string {
	head := s.bold.Render(fmt.Sprintf("%-5s %-11s %-10s %s", "AGE", "ALERT", "VEHICLE", "LINE / DETAIL"))
	var rows []string
	sel := -1
	for i, a := range f.Alerts {
		who := a.VehicleID
		if who == "" {
			who = "—"
		}
		what := a.Line
		if a.Zone != "" {
			what = a.Zone
		}
		if a.Stream != "" {
			what = a.Stream + " stream"
		}
		if a.Detail != "" {
			what = strings.TrimSpace(what + " " + a.Detail)
		}
		row := fmt.Sprintf("%-5s %-11s %-10s %s", shortDur(max(f.Snap.AsOf.Sub(a.At), 0)), a.Kind,
			fit(safe(who), 10), safe(what))
		if AlertID(a) == f.SelectedAlert {
			sel = i
			row = s.bold.Render("▸" + row)
		} else {
			row = " " + row
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		rows = []string{" " + s.dim.Render("no open alerts")}
	}
	return scrolled([]string{" " + head}, rows, sel, w, h)
}

// AlertID names an alert for the alerts pane's cursor (Frame.SelectedAlert):
// its kind and whom it is about.
func AlertID(a alert.Alert) string {
	return string(a.Kind) + "|" + a.VehicleID + "|" + a.Line + "|" + a.Zone + "|" + a.Stream
}

// alertCounts is the status bar's count of open alerts by kind, most
// urgent first: "⚑ 2 off_route 1 late".
func (s *Screen) alertCounts(open []alert.Alert) string {
	if len(open) == 0 {
		return ""
	}
	n := map[alert.Kind]int{}
	for _, a := range open {
		n[a.Kind]++
	}
	var parts []string
	for _, k := range alert.Kinds {
		if n[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[k], k))
		}
	}
	return s.warn.Render("⚑ " + strings.Join(parts, " "))
}

// feedBanner is the line over the map while a feed is silent.
func feedBanner(open []alert.Alert, now time.Time) string {
	var who []string
	for _, a := range open {
		if a.Kind != alert.FeedSilent {
			continue
		}
		name := a.Line
		switch {
		case a.Stream != "":
			name = a.Stream + " stream"
		case name != "":
			name = "line " + name
		}
		who = append(who, fmt.Sprintf("%s silent for %s", name, shortDur(max(now.Sub(a.At), 0))))
	}
	if len(who) == 0 {
		return ""
	}
	return "FEED SILENT: " + strings.Join(who, "; ")
}

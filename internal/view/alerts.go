package view

import (
	"fmt"
	"strings"
	"time"

	"github.com/fleetwatch/fleetwatch/internal/alert"
	"github.com/fleetwatch/fleetwatch/internal/geo"
)

// alertIndex is what frames derive from the open alerts alone: each
// vehicle's marker, the silent feeds, the status bar's counts. With
// thousands of alerts open, every viewer building it every frame cost
// serve a third of its CPU; it is built once per list of alerts (the store
// shares one list until an alert opens or closes) and shared, read only.
type alertIndex struct {
	// states is each vehicle's most urgent alert, silent the lines (""
	// the whole stream) whose feed is silent.
	states map[string]alert.Kind
	silent map[string]bool
	counts string        // by kind, most urgent first: "⚑ 2 off_route 1 late"; "" for none
	feeds  []alert.Alert // feed_silent alerts, in the list's order
}

// alertMemo shares indexes between screens. The key is the list itself,
// told by its first element's address and its length: the lists come from
// the store, shared and never modified (Frame.Alerts), and an entry holds
// its list, so no other list can start at that address while it is kept.
var alertMemo = memo[[]alert.Alert, *alertIndex]{size: 4, same: func(a, b []alert.Alert) bool {
	return len(a) == len(b) && &a[0] == &b[0]
}}

var noAlerts = &alertIndex{}

// indexAlerts returns the index of open, computed once per list.
func indexAlerts(open []alert.Alert) *alertIndex {
	if len(open) == 0 {
		return noAlerts
	}
	return alertMemo.get(open, func(k []alert.Alert) []alert.Alert { return k },
		func() *alertIndex { return newAlertIndex(open) })
}

// newAlertIndex ranks each vehicle's open alerts into the one its marker
// shows, the most urgent first (alert.Kinds' order); a vehicle of a line
// whose feed is silent is stale.
func newAlertIndex(open []alert.Alert) *alertIndex {
	rank := make(map[alert.Kind]int, len(alert.Kinds))
	for i, k := range alert.Kinds {
		rank[k] = i + 1
	}
	x := &alertIndex{states: map[string]alert.Kind{}, silent: map[string]bool{}}
	n := map[alert.Kind]int{}
	for _, a := range open {
		n[a.Kind]++
		if a.Kind == alert.FeedSilent {
			x.feeds = append(x.feeds, a)
		}
		switch {
		case a.Kind == alert.FeedSilent && a.VehicleID == "":
			x.silent[a.Line] = true // "" for the whole stream
		case a.VehicleID != "" && a.Kind != alert.ZoneEnter && a.Kind != alert.ZoneLeave:
			if old, ok := x.states[a.VehicleID]; !ok || rank[a.Kind] < rank[old] {
				x.states[a.VehicleID] = a.Kind
			}
		}
	}
	var parts []string
	for _, k := range alert.Kinds {
		if n[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[k], k))
		}
	}
	if len(open) > 0 {
		x.counts = "⚑ " + strings.Join(parts, " ")
	}
	return x
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
// Only the rows that fit are written: thousands may be open.
func (s *Screen) alertsPanel(f Frame, w, h int) []string {
	head := []string{" " + s.bold.Render(fmt.Sprintf("%-5s %-11s %-10s %s", "AGE", "ALERT", "VEHICLE", "LINE / DETAIL"))}
	if len(f.Alerts) == 0 {
		return scrolled(head, []string{" " + s.dim.Render("no open alerts")}, -1, w, h)
	}
	sel := -1
	for i, a := range f.Alerts {
		if hasAlertID(a, f.SelectedAlert) {
			sel = i
		}
	}
	body := max(h-len(head), 0)
	start := scrollTo(sel, len(f.Alerts), body)
	rows := make([]string, 0, min(body, len(f.Alerts)))
	for _, a := range f.Alerts[start:min(len(f.Alerts), start+body)] {
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
		if hasAlertID(a, f.SelectedAlert) {
			row = s.bold.Render("▸" + row)
		} else {
			row = " " + row
		}
		rows = append(rows, row)
	}
	return scrolled(head, rows, -1, w, h)
}

// hasAlertID reports whether AlertID(a) == id, without building the id:
// the alerts pane looks for its cursor among every open alert each frame.
func hasAlertID(a alert.Alert, id string) bool {
	for i, part := range [...]string{string(a.Kind), a.VehicleID, a.Line, a.Zone, a.Stream} {
		if i > 0 {
			if id == "" || id[0] != '|' {
				return false
			}
			id = id[1:]
		}
		if !strings.HasPrefix(id, part) {
			return false
		}
		id = id[len(part):]
	}
	return id == ""
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
	return s.warn.Render(indexAlerts(open).counts)
}

// feedBanner is the line over the map while a feed is silent.
func feedBanner(open []alert.Alert, now time.Time) string {
	var who []string
	for _, a := range indexAlerts(open).feeds {
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

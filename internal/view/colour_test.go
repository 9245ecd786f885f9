package view

import (
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/fleetwatch/fleetwatch/internal/alert"
	"github.com/fleetwatch/fleetwatch/internal/model"
	"github.com/fleetwatch/fleetwatch/internal/network"
)

// colourAlerts are open alerts of every look the screen has: a vehicle's
// marker, a silent feed's banner, the status bar's counts.
func colourAlerts(snap model.Snapshot) []alert.Alert {
	rows := snap.Vehicles.Rows()
	return []alert.Alert{
		{Kind: alert.FeedSilent, Line: rows[2].Line, At: fixedTime.Add(-2 * time.Minute)},
		{Kind: alert.OffRoute, VehicleID: rows[0].VehicleID, Line: rows[0].Line, At: fixedTime, Detail: "412 m from the line"},
		{Kind: alert.Late, VehicleID: rows[1].VehicleID, Line: rows[1].Line, At: fixedTime.Add(-time.Minute)},
		{Kind: alert.Bunched, VehicleID: rows[4].VehicleID, Line: rows[4].Line, At: fixedTime.Add(-3 * time.Minute)},
		{Kind: alert.Late, VehicleID: rows[4].VehicleID, Line: rows[4].Line, At: fixedTime.Add(-4 * time.Minute)},
	}
}

// The colour frames of every pane and of a line-less fleet with zones, in
// each colour profile a terminal may have, byte for byte: the plain
// goldens cannot tell how colours are converted (xterm-256color viewers
// get the nearest of 256, 16-colour ones the nearest of 16).
func TestGoldenColourFrames(t *testing.T) {
	net := network.Default()
	snap := fixedSnapshot(net)
	snap.AsOf = fixedTime.Add(20 * time.Second)
	sel := snap.Vehicles.Rows()[3]
	open := colourAlerts(snap)
	zones, err := network.LoadAll([]string{filepath.Join("testdata", "nyc-zones.geojson")})
	if err != nil {
		t.Fatal(err)
	}
	roaming := roamingNYC(400)
	for _, p := range []struct {
		name    string
		profile termenv.Profile
	}{{"256", termenv.ANSI256}, {"16", termenv.ANSI}, {"true", termenv.TrueColor}} {
		for _, tt := range []struct {
			name string
			f    Frame
			zone bool
		}{
			{"overview", Frame{Snap: snap, Status: fixedStatus(), Now: fixedTime, Alerts: open, Selected: sel.VehicleID}, false},
			{"vehicles", Frame{Snap: snap, Status: fixedStatus(), Now: fixedTime, Pane: PaneVehicles, Sort: SortSpeed,
				Selected: sel.VehicleID, Alerts: open}, false},
			{"stations", Frame{Snap: snap, Status: fixedStatus(), Now: fixedTime, Pane: PaneStations,
				SelectedStation: snap.Stations[2].StationID}, false},
			{"details", Frame{Snap: snap, Status: fixedStatus(), Now: fixedTime, Pane: PaneDetails, Selected: sel.VehicleID,
				History: []model.VehiclePosition{sel, sel}}, false},
			{"alerts", Frame{Snap: snap, Status: fixedStatus(), Now: fixedTime, Pane: PaneAlerts, Alerts: open,
				SelectedAlert: AlertID(open[1]), Message: "a notice"}, false},
			{"zones", Frame{Snap: roaming, Status: fixedStatus(), Now: fixedTime}, true},
		} {
			name := fmt.Sprintf("colour%s_%s_120x40.golden", p.name, tt.name)
			t.Run(name, func(t *testing.T) {
				s := NewScreen(net, p.profile, nil)
				if tt.zone {
					s.SetNetwork(&network.Network{Zones: zones.Zones})
				}
				got := s.Render(tt.f, 120, 40)
				checkFits(t, got, 120, 40)
				golden(t, name, got+"\n")
			})
		}
	}
}

// A style made of a converted colour writes what one made of the hex
// writes, in every profile, for the screen's colours, every line colour a
// network may give and strings that are no colour.
func TestTermColorWritesTheSameSequences(t *testing.T) {
	hexes := []string{"#ffffff", "#30475e", "#8a8a8a", "#ff5f5f", "#5fd75f", "#000000", "#0a0b0c", "#7f7f7f", "#ee0000",
		"", "red", "#12345", "#gggggg", "12"}
	for _, l := range network.Default().Lines {
		hexes = append(hexes, lineColorOf(l))
	}
	for i := range 64 {
		hexes = append(hexes, network.ColorFor(fmt.Sprint("line-", i)))
	}
	for _, p := range []termenv.Profile{termenv.ANSI256, termenv.ANSI, termenv.TrueColor, termenv.Ascii} {
		r := lipgloss.NewRenderer(io.Discard)
		r.SetColorProfile(p)
		for _, h := range hexes {
			want := r.NewStyle().Bold(true).Foreground(lipgloss.Color(h)).Background(lipgloss.Color(h)).Render("x")
			c := termColor(p, h)
			if got := r.NewStyle().Bold(true).Foreground(c).Background(c).Render("x"); got != want {
				t.Errorf("profile %v, %q: %q, want %q", p, h, got, want)
			}
		}
	}
}

// Package ui is the Bubble Tea program of the live screen. It reads the
// latest fleet state once per frame and draws it with the view package; Kafka
// events never reach Update, so the redraw rate is capped whatever the load.
package ui

import (
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/muesli/termenv"

	"github.com/fleetwatch/fleetwatch/internal/model"
	"github.com/fleetwatch/fleetwatch/internal/network"
	"github.com/fleetwatch/fleetwatch/internal/view"
)

// Source is where the screen reads the fleet from: an in-memory store fed
// by the consumer. Both calls are cheap reads under a lock, not IO.
type Source interface {
	Snapshot() model.Snapshot
	Status() view.Status
}

// DefaultFPS caps redraws per second.
const DefaultFPS = 15

// keyMap lists the keys; the help pane is built from it.
type keyMap struct {
	Help key.Binding
	Quit key.Binding
}

func defaultKeys() keyMap {
	return keyMap{
		Help: key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "toggle this help")),
		Quit: key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
	}
}

func (k keyMap) helpLines() []view.HelpLine {
	var out []view.HelpLine
	for _, b := range []key.Binding{k.Help, k.Quit} {
		h := b.Help()
		out = append(out, view.HelpLine{Key: h.Key, Desc: h.Desc})
	}
	return out
}

// frameMsg asks for the next frame.
type frameMsg time.Time

// Model is the live screen.
type Model struct {
	src    Source
	screen *view.Screen
	keys   keyMap
	frame  time.Duration

	w, h int
	help bool
	snap model.Snapshot
	stat view.Status
	now  time.Time
	rate rateMeter
}

// New returns the live screen for a terminal of the given colour profile.
func New(src Source, net *network.Network, profile termenv.Profile) Model {
	keys := defaultKeys()
	return Model{src: src, keys: keys, frame: time.Second / DefaultFPS,
		screen: view.NewScreen(net, profile, keys.helpLines()), w: 80, h: 24}
}

func (m Model) nextFrame() tea.Cmd {
	return tea.Tick(m.frame, func(t time.Time) tea.Msg { return frameMsg(t) })
}

// Init starts the frame clock.
func (m Model) Init() tea.Cmd { return m.nextFrame() }

// Update handles keys, resizes and the frame clock.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.w, m.h = msg.Width, msg.Height
	case tea.KeyMsg:
		switch {
		case key.Matches(msg, m.keys.Quit):
			return m, tea.Quit
		case key.Matches(msg, m.keys.Help):
			m.help = !m.help
		}
	case frameMsg:
		m.now = time.Time(msg)
		m.snap = m.src.Snapshot()
		m.stat = m.src.Status()
		consumed, _ := m.snap.Counters.Total()
		m.rate = m.rate.observe(m.now, consumed)
		m.stat.Rate, m.stat.Live = m.rate.perSec, true
		return m, m.nextFrame()
	}
	return m, nil
}

// View draws the current frame.
func (m Model) View() string {
	return m.screen.Render(view.Frame{Snap: m.snap, Status: m.stat, Help: m.help, Now: m.now}, m.w, m.h)
}

// rateMeter turns a growing counter into a per-second rate, re-measured
// about once a second so the figure is steady enough to read.
type rateMeter struct {
	since  time.Time
	count  int64
	perSec float64
}

func (r rateMeter) observe(now time.Time, count int64) rateMeter {
	if r.since.IsZero() {
		return rateMeter{since: now, count: count}
	}
	if el := now.Sub(r.since); el >= time.Second {
		r.perSec = float64(count-r.count) / el.Seconds()
		r.since, r.count = now, count
	}
	return r
}

// Package ui is the Bubble Tea program of the live screen. It reads the
// latest fleet state once per frame and draws it with the view package; Kafka
// events never reach Update, so the redraw rate is capped whatever the load.
package ui

import (
	"fmt"
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
	Snapshot(now time.Time) model.Snapshot
	Status() view.Status
	Rejects() []view.Reject // the last refused records, newest last
}

// DefaultFPS caps redraws per second.
const DefaultFPS = 15

// keyMap lists the keys; the help pane is built from it.
type keyMap struct {
	ZoomIn, ZoomOut, Fit  key.Binding
	Left, Right, Up, Down key.Binding
	Rejects, Help, Quit   key.Binding
}

func defaultKeys() keyMap {
	return keyMap{
		ZoomIn:  key.NewBinding(key.WithKeys("+", "=", "a"), key.WithHelp("+ a", "zoom in")),
		ZoomOut: key.NewBinding(key.WithKeys("-", "z"), key.WithHelp("- z", "zoom out")),
		Fit:     key.NewBinding(key.WithKeys("0"), key.WithHelp("0", "whole network")),
		Left:    key.NewBinding(key.WithKeys("left", "h"), key.WithHelp("← h", "pan left")),
		Right:   key.NewBinding(key.WithKeys("right", "l"), key.WithHelp("→ l", "pan right")),
		Up:      key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑ k", "pan up")),
		Down:    key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓ j", "pan down")),
		Rejects: key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "last rejected messages")),
		Help:    key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "toggle this help")),
		Quit:    key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
	}
}

// zoomStep and panStep are one key press: half again the scale, a fifth of the view.
const (
	zoomStep = 1.5
	panStep  = 0.2
)

func (k keyMap) helpLines() []view.HelpLine {
	var out []view.HelpLine
	for _, b := range []key.Binding{k.ZoomIn, k.ZoomOut, k.Fit, k.Left, k.Right, k.Up, k.Down, k.Rejects, k.Help, k.Quit} {
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
	stale  time.Duration
	idle   time.Duration // log out after this long without a key; 0 never

	w, h    int
	help    bool
	rejects bool
	snap    model.Snapshot
	stat    view.Status
	now     time.Time
	rate    rateMeter
	// Per-stream rate history, one point per frame (15 a second).
	hist       [3][]float64
	prevCounts [3]int64
	prevFrame  time.Time
	// lastKey is the frame time of the last key press, for the idle timeout.
	lastKey time.Time
}

// WithIdleTimeout returns the model set to quit when no key is pressed for d.
func (m Model) WithIdleTimeout(d time.Duration) Model {
	m.idle = d
	return m
}

// New returns the live screen for a terminal of the given colour profile;
// vehicles silent for stale are drawn dimmed.
func New(src Source, net *network.Network, profile termenv.Profile, stale time.Duration) Model {
	keys := defaultKeys()
	return Model{src: src, keys: keys, frame: time.Second / DefaultFPS, stale: stale,
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
		m.lastKey = m.now
		if msg.Type == tea.KeyRunes && len(msg.Runes) > 1 && !msg.Paste {
			// Keys typed faster than a frame arrive together ("+++"):
			// each one counts.
			var cmds []tea.Cmd
			var next tea.Model = m
			for _, r := range msg.Runes {
				var cmd tea.Cmd
				next, cmd = next.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: msg.Alt})
				cmds = append(cmds, cmd)
			}
			return next, tea.Batch(cmds...)
		}
		switch {
		case key.Matches(msg, m.keys.Quit):
			return m, tea.Quit
		case key.Matches(msg, m.keys.Help):
			m.help, m.rejects = !m.help, false
		case key.Matches(msg, m.keys.Rejects):
			m.rejects, m.help = !m.rejects, false
		case key.Matches(msg, m.keys.ZoomIn):
			m.screen.Map().ZoomBy(zoomStep)
		case key.Matches(msg, m.keys.ZoomOut):
			m.screen.Map().ZoomBy(1 / zoomStep)
		case key.Matches(msg, m.keys.Fit):
			m.screen.Map().Fit()
		case key.Matches(msg, m.keys.Left):
			m.screen.Map().Pan(-panStep, 0)
		case key.Matches(msg, m.keys.Right):
			m.screen.Map().Pan(panStep, 0)
		case key.Matches(msg, m.keys.Up):
			m.screen.Map().Pan(0, -panStep)
		case key.Matches(msg, m.keys.Down):
			m.screen.Map().Pan(0, panStep)
		}
	case frameMsg:
		m.now = time.Time(msg)
		if m.lastKey.IsZero() {
			m.lastKey = m.now
		}
		if m.idle > 0 && m.now.Sub(m.lastKey) > m.idle {
			return m, tea.Quit
		}
		m.snap = m.src.Snapshot(m.now)
		m.stat = m.src.Status()
		consumed, _ := m.snap.Counters.Total()
		m.rate = m.rate.observe(m.now, consumed)
		m.recordRates()
		m.stat.Rate, m.stat.Live, m.stat.Rates = m.rate.perSec, true, m.hist
		return m, m.nextFrame()
	}
	return m, nil
}

// View draws the current frame. A bug in drawing costs one frame, not the
// operator's terminal: it shows as one line and the next frame tries again.
func (m Model) View() (out string) {
	defer func() {
		if r := recover(); r != nil {
			out = fmt.Sprintf("fleetwatch: drawing the screen failed: %v; q quits", r)
		}
	}()
	f := view.Frame{Snap: m.snap, Status: m.stat, Help: m.help, Now: m.now, Stale: m.stale}
	if m.rejects {
		f.Rejects = append([]view.Reject{}, m.src.Rejects()...)
	}
	return m.screen.Render(f, m.w, m.h)
}

// historyLen is how many frames of per-stream rates are kept: enough for the
// widest sparkline.
const historyLen = 120

func (m *Model) recordRates() {
	counts := m.snap.Counters.Consumed
	if !m.prevFrame.IsZero() {
		if dt := m.now.Sub(m.prevFrame).Seconds(); dt > 0 {
			for k := range m.hist {
				h := append(m.hist[k], float64(counts[k]-m.prevCounts[k])/dt)
				if len(h) > historyLen {
					h = h[len(h)-historyLen:]
				}
				m.hist[k] = h
			}
		}
	}
	m.prevCounts, m.prevFrame = counts, m.now
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

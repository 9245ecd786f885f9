package main

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/fleetwatch/fleetwatch/internal/testutil"
)

// tmuxSession runs a command in a detached tmux session of a fixed size, as
// a person would in a terminal, and reads the screen back.
type tmuxSession struct {
	t    *testing.T
	name string
}

func startTmux(t *testing.T, cols, rows int, command string) *tmuxSession {
	t.Helper()
	testutil.Require(t, "tmux")
	s := &tmuxSession{t: t, name: fmt.Sprintf("fw-test-%d-%d", os.Getpid(), time.Now().UnixNano())}
	cmd := exec.Command("tmux", "new-session", "-d", "-s", s.name, "-x", fmt.Sprint(cols), "-y", fmt.Sprint(rows),
		// CI=... makes termenv assume no terminal; a person's shell has none.
		"env", "-u", "CI", "TERM=xterm-256color", "COLORTERM=truecolor", "sh", "-c", command+"; echo EXITED $?; sleep 30")
	if out, err := cmd.CombinedOutput(); err != nil {
		// A tmux server whose last session just ended may still be exiting
		// when the next session asks it for a window: ask again, once.
		if !strings.Contains(string(out), "server exited unexpectedly") {
			t.Fatalf("tmux new-session: %v: %s", err, out)
		}
		cmd = exec.Command(cmd.Args[0], cmd.Args[1:]...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("tmux new-session: %v: %s", err, out)
		}
	}
	t.Cleanup(func() { exec.Command("tmux", "kill-session", "-t", s.name).Run() })
	return s
}

func (s *tmuxSession) screen() string {
	out, err := exec.Command("tmux", "capture-pane", "-p", "-t", s.name).Output()
	if err != nil {
		s.t.Fatalf("capture-pane: %v", err)
	}
	return string(out)
}

// colourScreen reads the screen with its escape sequences.
func (s *tmuxSession) colourScreen() string {
	out, err := exec.Command("tmux", "capture-pane", "-e", "-p", "-t", s.name).Output()
	if err != nil {
		s.t.Fatalf("capture-pane: %v", err)
	}
	return string(out)
}

func (s *tmuxSession) keys(keys ...string) {
	if out, err := exec.Command("tmux", append([]string{"send-keys", "-t", s.name}, keys...)...).CombinedOutput(); err != nil {
		s.t.Fatalf("send-keys: %v: %s", err, out)
	}
}

func (s *tmuxSession) waitFor(limit time.Duration, what string, cond func(screen string) bool) string {
	s.t.Helper()
	var last string
	deadline := time.Now().Add(limit)
	for {
		last = s.screen()
		if cond(last) {
			return last
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("timed out after %v waiting for %s; screen:\n%s", limit, what, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

var vehiclesRE = regexp.MustCompile(`(\d+) vehicles on (\d+) lines`)

func hasBraille(s string) bool {
	for _, r := range s {
		if r > 0x2800 && r <= 0x28ff {
			return true
		}
	}
	return false
}

// mapArea returns the left part of the body rows, where the map is drawn.
func mapArea(screen string, cols int) string {
	lines := strings.Split(screen, "\n")
	var b strings.Builder
	for i, l := range lines {
		if i == 0 || i >= len(lines)-2 {
			continue
		}
		r := []rune(l)
		b.WriteString(string(r[:min(len(r), cols)]))
		b.WriteByte('\n')
	}
	return b.String()
}

func TestDemoShowsMovingFleetAndKeysWork(t *testing.T) {
	bin := testutil.Binary(t, "./cmd/tui", "fleetwatch")
	s := startTmux(t, 120, 40, bin+" --demo")

	start := time.Now()
	first := s.waitFor(15*time.Second, "vehicles on the map", func(sc string) bool {
		m := vehiclesRE.FindStringSubmatch(sc)
		return m != nil && m[1] != "0" && hasBraille(sc) && strings.ContainsAny(mapArea(sc, 70), "●■")
	})
	t.Logf("vehicles shown after %v", time.Since(start).Round(10*time.Millisecond))
	m := vehiclesRE.FindStringSubmatch(first)
	if m[2] == "1" {
		t.Errorf("vehicles on one line only: %q", m[0])
	}
	for _, want := range []string{"LINE", "STREAM", "WEATHER", "ev/s", "rejected 0", "(demo)"} {
		if !strings.Contains(first, want) {
			t.Errorf("screen lacks %q:\n%s", want, first)
		}
	}

	// Vehicles move: the map changes while the network stays.
	s.waitFor(10*time.Second, "vehicles to move", func(sc string) bool {
		return mapArea(sc, 70) != mapArea(first, 70)
	})

	s.keys("?")
	s.waitFor(5*time.Second, "help pane", func(sc string) bool { return strings.Contains(sc, "KEYS") && strings.Contains(sc, "quit") })
	s.keys("?")
	s.waitFor(5*time.Second, "help pane to close", func(sc string) bool { return !strings.Contains(sc, "KEYS") })

	// Zoom in: the terminal labels of the whole network go out of view;
	// 0 brings the whole network back.
	if !strings.Contains(first, "O'Hare") || !strings.Contains(first, "95th/Dan Ryan") {
		t.Fatalf("whole-network labels missing:\n%s", first)
	}
	s.keys("+", "+", "+")
	s.waitFor(5*time.Second, "zoomed-in map", func(sc string) bool {
		return !strings.Contains(sc, "O'Hare") && !strings.Contains(sc, "95th/Dan Ryan")
	})
	s.keys("l", "Left", "j")
	s.keys("0")
	s.waitFor(5*time.Second, "whole network again", func(sc string) bool {
		return strings.Contains(sc, "O'Hare") && strings.Contains(sc, "95th/Dan Ryan")
	})

	// The panes: tab to the vehicles table (a summary row per line), again
	// to the station board; / finds a vehicle and shows its details; f
	// follows it; esc goes back.
	s.keys("Tab")
	s.waitFor(5*time.Second, "vehicles table", func(sc string) bool {
		return strings.Contains(sc, "VEHICLES") && strings.Contains(sc, "bunched") && strings.Contains(sc, "NEXT STOP")
	})
	s.keys("Tab")
	s.waitFor(5*time.Second, "station board", func(sc string) bool {
		return strings.Contains(sc, "STATIONS") && strings.Contains(sc, "busiest first")
	})
	s.keys("/")
	s.keys("-l", "blue-03")
	s.waitFor(5*time.Second, "the search line", func(sc string) bool { return strings.Contains(sc, "/blue-03") })
	s.keys("Enter")
	s.waitFor(5*time.Second, "details of blue-03", func(sc string) bool {
		return strings.Contains(sc, "VEHICLE blue-03") && strings.Contains(sc, "LAST REPORTS") && strings.Contains(mapArea(sc, 60), "◉")
	})
	s.keys("f")
	s.waitFor(5*time.Second, "following", func(sc string) bool { return strings.Contains(sc, "following blue-03") })
	// Each esc on its own: two at once read as alt+esc, as in any terminal.
	s.keys("f", "Escape")
	s.waitFor(5*time.Second, "back to the vehicles", func(sc string) bool { return strings.Contains(sc, "NEXT STOP") })
	s.keys("Escape")
	s.waitFor(5*time.Second, "back to the overview", func(sc string) bool { return strings.Contains(sc, "WEATHER") })
	s.keys("0")
	s.waitFor(5*time.Second, "the overview again", func(sc string) bool {
		return strings.Contains(sc, "WEATHER") && strings.Contains(sc, "O'Hare")
	})

	// A small terminal still gets a whole, unwrapped screen.
	if out, err := exec.Command("tmux", "resize-window", "-t", s.name, "-x", "80", "-y", "24").CombinedOutput(); err != nil {
		t.Fatalf("resize: %v: %s", err, out)
	}
	small := s.waitFor(5*time.Second, "80×24 layout", func(sc string) bool {
		lines := strings.Split(strings.TrimRight(sc, "\n"), "\n")
		return len(lines) == 24 && strings.Contains(lines[0], "fleetwatch") && strings.Contains(lines[23], "q quit")
	})
	for i, l := range strings.Split(strings.TrimRight(small, "\n"), "\n") {
		if w := len([]rune(l)); w > 80 {
			t.Errorf("line %d is %d wide at 80×24: %q", i, w, l)
		}
	}

	s.keys("q")
	s.waitFor(10*time.Second, "exit", func(sc string) bool { return strings.Contains(sc, "EXITED 0") })
}

func TestNoBrokerSaysSoAndKeepsRunning(t *testing.T) {
	bin := testutil.Binary(t, "./cmd/tui", "fleetwatch")
	s := startTmux(t, 140, 30, bin+" -b 127.0.0.1:1")
	sc := s.waitFor(15*time.Second, "the unreachable-broker line", func(sc string) bool {
		return strings.Contains(sc, "no broker reachable at 127.0.0.1:1 (connection refused)") && strings.Contains(sc, "--demo")
	})
	if strings.Contains(sc, "EXITED") || strings.Contains(sc, "panic") {
		t.Fatalf("fleetwatch exited:\n%s", sc)
	}
	s.keys("q")
	s.waitFor(10*time.Second, "exit", func(sc string) bool { return strings.Contains(sc, "EXITED 0") })
}

// Colours follow the terminal, and NO_COLOR turns them off.
func TestColoursAndNoColor(t *testing.T) {
	bin := testutil.Binary(t, "./cmd/tui", "fleetwatch")
	colourRE := regexp.MustCompile(`\x1b\[[0-9;]*[34]8;`)
	for _, tt := range []struct {
		env    string
		colour bool
	}{{"", true}, {"NO_COLOR=1", false}} {
		s := startTmux(t, 100, 30, "env "+tt.env+" "+bin+" --demo")
		s.waitFor(15*time.Second, "vehicles", func(sc string) bool { return strings.ContainsAny(mapArea(sc, 60), "●■") })
		if got := colourRE.MatchString(s.colourScreen()); got != tt.colour {
			t.Errorf("%q: colour escapes %v, want %v", tt.env, got, tt.colour)
		}
		s.keys("q")
		s.waitFor(10*time.Second, "exit", func(sc string) bool { return strings.Contains(sc, "EXITED 0") })
	}
}

// Against real Kafka: the watched topic is deleted and created again; the
// screen carries on and shows what is written to the new topic.
func TestTopicDeletedAndRecreatedWhileWatching(t *testing.T) {
	addr := testutil.RealKafka(t)
	bin := testutil.Binary(t, "./cmd/tui", "fleetwatch")
	topic := fmt.Sprintf("recreate%d.vehicles", time.Now().UnixNano())
	produce := func(ids []string, line string) {
		var b strings.Builder
		for _, id := range ids {
			fmt.Fprintf(&b, `%s|{"vehicle_id":"%s","line":"%s","lat":41.88,"lon":-87.63,"ts":%d}`+"\n", id, id, line, time.Now().Unix())
		}
		testutil.KcatProduce(t, addr, topic, b.String())
	}
	produce([]string{"r1", "r2", "r3"}, "red")
	s := startTmux(t, 140, 30, bin+" -b "+addr+" --from earliest --vehicles-topic "+topic)
	s.waitFor(30*time.Second, "the first three vehicles", func(sc string) bool { return strings.Contains(sc, "3 vehicles on 1 line") })

	admin, err := sarama.NewClusterAdmin([]string{addr}, sarama.NewConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if err := admin.DeleteTopic(topic); err != nil {
		t.Fatalf("delete topic: %v", err)
	}
	testutil.Eventually(t, 30*time.Second, "the topic to be deleted", func() bool {
		list, err := admin.ListTopics()
		_, there := list[topic]
		return err == nil && !there
	})
	produce([]string{"b1", "b2"}, "blue") // the broker creates the topic again
	sc := s.waitFor(30*time.Second, "the vehicles of the new topic", func(sc string) bool { return strings.Contains(sc, "5 vehicles on 2 lines") })
	if strings.Contains(sc, "EXITED") {
		t.Fatalf("fleetwatch exited:\n%s", sc)
	}
	s.keys("q")
	s.waitFor(10*time.Second, "exit", func(sc string) bool { return strings.Contains(sc, "EXITED 0") })
}

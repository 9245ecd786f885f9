package cli_test

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fleetwatch/fleetwatch/internal/alert"
	"github.com/fleetwatch/fleetwatch/internal/testutil"
)

// The acceptance: a seeded simulation with incidents goes through
// real Kafka into `fleetwatch alerts --until-caught-up`; its alerts, matched
// to the simulator's ground truth by kind, vehicle (or line) and time, reach
// precision and recall of 0.95 for every kind, and open within two report
// intervals of the threshold being crossed (p95).
func TestAlertsScoredAgainstGroundTruth(t *testing.T) {
	addr := testutil.RealKafka(t)
	fw := testutil.Binary(t, "./cmd/tui", "fleetwatch")
	sim := testutil.Binary(t, "./cmd/sim", "fleetsim")
	dir := t.TempDir()
	prefix := fmt.Sprintf("score%d", time.Now().UnixNano())
	topics := []string{"--vehicles-topic", prefix + ".vehicles", "--stations-topic", prefix + ".stations", "--weather-topic", prefix + ".weather"}
	truthPath := filepath.Join(dir, "truth.jsonl")
	_, errOut, code := run(t, sim, append([]string{"-b", addr, "--speedup", "max", "--duration", "2h", "--seed", "21",
		"--start", "2026-11-22T06:00:00Z", "--incidents", "default", "--truth", truthPath}, topics...)...)
	if code != 0 {
		t.Fatalf("fleetsim exit %d: %s", code, errOut)
	}
	// The simulator drives the embedded demo network: off route is judged
	// against its geometry, given as a file as a user would.
	network := filepath.Join(testutil.RepoRoot(), "assets", "network.geojson")
	out, errOut, code := run(t, fw, append([]string{"alerts", "-b", addr, "--until-caught-up", "--network", network}, topics...)...)
	if code != 0 {
		t.Fatalf("alerts exit %d: %s", code, errOut)
	}
	alerts, err := alert.ReadAlerts(strings.NewReader(out))
	if err != nil {
		t.Fatalf("alerts output: %v", err)
	}
	tf, err := os.ReadFile(truthPath)
	if err != nil {
		t.Fatal(err)
	}
	truth, err := alert.ReadTruth(bytes.NewReader(tf))
	if err != nil {
		t.Fatal(err)
	}
	if len(truth) == 0 || len(alerts) == 0 {
		t.Fatalf("%d truths, %d alerts: nothing to score", len(truth), len(alerts))
	}
	scores := alert.Score(alerts, truth, alert.ScoreOptions{ReportInterval: time.Second})
	var table strings.Builder
	alert.WriteTable(&table, scores)
	t.Logf("scores through real Kafka:\n%s", table.String())
	kinds := map[alert.Kind]bool{}
	for _, s := range scores {
		if s.Truths == 0 && s.Alerts == 0 {
			continue
		}
		kinds[s.Kind] = s.Truths > 0
		// NaN (nothing to divide) fails too: false alarms of a kind the
		// simulation never caused have no precision.
		if !(s.Precision >= 0.95) || s.Truths > 0 && !(s.Recall >= 0.95) {
			t.Errorf("%s: %d alerts, %d correct; %d truths, %d detected: precision %.3f, recall %.3f; want both ≥ 0.95",
				s.Kind, s.Alerts, s.Correct, s.Truths, s.Detected, s.Precision, s.Recall)
		}
		if !math.IsNaN(s.LatencyP95) && s.LatencyP95 > 2 {
			t.Errorf("%s: alerts open %.1f report intervals late (p95); want ≤ 2", s.Kind, s.LatencyP95)
		}
	}
	for _, k := range []alert.Kind{alert.OffRoute, alert.NoProgress, alert.Bunched, alert.Late, alert.Early, alert.FeedSilent} {
		if !kinds[k] {
			t.Errorf("the default incidents injected no %s", k)
		}
	}
}

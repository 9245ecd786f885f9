package alert

import (
	"hash/fnv"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/fleetwatch/fleetwatch/internal/codec"
	"github.com/fleetwatch/fleetwatch/internal/model"
	"github.com/fleetwatch/fleetwatch/internal/network"
	"github.com/fleetwatch/fleetwatch/internal/sim"
)

// decodingSink decodes the simulator's records as a reader would, the same
// bytes through the real decoder, and hands the events on.
type decodingSink struct {
	t   testing.TB
	dec codec.Decoder
	evs []model.Event
	to  func(kind model.Kind, key string, ev model.Event)
}

func (s *decodingSink) Send(kind model.Kind, key string, value []byte) {
	var err error
	s.evs, err = s.dec.DecodeAll(model.Record{Kind: kind, Key: []byte(key), Value: value}, s.evs[:0])
	if err != nil {
		s.t.Fatalf("record refused: %v: %s", err, value)
	}
	for _, ev := range s.evs {
		s.to(kind, key, ev)
	}
}

type simRun struct {
	alerts []Alert
	truth  []Truth
	end    time.Time
}

// reader is how the detector gets the events: in the order produced, or
// through partitions.
type reader interface {
	event(kind model.Kind, key string, ev model.Event)
	tick(now time.Time) // after every step, at the simulated time
	done() []Alert
}

// simulate runs the simulator with incidents (ParseIncidents' list; "" for
// none) from 07:00 for d, its records decoded and read by r.
func simulate(t testing.TB, seed uint64, d time.Duration, incidents string, r reader) simRun {
	t.Helper()
	var inc map[sim.IncidentKind]int
	if incidents != "" {
		var err error
		if inc, err = sim.ParseIncidents(incidents); err != nil {
			t.Fatal(err)
		}
	}
	var run simRun
	s, err := sim.New(sim.Config{Network: network.Default(), Start: time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC),
		Duration: d, Seed: seed, Incidents: inc, Truth: func(tr sim.Truth) {
			run.truth = append(run.truth, Truth{Kind: Kind(tr.Kind), VehicleID: tr.VehicleID, Line: tr.Line, Start: tr.Start, End: tr.End})
		}})
	if err != nil {
		t.Fatal(err)
	}
	sink := &decodingSink{t: t, to: r.event}
	for !s.Done() {
		s.Step(sink)
		r.tick(s.Now())
	}
	s.Finish()
	run.alerts, run.end = r.done(), s.Now()
	return run
}

// inOrder reads every event as it is produced and ticks every step (a
// tenth of a report interval): a live reader keeping up.
type inOrder struct {
	det    *Detector
	alerts []Alert
}

func (r *inOrder) event(_ model.Kind, _ string, ev model.Event) {
	r.alerts = append(r.alerts, r.det.Apply(ev)...)
}
func (r *inOrder) tick(now time.Time) { r.alerts = append(r.alerts, r.det.Tick(now)...) }
func (r *inOrder) done() []Alert      { return r.alerts }

// partitioned reads as a consumer catching up on Kafka topics does: each
// record goes to a partition of its topic by its key (6 a topic), and the
// reader takes fetches of up to fetch records from each partition in turn,
// so that one vehicle's reports, and one station's arrivals, stay in order
// but the streams and vehicles interleave minutes apart. It ticks after
// every fetch at the oldest of the latest event times of the partitions
// not yet read to their end, and once caught up at the newest event's.
type partitioned struct {
	det    *Detector
	fetch  int
	parts  [3][6][]timed
	alerts []Alert
}

type timed struct {
	ev model.Event
	ts time.Time
}

func (r *partitioned) event(kind model.Kind, key string, ev model.Event) {
	h := fnv.New32a()
	h.Write([]byte(key))
	p := &r.parts[kind][h.Sum32()%6]
	*p = append(*p, timed{ev, model.EventTime(ev)})
}
func (r *partitioned) tick(time.Time) {}

func (r *partitioned) done() []Alert {
	var next [3][6]int
	var latest [3][6]time.Time
	for {
		progress := false
		for k := range r.parts {
			for p := range r.parts[k] {
				q, i := r.parts[k][p], next[k][p]
				end := min(i+r.fetch, len(q))
				for ; i < end; i++ {
					r.alerts = append(r.alerts, r.det.Apply(q[i].ev)...)
					if !q[i].ts.IsZero() {
						latest[k][p] = q[i].ts
					}
					progress = true
				}
				next[k][p] = i
				// The low watermark over the partitions still being read.
				var mark time.Time
				for k2 := range r.parts {
					for p2 := range r.parts[k2] {
						if next[k2][p2] < len(r.parts[k2][p2]) && (mark.IsZero() || latest[k2][p2].Before(mark)) {
							mark = latest[k2][p2]
						}
					}
				}
				if !mark.IsZero() {
					r.alerts = append(r.alerts, r.det.Tick(mark)...)
				}
			}
		}
		if !progress {
			// Caught up: everything is read, so the clock is the newest
			// event's, and silences running at the end are judged to it.
			var end time.Time
			for k := range latest {
				for p := range latest[k] {
					end = later(end, latest[k][p])
				}
			}
			return append(r.alerts, r.det.Tick(end)...)
		}
	}
}

func table(scores []KindScore) string {
	var b strings.Builder
	WriteTable(&b, scores)
	return b.String()
}

// The fleet as it runs without incidents raises no alert: each would be a
// false alarm. Nor does the ground truth hold anything.
func TestNormalFleetRaisesNothing(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		run := simulate(t, seed, 3*time.Hour, "", &inOrder{det: New(DefaultConfig(), network.Default())})
		if len(run.alerts) > 0 || len(run.truth) > 0 {
			t.Fatalf("seed %d: %d alerts, %d truth:\n%s", seed, len(run.alerts), len(run.truth), table(Score(run.alerts, run.truth, ScoreOptions{})))
		}
	}
}

// The detector against the simulator's ground truth, every kind, as the
// issue's targets have it: precision and recall 0.95 or better, and alerts
// open within two report intervals of the threshold being crossed (p95).
func TestScoreAgainstSimulator(t *testing.T) {
	const incidents = "off_route:4,no_progress:2,bunched:2,late:3,early:3,feed_silent:1,stale:3"
	tests := []struct {
		name   string
		reader func() reader
	}{
		{"read live", func() reader { return &inOrder{det: New(DefaultConfig(), network.Default())} }},
		{"caught up through partitions", func() reader {
			return &partitioned{det: New(DefaultConfig(), network.Default()), fetch: 500}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var alerts []Alert
			var truth []Truth
			for _, seed := range []uint64{1, 2, 3} {
				run := simulate(t, seed, 3*time.Hour, incidents, tt.reader())
				alerts, truth = append(alerts, run.alerts...), append(truth, run.truth...)
				// Runs are scored together: alerts still open at the end of
				// one are closed there.
				alerts = append(alerts, closeAll(run.alerts, run.end)...)
			}
			scores := Score(alerts, truth, ScoreOptions{ReportInterval: time.Second})
			t.Logf("3 seeds × 3 h, 40 vehicles, incidents %s per hour:\n%s", incidents, table(scores))
			for _, s := range scores {
				if s.Truths == 0 {
					t.Errorf("%s: no condition in the truth", s.Kind)
					continue
				}
				if s.Precision < 0.95 || s.Recall < 0.95 || !(s.LatencyP95 <= 2) {
					t.Errorf("%s: precision %.3f, recall %.3f, latency p95 %.1f", s.Kind, s.Precision, s.Recall, s.LatencyP95)
				}
			}
		})
	}
}

// closeAll closes the alerts of one run still open at its end.
func closeAll(alerts []Alert, end time.Time) []Alert {
	open := map[alertKey]Alert{}
	for _, a := range alerts {
		key := alertKey{kind: a.Kind, vehicle: a.VehicleID, line: a.Line, zone: a.Zone, stream: a.Stream}
		if a.State == Opened {
			open[key] = a
		} else {
			delete(open, key)
		}
	}
	var out []Alert
	for _, a := range open {
		a.State, a.At = Closed, end
		out = append(out, a)
	}
	return out
}

func TestScore(t *testing.T) {
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	alerts := []Alert{
		{Kind: Late, State: Opened, VehicleID: "a", At: at(12)},
		{Kind: Late, State: Closed, VehicleID: "a", At: at(50)},
		{Kind: Late, State: Opened, VehicleID: "b", At: at(100)}, // a false alarm: b was never late
		{Kind: FeedSilent, State: Opened, Line: "red", At: at(60)},
		{Kind: OffRoute, State: Opened, VehicleID: "c", At: at(5)},
	}
	truth := []Truth{
		{Kind: Late, VehicleID: "a", Start: at(10), End: at(40)},
		{Kind: Late, VehicleID: "a", Start: at(45), End: at(48)}, // within the same alert: latency 0
		{Kind: FeedSilent, Line: "red", Start: at(60), End: at(90)},
		{Kind: FeedSilent, Line: "blue", Start: at(60), End: at(90)}, // missed
		{Kind: OffRoute, VehicleID: "c", Start: at(1), End: at(2)},   // over before the alert: missed, and c's alert false
	}
	got := map[Kind]KindScore{}
	for _, s := range Score(alerts, truth, ScoreOptions{}) {
		got[s.Kind] = s
	}
	want := map[Kind]KindScore{
		Late:       {Kind: Late, Truths: 2, Detected: 2, Alerts: 2, Correct: 1, Precision: 0.5, Recall: 1, LatencyP50: 0, LatencyP95: 2, LatencyMax: 2},
		FeedSilent: {Kind: FeedSilent, Truths: 2, Detected: 1, Alerts: 1, Correct: 1, Precision: 1, Recall: 0.5},
		OffRoute:   {Kind: OffRoute, Truths: 1, Detected: 0, Alerts: 1, Correct: 0, Precision: 0, Recall: 0},
	}
	for k, w := range want {
		g := got[k]
		if k != Late {
			if k == FeedSilent && g.LatencyP95 != 0 {
				t.Errorf("%s latency %v", k, g.LatencyP95)
			}
			if k == OffRoute && !math.IsNaN(g.LatencyP95) {
				t.Errorf("%s latency %v", k, g.LatencyP95)
			}
			g.LatencyP50, g.LatencyP95, g.LatencyMax = 0, 0, 0
		}
		if g != w {
			t.Errorf("%s: got %+v\nwant %+v", k, g, w)
		}
	}
}

package alert

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"
)

// Truth is one condition of a simulation's ground truth, a line of
// `fleetsim --truth`: what should have raised an alert, for which vehicle
// (empty for a line's), on which line, from Start to End in event time.
type Truth struct {
	Kind      Kind      `json:"kind"`
	VehicleID string    `json:"vehicle_id"`
	Line      string    `json:"line"`
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
}

// ReadTruth reads a --truth file: one Truth per line.
func ReadTruth(r io.Reader) ([]Truth, error) { return readLines[Truth](r) }

// ReadAlerts reads alerts as `fleetwatch alerts` prints them: one per line.
func ReadAlerts(r io.Reader) ([]Alert, error) { return readLines[Alert](r) }

func readLines[T any](r io.Reader) ([]T, error) {
	var out []T
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var x T
		if err := json.Unmarshal([]byte(line), &x); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		out = append(out, x)
	}
	return out, sc.Err()
}

// ScoreOptions say how alerts are matched to the truth.
type ScoreOptions struct {
	// ReportInterval is the unit latency is given in: the time between two
	// reports of a vehicle (1 s when zero).
	ReportInterval time.Duration
	// Slack widens each truth interval on both sides when matching, for a
	// detector fed through a path that reorders or delays a little.
	Slack time.Duration
	// End is when the run ended: an alert still open lasts until then.
	// Zero takes the latest time among the alerts and the truth.
	End time.Time
}

// KindScore is how well the alerts of one kind matched the truth.
type KindScore struct {
	Kind Kind
	// Truths is the conditions of the kind in the truth, Detected those an
	// alert of the kind for the same vehicle (or line) overlapped in time.
	Truths, Detected int
	// Alerts is the alerts of the kind opened, Correct those that
	// overlapped a condition of the truth: the rest are false alarms.
	Alerts, Correct int
	// Precision is Correct/Alerts and Recall Detected/Truths; NaN where
	// there is nothing to divide by.
	Precision, Recall float64
	// Latency of the detected conditions, in report intervals: from the
	// time the condition truly held to the opening of the first alert
	// that matched it (0 when one was open already). NaN with none.
	LatencyP50, LatencyP95, LatencyMax float64
}

// span is one alert, from opening to closing.
type span struct {
	a          Alert
	open, shut time.Time
	matched    bool
}

// Score matches alerts (openings and closings, in any order) to the truth
// and scores each kind that appears in either, in the order of Kinds
// (kinds the package does not name come last).
func Score(alerts []Alert, truth []Truth, opt ScoreOptions) []KindScore {
	unit := opt.ReportInterval
	if unit <= 0 {
		unit = time.Second
	}
	end := opt.End
	if end.IsZero() {
		for _, a := range alerts {
			end = later(end, a.At)
		}
		for _, t := range truth {
			end = later(end, t.End)
		}
	}
	// Pair each opening with the next closing of the same alert.
	sorted := slices.Clone(alerts)
	slices.SortStableFunc(sorted, func(a, b Alert) int { return a.At.Compare(b.At) })
	var spans []*span
	openAt := map[alertKey]*span{}
	for _, a := range sorted {
		key := alertKey{kind: a.Kind, vehicle: a.VehicleID, line: a.Line, zone: a.Zone, stream: a.Stream}
		if a.Kind != FeedSilent || a.VehicleID != "" {
			key.line = "" // a vehicle's alerts are its own whatever its line
		}
		switch a.State {
		case Opened:
			sp := &span{a: a, open: a.At, shut: end}
			spans = append(spans, sp)
			openAt[key] = sp
		case Closed:
			if sp, ok := openAt[key]; ok {
				sp.shut = a.At
				delete(openAt, key)
			}
		}
	}
	byKind := map[Kind]*KindScore{}
	get := func(k Kind) *KindScore {
		ks, ok := byKind[k]
		if !ok {
			ks = &KindScore{Kind: k}
			byKind[k] = ks
		}
		return ks
	}
	latencies := map[Kind][]float64{}
	for _, t := range truth {
		ks := get(t.Kind)
		ks.Truths++
		first := time.Time{}
		for _, sp := range spans {
			if !matches(sp, t, opt.Slack) {
				continue
			}
			sp.matched = true
			if first.IsZero() || sp.open.Before(first) {
				first = sp.open
			}
		}
		if !first.IsZero() {
			ks.Detected++
			lat := max(0, first.Sub(t.Start).Seconds()/unit.Seconds())
			latencies[t.Kind] = append(latencies[t.Kind], lat)
		}
	}
	for _, sp := range spans {
		ks := get(sp.a.Kind)
		ks.Alerts++
		if sp.matched {
			ks.Correct++
		}
	}
	var out []KindScore
	for _, ks := range byKind {
		ks.Precision = ratio(ks.Correct, ks.Alerts)
		ks.Recall = ratio(ks.Detected, ks.Truths)
		ks.LatencyP50, ks.LatencyP95, ks.LatencyMax = math.NaN(), math.NaN(), math.NaN()
		if l := latencies[ks.Kind]; len(l) > 0 {
			slices.Sort(l)
			ks.LatencyP50, ks.LatencyP95, ks.LatencyMax = rank(l, 0.5), rank(l, 0.95), l[len(l)-1]
		}
		out = append(out, *ks)
	}
	slices.SortFunc(out, func(a, b KindScore) int {
		ia, ib := kindOrder(a.Kind), kindOrder(b.Kind)
		if ia != ib {
			return ia - ib
		}
		return strings.Compare(string(a.Kind), string(b.Kind))
	})
	return out
}

// matches reports whether an alert overlaps a condition of the truth: the
// same kind, for the same vehicle (or, for a line's, the same line), at
// some common time.
func matches(sp *span, t Truth, slack time.Duration) bool {
	a := sp.a
	if a.Kind != t.Kind {
		return false
	}
	switch {
	case t.VehicleID != "":
		if a.VehicleID != t.VehicleID {
			return false
		}
	case t.Line != "":
		if a.VehicleID != "" || a.Line != t.Line {
			return false
		}
	default:
		if a.VehicleID != "" || a.Line != "" {
			return false
		}
	}
	return !sp.open.After(t.End.Add(slack)) && !sp.shut.Before(t.Start.Add(-slack))
}

func kindOrder(k Kind) int {
	if i := slices.Index(Kinds, k); i >= 0 {
		return i
	}
	return len(Kinds)
}

func ratio(a, b int) float64 {
	if b == 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

// rank is the nearest-rank percentile q of sorted values.
func rank(sorted []float64, q float64) float64 {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// WriteTable writes scores as a Markdown table, as BENCHMARKS.md has them.
func WriteTable(w io.Writer, scores []KindScore) error {
	num := func(f float64, format string) string {
		if math.IsNaN(f) {
			return "—"
		}
		return fmt.Sprintf(format, f)
	}
	var b strings.Builder
	b.WriteString("| kind | truth | detected | alerts | false alarms | precision | recall | latency p50 / p95 / max (report intervals) |\n")
	b.WriteString("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n")
	for _, s := range scores {
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %s | %s | %s / %s / %s |\n", s.Kind, s.Truths, s.Detected, s.Alerts,
			s.Alerts-s.Correct, num(s.Precision, "%.3f"), num(s.Recall, "%.3f"),
			num(s.LatencyP50, "%.1f"), num(s.LatencyP95, "%.1f"), num(s.LatencyMax, "%.1f"))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

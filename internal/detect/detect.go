// Package detect tells which topics carry which of fleetwatch's streams,
// from samples of their records (kafka.SampleTopics reads them). It does no
// IO: a topic's records are decoded as each stream would decode them, and
// the topic that reads best as a stream is chosen for it.
package detect

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/fleetwatch/fleetwatch/internal/codec"
	"github.com/fleetwatch/fleetwatch/internal/model"
)

// Threshold is the share of a topic's sampled records that must decode as a
// stream's events for the topic to be a candidate for that stream. Below it
// the records that fit are more likely chance than a stream that sometimes
// sends a bad record.
const Threshold = 0.6

// Score is how well one topic's sampled records read as one stream.
type Score struct {
	Topic   string
	Kind    model.Kind
	Matched int // records that decoded into the kind's events with its required fields
	Sampled int // records sampled (null values aside)
}

// Fraction is Matched / Sampled, 0 for a topic with no records.
func (s Score) Fraction() float64 {
	if s.Sampled == 0 {
		return 0
	}
	return float64(s.Matched) / float64(s.Sampled)
}

// candidate tells whether the score reaches Threshold.
func (s Score) candidate() bool {
	return s.Matched > 0 && float64(s.Matched) >= Threshold*float64(s.Sampled)
}

// better orders scores best first: the higher fraction, then the more
// records that fit, then the topic name so that the choice is stable.
func better(a, b Score) int {
	// Cross-multiplied, so that 3/5 and 6/10 compare equal.
	return cmp.Or(cmp.Compare(b.Matched*a.Sampled, a.Matched*b.Sampled), cmp.Compare(b.Matched, a.Matched),
		cmp.Compare(a.Topic, b.Topic))
}

// Choice is the topic detected for each stream.
type Choice struct {
	// Topics is, per model.Kind, the topic chosen, or "" when no topic reads
	// as that stream. A topic is chosen for one stream at most.
	Topics [3]string
	// Scores is, per model.Kind, the score of the chosen topic (zero when none).
	Scores [3]Score
	// Candidates are all the scores at or over Threshold, the chosen and the
	// ones passed over, by stream in model.Kinds order, best first.
	Candidates []Score
	// Sampled is how many topics had records to look at.
	Sampled int
}

// Classify decodes every topic's samples as each stream would and chooses a
// topic per stream. A topic is a candidate for a stream when at least
// Threshold of its records decode into that stream's events with the fields
// that make them usable: a vehicle position with an id and a position (not
// 0,0); a station record, arrival or turnstile count with a station id; a
// weather reading that names its area or carries readings (an area-less
// reading gets the topic's name as its area, as --weather-area's default
// does). Vehicles are chosen first, then stations, then weather: a
// position report may also pass for a weather reading (a "status" reads as a
// condition), never the other way round. Among a stream's candidates the best
// fraction wins, then the most records. dec gives the value format, field
// mapping and schema registry; nil reads with the defaults.
func Classify(samples map[string][][]byte, dec *codec.Decoder) Choice {
	if dec == nil {
		dec = &codec.Decoder{}
	}
	var (
		c     Choice
		cands [3][]Score
		evs   []model.Event
	)
	names := make([]string, 0, len(samples))
	for name := range samples {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		var sampled int
		var matched [3]int
		for _, v := range samples[name] {
			if v == nil {
				continue // a tombstone tells nothing about the stream
			}
			sampled++
			for _, k := range model.Kinds {
				var ok bool
				evs, ok = fits(dec, name, k, v, evs[:0])
				if ok {
					matched[k]++
				}
			}
		}
		if sampled == 0 {
			continue
		}
		c.Sampled++
		for _, k := range model.Kinds {
			if s := (Score{Topic: name, Kind: k, Matched: matched[k], Sampled: sampled}); s.candidate() {
				cands[k] = append(cands[k], s)
			}
		}
	}
	used := map[string]bool{}
	for _, k := range model.Kinds {
		slices.SortFunc(cands[k], better)
		c.Candidates = append(c.Candidates, cands[k]...)
		for _, s := range cands[k] {
			if !used[s.Topic] {
				used[s.Topic] = true
				c.Topics[k], c.Scores[k] = s.Topic, s
				break
			}
		}
	}
	return c
}

// fits tells whether one record of a topic decodes into at least one usable
// event of the kind; evs is scratch space, returned for reuse.
func fits(dec *codec.Decoder, topic string, kind model.Kind, value []byte, evs []model.Event) ([]model.Event, bool) {
	rec := model.Record{Kind: kind, Value: value, Topic: topic}
	// Events decoded despite an error were usable, so the error is not
	// looked at: a GTFS-realtime feed with one bad entity still fits.
	// An area-less weather reading is named after the topic by the decoder,
	// as --weather-area's default does; an object that carries no reading
	// is not, so that only actual readings make a topic weather.
	evs, _ = dec.DecodeAll(rec, evs)
	for _, ev := range evs {
		if usable(kind, ev) {
			return evs, true
		}
	}
	return evs, false
}

// usable tells whether an event has what its stream needs to be shown.
func usable(kind model.Kind, ev model.Event) bool {
	switch e := ev.(type) {
	case model.VehiclePosition:
		// 0,0 is what a tracker without a fix sends, not a place.
		return kind == model.KindVehicles && e.VehicleID != "" && (e.Lat != 0 || e.Lon != 0)
	case model.StationInfo:
		return kind == model.KindStations && e.StationID != ""
	case model.Arrival:
		return kind == model.KindStations && e.StationID != ""
	case model.Turnstile:
		return kind == model.KindStations && e.StationID != ""
	case model.Weather:
		return kind == model.KindWeather && e.Area != ""
	}
	return false
}

// Flags returns the topic flags that pin the choice, e.g.
// "--vehicles-topic busData --stations-topic cta.stations"; "" when nothing
// was detected.
func (c Choice) Flags() string {
	var flags []string
	for _, k := range model.Kinds {
		if t := c.Topics[k]; t != "" {
			flags = append(flags, "--"+k.String()+"-topic "+shellQuote(t))
		}
	}
	return strings.Join(flags, " ")
}

// Describe says in one line what was detected and how to pin it, e.g.
// "detected vehicles in busData (20/20 records), no stations topic, weather
// in city.weather (5/5); pin with --vehicles-topic busData --weather-topic
// city.weather".
func (c Choice) Describe() string {
	if c.Flags() == "" {
		return fmt.Sprintf("detected no vehicles, stations or weather topic among %d %s with records",
			c.Sampled, plural(c.Sampled, "topic", "topics"))
	}
	var parts []string
	counted := false
	for _, k := range model.Kinds {
		s := c.Scores[k]
		if c.Topics[k] == "" {
			parts = append(parts, "no "+k.String()+" topic")
			continue
		}
		unit := ""
		if !counted {
			unit, counted = " records", true // said once: the other counts read the same
		}
		parts = append(parts, fmt.Sprintf("%s in %s (%d/%d%s)", k, c.Topics[k], s.Matched, s.Sampled, unit))
	}
	return "detected " + strings.Join(parts, ", ") + "; pin with " + c.Flags()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// plainName is what a shell takes as one word unquoted; Kafka's legal topic
// characters all are, so quoting is for names that did not come from Kafka.
var plainName = regexp.MustCompile(`^[A-Za-z0-9._/:=@+-]+$`)

func shellQuote(s string) string {
	if plainName.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

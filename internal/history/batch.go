package history

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/fleetwatch/fleetwatch/internal/model"
)

// TopicPartition names one partition of one topic.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// Source is where a row came from: its Kafka record, and Idx, the event's
// place among the record's events (0 unless the record carries several, as
// a GTFS-realtime feed does). Together they name the row: storing it twice
// is refused.
type Source struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Offset    int64  `json:"offset"`
	Idx       int32  `json:"idx"`
}

// Position is a row of vehicle_positions: a report, or with Removed a
// tombstone (the vehicle left service at TS, its record's time).
type Position struct {
	Source
	model.VehiclePosition
	Removed bool
}

// Station event types, the values of station_events.type.
const (
	TypeStation   = "station"
	TypeArrival   = "arrival"
	TypeTurnstile = "turnstile"
)

// StationEvent is a row of station_events: a reference record (Type
// "station", TS its record's time), an arrival or a turnstile count.
type StationEvent struct {
	Source
	Type          string    `json:"type"`
	TS            time.Time `json:"ts"`
	StationID     string    `json:"station_id"`
	VehicleID     string    `json:"vehicle_id,omitempty"`
	Line          string    `json:"line,omitempty"`
	Direction     string    `json:"direction,omitempty"`
	PrevStationID string    `json:"prev_station_id,omitempty"`
	Entries       int64     `json:"entries,omitempty"`
	Name          string    `json:"name,omitempty"`
	Lines         []string  `json:"lines,omitempty"`
	Lat           float64   `json:"lat,omitempty"`
	Lon           float64   `json:"lon,omitempty"`
	HasPos        bool      `json:"-"`
}

// Event returns the model event the row was made from.
func (e StationEvent) Event() model.Event {
	switch e.Type {
	case TypeStation:
		return model.StationInfo{StationID: e.StationID, Name: e.Name, Lines: e.Lines, Lat: e.Lat, Lon: e.Lon, HasPos: e.HasPos}
	case TypeArrival:
		return model.Arrival{StationID: e.StationID, VehicleID: e.VehicleID, Line: e.Line, Direction: e.Direction,
			PrevStationID: e.PrevStationID, TS: e.TS}
	}
	return model.Turnstile{StationID: e.StationID, Entries: e.Entries, TS: e.TS}
}

// WeatherRow is a row of weather.
type WeatherRow struct {
	Source
	model.Weather
}

// Station is a row of stations: the newest reference record of a station,
// UpdatedAt being its record's time.
type Station struct {
	model.StationInfo
	UpdatedAt time.Time
	Source
}

// Rejected is a row of rejected: a record that could not be used, or, with
// Partial, the part of one that could not.
type Rejected struct {
	Topic     string
	Partition int32
	Offset    int64
	Stream    string // model.Kind's name: vehicles, stations, weather
	Category  string // a model.Category, or CatUnstorable
	Reason    string
	Partial   bool
	Size      int    // the value's length
	Excerpt   []byte // the value's first ExcerptBytes
	At        time.Time
}

// CatUnstorable files events that decoded but that PostgreSQL cannot hold
// as they are (text with a NUL byte or invalid UTF-8): kept as rejected,
// they cannot stall the recorder by failing its batch for ever.
const CatUnstorable = "unstorable"

// ExcerptBytes is how much of a rejected record's value is kept.
const ExcerptBytes = 1024

// Offset is the span of offsets a batch covers in one partition: First is
// the offset of its first record, Next the offset to resume from after it.
type Offset struct {
	First, Next int64
}

// Batch is what one Write stores: rows for each table and the offsets they
// came from. Fill it with Add, or directly; the zero value is empty.
type Batch struct {
	Positions     []Position
	StationEvents []StationEvent
	Weather       []WeatherRow
	// Stations are upserted into stations, where the newest (by UpdatedAt)
	// wins; Add puts every reference record here as well as in
	// StationEvents.
	Stations []Station
	Rejected []Rejected
	// Offsets covers every partition the batch read from, including records
	// that gave no row.
	Offsets map[TopicPartition]Offset
}

// Reset empties the batch for reuse, keeping its storage.
func (b *Batch) Reset() {
	b.Positions = b.Positions[:0]
	b.StationEvents = b.StationEvents[:0]
	b.Weather = b.Weather[:0]
	b.Stations = b.Stations[:0]
	b.Rejected = b.Rejected[:0]
	clear(b.Offsets)
}

// Append adds o's rows and offsets to b: batches decoded apart (a chunk
// each) make one write.
func (b *Batch) Append(o *Batch) {
	b.Positions = append(b.Positions, o.Positions...)
	b.StationEvents = append(b.StationEvents, o.StationEvents...)
	b.Weather = append(b.Weather, o.Weather...)
	b.Stations = append(b.Stations, o.Stations...)
	b.Rejected = append(b.Rejected, o.Rejected...)
	for tp, o := range o.Offsets {
		b.Cover(tp.Topic, tp.Partition, o.First)
		b.Cover(tp.Topic, tp.Partition, o.Next-1)
	}
}

// Cover extends the batch's span of the record's partition to include
// offset; Add calls it for every record.
func (b *Batch) Cover(topic string, partition int32, offset int64) {
	if b.Offsets == nil {
		b.Offsets = map[TopicPartition]Offset{}
	}
	tp := TopicPartition{topic, partition}
	o, ok := b.Offsets[tp]
	if !ok {
		b.Offsets[tp] = Offset{First: offset, Next: offset + 1}
		return
	}
	o.First = min(o.First, offset)
	o.Next = max(o.Next, offset+1)
	b.Offsets[tp] = o
}

// Add files one record: the events decoded from it, and decodeErr, the
// decoder's error (nil when it read the whole record). Events go to their
// tables; a record that failed, wholly or partly, goes to rejected with the
// reason. A missing time (a tombstone, a reference record, a record
// without a ts field from a producer without record timestamps) is taken
// from the record, or from the clock when the record has none, as the live
// screen does.
func (b *Batch) Add(rec model.Record, events []model.Event, decodeErr error) {
	b.Cover(rec.Topic, rec.Partition, rec.Offset)
	t := rec.Time
	if t.Unix() <= 0 {
		t = time.Now().UTC()
	}
	at := func(ts time.Time) time.Time {
		if ts.IsZero() {
			return t
		}
		return ts
	}
	var problems []string
	stored := 0
	for i, ev := range events {
		src := Source{rec.Topic, rec.Partition, rec.Offset, int32(i)}
		if field, why := unstorable(ev); why != "" {
			problems = append(problems, fmt.Sprintf("event %d: %s: %s", i, field, why))
			continue
		}
		stored++
		switch e := ev.(type) {
		case model.VehiclePosition:
			e.TS = at(e.TS)
			b.Positions = append(b.Positions, Position{Source: src, VehiclePosition: e})
		case model.VehicleRemoved:
			b.Positions = append(b.Positions, Position{Source: src, Removed: true,
				VehiclePosition: model.VehiclePosition{VehicleID: e.VehicleID, TS: t}})
		case model.StationInfo:
			b.StationEvents = append(b.StationEvents, StationEvent{Source: src, Type: TypeStation, TS: t,
				StationID: e.StationID, Name: e.Name, Lines: e.Lines, Lat: e.Lat, Lon: e.Lon, HasPos: e.HasPos})
			b.Stations = append(b.Stations, Station{StationInfo: e, UpdatedAt: t, Source: src})
		case model.Arrival:
			b.StationEvents = append(b.StationEvents, StationEvent{Source: src, Type: TypeArrival, TS: at(e.TS),
				StationID: e.StationID, VehicleID: e.VehicleID, Line: e.Line, Direction: e.Direction, PrevStationID: e.PrevStationID})
		case model.Turnstile:
			b.StationEvents = append(b.StationEvents, StationEvent{Source: src, Type: TypeTurnstile, TS: at(e.TS),
				StationID: e.StationID, Entries: e.Entries})
		case model.Weather:
			e.TS = at(e.TS)
			b.Weather = append(b.Weather, WeatherRow{Source: src, Weather: e})
		default:
			stored--
			problems = append(problems, fmt.Sprintf("event %d: no table for %T", i, ev))
		}
	}
	if decodeErr == nil && len(problems) == 0 {
		return
	}
	r := Rejected{Topic: rec.Topic, Partition: rec.Partition, Offset: rec.Offset, Stream: rec.Kind.String(),
		Category: CatUnstorable, Partial: stored > 0, Size: len(rec.Value), At: t}
	if decodeErr != nil {
		r.Category = string(model.CatUnknownFormat)
		var de *model.DecodeError
		if errors.As(decodeErr, &de) {
			r.Category = string(de.Category)
		}
		problems = append([]string{decodeErr.Error()}, problems...)
	}
	r.Reason = storableText(strings.Join(problems, "; "))
	r.Excerpt = append([]byte(nil), rec.Value[:min(len(rec.Value), ExcerptBytes)]...)
	b.Rejected = append(b.Rejected, r)
}

// unstorable finds text PostgreSQL would refuse (a NUL byte, invalid
// UTF-8): one such value would fail the whole COPY, and the batch with it,
// again at every retry.
func unstorable(ev model.Event) (field, why string) {
	check := func(pairs ...string) {
		for i := 0; i+1 < len(pairs) && why == ""; i += 2 {
			v := pairs[i+1]
			switch {
			case strings.IndexByte(v, 0) >= 0:
				field, why = pairs[i], "contains a NUL byte, which PostgreSQL text cannot hold"
			case !utf8.ValidString(v):
				field, why = pairs[i], "is not valid UTF-8"
			}
		}
	}
	switch e := ev.(type) {
	case model.VehiclePosition:
		check("vehicle_id", e.VehicleID, "line", e.Line, "status", string(e.Status), "stop_id", e.StopID)
	case model.VehicleRemoved:
		check("vehicle_id", e.VehicleID)
	case model.StationInfo:
		check("station_id", e.StationID, "name", e.Name)
		for _, l := range e.Lines {
			check("lines", l)
		}
	case model.Arrival:
		check("station_id", e.StationID, "vehicle_id", e.VehicleID, "line", e.Line, "direction", e.Direction,
			"prev_station_id", e.PrevStationID)
	case model.Turnstile:
		check("station_id", e.StationID)
	case model.Weather:
		check("area", e.Area, "condition", e.Condition)
	}
	return field, why
}

// storableText makes a message safe for a text column.
func storableText(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", `\x00`)
}

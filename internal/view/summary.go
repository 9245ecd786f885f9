package view

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"math"
	"time"

	"github.com/fleetwatch/fleetwatch/internal/model"
)

// The JSON summary of the contract: summaryVehicle and summaryRest. Fields
// may be added, never removed.
type summaryVehicle struct {
	VehicleID string   `json:"vehicle_id"`
	Line      string   `json:"line"`
	Lat       float64  `json:"lat"`
	Lon       float64  `json:"lon"`
	Heading   *float64 `json:"heading,omitempty"`
	SpeedKmh  *float64 `json:"speed_kmh,omitempty"`
	Status    string   `json:"status"`
	StopID    string   `json:"stop_id,omitempty"`
	DelayS    *float64 `json:"delay_s,omitempty"`
	Occupancy *float64 `json:"occupancy,omitempty"`
	TS        string   `json:"ts"`
}

type summaryLine struct {
	Line        string  `json:"line"`
	Vehicles    int     `json:"vehicles"`
	AvgSpeedKmh float64 `json:"avg_speed_kmh"`
	HeadwayS    float64 `json:"headway_s"`
	HeadwayMaxS float64 `json:"headway_max_s"`
	Bunched     int     `json:"bunched"`
}

type summaryStation struct {
	StationID string   `json:"station_id"`
	Name      string   `json:"name"`
	Lines     []string `json:"lines,omitempty"`
	Lat       *float64 `json:"lat,omitempty"`
	Lon       *float64 `json:"lon,omitempty"`
	Arrivals  int64    `json:"arrivals"`
	Entries   int64    `json:"entries"`
	// The rolling window of the station board.
	ArrivalsWindow int64 `json:"arrivals_window"`
	EntriesWindow  int64 `json:"entries_window"`
}

type summaryWeather struct {
	Area      string  `json:"area"`
	TempC     float64 `json:"temp_c"`
	WindKmh   float64 `json:"wind_kmh"`
	Humidity  float64 `json:"humidity"`
	Condition string  `json:"condition"`
	TS        string  `json:"ts"`
}

type summaryStats struct {
	Consumed         map[string]int64            `json:"consumed"`
	Rejected         map[string]int64            `json:"rejected"`
	RejectedByReason map[string]map[string]int64 `json:"rejected_by_reason"`
	Lag              map[string]int64            `json:"lag"`
	// OutOfOrder counts reports older than the one already shown, ignored.
	OutOfOrder map[string]int64 `json:"out_of_order"`
	// FutureClamped counts reports stamped too far ahead, set to the clock.
	FutureClamped map[string]int64 `json:"future_clamped"`
	// Duplicates counts events received twice and counted once.
	Duplicates map[string]int64 `json:"duplicates"`
	// Latency is the time from each record's Kafka timestamp to the state:
	// on a live stream the end-to-end latency; on a catch-up read, the age
	// of the data.
	Latency summaryLatency `json:"e2e_latency_ms"`
}

type summaryLatency struct {
	Count int64   `json:"records"`
	P50   float64 `json:"p50"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
}

func tsString(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

func opt(v float64, has bool) *float64 {
	if !has {
		return nil
	}
	return &v
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

// SummaryJSON renders a snapshot as the contract's JSON summary, indented
// for people and stable in order for scripts. lag is each stream's consumer
// lag when the snapshot was taken.
func SummaryJSON(s model.Snapshot, lag [3]int64) ([]byte, error) {
	var b bytes.Buffer
	err := WriteSummaryJSON(&b, s, lag)
	return b.Bytes(), err
}

// WriteSummaryJSON writes what SummaryJSON returns, vehicle by vehicle: at
// a million vehicles the summary built whole in memory doubled the peak
// memory of a snapshot (BENCHMARKS.md).
func WriteSummaryJSON(w io.Writer, s model.Snapshot, lag [3]int64) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	rest, err := json.MarshalIndent(summaryOf(s, lag), "", "  ")
	if err != nil {
		return err
	}
	if s.Vehicles.Len() == 0 {
		bw.WriteString("{\n  \"vehicles\": [],\n")
	} else {
		bw.WriteString("{\n  \"vehicles\": [")
		// One encoder and buffer for every vehicle: MarshalIndent's two
		// buffers per vehicle were most of the garbage a million make.
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetIndent("    ", "  ")
		first := true
		for p := range s.Vehicles.Sorted() {
			buf.Reset()
			if err := enc.Encode(vehicleOf(p)); err != nil {
				return err
			}
			if !first {
				bw.WriteByte(',')
			}
			first = false
			bw.WriteString("\n    ")
			bw.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
		}
		bw.WriteString("\n  ],\n")
	}
	// The rest is the summary without its vehicles, as MarshalIndent
	// writes it, after its opening brace.
	bw.Write(bytes.TrimPrefix(rest, []byte("{\n")))
	return bw.Flush()
}

// summaryRest is the summary but its vehicles, in the summary's order.
type summaryRest struct {
	Lines    []summaryLine    `json:"lines"`
	Stations []summaryStation `json:"stations"`
	Weather  []summaryWeather `json:"weather"`
	Stats    summaryStats     `json:"stats"`
}

func vehicleOf(v *model.VehiclePosition) summaryVehicle {
	return summaryVehicle{
		VehicleID: v.VehicleID, Line: v.Line, Lat: v.Lat, Lon: v.Lon,
		Heading:  opt(v.Heading, v.Has&model.HasHeading != 0),
		SpeedKmh: opt(v.SpeedKmh, v.Has&model.HasSpeed != 0),
		Status:   string(v.Status), StopID: v.StopID,
		DelayS:    opt(v.DelayS, v.Has&model.HasDelay != 0),
		Occupancy: opt(v.Occupancy, v.Has&model.HasOccupancy != 0),
		TS:        tsString(v.TS),
	}
}

// summaryOf builds everything of the summary but the vehicles.
func summaryOf(s model.Snapshot, lag [3]int64) summaryRest {
	out := summaryRest{
		Lines: []summaryLine{}, Stations: []summaryStation{}, Weather: []summaryWeather{},
		Stats: summaryStats{Consumed: map[string]int64{}, Rejected: map[string]int64{},
			RejectedByReason: map[string]map[string]int64{}, Lag: map[string]int64{}, OutOfOrder: map[string]int64{},
			FutureClamped: map[string]int64{}, Duplicates: map[string]int64{}},
	}
	for _, l := range s.Lines {
		out.Lines = append(out.Lines, summaryLine{Line: l.Line, Vehicles: l.Vehicles,
			AvgSpeedKmh: round1(l.AvgSpeedKmh), HeadwayS: math.Round(l.HeadwayS), HeadwayMaxS: math.Round(l.HeadwayMaxS),
			Bunched: l.Bunched})
	}
	for _, st := range s.Stations {
		ss := summaryStation{StationID: st.StationID, Name: st.Name, Lines: st.Lines, Arrivals: st.Arrivals, Entries: st.Entries,
			ArrivalsWindow: st.ArrivalsWindow, EntriesWindow: st.EntriesWindow}
		if st.HasPos {
			ss.Lat, ss.Lon = &st.Lat, &st.Lon
		}
		out.Stations = append(out.Stations, ss)
	}
	for _, w := range s.Weather {
		out.Weather = append(out.Weather, summaryWeather{Area: w.Area, TempC: w.TempC, WindKmh: w.WindKmh,
			Humidity: w.Humidity, Condition: w.Condition, TS: tsString(w.TS)})
	}
	out.Stats.Latency = summaryLatency{Count: s.Latency.Count, P50: s.Latency.P50Ms, P99: s.Latency.P99Ms, Max: math.Round(s.Latency.MaxMs*10) / 10}
	for _, k := range model.Kinds {
		out.Stats.Consumed[k.String()] = s.Counters.Consumed[k]
		out.Stats.Rejected[k.String()] = s.Counters.Rejected[k]
		reasons := map[string]int64{}
		for i, cat := range model.Categories {
			if n := s.Counters.ByReason[k][i]; n > 0 {
				reasons[string(cat)] = n
			}
		}
		out.Stats.RejectedByReason[k.String()] = reasons
		out.Stats.Lag[k.String()] = lag[k]
		out.Stats.OutOfOrder[k.String()] = s.Counters.Stale[k]
		out.Stats.FutureClamped[k.String()] = s.Counters.Future[k]
		out.Stats.Duplicates[k.String()] = s.Counters.Duplicate[k]
	}
	return out
}

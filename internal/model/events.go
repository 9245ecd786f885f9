// Package model holds fleetwatch's domain: the records read from the
// streams, the events of the data contract, why a record is refused, and
// the fleet state the events are folded into. Decoding bytes into events is
// package codec's. Nothing here does IO.
package model

import "time"

// Kind names the stream a record came from; each kind has its own topic.
type Kind int

// The three streams of the contract.
const (
	KindVehicles Kind = iota
	KindStations
	KindWeather
	numKinds
)

// Kinds lists every stream kind, in display order.
var Kinds = [numKinds]Kind{KindVehicles, KindStations, KindWeather}

// String returns the short name used in the JSON summary ("vehicles", ...).
func (k Kind) String() string {
	switch k {
	case KindVehicles:
		return "vehicles"
	case KindStations:
		return "stations"
	case KindWeather:
		return "weather"
	}
	return "unknown"
}

// Status is a vehicle's service state as reported by its producer.
type Status string

// The vehicle statuses of the contract.
const (
	StatusInTransit    Status = "in_transit"
	StatusStoppedAt    Status = "stopped_at"
	StatusOutOfService Status = "out_of_service"
)

// Fields records which optional numeric fields a vehicle report carried, so
// that a missing speed is not mistaken for a vehicle standing still.
type Fields uint8

// Optional vehicle fields.
const (
	HasHeading Fields = 1 << iota
	HasSpeed
	HasDelay
	HasOccupancy
)

// Event is anything a decoder produces and Fleet.Apply folds into state.
type Event interface{ event() }

// VehiclePosition is one position report of one vehicle.
type VehiclePosition struct {
	VehicleID string
	Line      string
	Lat, Lon  float64
	Heading   float64 // degrees clockwise from north
	SpeedKmh  float64
	Status    Status
	StopID    string
	DelayS    float64 // positive is late
	Occupancy float64 // 0..1
	TS        time.Time
	Has       Fields
}

// VehicleRemoved is a tombstone: the vehicle left service and is forgotten.
type VehicleRemoved struct {
	VehicleID string
}

// StationInfo is a station reference record.
type StationInfo struct {
	StationID string
	Name      string
	Lines     []string
	Lat, Lon  float64
	HasPos    bool
	// Stop is set when the record describes one stop (a platform, a
	// direction) of the station rather than all of it, as a table of stops
	// with a parent station does: the station's lines are then those of all
	// its stops, and it stays while any stop does.
	Stop string
}

// StationRemoved is a deleted station record (a change event's delete, a
// tombstone): the station, or only its Stop, is forgotten. A StationID that
// names no station may name a stop of one, as a key of the stops table does.
type StationRemoved struct {
	StationID string
	Stop      string
}

// Arrival reports a vehicle stopping at a station.
type Arrival struct {
	StationID     string
	VehicleID     string
	Line          string
	Direction     string
	PrevStationID string
	TS            time.Time
}

// Turnstile reports entries counted at a station since the previous report.
type Turnstile struct {
	StationID string
	Entries   int64
	TS        time.Time
	// Name is the station's name when the event carries one (the CTA's
	// turnstile events do): it names a station no reference record named.
	Name string
}

// Weather is one reading for an area.
type Weather struct {
	Area      string
	TempC     float64
	WindKmh   float64
	Humidity  float64
	Condition string
	TS        time.Time
}

func (VehiclePosition) event() {}
func (VehicleRemoved) event()  {}
func (StationInfo) event()     {}
func (StationRemoved) event()  {}
func (Arrival) event()         {}
func (Turnstile) event()       {}
func (Weather) event()         {}

// EventTime is when an event happened; zero for events that carry no time
// of their own (a station's reference record, a removal).
func EventTime(ev Event) time.Time {
	switch e := ev.(type) {
	case VehiclePosition:
		return e.TS
	case Arrival:
		return e.TS
	case Turnstile:
		return e.TS
	case Weather:
		return e.TS
	}
	return time.Time{}
}

package sim

// The JSON shapes of the contract, as the simulator writes them.

type vehicleWire struct {
	VehicleID string  `json:"vehicle_id"`
	Line      string  `json:"line"`
	Lat       float64 `json:"lat"`
	Lon       float64 `json:"lon"`
	Heading   float64 `json:"heading"`
	SpeedKmh  float64 `json:"speed_kmh"`
	Status    string  `json:"status"`
	StopID    string  `json:"stop_id"`
	DelayS    float64 `json:"delay_s"`
	Occupancy float64 `json:"occupancy"`
	TS        string  `json:"ts"`
}

type stationWire struct {
	Type      string   `json:"type"`
	StationID string   `json:"station_id"`
	Name      string   `json:"name"`
	Lines     []string `json:"lines"`
	Lat       float64  `json:"lat"`
	Lon       float64  `json:"lon"`
}

type arrivalWire struct {
	Type          string `json:"type"`
	StationID     string `json:"station_id"`
	VehicleID     string `json:"vehicle_id"`
	Line          string `json:"line"`
	Direction     string `json:"direction"`
	PrevStationID string `json:"prev_station_id,omitempty"`
	TS            string `json:"ts"`
}

type turnstileWire struct {
	Type      string `json:"type"`
	StationID string `json:"station_id"`
	Entries   int    `json:"entries"`
	TS        string `json:"ts"`
}

type weatherWire struct {
	Area      string  `json:"area"`
	TempC     float64 `json:"temp_c"`
	WindKmh   float64 `json:"wind_kmh"`
	Humidity  float64 `json:"humidity"`
	Condition string  `json:"condition"`
	TS        string  `json:"ts"`
}

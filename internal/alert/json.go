package alert

import (
	"strconv"
	"time"

	"github.com/fleetwatch/fleetwatch/internal/jsonw"
)

// MarshalJSON writes the alert as the contract's alert lines: members in
// the contract's order, lat and lon only where the alert has a place (a
// closing alert, a feed's, has none), zone, stream, ahead and detail only
// when set.
func (a Alert) MarshalJSON() ([]byte, error) {
	return a.AppendJSON(make([]byte, 0, 192)), nil
}

// AppendJSON appends the alert's JSON (see MarshalJSON) to b: what
// `fleetwatch alerts` prints, one per line, without going through
// reflection.
func (a Alert) AppendJSON(b []byte) []byte {
	b = append(b, `{"kind":`...)
	b = jsonw.AppendString(b, string(a.Kind))
	b = append(b, `,"state":`...)
	b = jsonw.AppendString(b, a.State)
	b = append(b, `,"vehicle_id":`...)
	b = jsonw.AppendString(b, a.VehicleID)
	b = append(b, `,"line":`...)
	b = jsonw.AppendString(b, a.Line)
	for _, m := range [...]struct{ name, val string }{{"zone", a.Zone}, {"stream", a.Stream}, {"ahead", a.Ahead}} {
		if m.val != "" {
			b = append(b, `,"`...)
			b = append(b, m.name...)
			b = append(b, `":`...)
			b = jsonw.AppendString(b, m.val)
		}
	}
	b = append(b, `,"at":"`...)
	b = a.At.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	if a.Lat != 0 || a.Lon != 0 {
		b = append(b, `,"lat":`...)
		b = strconv.AppendFloat(b, a.Lat, 'f', -1, 64)
		b = append(b, `,"lon":`...)
		b = strconv.AppendFloat(b, a.Lon, 'f', -1, 64)
	}
	if a.Detail != "" {
		b = append(b, `,"detail":`...)
		b = jsonw.AppendString(b, a.Detail)
	}
	return append(b, '}')
}

package alert

import (
	"strconv"
	"time"
	"unicode/utf8"
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
	b = appendString(b, string(a.Kind))
	b = append(b, `,"state":`...)
	b = appendString(b, a.State)
	b = append(b, `,"vehicle_id":`...)
	b = appendString(b, a.VehicleID)
	b = append(b, `,"line":`...)
	b = appendString(b, a.Line)
	for _, m := range [...]struct{ name, val string }{{"zone", a.Zone}, {"stream", a.Stream}, {"ahead", a.Ahead}} {
		if m.val != "" {
			b = append(b, `,"`...)
			b = append(b, m.name...)
			b = append(b, `":`...)
			b = appendString(b, m.val)
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
		b = appendString(b, a.Detail)
	}
	return append(b, '}')
}

// appendString appends s as a JSON string; invalid UTF-8 becomes U+FFFD, as
// encoding/json does.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, "\ufffd"...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

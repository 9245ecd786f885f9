package sim

import (
	"math"
	"strconv"
	"time"

	"github.com/paulmach/orb"

	"github.com/fleetwatch/fleetwatch/internal/jsonw"
	"github.com/fleetwatch/fleetwatch/internal/model"
	"github.com/fleetwatch/fleetwatch/internal/network"
)

// encoder writes the contract's JSON shapes by appending to one reused
// buffer: reflection-based encoding/json would cost more than the whole
// simulation step. Values are rounded to what a real feed carries, so the
// output is short and identical on every platform.
type encoder struct {
	buf []byte
	ts  []byte // the current simulated time, formatted once per step
}

func (e *encoder) setTime(t time.Time) {
	e.ts = t.AppendFormat(e.ts[:0], "2006-01-02T15:04:05.000Z07:00")
}

func (e *encoder) str(key, val string) {
	e.buf = append(e.buf, '"')
	e.buf = append(e.buf, key...)
	e.buf = append(e.buf, `":`...)
	e.buf = jsonw.AppendString(e.buf, val)
	e.buf = append(e.buf, ',')
}

func (e *encoder) num(key string, val float64, decimals int) {
	e.buf = append(e.buf, '"')
	e.buf = append(e.buf, key...)
	e.buf = append(e.buf, `":`...)
	e.buf = appendFixed(e.buf, val, decimals)
	e.buf = append(e.buf, ',')
}

var pow10 = [...]float64{1, 10, 100, 1e3, 1e4, 1e5, 1e6}

// appendFixed writes val rounded to at most decimals (≤ 6) places, without
// trailing zeros, through integer arithmetic: several times faster than
// strconv's shortest float formatting, and the same digits on every platform.
func appendFixed(b []byte, val float64, decimals int) []byte {
	scaled := math.Round(val * pow10[decimals])
	if math.IsNaN(scaled) || math.Abs(scaled) > 1e15 {
		return strconv.AppendFloat(b, val, 'g', -1, 64)
	}
	n := int64(scaled)
	if n < 0 {
		b = append(b, '-')
		n = -n
	}
	unit := int64(pow10[decimals])
	b = strconv.AppendInt(b, n/unit, 10)
	frac := n % unit
	if frac == 0 {
		return b
	}
	b = append(b, '.')
	for unit /= 10; unit > 0 && frac > 0; unit /= 10 {
		b = append(b, byte('0'+frac/unit))
		frac %= unit
	}
	return b
}

func (e *encoder) end() []byte {
	e.buf = append(e.buf, `"ts":"`...)
	e.buf = append(e.buf, e.ts...)
	e.buf = append(e.buf, `"}`...)
	return e.buf
}

// position is a line vehicle's report at p, heading bearing.
func (e *encoder) position(v *vehicle, p orb.Point, bearing, delay float64) []byte {
	status, stop := model.StatusInTransit, v.route.stops[v.nextStop].id
	if v.dwell > 0 {
		status, stop = model.StatusStoppedAt, v.route.stops[v.lastStop].id
	}
	e.buf = append(e.buf[:0], '{')
	e.str("vehicle_id", v.id)
	e.str("line", v.route.line)
	e.num("lat", p[1], 6)
	e.num("lon", p[0], 6)
	e.num("heading", bearing, 0)
	e.num("speed_kmh", v.speed*3.6, 1)
	e.str("status", string(status))
	e.str("stop_id", stop)
	e.num("delay_s", delay, 0)
	e.num("occupancy", v.load/capacity, 2)
	return e.end()
}

// roaming is a roamer's position: no line, no stop, no schedule. A driver
// waiting for a ride is out of service, standing still.
func (e *encoder) roaming(r *roamer) []byte {
	status := model.StatusInTransit
	if r.idle > 0 {
		status = model.StatusOutOfService
	}
	e.buf = append(e.buf[:0], '{')
	e.str("vehicle_id", r.id)
	e.num("lat", r.pos[1], 6)
	e.num("lon", r.pos[0], 6)
	e.num("heading", r.heading, 0)
	e.num("speed_kmh", r.speed*3.6, 1)
	e.str("status", string(status))
	return e.end()
}

func (e *encoder) station(st network.Station) []byte {
	e.buf = append(e.buf[:0], '{')
	e.str("type", "station")
	e.str("station_id", st.ID)
	e.str("name", st.Name)
	e.buf = append(e.buf, `"lines":[`...)
	for i, l := range st.Lines {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.buf = jsonw.AppendString(e.buf, l)
	}
	e.buf = append(e.buf, "],"...)
	e.num("lat", st.Pos[1], 6)
	e.num("lon", st.Pos[0], 6)
	e.buf[len(e.buf)-1] = '}' // reference records carry no time
	return e.buf
}

func (e *encoder) arrival(station string, v *vehicle, prev string) []byte {
	e.buf = append(e.buf[:0], '{')
	e.str("type", "arrival")
	e.str("station_id", station)
	e.str("vehicle_id", v.id)
	e.str("line", v.route.line)
	e.str("direction", direction(v.dir))
	if prev != "" {
		e.str("prev_station_id", prev)
	}
	return e.end()
}

func direction(dir int) string {
	if dir > 0 {
		return "a"
	}
	return "b"
}

func (e *encoder) turnstile(station string, entries int) []byte {
	e.buf = append(e.buf[:0], '{')
	e.str("type", "turnstile")
	e.str("station_id", station)
	e.buf = append(e.buf, `"entries":`...)
	e.buf = strconv.AppendInt(e.buf, int64(entries), 10)
	e.buf = append(e.buf, ',')
	return e.end()
}

func (e *encoder) weather(a *area, temp float64, cond string) []byte {
	e.buf = append(e.buf[:0], '{')
	e.str("area", a.id)
	e.num("temp_c", temp, 1)
	e.num("wind_kmh", a.wind, 0)
	e.num("humidity", a.humidity, 0)
	e.str("condition", cond)
	return e.end()
}

package codec

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/MobilityData/gtfs-realtime-bindings/golang/gtfs"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/fleetwatch/fleetwatch/internal/model"
)

// GTFS-realtime: one FeedMessage carries a whole feed, an entity per vehicle
// (or per trip update or alert, which are not positions and are skipped).

// isFeedMessage reports a value that is a well-formed protobuf message as a
// whole: cheap enough to tell a feed from text that starts with a newline.
func isFeedMessage(v []byte) bool {
	for len(v) > 0 {
		_, _, n := protowire.ConsumeField(v)
		if n < 0 {
			return false
		}
		v = v[n:]
	}
	return true
}

// decodeGTFSRT appends the vehicle positions and removals of a feed to dst.
// A bad entity does not spoil the others: it is skipped, and the first such
// error is returned with the events of the good ones.
func decodeGTFSRT(rec model.Record, dst []model.Event) ([]model.Event, error) {
	if rec.Kind != model.KindVehicles {
		return dst, formatErr("a GTFS-realtime feed on the %s stream: only vehicle positions are read", rec.Kind)
	}
	var feed gtfs.FeedMessage
	if err := proto.Unmarshal(rec.Value, &feed); err != nil {
		return dst, formatErr("not a GTFS-realtime FeedMessage: %v", err)
	}
	fallback := rec.Time
	if ts := feed.GetHeader().GetTimestamp(); ts > 0 {
		fallback = unixTime(ts)
	}
	var first error
	for i, e := range feed.GetEntity() {
		ev, err := gtfsEntity(e, fallback)
		switch {
		case err != nil:
			if first == nil {
				first = entityErr(i, e.GetId(), err)
			}
		case ev != nil:
			dst = append(dst, ev)
		}
	}
	return dst, first
}

// entityErr names the entity an error is about.
func entityErr(i int, id string, err error) error {
	de, ok := err.(*model.DecodeError)
	if !ok {
		return err
	}
	where := "entity " + id
	if id == "" {
		where = "entity #" + strconv.Itoa(i)
	}
	if de.Field != "" {
		where += " " + de.Field
	}
	return &model.DecodeError{Field: where, Reason: de.Reason, Category: de.Category}
}

// gtfsEntity turns one feed entity into an event, or nil for an entity that
// is no vehicle position.
func gtfsEntity(e *gtfs.FeedEntity, fallback time.Time) (model.Event, error) {
	vp := e.GetVehicle()
	if vp == nil && !e.GetIsDeleted() {
		return nil, nil
	}
	// The vehicle's own id names it best; the label (the number painted on
	// it) is next; the entity id, which is only unique within the feed, last.
	id := strings.TrimSpace(vp.GetVehicle().GetId())
	if id == "" {
		id = strings.TrimSpace(vp.GetVehicle().GetLabel())
	}
	if id == "" {
		id = strings.TrimSpace(e.GetId())
	}
	if id == "" {
		return nil, fieldErr("vehicle_id", "missing or empty")
	}
	if e.GetIsDeleted() {
		return model.VehicleRemoved{VehicleID: id}, nil
	}
	v := model.VehiclePosition{VehicleID: id, Line: strings.TrimSpace(vp.GetTrip().GetRouteId()), StopID: vp.GetStopId()}
	if err := checkIDs([2]string{"vehicle_id", v.VehicleID}, [2]string{"line", v.Line}, [2]string{"stop_id", v.StopID}); err != nil {
		return nil, err
	}
	pos := vp.GetPosition()
	if pos == nil {
		return nil, fieldErr("lat", "missing")
	}
	lat, lon := float64(pos.GetLatitude()), float64(pos.GetLongitude())
	var err error
	if v.Lat, v.Lon, err = latLon(&lat, &lon); err != nil {
		return nil, err
	}
	if pos.Bearing != nil {
		v.Heading, v.Has = float64(*pos.Bearing), v.Has|model.HasHeading
		if !finite(v.Heading) {
			return nil, fieldErr("heading", "not finite")
		}
	}
	if pos.Speed != nil {
		// GTFS-realtime speeds are in metres per second.
		v.SpeedKmh, v.Has = float64(*pos.Speed)*3.6, v.Has|model.HasSpeed
		if !finite(v.SpeedKmh) || v.SpeedKmh < 0 {
			return nil, fieldErr("speed_kmh", "negative or not finite")
		}
	}
	if vp.OccupancyPercentage != nil {
		v.Occupancy, v.Has = float64(*vp.OccupancyPercentage)/100, v.Has|model.HasOccupancy
	}
	v.Status = model.StatusInTransit // INCOMING_AT and IN_TRANSIT_TO, the default
	if vp.GetCurrentStatus() == gtfs.VehiclePosition_STOPPED_AT {
		v.Status = model.StatusStoppedAt
	}
	v.TS = fallback
	if ts := vp.GetTimestamp(); ts > 0 {
		v.TS = unixTime(ts)
	}
	return v, nil
}

// unixTime reads a GTFS-realtime POSIX time, clamped so that a wild value
// cannot overflow time.Time's arithmetic.
func unixTime(sec uint64) time.Time {
	return time.Unix(int64(min(sec, math.MaxInt32*4)), 0).UTC()
}

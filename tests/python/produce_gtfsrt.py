"""GTFS-realtime vehicle positions built with gtfs-realtime-bindings, the way
its documentation shows (from google.transit import gtfs_realtime_pb2; a
FeedMessage whose entities are added with feed.entity.add()), serialized
with SerializeToString() and sent one feed per message with kafka-python.

    produce_gtfsrt.py BOOTSTRAP TOPIC_PREFIX FEED_FILE

Also writes one more feed to FEED_FILE, unsent, for the test to send with
kcat, a client that is not Python. Prints one JSON line: how many records
of each stream were delivered.
"""
import json
import sys
import time

from importlib.metadata import version

from google.transit import gtfs_realtime_pb2
from kafka import KafkaProducer

bootstrap, prefix, feed_file = sys.argv[1], sys.argv[2], sys.argv[3]
VEHICLES = prefix + "vehicles"


def new_feed(ts):
    feed = gtfs_realtime_pb2.FeedMessage()
    feed.header.gtfs_realtime_version = "2.0"
    feed.header.incrementality = gtfs_realtime_pb2.FeedHeader.FULL_DATASET
    feed.header.timestamp = ts
    return feed


def add_vehicle(feed, entity_id, route, lat, lon, ts=None, vehicle_id=None, label=None):
    entity = feed.entity.add()
    entity.id = entity_id
    vp = entity.vehicle
    if vehicle_id is not None:
        vp.vehicle.id = vehicle_id
    if label is not None:
        vp.vehicle.label = label
    vp.trip.trip_id = "trip-" + entity_id
    vp.trip.route_id = route
    vp.position.latitude = lat
    vp.position.longitude = lon
    vp.position.bearing = 90
    vp.position.speed = 8.5  # metres per second
    vp.current_status = gtfs_realtime_pb2.VehiclePosition.IN_TRANSIT_TO
    if ts is not None:
        vp.timestamp = ts


now = int(time.time())

# Feed 1: three buses and one that will be withdrawn, and a trip update,
# which is no vehicle position and must be passed over.
f1 = new_feed(now - 30)
add_vehicle(f1, "e1", "10", 52.21, 21.01, now - 31, vehicle_id="g-1")
add_vehicle(f1, "e2", "10", 52.22, 21.02, now - 32, vehicle_id="g-2")
add_vehicle(f1, "e3", "25", 52.23, 21.03, now - 33, vehicle_id="g-3")
add_vehicle(f1, "bus-gone", "25", 52.24, 21.04, now - 34, vehicle_id="bus-gone")
tu = f1.entity.add()
tu.id = "tu-1"
tu.trip_update.trip.trip_id = "trip-e1"
stu = tu.trip_update.stop_time_update.add()
stu.stop_sequence = 3
stu.arrival.delay = 60

# Feed 2: the buses moved; one named only by its label, one with no time of
# its own (the header's applies); the withdrawn one deleted.
f2 = new_feed(now - 5)
add_vehicle(f2, "e1", "10", 52.211, 21.011, now - 6, vehicle_id="g-1")
add_vehicle(f2, "e2", "10", 52.221, 21.021, vehicle_id="g-2")
add_vehicle(f2, "e3", "25", 52.231, 21.031, now - 7, vehicle_id="g-3")
add_vehicle(f2, "e4", "25", 52.25, 21.05, now - 8, label="4711")
gone = f2.entity.add()
gone.id = "bus-gone"
gone.is_deleted = True

# Keyed by the feed, so that both land on one partition and are read in
# order: the deletion must come after the position it withdraws.
producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
sent = {"vehicles": 0}
for feed in (f1, f2):
    producer.send(VEHICLES, feed.SerializeToString(), key=b"agency-1").get(timeout=30)
    sent["vehicles"] += 1
producer.close()

# Feed 3, for kcat: two trams.
f3 = new_feed(now - 2)
add_vehicle(f3, "k1", "K", 52.26, 21.06, now - 3, vehicle_id="kcat-1")
add_vehicle(f3, "k2", "K", 52.27, 21.07, now - 3, vehicle_id="kcat-2")
with open(feed_file, "wb") as f:
    f.write(f3.SerializeToString())

print(json.dumps({"client": "gtfs-realtime-bindings", "version": version("gtfs-realtime-bindings"),
                  "protobuf": version("protobuf"), "sent": sent}))

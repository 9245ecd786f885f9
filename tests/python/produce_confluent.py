"""Vehicle, station and weather messages written with confluent-kafka, the
way its documentation shows: Producer with a config dict, produce() with a
delivery callback, poll(0) in the loop and flush() at the end.

    produce_confluent.py BOOTSTRAP TOPIC_PREFIX

Prints one JSON line: how many records of each stream were delivered (the
delivery callback saw no error). The vehicles topic is created with the
AdminClient first, allowing 2 MB messages, so that one oversize record can
reach fleetwatch at all: the broker refuses more than 1 MB by default.
"""
import json
import sys
import time
import uuid

import confluent_kafka
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

bootstrap, prefix = sys.argv[1], sys.argv[2]
VEHICLES, STATIONS, WEATHER = prefix + "vehicles", prefix + "stations", prefix + "weather"
BIG = 2 * 1024 * 1024

admin = AdminClient({"bootstrap.servers": bootstrap})
for fut in admin.create_topics([NewTopic(VEHICLES, num_partitions=3, replication_factor=1,
                                         config={"max.message.bytes": str(BIG + 4096)})]).values():
    fut.result()

p = Producer({"bootstrap.servers": bootstrap, "message.max.bytes": BIG + 4096, "acks": "all"})
sent = {"vehicles": 0, "stations": 0, "weather": 0}
failed = []


def delivery_report(err, msg):
    """Called once for each message produced to indicate delivery result."""
    if err is not None:
        failed.append(str(err))
    else:
        sent[msg.topic()[len(prefix):]] += 1


def produce(topic, value, key=None):
    p.poll(0)  # serve delivery reports of earlier produce() calls
    if isinstance(value, dict):
        value = json.dumps(value).encode("utf-8")
    p.produce(topic, value, key=key, callback=delivery_report)


def now_ms():
    return int(time.time() * 1000)


# Vehicles: "vehicle_id" strings, the position nested, epoch milliseconds,
# keyed by vehicle as the contract asks. Five reports each.
for n in range(100, 106):
    line = "M%d" % (1 + n % 2)
    for i in range(5):
        produce(VEHICLES, {"vehicle_id": "V-%d" % n, "line": line,
                           "position": {"lat": 52.1 + n * 0.0001, "lon": 20.9 + i * 0.001},
                           "speed_kmh": 40, "delay_s": 30, "occupancy": 0.5, "status": "IN_TRANSIT_TO",
                           "ts": now_ms() - 1000 * (4 - i)}, key="V-%d" % n)

# A fleet API that stamps every message with a uuid "id" and names the
# vehicle in "vehicle"; no time in the value, so the record's time counts.
for n in range(1, 4):
    produce(VEHICLES, {"id": str(uuid.uuid4()), "vehicle": "bus-%d" % n, "route_short_name": "N%d" % n,
                       "latitude": 52.25, "longitude": 21.05})

# V-105 leaves service: a tombstone (value None) keyed by the vehicle.
produce(VEHICLES, None, key="V-105")

# Broken vehicle reports.
produce(VEHICLES, b"V-100,52.1,20.9,2026-11-25T10:00:00")  # CSV, not JSON
produce(VEHICLES, {"vehicle_id": "V-200", "line": "M1", "position": {"lat": 95.0, "lon": 21.0},
                   "ts": now_ms()})  # lat out of range
produce(VEHICLES, {"line": "", "position": {"lat": 52.1, "lon": 20.9}, "ts": now_ms()})  # no id
produce(VEHICLES, {"vehicle_id": "V-201", "lat": float("nan"), "lon": 21.0})  # NaN is not JSON
produce(VEHICLES, {"vehicle_id": "V-202", "lat": "52.1", "lon": "20.9"})  # numbers as strings
produce(VEHICLES, {"vehicle_id": "V-203", "lat": 52.1, "lon": 20.9,
                   "note": "x" * (BIG - 1024)})  # over fleetwatch's 1 MiB message limit

# Stations: arrivals with vehicle_id + station_id and turnstile counts,
# no "type"; times as epoch seconds.
for i in range(6):
    produce(STATIONS, {"station_id": "ST-%d" % (i % 3), "vehicle_id": "V-10%d" % i, "line": "M1",
                       "ts": time.time() - 10 * i}, key="ST-%d" % (i % 3))
for i in range(3):
    produce(STATIONS, {"station_id": "ST-%d" % i, "entries": 10 * (i + 1), "ts": time.time()})
produce(STATIONS, {"station_id": "ST-0", "entries": 2.5, "ts": time.time()})  # not a whole count

# Weather in the contract's own names, and in another spelling.
produce(WEATHER, {"area": "north", "temp_c": 3.5, "wind_kmh": 20, "humidity": 80, "condition": "rain",
                  "ts": now_ms()}, key="north")
produce(WEATHER, {"zone": "south", "temp": 5.0, "wind": 10, "humidity": 70, "conditions": "fog"})
produce(WEATHER, {"area": "east", "temp_c": float("nan")})  # NaN again

remaining = p.flush(30)
if remaining or failed:
    sys.exit("confluent-kafka: %d undelivered, failures: %s" % (remaining, failed))
print(json.dumps({"client": "confluent-kafka", "version": confluent_kafka.version(),
                  "librdkafka": confluent_kafka.libversion()[0], "sent": sent}))

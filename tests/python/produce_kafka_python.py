"""Vehicle, station and weather messages written with kafka-python, the way
its documentation shows: KafkaProducer with a json.dumps value_serializer,
send() returning a future, flush() at the end.

    produce_kafka_python.py BOOTSTRAP TOPIC_PREFIX

Prints one JSON line: how many records of each stream the broker
acknowledged. The data is the kind a hand-written Python producer sends:
ids as ints, times as str(datetime), no "type" on station events, and a few
records that are broken in the ways such producers break them.
"""
import json
import sys
from datetime import datetime, timedelta, timezone

import kafka
from kafka import KafkaProducer

bootstrap, prefix = sys.argv[1], sys.argv[2]
VEHICLES, STATIONS, WEATHER = prefix + "vehicles", prefix + "stations", prefix + "weather"

producer = KafkaProducer(
    bootstrap_servers=bootstrap,
    value_serializer=lambda v: json.dumps(v).encode("utf-8"),
    acks="all",
)

futures = []  # (stream, future)


def send(stream, topic, value, key=None):
    futures.append((stream, producer.send(topic, value=value, key=key)))


# Times near now: fleetwatch clamps times more than 5 min ahead and forgets
# vehicles silent for 10 min on the data clock. utcnow() is naive, and
# str() of it is "2026-11-25 10:00:00.123456", read as UTC.
now = datetime.utcnow()

# Buses: int ids, "route", latitude/longitude, str(datetime), keyed by id as
# the contract asks. Four reports each, 20 s apart.
for bus in range(17, 23):
    route = ["22", "36", "8"][bus % 3]
    for i in range(4):
        t = now - timedelta(seconds=20 * (3 - i))
        send("vehicles", VEHICLES, {
            "bus_id": bus, "route": route,
            "latitude": 52.20 + bus * 0.001 + i * 0.0005, "longitude": 21.00 + i * 0.0005,
            "speed": 28.5, "heading": 90, "timestamp": str(t),
        }, key=str(bus).encode())

# Trams from another team's code: vehicleId/lat/lng, an aware ISO time,
# no key.
for n in range(1, 4):
    for i in range(3):
        t = datetime.now(timezone.utc) - timedelta(seconds=15 * (2 - i))
        send("vehicles", VEHICLES, {
            "vehicleId": "T-%d" % n, "line": "T4",
            "lat": 52.23 + i * 0.0004, "lng": 21.01 + n * 0.002, "timestamp": t.isoformat(),
        })

# Broken vehicle reports, one of each kind.
send("vehicles", VEHICLES, "bus 17 delayed 5 min")  # a JSON string, not an object
send("vehicles", VEHICLES, {"bus_id": 40, "route": "22", "latitude": 95.0, "longitude": 21.0,
                            "timestamp": str(now)})  # lat out of range
send("vehicles", VEHICLES, {"latitude": 52.2, "longitude": 21.0, "timestamp": str(now)})  # no id at all
send("vehicles", VEHICLES, {"bus_id": 41, "route": "22", "latitude": float("nan"), "longitude": 21.0,
                            "timestamp": str(now)})  # json.dumps writes NaN, which is not JSON
deep = {"bus_id": 42}
for _ in range(40):
    deep = {"payload": deep}
send("vehicles", VEHICLES, deep)  # nested deeper than any reader should follow
send("vehicles", VEHICLES, {"bus_id": "B" * 300, "route": "22", "latitude": 52.2, "longitude": 21.0,
                            "timestamp": str(now)})  # an id far longer than an id

# Stations: reference records, then arrivals (train_id + station_id) and
# turnstile counts (station_id + entries), none with a "type".
for sid, name in [("S1", "Central"), ("S2", "Riverside"), ("S3", "Old Town")]:
    send("stations", STATIONS, {"station_id": sid, "name": name, "lines": ["22", "36"],
                                "lat": 52.21, "lon": 21.01}, key=sid.encode())
for i in range(5):
    sid = ["S1", "S2"][i % 2]
    send("stations", STATIONS, {"train_id": "R-%d" % i, "station_id": sid, "line": "22",
                                "ts": str(now - timedelta(seconds=30 * i))}, key=sid.encode())
for sid, entries in [("S1", 12), ("S2", 7), ("S3", 30), ("S1", 5)]:
    send("stations", STATIONS, {"station_id": sid, "entries": entries, "ts": str(now)}, key=sid.encode())
send("stations", STATIONS, {"station_id": "S3", "entries": -3, "ts": str(now)})  # a negative count
send("stations", STATIONS, {"entries": 4, "ts": str(now)})  # no station

# Weather: city/temperature/wind_speed/description.
for city, temp in [("Springfield", 21.5), ("Shelbyville", 19.0)]:
    send("weather", WEATHER, {"city": city, "temperature": temp, "humidity": 60, "wind_speed": 12.0,
                              "description": "cloudy", "timestamp": str(now)}, key=city.encode())
send("weather", WEATHER, {"city": "Ogdenville", "temperature": 18.0, "humidity": 140,
                          "timestamp": str(now)})  # humidity out of range

producer.flush()
sent = {"vehicles": 0, "stations": 0, "weather": 0}
for stream, fut in futures:
    fut.get(timeout=30)  # raises if the broker refused it
    sent[stream] += 1
producer.close()
print(json.dumps({"client": "kafka-python", "version": kafka.__version__, "sent": sent}))

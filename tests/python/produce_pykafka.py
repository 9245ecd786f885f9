"""Vehicle, station and weather messages written with pykafka, the way its
documentation shows: KafkaClient, client.topics[name], a synchronous
producer in a with block, produce(bytes, partition_key=bytes).

    produce_pykafka.py BOOTSTRAP TOPIC_PREFIX

Prints one JSON line: how many records of each stream were produced (the
synchronous producer returns only once the broker has them, and raises
otherwise). pykafka 2.8.0 (2018) speaks the 0.9 protocol by default: its
messages carry no timestamp, so every value here has its own time.
"""
import json
import sys
import time
from datetime import datetime, timezone

import pykafka
from pykafka import KafkaClient
from pykafka.exceptions import UnknownTopicOrPartition

bootstrap, prefix = sys.argv[1], sys.argv[2]
client = KafkaClient(hosts=bootstrap)


def topic(name):
    # pykafka creates a missing topic by asking for its metadata and takes
    # any answer but LEADER_NOT_AVAILABLE as failure; a KRaft broker answers
    # UNKNOWN_TOPIC_OR_PARTITION while it creates the topic. Asking again
    # finds it.
    for attempt in range(50):
        try:
            return client.topics[name]
        except UnknownTopicOrPartition:
            time.sleep(0.1)
    return client.topics[name]


sent = {"vehicles": 0, "stations": 0, "weather": 0}


def produce_all(stream, records):
    """records: (value, key) pairs; a dict value is sent as JSON."""
    with topic(prefix + stream).get_sync_producer(linger_ms=0) as producer:
        for value, key in records:
            if isinstance(value, dict):
                value = json.dumps(value).encode("utf-8")
            producer.produce(value, partition_key=key)
            sent[stream] += 1


now = time.time()

# Trains: "train_id", "route_id", a GeoJSON geometry or a nested location,
# epoch seconds with a fraction. Keyed by train.
vehicles = []
for n in range(1, 5):
    for i in range(3):
        t = now - 30 * (2 - i)
        if n % 2:
            where = {"geometry": {"type": "Point", "coordinates": [21.1 + i * 0.001, 52.3 + n * 0.001]}}
        else:
            where = {"location": {"lat": 52.3 + n * 0.001, "lon": 21.1 + i * 0.001}}
        vehicles.append((dict(train_id="IC-%d" % n, route_id="R%d" % (n % 2 + 1), time=t, **where),
                         ("IC-%d" % n).encode()))
# A shuttle whose "id" is its name; no key.
vehicles.append(({"id": "shuttle", "lat": 52.31, "lon": 21.2, "time": now}, None))
vehicles += [
    (b"IC-1;52.3;21.1", None),  # semicolon text, not JSON
    ({"train_id": "IC-9", "route_id": "R1", "lat": 52.3, "lon": 181.0, "time": now}, b"IC-9"),  # lon out of range
    ({"route_id": "", "lat": 52.3, "lon": 21.1, "time": now}, None),  # no id
    ({"train_id": "IC-8", "lat": float("inf"), "lon": 21.1, "time": now}, b"IC-8"),  # json.dumps writes Infinity
    ({"train_id": ["IC-7"], "lat": 52.3, "lon": 21.1, "time": now}, b"IC-7"),  # a list for an id
]
produce_all("vehicles", vehicles)

# Stations: arrivals with train_id + station_id, turnstile counts, no
# "type"; the time as an aware datetime's str().
ts = str(datetime.fromtimestamp(now, timezone.utc))
stations = [({"station_id": "WAW", "name": "Warszawa Centralna", "lat": 52.228, "lon": 21.003}, b"WAW")]
for i in range(4):
    stations.append(({"train_id": "IC-%d" % (i + 1), "station_id": "WAW", "ts": ts}, b"WAW"))
stations.append(({"station_id": "WAW", "entries": 120, "ts": ts}, b"WAW"))
stations.append(({"station_id": "WAW", "entries": "many", "ts": ts}, b"WAW"))  # a word for a count
produce_all("stations", stations)

produce_all("weather", [
    ({"region": "mazowieckie", "temperature_c": -2.0, "wind_kph": 15, "humidity": 90, "weather": "snow",
      "recorded_at": ts}, b"mazowieckie"),
    ({"region": "", "temperature_c": 1.0, "recorded_at": ts}, None),  # no area
])

print(json.dumps({"client": "pykafka", "version": pykafka.__version__, "sent": sent}))

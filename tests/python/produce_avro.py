"""Avro vehicle records written with confluent-kafka's schema-registry
serializer, the way its documentation shows: a SchemaRegistryClient, an
AvroSerializer with a schema string and a to_dict function, and a
SerializingProducer that serializes key and value. The serializer registers
the schema itself (auto.register.schemas, its default) under the subject
TOPIC-value and frames each record in the Confluent wire format.

    produce_avro.py BOOTSTRAP TOPIC_PREFIX REGISTRY_URL

Prints one JSON line: how many records of each stream were delivered.
"""
import json
import struct
import sys
import time
from datetime import datetime, timezone

import confluent_kafka
import fastavro
from confluent_kafka import Producer, SerializingProducer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import StringSerializer

bootstrap, prefix, registry_url = sys.argv[1], sys.argv[2], sys.argv[3]
VEHICLES = prefix + "vehicles"

SCHEMA = """
{
  "type": "record", "name": "VehiclePosition", "namespace": "org.example.fleet",
  "fields": [
    {"name": "vehicle_id", "type": "string"},
    {"name": "route", "type": ["null", "string"], "default": null},
    {"name": "latitude", "type": "double"},
    {"name": "longitude", "type": "double"},
    {"name": "timestamp", "type": {"type": "long", "logicalType": "timestamp-millis"}}
  ]
}
"""


class Position:
    def __init__(self, vehicle_id, route, latitude, longitude, timestamp):
        self.vehicle_id, self.route = vehicle_id, route
        self.latitude, self.longitude, self.timestamp = latitude, longitude, timestamp


def position_to_dict(pos, ctx):
    return {"vehicle_id": pos.vehicle_id, "route": pos.route, "latitude": pos.latitude,
            "longitude": pos.longitude, "timestamp": pos.timestamp}


schema_registry_client = SchemaRegistryClient({"url": registry_url})
avro_serializer = AvroSerializer(schema_registry_client, SCHEMA, position_to_dict)
producer = SerializingProducer({"bootstrap.servers": bootstrap, "acks": "all",
                                "key.serializer": StringSerializer("utf_8"),
                                "value.serializer": avro_serializer})
sent = {"vehicles": 0}
failed = []


def delivery_report(err, msg):
    if err is not None:
        failed.append(str(err))
    else:
        sent[msg.topic()[len(prefix):]] += 1


# Four buses on two routes, three reports each, and a depot van with no
# route (the union's null branch). timestamp-millis takes a datetime or
# epoch milliseconds; the first report of each bus gives a datetime.
now_ms = int(time.time() * 1000)
for n in range(4):
    vid, route = "avro-%d" % n, "A%d" % (1 + n % 2)
    for i in range(3):
        ts = now_ms - (3 - i) * 1000
        if i == 0:
            ts = datetime.fromtimestamp(ts / 1000, tz=timezone.utc)
        producer.poll(0)
        producer.produce(VEHICLES, key=vid, value=Position(vid, route, 52.2 + n * 0.01, 21.0 + i * 0.001, ts),
                         on_delivery=delivery_report)
producer.produce(VEHICLES, key="van", value=Position("van", None, 52.25, 21.05, now_ms), on_delivery=delivery_report)
producer.flush(30)

# One record framed by hand with a schema id the registry never gave out:
# magic byte 0, id 424242 big-endian, then a datum. fleetwatch must reject it.
raw = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
raw.produce(VEHICLES, b"\x00" + struct.pack(">I", 424242) + b"\x0cghost1", key=b"ghost", callback=delivery_report)
remaining = raw.flush(30)

if failed or remaining:
    sys.exit("not delivered: %s, %d still queued" % (failed, remaining))
print(json.dumps({"client": "confluent-kafka AvroSerializer", "version": confluent_kafka.version(),
                  "fastavro": fastavro.__version__, "sent": sent}))

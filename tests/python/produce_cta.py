"""The CTA example pipeline's own messages (../shared/OPERATIONS.md, "The CTA
example's own shapes"), written with confluent-kafka the way that project
does: Avro through a schema registry, every record keyed by an Avro
{"timestamp"}, serialized with AvroSerializer (a SchemaRegistryClient, a
schema string, a SerializationContext per topic) and sent with Producer.

    produce_cta.py BOOTSTRAP TOPIC_PREFIX REGISTRY_URL

Topics, under TOPIC_PREFIX:
  stations.turnstile  one event per person through a turnstile: station_id,
                      station_name, line, and no count
  stations.arrivals   train arrivals: station_id, train_id, direction, line,
                      train_status, prev_station_id, prev_direction
  stations.table      the stations table as Debezium captures it through the
                      Avro converter: a change event per row (a row per stop,
                      its parent station in station_id, the lines as boolean
                      columns), keyed by the row's stop_id, a tombstone after
                      each delete
  stations.connect    more of the table as Kafka Connect's JsonConverter
                      writes it with schemas.enable=true: {"schema","payload"}
                      around key and value; one TRUNCATE event, which
                      fleetwatch does not apply
  weather             city-wide readings in Fahrenheit: temperature, status

Prints one JSON line: how many records of each stream were delivered.
"""
import json
import sys
import time

import confluent_kafka
from confluent_kafka import Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

bootstrap, prefix, registry_url = sys.argv[1], sys.argv[2], sys.argv[3]
TURNSTILE, ARRIVALS = prefix + "stations.turnstile", prefix + "stations.arrivals"
TABLE, CONNECT, WEATHER = prefix + "stations.table", prefix + "stations.connect", prefix + "weather"

TIMESTAMP_KEY = """{"type": "record", "name": "key", "namespace": "com.udacity",
 "fields": [{"name": "timestamp", "type": "long"}]}"""
TURNSTILE_VALUE = """{"type": "record", "name": "turnstile.value", "namespace": "com.udacity",
 "fields": [{"name": "station_id", "type": "int"}, {"name": "station_name", "type": "string"},
            {"name": "line", "type": "string"}]}"""
ARRIVAL_VALUE = """{"type": "record", "name": "arrival.value", "namespace": "com.udacity",
 "fields": [{"name": "station_id", "type": "int"}, {"name": "train_id", "type": "string"},
            {"name": "direction", "type": "string"}, {"name": "line", "type": "string"},
            {"name": "train_status", "type": "string"},
            {"name": "prev_station_id", "type": ["null", "int"]},
            {"name": "prev_direction", "type": ["null", "string"]}]}"""
WEATHER_VALUE = """{"type": "record", "name": "weather.value", "namespace": "com.udacity",
 "fields": [{"name": "temperature", "type": "float"},
            {"name": "status", "type": {"type": "enum", "name": "status",
             "symbols": ["sunny", "partly_cloudy", "cloudy", "windy", "precipitation"]}}]}"""
# What Debezium's Avro converter registers for a row of public.stations.
ROW_KEY = """{"type": "record", "name": "Key", "namespace": "pg.public.stations",
 "fields": [{"name": "stop_id", "type": "int"}]}"""
ROW_ENVELOPE = """{"type": "record", "name": "Envelope", "namespace": "pg.public.stations",
 "fields": [
  {"name": "before", "type": ["null", {"type": "record", "name": "Value", "fields": [
     {"name": "stop_id", "type": "int"},
     {"name": "direction_id", "type": ["null", "string"], "default": null},
     {"name": "stop_name", "type": ["null", "string"], "default": null},
     {"name": "station_name", "type": ["null", "string"], "default": null},
     {"name": "station_descriptive_name", "type": ["null", "string"], "default": null},
     {"name": "station_id", "type": ["null", "int"], "default": null},
     {"name": "order", "type": ["null", "int"], "default": null},
     {"name": "red", "type": ["null", "boolean"], "default": null},
     {"name": "blue", "type": ["null", "boolean"], "default": null},
     {"name": "green", "type": ["null", "boolean"], "default": null}]}], "default": null},
  {"name": "after", "type": ["null", "Value"], "default": null},
  {"name": "source", "type": {"type": "record", "name": "Source", "namespace": "io.debezium.connector.postgresql",
   "fields": [{"name": "version", "type": "string"}, {"name": "connector", "type": "string"},
              {"name": "name", "type": "string"}, {"name": "schema", "type": "string"},
              {"name": "table", "type": "string"}]}},
  {"name": "op", "type": "string"},
  {"name": "ts_ms", "type": ["null", "long"], "default": null}]}"""

registry = SchemaRegistryClient({"url": registry_url})
serializers = {name: AvroSerializer(registry, schema) for name, schema in {
    "timestamp_key": TIMESTAMP_KEY, "turnstile": TURNSTILE_VALUE, "arrival": ARRIVAL_VALUE,
    "weather": WEATHER_VALUE, "row_key": ROW_KEY, "row": ROW_ENVELOPE}.items()}
producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
sent = {"stations": 0, "weather": 0}
failed = []


def delivery_report(err, msg):
    if err is not None:
        failed.append(str(err))
    else:
        sent["weather" if msg.topic() == WEATHER else "stations"] += 1


def produce(topic, key, value, key_schema="timestamp_key", value_schema=None):
    """Serialize key and value as the project's producers do, then send."""
    k = serializers[key_schema](key, SerializationContext(topic, MessageField.KEY))
    v = serializers[value_schema](value, SerializationContext(topic, MessageField.VALUE)) if value is not None else None
    producer.poll(0)
    producer.produce(topic, key=k, value=v, on_delivery=delivery_report)


def now_ms():
    return int(time.time() * 1000)


SOURCE = {"version": "3.6.1.Final", "connector": "postgresql", "name": "pg", "schema": "public", "table": "stations"}


def row(stop, station, name, stop_name, red=False, blue=False, green=False):
    return {"stop_id": stop, "direction_id": "E", "stop_name": stop_name, "station_name": name,
            "station_descriptive_name": name + " (CTA)", "station_id": station, "order": 1,
            "red": red, "blue": blue, "green": green}


def change(op, before, after):
    return {"before": before, "after": after, "source": SOURCE, "op": op, "ts_ms": now_ms()}


# The stations table through Debezium's Avro converter: Clark/Lake has a
# Blue Line stop and a Green Line stop; Austin two Blue Line stops, both
# renamed; Harlem is deleted (its delete, then the tombstone).
clark_blue = row(30374, 40380, "Clark/Lake", "Clark/Lake (O'Hare-bound)", blue=True)
clark_green = row(30074, 40380, "Clark/Lake", "Clark/Lake (Inner Loop)", green=True)
austin = [row(30001, 40010, "Austin", "Austin (O'Hare-bound)", blue=True),
          row(30002, 40010, "Austin", "Austin (Forest Park-bound)", blue=True)]
harlem = row(30100, 40750, "Harlem", "Harlem (O'Hare-bound)", blue=True)
for r in [clark_blue, clark_green] + austin + [harlem]:
    produce(TABLE, {"stop_id": r["stop_id"]}, change("r", None, r), "row_key", "row")
for r in austin:
    produce(TABLE, {"stop_id": r["stop_id"]}, change("u", r, dict(r, station_name="Austin-Forest Park")), "row_key", "row")
produce(TABLE, {"stop_id": 30100}, change("d", harlem, None), "row_key", "row")
produce(TABLE, {"stop_id": 30100}, None, "row_key")

# More of the table as Kafka Connect's JsonConverter writes it with
# schemas.enable=true: Roosevelt's two Red Line stops; Jackson inserted,
# deleted and tombstoned; then a TRUNCATE, which fleetwatch counts as a
# record it could not use.
ENVELOPE_SCHEMA = {"type": "struct", "optional": False, "name": "pg.public.stations.Envelope", "version": 2,
                   "fields": [{"type": "struct", "optional": True, "field": "before", "name": "pg.public.stations.Value",
                               "fields": [{"type": "int32", "optional": False, "field": "stop_id"}]},
                              {"type": "struct", "optional": True, "field": "after", "name": "pg.public.stations.Value",
                               "fields": [{"type": "int32", "optional": False, "field": "stop_id"}]},
                              {"type": "string", "optional": False, "field": "op"}]}
KEY_SCHEMA = {"type": "struct", "optional": False, "name": "pg.public.stations.Key",
              "fields": [{"type": "int32", "optional": False, "field": "stop_id"}]}


def connect(stop, value):
    key = json.dumps({"schema": KEY_SCHEMA, "payload": {"stop_id": stop}}).encode()
    if value is not None:
        value = json.dumps({"schema": ENVELOPE_SCHEMA, "payload": value}).encode()
    producer.poll(0)
    producer.produce(CONNECT, key=key, value=value, on_delivery=delivery_report)


roosevelt = [row(30080, 41400, "Roosevelt", "Roosevelt (95th-bound)", red=True),
             row(30081, 41400, "Roosevelt", "Roosevelt (Howard-bound)", red=True)]
jackson = row(30150, 40560, "Jackson", "Jackson (Forest Park-bound)", blue=True)
for r in roosevelt:
    connect(r["stop_id"], change("r", None, r))
connect(30150, change("c", None, jackson))
connect(30150, change("d", jackson, None))
connect(30150, None)
connect(30150, change("t", None, None))

# Turnstiles: one message per person. Five at Clark/Lake, three at Austin.
for station, name, line, people in [(40380, "Clark/Lake", "blue", 3), (40380, "Clark/Lake", "green", 2),
                                    (40010, "Austin", "blue", 3)]:
    for _ in range(people):
        produce(TURNSTILE, {"timestamp": now_ms()}, {"station_id": station, "station_name": name, "line": line},
                value_schema="turnstile")

# Arrivals: two trains at Clark/Lake, one at Austin.
for station, train, prev in [(40380, "BL001", 40490), (40380, "BL002", 40490), (40010, "BL003", None)]:
    produce(ARRIVALS, {"timestamp": now_ms()},
            {"station_id": station, "train_id": train, "direction": "b", "line": "blue",
             "train_status": "in_service", "prev_station_id": prev, "prev_direction": "b" if prev else None},
            value_schema="arrival")

# Weather: city-wide, in Fahrenheit, the time in the key; the last is newest.
for i, (temp, status) in enumerate([(41.0, "cloudy"), (50.0, "windy"), (59.0, "sunny")]):
    produce(WEATHER, {"timestamp": now_ms() - (3 - i) * 1000}, {"temperature": temp, "status": status},
            value_schema="weather")

remaining = producer.flush(30)
if failed or remaining:
    sys.exit("not delivered: %s, %d still queued" % (failed, remaining))
print(json.dumps({"client": "confluent-kafka CTA pipeline", "version": confluent_kafka.version(), "sent": sent}))

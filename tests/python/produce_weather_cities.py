"""A weather producer written with kafka-python that sends both of its
cities in one message, one object per city keyed by the city's name, with
a JSON serializer for value and key, the key being {"timestamp": ...}:

    KafkaProducer(value_serializer=lambda v: json.dumps(v).encode("utf-8"), ...)

    produce_weather_cities.py BOOTSTRAP TOPIC_PREFIX

It also sends one city-wide reading that names no area at all, which
fleetwatch names after the topic, and one message whose only city has a
temperature that is not a number. Prints one JSON line: how many records
the broker acknowledged.
"""
import json
import sys
import time
from datetime import datetime, timezone

import kafka
from kafka import KafkaProducer

bootstrap, prefix = sys.argv[1], sys.argv[2]
WEATHER = prefix + "weather"

producer = KafkaProducer(
    bootstrap_servers=bootstrap,
    key_serializer=lambda k: json.dumps(k).encode("utf-8"),
    value_serializer=lambda v: json.dumps(v).encode("utf-8"),
    acks="all",
)
futures = []


def send(value, key):
    futures.append(producer.send(WEATHER, value=value, key=key))


now = time.time()
# Both cities per message, older to newer; the keys give the time as epoch
# seconds, epoch milliseconds and RFC 3339, as such producers vary.
send({"Winnipeg": {"temperature": -15, "wind_speed": 25, "humidity": 75},
      "Vancouver": {"temperature": 6, "wind_speed": 8, "humidity": 90, "description": "rain"}},
     {"timestamp": int(now - 60)})
send({"Winnipeg": {"temperature": -13, "wind_speed": 22, "humidity": 72},
      "Vancouver": {"temperature": 7, "wind_speed": 6, "humidity": 88, "description": "drizzle"}},
     {"timestamp": int((now - 30) * 1000)})
send({"Winnipeg": {"temperature": -12, "wind_speed": 20, "humidity": 70},
      "Vancouver": {"temperature": 8, "wind_speed": 5, "humidity": 85, "description": "light rain"}},
     {"timestamp": datetime.fromtimestamp(now - 5, tz=timezone.utc).isoformat()})
# An older message with one bad city: the good one is read, the bad skipped.
send({"Winnipeg": {"temperature": -20, "humidity": 60}, "Vancouver": {"temperature": 5, "humidity": 140}},
     {"timestamp": int(now - 90)})
# A reading of the whole feed with no area: named after the topic.
send({"temperature": 21.5, "status": "sunny"}, {"timestamp": int(now - 1)})
# A temperature in words: the whole message is refused.
send({"Winnipeg": {"temperature": "cold"}}, {"timestamp": int(now)})

producer.flush()
sent = {"weather": 0}
for fut in futures:
    fut.get(timeout=30)  # raises if the broker refused it
    sent["weather"] += 1
producer.close()
print(json.dumps({"client": "kafka-python weather cities", "version": kafka.__version__, "sent": sent}))

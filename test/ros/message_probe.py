"""Subscribes with the real message types in its own process and prints what it received.

`python message_probe.py SECONDS MIN_COUNT TOPIC=pkg/msg/Type ...`: prints "ready", then, once
every topic has MIN_COUNT messages or SECONDS have passed, one JSON object
{topic: {"type": ..., "count": n, "last": {field: value, ...}}} (nested messages as dicts).
"""

import importlib
import json
import sys
import time

import rclpy
from rclpy.node import Node


def as_dict(msg):
    if hasattr(msg, "get_fields_and_field_types"):
        return {name: as_dict(getattr(msg, name)) for name in msg.get_fields_and_field_types()}
    if isinstance(msg, (list, tuple)):
        return [as_dict(m) for m in msg]
    return msg if isinstance(msg, (bool, int, float, str)) else repr(msg)


def main(argv):
    seconds, min_count = float(argv[0]), int(argv[1])
    rclpy.init()
    node = Node("message_probe")
    seen = {}
    for spec in argv[2:]:
        topic, type_name = spec.split("=")
        package, kind, name = type_name.split("/")
        cls = getattr(importlib.import_module(f"{package}.{kind}"), name)
        seen[topic] = {"type": type_name, "count": 0, "last": None}

        def record(msg, entry=seen[topic]):
            entry["count"] += 1
            entry["last"] = as_dict(msg)
        node.create_subscription(cls, topic, record, 50)
    print("ready", flush=True)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and min(e["count"] for e in seen.values()) < min_count:
        rclpy.spin_once(node, timeout_sec=0.05)
    print(json.dumps(seen), flush=True)
    node.destroy_node()
    rclpy.shutdown()


if __name__ == "__main__":
    main(sys.argv[1:])

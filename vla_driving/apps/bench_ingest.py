"""`vla-driving bench ingest`: N cameras x rate Hz through the real `camera_ingest` node.

The synthetic `camera_stream` runs in its own process (as a camera driver would) and starts
counting once every camera topic has a subscriber; the ingest node spins in this process. At the
end the publisher reports what it sent, and the table compares it with what the node received,
synchronised and dropped, plus the decode+sync time per image and the stamp-to-set latency.
Both run on a private ROS domain over shared memory only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from vla_driving.constants import NS_PER_S
from vla_driving.sensors.config import IngestConfig
from vla_driving.sensors.diagnostics import percentiles_ms
from vla_driving.ros import ensure_local_dds
from vla_driving.ros.session import ros_context, single_threaded_executor
from vla_driving.ros.ingest_node import IngestNode
from vla_driving.ros.parameters import config_overrides

BENCH_TOPIC = "/bench/{camera}/image"
BENCH_ODOMETRY = "/bench/odometry"
DOMAIN_BASE, DOMAIN_SPAN = 150, 50
DRAIN_S = 1.0                 # spin this long after the publisher stops, for frames in flight
STARTUP_TIMEOUT_S = 60.0      # discovery + publisher start-up allowance


def add_arguments(parser) -> None:
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of publishing")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    parser.add_argument("--cameras", type=int, default=6, help="number of cameras")
    parser.add_argument("--rate", type=float, default=30.0, help="frames per second per camera")
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--encoding", default="rgb8", help="rgb8, bgr8, ... or jpeg/png")
    parser.add_argument("--queue-depth", type=int, default=IngestConfig().queue_depth,
                        help="DDS history depth of each camera subscription")


def _publisher(args, cameras: list[str], env: dict) -> subprocess.Popen:
    command = [sys.executable, "-m", "vla_driving.ros.camera_stream", "--cameras", *cameras,
               "--camera-topic", BENCH_TOPIC, "--odometry-topic", BENCH_ODOMETRY,
               "--encoding", args.encoding, "--width", str(args.width),
               "--height", str(args.height), "--rate", str(args.rate),
               "--duration", str(args.duration), "--wait-for-subscribers"]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)


def _spin_until_done(executor, proc: subprocess.Popen, deadline_s: float) -> None:
    while proc.poll() is None and time.monotonic() < deadline_s:
        executor.spin_once(timeout_sec=0.05)
    stop = time.monotonic() + DRAIN_S
    while time.monotonic() < stop:
        executor.spin_once(timeout_sec=0.05)


def run_bench(args) -> dict:
    env = dict(ensure_local_dds())
    domain = int(env.get("ROS_DOMAIN_ID") or DOMAIN_BASE + os.getpid() % DOMAIN_SPAN)
    env["ROS_DOMAIN_ID"] = str(domain)
    cameras = [f"cam{i}" for i in range(args.cameras)]
    transport = "compressed" if args.encoding in ("jpeg", "png") else "raw"
    config = IngestConfig(cameras=cameras, camera_topic=BENCH_TOPIC, transport=transport,
                          odometry_topic=BENCH_ODOMETRY, max_frame_age_s=5.0,
                          queue_depth=args.queue_depth,
                          diagnostics_period_s=1.0)
    with ros_context(domain) as context:
        node = IngestNode(context=context, parameter_overrides=config_overrides(config))
        executor = single_threaded_executor(context)
        executor.add_node(node)
        proc = _publisher(args, cameras, env)
        try:
            _spin_until_done(executor, proc, time.monotonic() + args.duration + STARTUP_TIMEOUT_S)
        finally:
            if proc.poll() is None:
                proc.terminate()
            out, _ = proc.communicate(timeout=30)
            executor.shutdown()
            stats = node.ingest.stats()
            processing = np.asarray(node.processing_s) * NS_PER_S
            node.destroy_node()
    sent = json.loads(out.strip().splitlines()[-1]) if out.strip() else {"published": {}}
    return _figures(args, cameras, sent, stats, processing)


def _figures(args, cameras, sent: dict, stats: dict, processing_ns) -> dict:
    per_camera = {}
    for camera in cameras:
        src = stats["sources"][camera]
        published = sent["published"].get(camera, 0)
        per_camera[camera] = {
            "published": published, "received": src["received"],
            "lost_in_transport": max(0, published - src["received"]),
            "rejected": sum(src["rejected"].values()), "dropped_in_sync": stats["dropped"][camera],
            "held_in_sets": stats["held_views"][camera]}
    dropped = sum(c["lost_in_transport"] + c["rejected"] + c["dropped_in_sync"]
                  for c in per_camera.values())
    return {
        "device": "CPU (shared machine)", "cameras": len(cameras), "rate_hz": args.rate,
        "width": args.width, "height": args.height, "encoding": args.encoding,
        "queue_depth": args.queue_depth, "cpu_count": os.cpu_count(),
        "duration_s": args.duration, "ticks_published": sent.get("ticks", 0),
        "synchronised_sets": stats["sets"], "degraded_sets": stats["degraded_sets"],
        "dropped_total": dropped, "per_camera": per_camera,
        "decode_sync_ms": percentiles_ms(processing_ns),
        "stamp_to_set_ms": percentiles_ms(stats["stamp_to_set_ns"]),   # both wall time here
        "receipt_to_set_ms": percentiles_ms(stats["latency_ns"]),
    }


def format_table(fig: dict) -> str:
    lines = [f"ingest bench: {fig['cameras']} cameras x {fig['rate_hz']:g} Hz, "
             f"{fig['width']}x{fig['height']} {fig['encoding']}, {fig['duration_s']:g} s, "
             f"{fig['device']}",
             f"{'camera':<8} {'published':>9} {'received':>9} {'lost':>6} {'rejected':>8} "
             f"{'dropped':>8} {'held':>5}"]
    for camera, c in fig["per_camera"].items():
        lines.append(f"{camera:<8} {c['published']:>9} {c['received']:>9} "
                     f"{c['lost_in_transport']:>6} {c['rejected']:>8} {c['dropped_in_sync']:>8} "
                     f"{c['held_in_sets']:>5}")
    lines.append(f"synchronised sets: {fig['synchronised_sets']} of {fig['ticks_published']} "
                 f"ticks (degraded {fig['degraded_sets']}); dropped in total: "
                 f"{fig['dropped_total']}")
    lines.append(f"{'latency (ms)':<26} {'p50':>7} {'p90':>7} {'p99':>7} {'max':>7}")
    for label, key in (("decode+sync per image", "decode_sync_ms"),
                       ("image stamp -> synced set", "stamp_to_set_ms"),
                       ("first receipt -> set", "receipt_to_set_ms")):
        p = fig[key]
        lines.append(f"{label:<26} {p['p50']:>7.3f} {p['p90']:>7.3f} {p['p99']:>7.3f} "
                     f"{p['max']:>7.3f}")
    return "\n".join(lines)


def main(args) -> int:
    figures = run_bench(args)
    print(format_table(figures))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2))
    return 0 if figures["ticks_published"] > 0 else 1

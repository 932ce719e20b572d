"""`vla-driving run --config config/X.yaml`: a profile's nodes in one process.

For machines without `ros2 launch`: the same profile the launch files read, the nodes on one
multi-threaded executor (`vla_driving.ros.stack.Stack`); Ctrl-C shuts everything down cleanly
(executor first, then nodes, then the context).
"""

from __future__ import annotations

import signal
import sys
import threading
import time

from vla_driving.configuration import ConfigError
from vla_driving.ros.session import ok, process_context
from vla_driving.ros.stack import Stack


def add_arguments(parser) -> None:
    parser.add_argument("--config", required=True, help="profile YAML (config/vehicle.yaml, ...)")
    parser.add_argument("--duration", type=float, default=None,
                        help="stop after this many wall-clock seconds (default: until Ctrl-C)")


def main(args) -> int:
    # rclpy installs no signal handlers here: main() owns SIGINT/SIGTERM (see the stop flag below)
    with process_context():
        try:
            stack = Stack(args.config).build()
        except ConfigError as exc:
            print(f"vla-driving run: {exc}", file=sys.stderr)
            return 1
        deadline = None if args.duration is None else time.monotonic() + args.duration
        # Ctrl-C / SIGTERM only set a flag: an interrupt raised in the middle of spin_once could
        # leave the executor half-way through a callback and stall the shutdown below.
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        try:
            while ok() and not stop.is_set() and (deadline is None
                                                  or time.monotonic() < deadline):
                stack.executor.spin_once(timeout_sec=0.1)
        finally:
            stack.destroy()
    return 0

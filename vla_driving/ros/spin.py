"""One `main` for every node executable: init, spin until Ctrl-C or shutdown, clean up in order.

The executor is shut down before the node is destroyed and before `rclpy.try_shutdown()`, which
is the order rclpy needs to exit without aborting.
"""

from __future__ import annotations

import sys
from typing import Callable

import rclpy
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor, SingleThreadedExecutor
from rclpy.node import Node


# A multi-threaded executor hands every callback from its waiting thread to a worker; with
# CPython's default 5 ms GIL switch interval each hand-off can cost up to 5 ms while the waiting
# thread rebuilds its wait set, which made lockstep simulation 4x slower than real time on an
# idle 2-core machine (measured). A shorter interval keeps the hand-offs cheap.
GIL_SWITCH_INTERVAL_S = 0.0005


def multithreaded_executor(**kwargs) -> MultiThreadedExecutor:
    """A MultiThreadedExecutor with the GIL switch interval it needs (process-wide)."""
    sys.setswitchinterval(min(sys.getswitchinterval(), GIL_SWITCH_INTERVAL_S))
    return MultiThreadedExecutor(**kwargs)


def spin_node(make_node: Callable[[], Node], args: list[str] | None = None, *,
              multithreaded: bool = False,
              on_start: Callable[[Node], None] | None = None) -> Node:
    """Run one node until interrupted; returns it (destroyed) so `main` can read its outcome."""
    rclpy.init(args=args)
    node = make_node()
    executor = multithreaded_executor() if multithreaded else SingleThreadedExecutor()
    executor.add_node(node)
    try:
        if on_start is not None:
            on_start(node)
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        executor.shutdown()
        node.destroy_node()
        rclpy.try_shutdown()
    return node

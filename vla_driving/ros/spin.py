"""One `main` for every node executable: init, spin until Ctrl-C or shutdown, clean up in order.

The executor is shut down before the node is destroyed and before `rclpy.try_shutdown()`, which
is the order rclpy needs to exit without aborting.
"""

from __future__ import annotations

from typing import Callable

import rclpy
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor, SingleThreadedExecutor
from rclpy.node import Node


def spin_node(make_node: Callable[[], Node], args: list[str] | None = None, *,
              multithreaded: bool = False,
              on_start: Callable[[Node], None] | None = None) -> Node:
    """Run one node until interrupted; returns it (destroyed) so `main` can read its outcome."""
    rclpy.init(args=args)
    node = make_node()
    executor = MultiThreadedExecutor() if multithreaded else SingleThreadedExecutor()
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

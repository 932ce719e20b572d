"""One `main` for every node executable: init, spin until Ctrl-C or shutdown, clean up in order.

The executor is shut down before the node is destroyed and before `rclpy.try_shutdown()`, which
is the order rclpy needs to exit without aborting.
"""

from __future__ import annotations

import sys
import time
from typing import Callable

import rclpy
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor, SingleThreadedExecutor
from rclpy.lifecycle import LifecycleNode
from rclpy.node import Node

from vla_driving.configuration import ConfigError


# A multi-threaded executor hands every callback from its waiting thread to a worker; with
# CPython's default 5 ms GIL switch interval each hand-off can cost up to 5 ms while the waiting
# thread rebuilds its wait set, which made lockstep simulation 4x slower than real time on an
# idle 2-core machine (measured). A shorter interval keeps the hand-offs cheap.
GIL_SWITCH_INTERVAL_S = 0.0005
DRAIN_TIMEOUT_S = 30.0   # a planning cycle in flight at shutdown may take a while on a CPU
DRAIN_POLL_S = 0.005


class DrainingExecutor(MultiThreadedExecutor):
    """A MultiThreadedExecutor whose shutdown lets the callbacks already handed to its threads
    finish first. rclpy (kilted) destroys its guard condition at once (its wait for outstanding
    work is skipped once the shutdown flag is set), so a handler still queued then raised
    "cannot use Destroyable because destruction was requested", printed at exit as "The
    following exception was never retrieved"."""

    def request_stop(self) -> None:
        """Stop dispatching (the spinning thread returns); callbacks in flight keep running."""
        with self._shutdown_lock:
            if not self._is_shutdown:
                self._is_shutdown = True
                if self._guard:
                    self._guard.trigger()

    def shutdown(self, timeout_sec: float | None = None, *, wait_for_threads: bool = True) -> bool:
        self.request_stop()
        deadline = time.monotonic() + (DRAIN_TIMEOUT_S if timeout_sec is None or timeout_sec < 0
                                       else timeout_sec)
        while time.monotonic() < deadline and any(not f.done() for f in list(self._futures)):
            time.sleep(DRAIN_POLL_S)
        for future in list(self._futures):
            if future.done():
                future.exception()   # retrieved: a failure was logged by its callback already
        return super().shutdown(timeout_sec, wait_for_threads=wait_for_threads)


def multithreaded_executor(**kwargs) -> DrainingExecutor:
    """A MultiThreadedExecutor with the GIL switch interval it needs (process-wide) and a
    shutdown that drains its threads first."""
    sys.setswitchinterval(min(sys.getswitchinterval(), GIL_SWITCH_INTERVAL_S))
    return DrainingExecutor(**kwargs)


def shutdown_lifecycle(node: Node) -> None:
    """Take a lifecycle node through `shutdown` (its `on_shutdown` releases the policy and joins
    its worker threads); rclpy's `destroy_node` does not. Without it a text-generation thread
    still inside torch at interpreter exit aborted the process ("terminate called without an
    active exception", rc 134)."""
    if isinstance(node, LifecycleNode):
        try:
            node.trigger_shutdown()
        except Exception as exc:  # noqa: BLE001 - already finalized or never configured
            node.get_logger().debug(f"lifecycle shutdown: {exc}")


def spin_node(make_node: Callable[[], Node], args: list[str] | None = None, *,
              multithreaded: bool = False,
              on_start: Callable[[Node], None] | None = None) -> Node:
    """Run one node until interrupted; returns it (destroyed) so `main` can read its outcome."""
    rclpy.init(args=args)
    try:
        node = make_node()
    except ConfigError as exc:   # a bad parameter: one line and rc 1, not a traceback
        print(f"{getattr(make_node, '__name__', 'node')}: {exc}", file=sys.stderr)
        rclpy.try_shutdown()
        raise SystemExit(1) from None
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
        shutdown_lifecycle(node)
        node.destroy_node()
        rclpy.try_shutdown()
    return node

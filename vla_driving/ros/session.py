"""A ROS 2 context for the tools above this floor (closed-loop runner, benches, bag replay), so
they start and stop nodes without importing rclpy themselves.

Every context keeps DDS on this machine (`ensure_local_dds`) and is shut down on exit, after the
caller has destroyed its executors and nodes.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions

from vla_driving.ros import ensure_local_dds


@contextmanager
def ros_context(domain_id: int | None = None) -> Iterator[rclpy.Context]:
    """A fresh rclpy context (optionally on its own DDS domain), shut down on exit."""
    ensure_local_dds()
    context = rclpy.Context()
    rclpy.init(context=context, domain_id=domain_id)
    try:
        yield context
    finally:
        context.try_shutdown()


@contextmanager
def process_context() -> Iterator[None]:
    """The process-wide default context for a long-running command that owns SIGINT/SIGTERM
    itself (rclpy installs no signal handlers)."""
    ensure_local_dds()
    rclpy.init(signal_handler_options=SignalHandlerOptions.NO)
    try:
        yield
    finally:
        rclpy.try_shutdown()


def ok(context=None) -> bool:
    return rclpy.ok(context=context)


def plain_node(name: str, context) -> Node:
    """A node with no behaviour of its own, for publishers and subscriptions made by a tool."""
    return Node(name, context=context)


def single_threaded_executor(context) -> SingleThreadedExecutor:
    return SingleThreadedExecutor(context=context)

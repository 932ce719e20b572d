"""Helpers of the planner / controller / stack ROS tests (imported by those test files only)."""

import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SIM_YAML = ROOT / "config" / "sim.yaml"
BASELINE = {"vla_planner": {"policy": "constant_velocity"}}


@pytest.fixture
def ros_context():
    """A private rclpy context: no global init/shutdown shared between tests."""
    import rclpy
    ctx = rclpy.Context()
    rclpy.init(context=ctx)
    yield ctx
    ctx.try_shutdown()


def wait_until(predicate, timeout_s: float, period_s: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(period_s)
    return predicate()

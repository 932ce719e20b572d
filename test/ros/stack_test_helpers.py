"""Helpers of the planner / controller / stack ROS tests (imported by those test files only)."""

import importlib.util
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


def require_message_package(package: str) -> None:
    """Skip where the message packages of interfaces/ cannot be built (no `interfaces` extra);
    fail where they could be but were not."""
    if importlib.util.find_spec(package) is not None:
        return
    if importlib.util.find_spec("ament_package") is None:
        pytest.skip(f"{package} not built: install the `interfaces` extra and run "
                    "interfaces/build.py (make install)")
    pytest.fail(f"{package} is not importable although the generators are installed: run "
                "`.venv/bin/python interfaces/build.py`")

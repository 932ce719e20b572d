"""Test harness: keep DDS on this machine, render headless, and give ROS tests a clean context."""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"

# Shared-memory-only Fast DDS: no UDP, no multicast (set before rclpy is imported anywhere).
os.environ["FASTDDS_DEFAULT_PROFILES_FILE"] = str(ROOT / "config" / "fastdds-local.xml")
os.environ.pop("ROS_AUTOMATIC_DISCOVERY_RANGE", None)
os.environ.pop("ROS_LOCALHOST_ONLY", None)
os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
# A private domain per test session, so parallel runs on one machine do not see each other.
os.environ.setdefault("ROS_DOMAIN_ID", str(50 + os.getpid() % 50))


def pytest_configure(config):
    """The warnings the command line ignores (torch's notices about its own internals)."""
    from vla_driving.quiet import NOISY_WARNINGS

    for category, message in NOISY_WARNINGS:
        config.addinivalue_line("filterwarnings", f"ignore:{message}:{category.__name__}")


def _rclpy_available() -> bool:
    try:
        import rclpy  # noqa: F401
    except ImportError:
        return False
    return True


def pytest_collection_modifyitems(config, items):
    if _rclpy_available():
        return
    skip = pytest.mark.skip(reason="rclpy not installed (install the `ros` extra)")
    for item in items:
        if "ros" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"shared fixtures not found at {SHARED}")
    return SHARED


@pytest.fixture(autouse=True)
def autograd_stays_on():
    """A test that leaves autograd off fails itself, not the training tests that run after it
    (a generator yielding inside `torch.no_grad()` did that to every training test in CI)."""
    yield
    import sys

    torch = sys.modules.get("torch")
    if torch is not None and not torch.is_grad_enabled():
        torch.set_grad_enabled(True)
        pytest.fail("this test left autograd disabled in the main thread")

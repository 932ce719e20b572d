"""Thin ROS 2 adapters: the only package that imports rclpy or message types.

Everything here converts messages to plain types (`conversions`), declares parameters from the
config dataclasses (`parameters`) and calls the ROS-free cores; import it only where rclpy is
installed (the `ros` extra).
"""

from __future__ import annotations

import os
from pathlib import Path

from vla_driving.constants import FASTDDS_PROFILE_ENV, FASTDDS_PROFILE_FILE
from vla_driving.resources import package_file


def local_dds_profile() -> Path | None:
    """The shared-memory-only Fast DDS profile: from the checkout, else the installed share."""
    profile = package_file(Path("config") / FASTDDS_PROFILE_FILE)
    return profile if profile.is_file() else None


def ensure_local_dds(env: dict | None = None) -> dict:
    """Point `env` (default: os.environ) at the local profile unless one is set already.
    Call before rclpy.init(); returns `env` for passing to subprocesses."""
    env = os.environ if env is None else env
    if not env.get(FASTDDS_PROFILE_ENV):
        profile = local_dds_profile()
        if profile is not None:
            env[FASTDDS_PROFILE_ENV] = str(profile)
    return env

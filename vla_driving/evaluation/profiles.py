"""Where the evaluation finds the ROS parameter profiles it starts nodes with."""

from __future__ import annotations

from pathlib import Path

from vla_driving.resources import package_file


def profile_path(name: str) -> Path:
    """config/<name> of the source tree, else of the installed share directory."""
    return package_file(Path("config") / name)

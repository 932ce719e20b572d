"""Where the evaluation finds the ROS parameter profiles it starts nodes with."""

from __future__ import annotations

import sys
from pathlib import Path


def profile_path(name: str) -> Path:
    """config/<name> of the source tree, else of the installed share directory."""
    source = Path(__file__).resolve().parents[2] / "config" / name
    installed = Path(sys.prefix) / "share" / "vla_driving" / "config" / name
    return source if source.is_file() or not installed.is_file() else installed

"""Message types imported by name, and messages filled from the adapters' plain dicts.

Output types that are not installed everywhere (ackermann_msgs, carla_msgs, Autoware) are
imported only when a config selects them, with an error that names the missing package.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

# Packages with a recipe in the project's interfaces/ folder (built into the venv by make install).
BUILT_HERE = ("ackermann_msgs", "carla_msgs", "autoware_control_msgs", "autoware_planning_msgs")


class MessageTypeError(ImportError):
    """A configured message type is not installed."""


def import_message(type_name: str) -> type:
    """`pkg/msg/Type` -> the generated Python class."""
    try:
        package, kind, name = type_name.split("/")
    except ValueError:
        raise MessageTypeError(f"message type {type_name!r} is not of the form pkg/msg/Type") from None
    try:
        module = importlib.import_module(f"{package}.{kind}")
    except ImportError as exc:
        raise MessageTypeError(f"message package '{package}' is not installed (needed for "
                               f"{type_name}): {install_hint(package)}, or choose another "
                               "output") from exc
    try:
        return getattr(module, name)
    except AttributeError:
        raise MessageTypeError(f"{package}.{kind} has no type {name}") from None


def install_hint(package: str) -> str:
    distro = os.environ.get("ROS_DISTRO", "$ROS_DISTRO")
    hint = f"install ros-{distro}-{package.replace('_', '-')}"
    if package in BUILT_HERE:
        hint += " or build it from the project's interfaces/ (make install)"
    return hint


def fill_message(msg: Any, values: dict[str, Any]) -> Any:
    """Set the fields of `msg` from nested dicts (sub-messages are filled in place)."""
    for key, value in values.items():
        if not hasattr(msg, key):
            raise AttributeError(f"{type(msg).__name__} has no field {key!r}")
        if isinstance(value, dict):
            fill_message(getattr(msg, key), value)
        else:
            setattr(msg, key, value)
    return msg

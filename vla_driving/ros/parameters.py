"""Declare ROS parameters from a `Config` dataclass and read the validated config back.

Every node calls `declare_config(node, MyConfig)` once: each leaf field becomes a parameter
(nested configs become dotted names, `ingest.cameras`) with its doc as the description, ROS
overrides (YAML via `--params-file`, launch, or `parameter_overrides`) replace the defaults,
and the result is validated by the dataclass, so a bad value fails with the same `ConfigError`
as a bad YAML file. Parameters use dynamic typing because the dataclass, not ROS, checks types
(ROS would refuse `1` for a float parameter).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from rcl_interfaces.msg import ParameterDescriptor
from rclpy.node import Node
from rclpy.parameter import Parameter

from vla_driving.configuration import Config, ConfigError, flatten, load_node_parameters

C = TypeVar("C", bound=Config)


def _ros_value(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


# parameters rclpy itself declares or reads, never a typo of ours
ROS_OWN_PARAMETERS = ("use_sim_time", "start_type_description_service", "qos_overrides.")


def declare_config(node: Node, cls: type[C], prefix: str = "") -> C:
    """Declare every field of `cls` (under `prefix`, e.g. "ingest.") and return the config.
    An override (`--params-file`, launch) that names no field is a `ConfigError`, not ignored."""
    names = [name for name, _, _ in cls.describe(prefix=prefix)]
    for name, default, doc in cls.describe(prefix=prefix):
        if not node.has_parameter(name):
            descriptor = ParameterDescriptor(description=doc, dynamic_typing=True)
            node.declare_parameter(name, _ros_value(default), descriptor)
    overrides = getattr(node, "_parameter_overrides", {}) or {}
    unknown = sorted(k for k in overrides if k.startswith(prefix) and k not in names
                     and not k.startswith(ROS_OWN_PARAMETERS))
    if unknown and not prefix:
        raise ConfigError(f"{node.get_name()}: parameter {unknown[0]}: unknown key for "
                          f"{cls.__name__} (known: {', '.join(sorted(names))})")
    return read_config(node, cls, prefix)


def read_config(node: Node, cls: type[C], prefix: str = "") -> C:
    """The current parameter values of `cls`'s fields, validated (raises `ConfigError`)."""
    flat = {}
    for name, _, _ in cls.describe(prefix=prefix):
        value = node.get_parameter(name).value
        if value is not None:
            flat[name[len(prefix):]] = value
    try:
        return cls.from_flat(flat)
    except ConfigError as exc:
        raise ConfigError(f"{node.get_name()}: parameter {prefix}{exc}") from None


def config_overrides(config: Config, prefix: str = "") -> list[Parameter]:
    """`parameter_overrides` that make a node start with `config` (in-process bringup, tests)."""
    return [Parameter(prefix + name, value=_ros_value(value))
            for name, value in config.to_flat().items() if value is not None]


def yaml_overrides(path: str | Path, node_name: str) -> list[Parameter]:
    """`parameter_overrides` from a `ros__parameters` YAML file, as `--params-file` would give."""
    params = flatten(load_node_parameters(path, node_name))
    return [Parameter(name, value=_ros_value(value)) for name, value in params.items()]

"""Typed, validated component configs loaded from ROS 2 parameter YAML.

Every component has one dataclass deriving from `Config`. Fields are declared with `param()`, which
records the documentation and the allowed range, so that the same description validates YAML,
declares ROS parameters (`vla_driving.ros.parameters`) and documents the CLI. YAML files are in
`ros__parameters` form, so one file serves `ros2 launch` and the in-process bringup alike:

    vla_planner:
      ros__parameters:
        rate_hz: 10.0
        ingest:
          cameras: [front, left]
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from pathlib import Path
from typing import Any, Mapping

import yaml

ROS_PARAMETERS = "ros__parameters"


class ConfigError(ValueError):
    """A config value is missing, of the wrong type or out of its allowed range."""


def param(default: Any, doc: str, *, low: float | None = None, high: float | None = None,
          choices: tuple | None = None, min_len: int | None = None) -> Any:
    """A documented config field with its allowed range (`low`/`high` are inclusive)."""
    meta = {"doc": doc, "low": low, "high": high, "choices": choices, "min_len": min_len}
    if isinstance(default, (list, dict, set)):
        value = default
        return dataclasses.field(default_factory=lambda: type(value)(value), metadata=meta)
    if dataclasses.is_dataclass(default):
        value = default
        return dataclasses.field(default_factory=lambda: dataclasses.replace(value), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def _origin(tp: Any) -> Any:
    return typing.get_origin(tp) or tp


def _is_optional(tp: Any) -> bool:
    return _origin(tp) in (typing.Union, types.UnionType) and type(None) in typing.get_args(tp)


def _coerce(name: str, tp: Any, value: Any) -> Any:
    """Check (and minimally convert: int -> float, list -> tuple) one value against its type."""
    if _is_optional(tp):
        if value is None:
            return None
        tp = next(a for a in typing.get_args(tp) if a is not type(None))
    origin = _origin(tp)
    if dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        if not isinstance(value, Mapping):
            raise ConfigError(f"{name}: expected a mapping for {tp.__name__}, got {value!r}")
        return tp.from_dict(value, prefix=f"{name}.")
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{name}={value!r}: expected a number")
        if not math.isfinite(float(value)):
            raise ConfigError(f"{name}={value!r}: must be finite")
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{name}={value!r}: expected an integer")
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{name}={value!r}: expected true or false")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{name}={value!r}: expected a string")
        return value
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{name}={value!r}: expected a list")
        args = typing.get_args(tp)
        item = args[0] if args else Any
        items = [value_i if item is Any else _coerce(f"{name}[{i}]", item, value_i)
                 for i, value_i in enumerate(value)]
        return items if origin is list else tuple(items)
    return value


def _check_range(name: str, value: Any, meta: Mapping[str, Any]) -> None:
    low, high, choices, min_len = meta.get("low"), meta.get("high"), meta.get("choices"), meta.get("min_len")
    values = value if isinstance(value, (list, tuple)) and (low is not None or high is not None or choices) else [value]
    for v in values:
        if v is None:
            continue
        if choices is not None and v not in choices:
            raise ConfigError(f"{name}={v!r}: allowed values are {list(choices)}")
        if low is not None and v < low or high is not None and v > high:
            lo = "-inf" if low is None else low
            hi = "inf" if high is None else high
            raise ConfigError(f"{name}={v!r}: out of range [{lo}, {hi}]")
    if min_len is not None and len(value) < min_len:
        raise ConfigError(f"{name}={value!r}: needs at least {min_len} item(s)")


@dataclasses.dataclass
class Config:
    """Base of every component config: validation on construction, loading from YAML."""

    def __post_init__(self) -> None:
        hints = typing.get_type_hints(type(self))
        for f in dataclasses.fields(self):
            value = _coerce(f.name, hints[f.name], getattr(self, f.name))
            _check_range(f.name, value, f.metadata)
            object.__setattr__(self, f.name, value)
        self.validate()

    def validate(self) -> None:
        """Cross-field checks; override and raise `ConfigError` naming the keys."""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None, prefix: str = ""):
        """Build from a (possibly nested) mapping; unknown keys are an error, not ignored."""
        data = dict(data or {})
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ConfigError(f"{prefix}{unknown[0]}: unknown key for {cls.__name__} "
                              f"(known: {', '.join(sorted(names))})")
        try:
            return cls(**data)
        except ConfigError as exc:
            if prefix and not str(exc).startswith(prefix):
                raise ConfigError(prefix + str(exc)) from None
            raise

    @classmethod
    def from_yaml(cls, path: str | Path, node: str, section: str | None = None):
        """Load the `ros__parameters` of `node` (optionally one nested `section` of it)."""
        params = load_node_parameters(path, node)
        if section is not None:
            params = params.get(section, {})
            prefix = f"{node}.{section}."
        else:
            prefix = f"{node}."
        return cls.from_dict(params, prefix=prefix)

    @classmethod
    def from_flat(cls, flat: Mapping[str, Any]):
        """Build from dotted ROS parameter names (`ingest.cameras`) as ROS reports them."""
        return cls.from_dict(unflatten(flat))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_flat(self) -> dict[str, Any]:
        return flatten(self.to_dict())

    @classmethod
    def describe(cls, prefix: str = "") -> list[tuple[str, Any, str]]:
        """(dotted name, default, doc) of every leaf field, for ROS declarations and docs."""
        out = []
        defaults = cls()
        for f in dataclasses.fields(cls):
            value = getattr(defaults, f.name)
            if isinstance(value, Config):
                out.extend(type(value).describe(prefix=f"{prefix}{f.name}."))
            else:
                out.append((prefix + f.name, value, f.metadata.get("doc", "")))
        return out


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{prefix}{key}."))
        else:
            out[prefix + key] = value
    return out


def unflatten(flat: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in flat.items():
        node = out
        *parents, leaf = key.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return out


def load_yaml(path: str | Path) -> Any:
    """A YAML file's content; a syntax error is one `ConfigError` naming file, line and column."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        with path.open() as fh:
            return yaml.safe_load(fh)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{where}: invalid YAML: {problem}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None


def yaml_position(path: str | Path, keys: list[str]) -> tuple[int, int] | None:
    """1-based (line, column) of the nested mapping key `keys` in a YAML file (None if absent)."""
    try:
        with Path(path).open() as fh:
            node = yaml.compose(fh)
    except (OSError, yaml.YAMLError):
        return None
    mark = None
    for key in keys:
        if not isinstance(node, yaml.MappingNode):
            break
        match = next(((k, v) for k, v in node.value if getattr(k, "value", None) == key), None)
        if match is None:
            break
        mark, node = match[0].start_mark, match[1]
    return None if mark is None else (mark.line + 1, mark.column + 1)


def locate_error(exc: ConfigError, path: str | Path, node: str) -> ConfigError:
    """`exc` (a message starting with `node.a.b` then `=` or `:`) prefixed with `file:line:col`
    of the deepest of those keys found under `node.ros__parameters` in `path`."""
    text = str(exc)
    head = text.split("=", 1)[0].split(":", 1)[0].strip()
    keys = [k.split("[", 1)[0] for k in head.split(".") if k]
    if keys and keys[0] == node:
        keys = keys[1:]
    pos = yaml_position(path, [node, ROS_PARAMETERS, *keys]) or yaml_position(path, [node])
    where = f"{path}:{pos[0]}:{pos[1]}" if pos else str(path)
    return ConfigError(f"{where}: {text}")


def load_node_parameters(path: str | Path, node: str) -> dict[str, Any]:
    """The `ros__parameters` mapping of one node in a ROS 2 parameter file."""
    path = Path(path)
    doc = load_yaml(path) or {}
    if not isinstance(doc, Mapping):
        raise ConfigError(f"{path}: expected a mapping of node names")
    section = doc.get(node, doc.get(f"/{node}", doc.get("/**")))
    if section is None:
        return {}
    if not isinstance(section, Mapping) or ROS_PARAMETERS not in section:
        raise ConfigError(f"{path}: node '{node}' has no '{ROS_PARAMETERS}' mapping")
    return dict(section[ROS_PARAMETERS] or {})

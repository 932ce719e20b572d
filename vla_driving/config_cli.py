"""Command-line options derived from a `Config` dataclass, so a field is declared once.

`add_config_arguments(parser, Cls)` adds one `--field-name` per leaf field with the field's type,
choices and documentation; `config_from_args(Cls, args)` builds the validated config from the
options given on top of a base config (defaults, or a profile loaded from YAML). Nested configs
become `--section.field`. Options not given keep the base value, so the YAML stays the source of
truth and the command line overrides it.
"""

from __future__ import annotations

import argparse
import dataclasses
import typing
from typing import Any, Mapping, TypeVar

from vla_driving.configuration import Config, unflatten

C = TypeVar("C", bound=Config)
_SEP = "__"  # argparse dest separator for nested fields (dots are not valid attribute names)


def _leaves(cls: type[Config], prefix: str = "", values: Config | None = None):
    """(dotted name, type, metadata, value) of every leaf field, nested configs flattened."""
    hints = typing.get_type_hints(cls)
    values = values if values is not None else cls()
    for f in dataclasses.fields(cls):
        tp, value = hints[f.name], getattr(values, f.name)
        if isinstance(value, Config):
            yield from _leaves(type(value), f"{prefix}{f.name}.", value)
        else:
            yield prefix + f.name, tp, f.metadata, value


def _item_type(tp: Any) -> tuple[Any, bool]:
    """The scalar type of a field and whether it takes a list."""
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    origin = typing.get_origin(tp)
    if origin in (list, tuple):
        return (args[0] if args else str), True
    if origin is not None and args:  # Optional[X]
        return _item_type(args[0])
    return tp, False


def add_config_arguments(parser: argparse.ArgumentParser, cls: type[Config],
                         rename: Mapping[str, str] | None = None, skip: tuple[str, ...] = (),
                         prefix: str = "", base: Config | None = None) -> None:
    """One option per leaf field of `cls`: `--name` (`rename` maps a field to another option
    name, kept for options users already type); fields in `skip` stay YAML-only. The help shows
    the values of `base` (the config the options apply to), else the defaults."""
    rename = dict(rename or {})
    for name, tp, meta, default in _leaves(cls, values=base):
        if name in skip:
            continue
        option = "--" + prefix + rename.get(name, name).replace("_", "-")
        item, many = _item_type(tp)
        kwargs: dict[str, Any] = {"dest": _dest(prefix + name), "default": argparse.SUPPRESS,
                                  "help": f"{meta.get('doc', '')} (default: {default!r})".replace("%", "%%")}
        if meta.get("choices"):
            kwargs["choices"] = meta["choices"]
        if item is bool and not many:
            kwargs["action"] = argparse.BooleanOptionalAction
        else:
            kwargs["type"] = item if item in (int, float, str) else str
            kwargs["metavar"] = rename.get(name, name).split(".")[-1].upper()
            if many:
                kwargs["nargs"] = "*" if not meta.get("min_len") else "+"
        parser.add_argument(option, **kwargs)


def given_options(args: argparse.Namespace, prefix: str = "") -> dict[str, Any]:
    """The config fields set on the command line, as a nested mapping."""
    lead = _dest(prefix)
    return unflatten({k[len(lead):].replace(_SEP, "."): v for k, v in vars(args).items()
                      if k.startswith(lead)})


def config_from_args(cls: type[C], args: argparse.Namespace, base: C | None = None,
                     prefix: str = "") -> C:
    """`base` (or the defaults) with the options given on the command line, validated."""
    data = (base or cls()).to_dict()
    _merge(data, given_options(args, prefix))
    return cls.from_dict(data)


def _merge(into: dict, over: Mapping) -> None:
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def _dest(name: str) -> str:
    """argparse dest of a dotted field name (`ingest.cameras` -> `cfg__ingest__cameras`)."""
    return "cfg" + _SEP + name.replace(".", _SEP)

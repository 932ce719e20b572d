"""A command line of subcommands, each a module imported only when it runs.

Each subcommand module exposes `add_arguments(parser)` and `main(args) -> int`; `dispatch`
imports it only when its words are given, so `vla-driving bench ingest` never imports torch and
`vla-driving export` never imports rclpy. Shared by `vla-driving` and `vla-train`.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from vla_driving.configuration import ConfigError
from vla_driving.quiet import VERBOSE_ENV, is_verbose, quiet_third_party

Command = tuple[tuple[str, ...], str, str]  # (command words, module, one-line help)


def build_parser(commands: list[Command], prog: str, description: str = "") -> argparse.ArgumentParser:
    """The command tree, for help and for rejecting unknown commands."""
    parser = argparse.ArgumentParser(prog=prog, description=description or None)
    parser.add_argument("--verbose", action="store_true", help="before the command: show "
                        f"third-party start-up warnings (same as {VERBOSE_ENV}=1)")
    groups = {(): parser.add_subparsers(dest="command", required=True, metavar="COMMAND")}
    for words, _, help_text in commands:
        for depth in range(1, len(words)):
            key = words[:depth]
            if key not in groups:
                sub = groups[key[:-1]].add_parser(key[-1], help=f"{key[-1]} commands")
                groups[key] = sub.add_subparsers(dest=f"sub{depth}", required=True, metavar="COMMAND")
        groups[words[:-1]].add_parser(words[-1], help=help_text)
    return parser


def dispatch(argv: list[str] | None, commands: list[Command], prog: str,
             description: str = "") -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--verbose"]:       # for this process and the processes it starts
        os.environ[VERBOSE_ENV] = "1"
        argv = argv[1:]
    for words, module, help_text in commands:
        if tuple(argv[: len(words)]) == words:
            return _run_leaf(f"{prog} {' '.join(words)}", module, help_text, argv[len(words):])
    build_parser(commands, prog, description).parse_args(argv)  # prints help or names the bad command
    return 2


def _run_leaf(prog: str, module_name: str, help_text: str, argv: list[str]) -> int:
    quiet_third_party()
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            print(f"{prog}: not available in this build ({module_name} is missing)", file=sys.stderr)
        else:
            print(f"{prog}: missing dependency '{exc.name}'; install the extra that provides it, "
                  f"e.g. pip install 'vla_driving[ros,train]'", file=sys.stderr)
        return 2
    parser = argparse.ArgumentParser(prog=prog, description=help_text)
    module.add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return int(module.main(args) or 0)
    except ConfigError as exc:  # a bad option or profile value: one line, not a traceback
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    except (FileNotFoundError, NotADirectoryError) as exc:   # a path given that is not there
        if is_verbose():
            raise
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2

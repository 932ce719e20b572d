"""`vla-driving`: the package's one command line.

Each subcommand lives in its own module exposing `add_arguments(parser)` and `main(args) -> int`,
imported only when that subcommand runs, so `vla-driving bench ingest` never imports torch and
`vla-driving export` never imports rclpy.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# (command words, module, one-line help)
COMMANDS: list[tuple[tuple[str, ...], str, str]] = [
    (("run",), "vla_driving.ros.bringup", "start the nodes of a profile in one process"),
    (("demo",), "vla_driving.evaluation.demo", "the main job: closed loop + replay + summary"),
    (("bench", "ingest"), "vla_driving.ros.bench_ingest", "multi-camera ingest throughput"),
    (("bench", "engines"), "vla_driving.engines.bench", "encoder / LLM backends side by side"),
    (("bench", "stack"), "vla_driving.ros.bench_stack", "planner latency and controller jitter"),
    (("export", "onnx"), "vla_driving.engines.export_onnx", "export the vision encoder to ONNX"),
    (("export", "gptq"), "vla_driving.engines.export_gptq", "quantize the LLM to GPTQ INT4"),
    (("export", "build-engines"), "vla_driving.engines.build_engines", "build TensorRT engines"),
    (("export", "bundle"), "vla_driving.engines.export_bundle", "checkpoint -> verified bundle"),
    (("export", "verify"), "vla_driving.policy.verify_cli", "verify a bundle's manifest and hashes"),
    (("eval", "replay"), "vla_driving.evaluation.replay_cli", "open-loop evaluation on rosbags"),
    (("eval", "closed-loop"), "vla_driving.evaluation.closed_loop_cli", "closed loop in the simulator"),
]


def build_parser(commands=COMMANDS, prog: str = "vla-driving") -> argparse.ArgumentParser:
    """The command tree, for help and for rejecting unknown commands."""
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    groups = {(): parser.add_subparsers(dest="command", required=True, metavar="COMMAND")}
    for words, _, help_text in commands:
        for depth in range(1, len(words)):
            key = words[:depth]
            if key not in groups:
                sub = groups[key[:-1]].add_parser(key[-1], help=f"{key[-1]} commands")
                groups[key] = sub.add_subparsers(dest=f"sub{depth}", required=True, metavar="COMMAND")
        groups[words[:-1]].add_parser(words[-1], help=help_text)
    return parser


def dispatch(argv: list[str] | None, commands=COMMANDS, prog: str = "vla-driving") -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    for words, module, help_text in commands:
        if tuple(argv[: len(words)]) == words:
            return _run_leaf(f"{prog} {' '.join(words)}", module, help_text, argv[len(words):])
    build_parser(commands, prog).parse_args(argv)  # prints help or names the bad command
    return 2


def _run_leaf(prog: str, module_name: str, help_text: str, argv: list[str]) -> int:
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
    return int(module.main(parser.parse_args(argv)) or 0)


def main(argv: list[str] | None = None) -> int:
    return dispatch(argv)


if __name__ == "__main__":
    sys.exit(main())

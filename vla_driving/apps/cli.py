"""`vla-driving`: the package's one command line.

Each subcommand lives in its own module exposing `add_arguments(parser)` and `main(args) -> int`,
imported only when that subcommand runs, so `vla-driving bench ingest` never imports torch and
`vla-driving export` never imports rclpy.
"""

from __future__ import annotations

import sys

from vla_driving.commands import Command, dispatch

COMMANDS: list[Command] = [
    (("run",), "vla_driving.apps.run", "start the nodes of a profile in one process"),
    (("demo",), "vla_driving.apps.demo", "the main job: closed loop + replay + summary"),
    (("bench", "ingest"), "vla_driving.apps.bench_ingest", "multi-camera ingest throughput"),
    (("bench", "engines"), "vla_driving.apps.bench_engines", "encoder / LLM backends side by side"),
    (("bench", "stack"), "vla_driving.apps.bench_stack", "planner latency and controller jitter"),
    (("bench", "soak"), "vla_driving.apps.bench_soak", "an hour of sim time: RSS, latency drift"),
    (("bench", "warm"), "vla_driving.apps.bench_warm", "first plan after configure, cold vs warm"),
    (("bench", "gpu"), "vla_driving.apps.bench_gpu", "the bundle and a 0.5B-sized LLM on the GPU"),
    (("bench", "cameras"), "vla_driving.apps.bench_cameras", "sim speed with perspective cameras"),
    (("bench", "all"), "vla_driving.apps.bench_all", "every bench, one JSON of the figures"),
    (("export", "onnx"), "vla_driving.apps.export_onnx", "export the vision encoder to ONNX"),
    (("export", "gptq"), "vla_driving.apps.export_gptq", "quantize the LLM to GPTQ INT4"),
    (("export", "build-engines"), "vla_driving.apps.export_engines", "build TensorRT engines"),
    (("export", "bundle"), "vla_driving.apps.export_bundle", "checkpoint -> verified bundle"),
    (("export", "verify"), "vla_driving.apps.export_verify", "verify a bundle's manifest and hashes"),
    (("eval", "replay"), "vla_driving.apps.eval_replay", "open-loop evaluation on rosbags"),
    (("eval", "closed-loop"), "vla_driving.apps.eval_closed_loop", "closed loop in the simulator"),
]


def main(argv: list[str] | None = None) -> int:
    return dispatch(argv, COMMANDS, "vla-driving", __doc__.splitlines()[0])


if __name__ == "__main__":
    sys.exit(main())

"""`vla-train`: the training subpackage's one command line (same registry pattern as vla-driving)."""

from __future__ import annotations

import sys

from vla_driving.commands import Command, dispatch

COMMANDS: list[Command] = [
    (("data", "generate"), "vla_driving_training.data.generate_cli",
     "simulator episodes -> rosbag2 files"),
    (("data", "inspect"), "vla_driving_training.data.inspect_cli",
     "counts, meta-action histogram and a contact sheet of bags"),
    (("data", "build-index"), "vla_driving_training.data.index_cli",
     "dataset index with episode splits, difficulty and class weights"),
    (("train",), "vla_driving_training.train_cli", "train a model"),
    (("from-bundle",), "vla_driving_training.from_bundle",
     "a trainable checkpoint from an exported bundle (GPTQ LLM dequantized)"),
    (("dagger",), "vla_driving_training.dagger.cli",
     "closed-loop learning: roll out, label with the shadow expert, retrain, keep the best"),
    (("evaluate",), "vla_driving_training.evaluate",
     "held-out figures of a checkpoint vs constant velocity, against the bundle targets"),
]


def main(argv: list[str] | None = None) -> int:
    return dispatch(argv, COMMANDS, "vla-train", __doc__.splitlines()[0])


if __name__ == "__main__":
    sys.exit(main())

"""Run by torchrun in test_ddp_sync.py: tiny training with the lead-car loss, then each rank
writes a digest of the model's weights and of the training-only lead head's."""

import dataclasses
import hashlib
import os
import sys
from pathlib import Path

import torch

from vla_driving_training import loop
from vla_driving_training.presets import stage_named, tiny
from vla_driving_training.synthetic import SyntheticDrivingDataset
from vla_driving_training.train import train


def digest(model: torch.nn.Module) -> str:
    h = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(tensor.detach().contiguous().numpy().tobytes())
    return h.hexdigest()


def main(out: str) -> None:
    torch.set_num_threads(1)
    rank = int(os.environ["RANK"])
    cfg = tiny()
    drive = stage_named(cfg, "drive")
    drive.weights = dataclasses.replace(drive.weights, lead=1.0)
    heads = []   # the drive stage's lead head (the other stages have none)
    make_probes = loop._probes

    def make_and_keep(*args):
        probes = make_probes(*args)
        heads.extend(probes.values())
        return probes

    loop._probes = make_and_keep
    result = train(cfg, SyntheticDrivingDataset(32), None, out)
    batch_fingerprint = sum(result["results"]["drive"]["loss"])
    Path(out, f"rank{rank}.txt").write_text(
        f"{digest(result['model'])}\n{batch_fingerprint!r}\n{int(os.environ['WORLD_SIZE'])}\n"
        f"{digest(heads[0])}\n{len(heads)}\n")


if __name__ == "__main__":
    main(sys.argv[1])

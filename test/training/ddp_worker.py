"""Run by torchrun in test_ddp_sync.py: tiny training, then each rank writes a weight digest."""

import hashlib
import os
import sys
from pathlib import Path

import torch

from vla_driving_training.presets import tiny
from vla_driving_training.synthetic import SyntheticDrivingDataset
from vla_driving_training.train import train


def digest(model) -> str:
    h = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(tensor.detach().contiguous().numpy().tobytes())
    return h.hexdigest()


def main(out: str) -> None:
    torch.set_num_threads(1)
    rank = int(os.environ["RANK"])
    result = train(tiny(), SyntheticDrivingDataset(32), None, out)
    batch_fingerprint = sum(result["results"]["drive"]["loss"])
    Path(out, f"rank{rank}.txt").write_text(
        f"{digest(result['model'])}\n{batch_fingerprint!r}\n{int(os.environ['WORLD_SIZE'])}\n")


if __name__ == "__main__":
    main(sys.argv[1])

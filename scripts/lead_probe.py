"""Does a checkpoint's vision see the car ahead? A ridge read-out of its frozen visual tokens
predicts the lead car's gap (`training/data/lead.py`: nearest car ahead in the ego's lane,
capped at 80 m) on held-out frames, beside the same read-out of the same frontend at random
initialisation (docs/training.md, "The vision does not see the lead"). With `--target lane`,
the same read-out of the ego's offset and heading in its lane (`training/data/lane.py`).

    .venv/bin/python scripts/lead_probe.py --checkpoint runs/start \
        [--train data/train] [--test data/heldout] [--scenario highway] [--episodes 30] \
        [--target lead|lane]

Prints, per frontend and ridge strength: R^2 of the gap, accuracy of "a lead within 50 m"
(the share of the majority class is printed beside it) and the gap's mean error where a lead is
within 50 m; for the lane, R^2 and mean error of the offset (m) and of the heading (rad).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from vla_driving.model.checkpoint import load_checkpoint
from vla_driving.model.vision import normalise_images
from vla_driving.quiet import quiet_third_party
from vla_driving_training.data.dataset import DatasetConfig, DrivingDataset
from vla_driving_training.data.lane import HEADING_SCALE_RAD, OFFSET_SCALE_M
from vla_driving_training.data.lead import LEAD_RANGE_M

NEAR_M = 50.0
LAMBDAS = (10.0, 100.0, 1000.0, 10000.0)


def tokens_and_gaps(model, ds: DrivingDataset, step: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Flattened visual tokens and, per frame, [lead gap m, lane offset m, heading error rad] of
    every `step`-th frame."""
    feats, gaps = [], []
    index = list(range(0, len(ds), step))
    with torch.no_grad():
        for k in range(0, len(index), 64):
            items = [ds[i] for i in index[k:k + 64]]
            images = normalise_images(torch.stack([it["images"] for it in items]),
                                      model.cfg.vision)
            feats.append(model.frontend(images).flatten(1).numpy())
            gaps += [[float(it["lead"][1]) * LEAD_RANGE_M,
                      float(it["lane"][1]) * OFFSET_SCALE_M,
                      float(it["lane"][2]) * HEADING_SCALE_RAD] for it in items]
    return np.concatenate(feats), np.array(gaps)


def ridge(x_train, y_train, x_test, lam: float) -> np.ndarray:
    mu, sd = x_train.mean(0), x_train.std(0) + 1e-6
    a, b = (x_train - mu) / sd, (x_test - mu) / sd
    w = np.linalg.solve(a.T @ a + lam * np.eye(a.shape[1]), a.T @ (y_train - y_train.mean()))
    return b @ w + y_train.mean()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--train", default="data/train")
    parser.add_argument("--test", default="data/heldout")
    parser.add_argument("--scenario", default="highway")
    parser.add_argument("--episodes", type=int, default=30, help="training episodes read")
    parser.add_argument("--target", default="lead", choices=("lead", "lane"))
    args = parser.parse_args()
    quiet_third_party()   # as the CLIs do: third-party start-up notices hidden
    torch.set_num_threads(2)
    cfg = DatasetConfig(image_size=load_checkpoint(args.checkpoint)[0].cfg.vision.image_size)
    train = DrivingDataset(sorted(Path(args.train).glob(f"{args.scenario}_*"))[:args.episodes],
                           cfg)
    test = DrivingDataset(sorted(Path(args.test).glob(f"{args.scenario}_*")), cfg)
    for name in ("trained", "random init"):
        model, _ = load_checkpoint(args.checkpoint)
        model.eval()
        if name == "random init":
            torch.manual_seed(0)
            for module in model.frontend.modules():
                if hasattr(module, "reset_parameters"):
                    module.reset_parameters()
        x_train, y_train = tokens_and_gaps(model, train)
        x_test, y_test = tokens_and_gaps(model, test)
        for lam in LAMBDAS:
            head = f"{name:<11} lambda {lam:>6g}: {len(y_train)} / {len(y_test)} frames, "
            if args.target == "lead":
                print(head + lead_line(ridge(x_train, y_train[:, 0], x_test, lam), y_test[:, 0]))
            else:
                parts = []
                for k, label, unit in ((1, "offset", "m"), (2, "heading", "rad")):
                    pred = ridge(x_train, y_train[:, k], x_test, lam)
                    parts.append(f"{label} R2 {r2(pred, y_test[:, k]):5.2f}, error "
                                 f"{np.abs(pred - y_test[:, k]).mean():.3f} {unit}")
                print(head + "; ".join(parts))


def r2(pred: np.ndarray, y: np.ndarray) -> float:
    return float(1 - ((pred - y) ** 2).sum() / max(((y - y.mean()) ** 2).sum(), 1e-12))


def lead_line(pred: np.ndarray, y: np.ndarray) -> str:
    near = y < NEAR_M
    majority = max(near.mean(), 1 - near.mean())
    acc = ((pred < NEAR_M) == near).mean()
    err = np.abs(pred - y)[near].mean() if near.any() else float("nan")
    return (f"R2 {r2(pred, y):5.2f}, lead within {NEAR_M:g} m {acc:.0%} (majority "
            f"{majority:.0%}), gap error {err:.1f} m")

if __name__ == "__main__":
    main()

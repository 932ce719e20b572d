"""A tiny VLA overfitted on six synthetic samples, shared by the training tests (about 10 s)."""

import dataclasses

import pytest
import torch

from vla_driving_training.presets import stage_named, tiny
from vla_driving_training.synthetic import SyntheticDrivingDataset
from vla_driving_training.train import train

OVERFIT_SAMPLES = 6
OVERFIT_STEPS = 300


@pytest.fixture(scope="session")
def overfit_tiny(tmp_path_factory):
    """(model, tokenizer, dataset, loss history) after a drive-only stage on 6 samples."""
    torch.set_num_threads(1)
    cfg = tiny()
    stage = dataclasses.replace(stage_named(cfg, "drive"), steps=OVERFIT_STEPS, lr=3e-3,
                                warmup_steps=10,
                                batch_size=OVERFIT_SAMPLES)
    cfg = dataclasses.replace(cfg, stages=[stage], val_text_samples=0)
    data = SyntheticDrivingDataset(OVERFIT_SAMPLES)
    out = train(cfg, data, None, tmp_path_factory.mktemp("overfit"))
    model = out["model"].eval()
    return model, out["tokenizer"], data, out["results"]["drive"]["loss"]

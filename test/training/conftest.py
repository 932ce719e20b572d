"""A tiny VLA overfitted on six synthetic samples, shared by the training tests (about 10 s),
and one step of its training-only token probes."""

import dataclasses
import random

import pytest
import torch

from vla_driving_training.collate import collate_samples
from vla_driving_training.config import LossWeights
from vla_driving_training.loop import _probes
from vla_driving_training.presets import stage_named, tiny
from vla_driving_training.synthetic import SyntheticDrivingDataset
from vla_driving_training.tasks import batch_loss
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


@pytest.fixture
def probe_step(overfit_tiny):
    """`run(key, samples)` -> (drive loss terms, probe keys built, whether the frontend got a
    gradient): one backward of the tiny model's drive task on `samples` with only the token
    probe `key` weighed (`LossWeights.<key>` = 1, every other weight 0); the probes are
    unhooked after."""
    model, tokenizer, _, _ = overfit_tiny
    weights = LossWeights(text=0.0, waypoints=0.0, controls=0.0, meta=0.0, completed=0.0)

    def run(key: str, samples: list[dict]) -> tuple[dict, list[str], bool]:
        stage = dataclasses.replace(stage_named(tiny(), "drive"),
                                    weights=dataclasses.replace(weights, **{key: 1.0}))
        probes = _probes(model, stage)
        model.train()
        model.zero_grad()
        try:
            loss, terms = batch_loss(model, model.cfg, tokenizer, collate_samples(samples),
                                     ["drive"], stage.weights, random.Random(0), probes=probes)
            loss.backward()
        finally:
            for head in probes.values():
                head.detach()
            model.eval()
        grad = any(p.grad is not None and p.grad.abs().sum() > 0
                   for p in model.frontend.parameters())
        return terms, list(probes), grad

    return run

"""Distillation: teachers give the mean of their meta-action probabilities, refuse checkpoints
that read other batches, and a student trained on the distillation term alone moves towards them."""

import argparse
import dataclasses

import pytest
import torch

from vla_driving.configuration import ConfigError
from vla_driving.model.checkpoint import save_checkpoint
from vla_driving.model.inference import plan_actions
from vla_driving.model.vla import VLAModel
from vla_driving_training import train_cli
from vla_driving_training.collate import collate_samples
from vla_driving_training.config import LossWeights, StageConfig
from vla_driving_training.distill import Teachers
from vla_driving_training.presets import stage_named, tiny
from vla_driving_training.synthetic import SyntheticDrivingDataset
from vla_driving_training.train import train


@pytest.fixture(scope="module")
def teacher_dirs(overfit_tiny, tmp_path_factory):
    """The overfitted tiny model and an untrained one of the same config, saved as checkpoints."""
    model, tokenizer, _, _ = overfit_tiny
    root = tmp_path_factory.mktemp("teachers")
    save_checkpoint(model, tokenizer, root / "trained")
    torch.manual_seed(1)
    save_checkpoint(VLAModel(model.cfg), tokenizer, root / "untrained")
    return [str(root / "trained"), str(root / "untrained")]


def batch_of(data, n=None):
    return collate_samples([data[i] for i in range(n or len(data))])


def meta_probs(model, tokenizer, batch):
    out = plan_actions(model.eval(), tokenizer, batch["images"], batch["ego"], batch["past"],
                       batch["instruction"])
    return out.speed_logits.softmax(-1), out.steering_logits.softmax(-1)


def test_soft_targets_are_the_mean_of_the_teachers(overfit_tiny, teacher_dirs):
    model, _, data, _ = overfit_tiny
    teachers = Teachers.load(teacher_dirs, model.cfg)
    batch = batch_of(data)
    speed, steering = teachers.meta_probs(batch)
    each = [meta_probs(m, t, batch) for m, t in teachers.members]
    assert torch.allclose(speed, (each[0][0] + each[1][0]) / 2, atol=1e-6)
    assert torch.allclose(steering, (each[0][1] + each[1][1]) / 2, atol=1e-6)
    assert torch.allclose(speed.sum(-1), torch.ones(len(data)), atol=1e-5)
    assert not torch.allclose(each[0][0], each[1][0], atol=1e-3), "the two teachers agree"
    assert all(not p.requires_grad for m, _ in teachers.members for p in m.parameters())


def test_teacher_that_reads_other_images_or_is_missing_is_refused(overfit_tiny, teacher_dirs,
                                                                   tmp_path):
    model, _, _, _ = overfit_tiny
    other = dataclasses.replace(model.cfg, vision=dataclasses.replace(model.cfg.vision,
                                                                      image_size=48))
    with pytest.raises(ConfigError, match="image_size"):
        Teachers.load(teacher_dirs[:1], other)
    with pytest.raises(FileNotFoundError, match="teacher checkpoint"):
        Teachers.load([str(tmp_path / "nope")], model.cfg)


def test_teachers_and_the_distill_weight_go_together():
    with pytest.raises(ConfigError, match="distill"):
        StageConfig(teachers=["runs/t0/drive"])
    with pytest.raises(ConfigError, match="distill"):
        StageConfig(weights=LossWeights(distill=0.5))
    with pytest.raises(ConfigError, match="drive task"):
        StageConfig(tasks=["qa"], teachers=["t"], weights=LossWeights(distill=0.5))


def test_cli_teachers_set_the_drive_stage_only():
    parser = argparse.ArgumentParser()
    train_cli.add_arguments(parser)
    args = parser.parse_args(["--preset", "tiny", "--data", "synthetic", "--out", "x",
                              "--teachers", "a/drive", "b/drive", "--distill", "0.7"])
    cfg = train_cli.configure(args)
    last = stage_named(cfg, "drive")
    early = [s for s in cfg.stages if s.name != "drive"]
    assert last.teachers == ["a/drive", "b/drive"] and last.weights.distill == 0.7
    assert last.weights.meta == 0.0, "the soft targets replace the hard meta-action labels"
    assert all(not s.teachers and s.weights.distill == 0.0 for s in early)


def test_student_moves_towards_the_teachers(overfit_tiny, teacher_dirs, tmp_path):
    """Meta heads trained by the distillation term alone end nearer the teacher than without it."""
    torch.set_num_threads(1)
    teacher_model, _, data, _ = overfit_tiny
    base = tiny()
    no_meta = dataclasses.replace(stage_named(base, "drive").weights, meta=0.0)
    stage = dataclasses.replace(stage_named(base, "drive"), steps=60, batch_size=len(data), lr=3e-3,
                                weights=no_meta)
    distilled = dataclasses.replace(stage, teachers=teacher_dirs[:1],
                                    weights=dataclasses.replace(no_meta, distill=1.0))
    batch = batch_of(data)
    target = Teachers.load(teacher_dirs[:1], teacher_model.cfg).meta_probs(batch)
    gaps = {}
    for name, s in (("plain", stage), ("distilled", distilled)):
        cfg = dataclasses.replace(base, stages=[s], val_text_samples=0)
        out = train(cfg, data, None, tmp_path / name)
        probs = meta_probs(out["model"], out["tokenizer"], batch)
        gaps[name] = sum(float(torch.nn.functional.kl_div(p.log(), t, reduction="batchmean"))
                         for p, t in zip(probs, target))
    assert gaps["distilled"] < 0.5 * gaps["plain"], gaps

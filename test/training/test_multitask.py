"""A drive stage that keeps captions and QA alive: `aux_per_batch` gives them only the first
samples of the batch that have them, and each task's loss is its own on those samples."""

import random

import torch

from vla_driving_training.collate import collate_samples
from vla_driving_training.config import LossWeights
from vla_driving_training.presets import default, stage_named
from vla_driving_training.tasks import batch_loss, select


def test_aux_tasks_use_only_the_first_samples(overfit_tiny):
    model, tokenizer, data, _ = overfit_tiny
    batch = collate_samples([data[i] for i in range(len(data))])
    assert all(batch["qa"]) and all(d.strip() for d in batch["description"])
    weights = LossWeights()
    torch.manual_seed(0)
    _, limited = batch_loss(model, model.cfg, tokenizer, batch, ["caption"], weights,
                            random.Random(0), aux_per_batch=2)
    _, first_two = batch_loss(model, model.cfg, tokenizer, select(batch, [0, 1]), ["caption"],
                              weights, random.Random(0))
    _, whole = batch_loss(model, model.cfg, tokenizer, batch, ["caption"], weights,
                          random.Random(0))
    assert abs(limited["caption_text"] - first_two["caption_text"]) < 1e-5
    assert abs(limited["caption_text"] - whole["caption_text"]) > 1e-6


def test_drive_stage_with_qa_weights_it_as_qa(overfit_tiny):
    model, tokenizer, data, _ = overfit_tiny
    batch = collate_samples([data[i] for i in range(len(data))])
    weights = LossWeights(qa=0.25, text=1.0)
    _, terms = batch_loss(model, model.cfg, tokenizer, batch, ["drive", "qa"], weights,
                          random.Random(0), text_per_batch=2, aux_per_batch=3)
    _, alone = batch_loss(model, model.cfg, tokenizer, select(batch, [0, 1, 2]), ["qa"],
                          LossWeights(qa=0.25, text=1.0), random.Random(0))
    assert {"drive_text", "waypoints", "qa_text"} <= set(terms)
    # alone, qa is weighted by `text` (1.0); beside drive, by `qa` (0.25)
    assert abs(terms["qa_text"] - 0.25 * alone["qa_text"]) < 1e-5


def test_the_default_drive_stage_keeps_captions_and_qa():
    drive = stage_named(default(), "drive")
    assert {"drive", "qa", "caption"} <= set(drive.tasks) and drive.aux_per_batch > 0

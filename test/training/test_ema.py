"""Weight averaging: the shadow follows the formula, swaps in and out cleanly, and a stage with
`ema_decay` saves the averaged weights."""

import dataclasses

import pytest
import torch

from vla_driving.model.checkpoint import load_checkpoint
from vla_driving_training.ema import ParamEMA
from vla_driving_training.presets import stage_named, tiny
from vla_driving_training.synthetic import SyntheticDrivingDataset
from vla_driving_training.train import train


def test_shadow_is_the_ramped_running_average():
    param = torch.nn.Parameter(torch.zeros(3))
    ema = ParamEMA([param], decay=0.9)
    expected = torch.zeros(3)
    for step, value in enumerate([1.0, 2.0, 4.0, 8.0, 16.0, 32.0], start=1):
        with torch.no_grad():
            param.fill_(value)
        decay = min(0.9, (1 + step) / (10 + step))
        expected = decay * expected + (1 - decay) * value
        ema.update()
        assert torch.allclose(ema.shadow[0], expected)
    assert ema.current_decay() == pytest.approx(min(0.9, 7 / 16))


def test_applied_swaps_in_the_average_and_restores_the_live_weights():
    param = torch.nn.Parameter(torch.zeros(2))
    ema = ParamEMA([param], decay=0.5)
    with torch.no_grad():
        param.fill_(10.0)
    ema.update()
    average = ema.shadow[0].clone()
    assert not torch.equal(average, param.detach())
    with ema.applied():
        assert torch.equal(param.detach(), average)
    assert torch.equal(param.detach(), torch.full((2,), 10.0))
    ema.commit()
    assert torch.equal(param.detach(), average)


@pytest.mark.parametrize("decay", [0.0, 1.0, -0.1])
def test_decay_outside_the_open_interval_is_refused(decay):
    with pytest.raises(ValueError, match="decay"):
        ParamEMA([torch.nn.Parameter(torch.zeros(1))], decay)


def test_stage_with_ema_saves_the_average_not_the_last_step(tmp_path):
    torch.set_num_threads(1)
    base = tiny()
    drive = dataclasses.replace(stage_named(base, "drive"), steps=12)
    results = {}
    for decay in (0.0, 0.9):
        stage = dataclasses.replace(drive, ema_decay=decay)
        cfg = dataclasses.replace(base, stages=[stage], val_text_samples=0)
        results[decay] = train(cfg, SyntheticDrivingDataset(16), None, tmp_path / str(decay))
    plain, averaged = results[0.0], results[0.9]
    # Same seed and data: the optimisation path is the same, only the saved weights differ.
    assert plain["results"]["drive"]["loss"] == averaged["results"]["drive"]["loss"]
    w_plain = plain["model"].head.mlp[0].weight
    w_avg = averaged["model"].head.mlp[0].weight
    assert not torch.allclose(w_plain, w_avg)
    saved, _ = load_checkpoint(tmp_path / "0.9" / "drive")
    assert torch.equal(saved.head.mlp[0].weight, w_avg)

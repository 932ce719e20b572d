"""GRPO on the text path: rule rewards, group advantages, sampling, the loss's direction, the
stage's wiring (optional, `--stages ... grpo`), and (slow) the reward going up on a fixed prompt
set of the tiny preset."""

import argparse
import copy
import dataclasses
import json

import numpy as np
import pytest
import torch

from vla_driving.configuration import ConfigError
from vla_driving.meta_action import MetaAction
from vla_driving.model.text_format import format_plan
from vla_driving_training import train_cli
from vla_driving_training.config import GRPOConfig, StageConfig
from vla_driving_training.grpo import (Prompt, Rollout, advantages, evaluate_prompts,
                                       policy_loss, sample_group)
from vla_driving_training.presets import stage_named, tiny
from vla_driving_training.rewards import RewardWeights, plan_reward, qa_reward, repetition
from vla_driving_training.synthetic import SyntheticDrivingDataset
from vla_driving_training.train import train

W = RewardWeights()
META = MetaAction("decelerate", "shift_left")
WAYPOINTS = np.array([[5.0, 0.0], [10.0, 0.2], [14.0, 0.8], [18.0, 1.8], [21.0, 2.9],
                      [24.0, 3.5]])


def test_a_correct_plan_scores_every_term():
    text = format_plan("two cars ahead", META, "it merges into a gap", WAYPOINTS)
    r = plan_reward(text, True, 60, META, WAYPOINTS, 60, W)
    assert (r["format"], r["meta"], r["parsed"]) == (1.0, 1.0, 1.0)
    assert r["trajectory"] == pytest.approx(1.0)       # the parsed float32 waypoints
    assert r["length"] == r["repetition"] == 0.0 and r["total"] == pytest.approx(3.0)
    wrong = plan_reward(format_plan("two cars ahead", MetaAction("decelerate", "straight"),
                                    "it slows", WAYPOINTS + [2.0, 0.0]), True, 60, META,
                        WAYPOINTS, 60, W)
    assert wrong["meta"] == pytest.approx(0.3)                 # speed right, steering wrong
    assert wrong["trajectory"] == pytest.approx(np.exp(-1.0))  # 2 m off, scale 2 m


def test_broken_long_and_repeating_text_is_penalised():
    text = format_plan("a", META, "b", WAYPOINTS)
    two_lines = "\n".join(text.split("\n")[:2])
    r = plan_reward(two_lines, True, 20, META, WAYPOINTS, 60, W)
    assert r["parsed"] == 0.0 and r["format"] == pytest.approx(0.2) and r["meta"] == 0.0
    cut = plan_reward(text, False, 120, META, WAYPOINTS, 60, W)   # never ended: not parsed
    assert cut["parsed"] == 0.0 and cut["length"] == -1.0
    assert plan_reward(text, True, 180, META, WAYPOINTS, 60, W)["length"] == pytest.approx(-1.0)
    assert plan_reward(text, True, 135, META, WAYPOINTS, 60, W)["length"] == pytest.approx(-0.5)
    assert repetition("a b c a b c a b c") == pytest.approx(4 / 7)
    assert repetition("the car keeps its lane") == 0.0


def test_qa_reward_is_exact_match_after_normalisation():
    assert qa_reward("The left lane.", True, 3, "left lane", 2, W)["qa"] == 1.0
    assert qa_reward("the right lane", True, 3, "left lane", 2, W)["qa"] == 0.0
    assert qa_reward("left lane", False, 48, "left lane", 2, W)["qa"] == 0.0   # never ended


def test_advantages_are_group_normalised_and_zero_for_a_uniform_group():
    a = advantages([1.0, 0.0, 0.0, 3.0])
    assert a.mean() == pytest.approx(0.0) and a.std() == pytest.approx(1.0)
    assert list(np.argsort(a)) == [1, 2, 0, 3]
    assert not advantages([0.5, 0.5, 0.5]).any()


def test_stage_config_keeps_grpo_alone():
    with pytest.raises(ConfigError, match="grpo is a stage of its own"):
        StageConfig(name="mix", tasks=["drive", "grpo"])
    with pytest.raises(ConfigError):
        GRPOConfig(group_size=1)


@pytest.fixture(scope="module")
def tiny_model():
    from vla_driving.model.vla import VLAModel
    from vla_driving_training.tokenizer_train import train_tokenizer

    torch.manual_seed(0)
    data = SyntheticDrivingDataset(4)
    texts = [data[i]["description"] + " " + data[i]["justification"] for i in range(4)]
    tokenizer = train_tokenizer(texts, vocab_size=300)
    cfg = tiny().model
    cfg.llm.vocab_size = tokenizer.vocab_size
    return VLAModel(cfg).eval(), tokenizer, data


def _prefix(model, tokenizer, data):
    from vla_driving.model.inference import build_prefix, encode_prompts
    from vla_driving.model.vision import normalise_images
    from vla_driving_training.collate import collate_samples

    batch = collate_samples([data[0]])
    images = normalise_images(batch["images"], model.cfg.vision)
    ids = encode_prompts(tokenizer, ["Question: what is the command?\nAnswer:"])[0]
    return batch, images, ids, build_prefix(model, images, batch["ego"], batch["past"], ids,
                                            False).embeds


def test_sampling_is_seeded_and_stops_at_eos_or_the_limit(tiny_model, monkeypatch):
    model, tokenizer, data = tiny_model
    _, _, _, prefix = _prefix(model, tokenizer, data)
    draw = [sample_group(model, prefix, tokenizer.eos_id, 4, 12, 1.0,
                         torch.Generator().manual_seed(3)) for _ in range(2)]
    assert draw[0] == draw[1] and len(draw[0]) == 4
    assert all(len(ids) <= 12 and (ended or len(ids) == 12) for ids, ended in draw[0])
    head, eos = model.llm.get_output_embeddings(), tokenizer.eos_id

    def only_eos(hidden):
        logits = head(hidden)
        logits[..., eos] = 1e4
        return logits
    monkeypatch.setattr(model.llm, "get_output_embeddings", lambda: only_eos)
    assert sample_group(model, prefix, eos, 3, 12, 1.0, torch.Generator()) == [([], True)] * 3


def test_the_loss_raises_the_likelihood_of_a_well_scored_answer(tiny_model):
    """One gradient step on a positive-advantage answer makes it more likely, on a negative
    one less likely (the sign of the objective, on the real model)."""
    model, tokenizer, data = tiny_model
    batch, images, ids, _ = _prefix(model, tokenizer, data)
    answer = tokenizer.encode(" keep lane")
    for sign in (1.0, -1.0):
        trained = copy.deepcopy(model).train()
        row = Rollout(Prompt("qa", 0, ids, "keep lane"), answer, True, sign)
        likelihood = dataclasses.replace(row, advantage=1.0)   # -loss: mean log-probability
        before = -policy_loss(trained, images, batch, [likelihood], tokenizer.eos_id,
                              1.0).item()
        optimizer = torch.optim.SGD(trained.llm.parameters(), lr=0.5)
        policy_loss(trained, images, batch, [row], tokenizer.eos_id, 1.0).backward()
        optimizer.step()
        after = -policy_loss(trained, images, batch, [likelihood], tokenizer.eos_id,
                             1.0).item()
        assert (after - before) * sign > 0.01


def test_grpo_is_optional_and_runs_when_named(tmp_path, capsys):
    """The tiny preset's default run skips it; `--stages drive grpo` runs it after the drive
    stage and writes its curve and the fixed-prompt scores."""
    torch.set_num_threads(1)
    assert [s.name for s in tiny().stages if s.optional] == ["grpo"]
    parser = argparse.ArgumentParser()
    train_cli.add_arguments(parser)
    args = parser.parse_args(["--preset", "tiny", "--data", "synthetic:8", "--out",
                              str(tmp_path), "--stages", "drive", "grpo",
                              "--steps-scale", "0.5"])
    assert train_cli.main(args) == 0
    printed = capsys.readouterr().out
    assert "grpo: fixed-prompt reward" in printed and f"{tmp_path}/grpo" in printed
    doc = json.loads((tmp_path / "grpo" / "grpo.json").read_text())
    assert len(doc["curve"]) == 2 and {"before", "after", "loss"} <= set(doc)
    assert doc["before"]["prompts"] > 0 and (tmp_path / "grpo" / "model.safetensors").is_file()


def test_teachers_go_to_the_drive_stage_not_the_last_one():  # the grpo stage follows it
    parser = argparse.ArgumentParser()
    train_cli.add_arguments(parser)
    cfg = train_cli.configure(parser.parse_args(["--data", "synthetic", "--out", "x",
                                                 "--teachers", "t1"]))
    by_name = {s.name: s for s in cfg.stages}
    assert by_name["drive"].teachers == ["t1"] and by_name["grpo"].teachers == []


@pytest.mark.slow
def test_grpo_raises_the_reward_on_a_fixed_prompt_set(tmp_path):
    """The tiny preset after a short QA stage (answers half right), then 150 GRPO steps on QA
    prompts: the mean reward of answers sampled on the fixed prompt set goes up (about 60 s)."""
    torch.set_num_threads(1)
    cfg = tiny()
    understand = dataclasses.replace(stage_named(cfg, "understand"), steps=100, lr=3e-3,
                                     warmup_steps=5, batch_size=6)
    grpo = dataclasses.replace(stage_named(cfg, "grpo"), steps=150, batch_size=6, lr=1e-3,
                               grpo=GRPOConfig(prompts=["qa"], group_size=8, eval_prompts=6))
    cfg = dataclasses.replace(cfg, stages=[understand, grpo], val_text_samples=0)
    result = train(cfg, SyntheticDrivingDataset(6), None, tmp_path, stages=["understand", "grpo"])
    scores = result["results"]["grpo"]["metrics"]["grpo"]
    before, after = scores["before"], scores["after"]
    assert before["prompts"] == after["prompts"] == 12
    assert after["reward"] > before["reward"] + 0.1, (before, after)
    again = evaluate_prompts(result["model"], result["tokenizer"], SyntheticDrivingDataset(6),
                             list(range(6)), grpo)
    assert again["reward"] == pytest.approx(after["reward"])   # the fixed set is fixed

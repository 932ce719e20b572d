"""Benchmark helpers: interleaved timing and planning-quality metrics (no timing asserted)."""

import math

from vla_driving.export.bench_lib import interleaved_latency, planning_quality
from vla_driving.model.checkpoint import load_checkpoint


def test_interleaved_latency_calls_each_backend_alike():
    calls = {"a": 0, "b": 0}

    def bump(name):
        calls[name] += 1

    ms = interleaved_latency({"a": lambda: bump("a"), "b": lambda: bump("b")}, iters=7)
    assert set(ms) == {"a", "b"} and all(v >= 0 for v in ms.values())
    assert calls["a"] == calls["b"] == 7 + 5  # timed + warm-up


def test_planning_quality_scores_every_frame(tiny_checkpoint, samples):
    model, tokenizer = load_checkpoint(tiny_checkpoint)
    q = planning_quality(model, tokenizer, samples[:5], batch=2)
    assert q["frames"] == 5 and q["l2_m"] > 0 and math.isfinite(q["l2_m"])
    assert 0.0 <= q["meta_accuracy"] <= 1.0


def test_load_samples_spreads_over_the_split_and_checks_its_name():
    import pytest

    from vla_driving.apps.samples import load_samples

    picked = load_samples("synthetic:32", "val", 4, image_size=32, frames=2)
    assert len(picked) == 4 and tuple(picked[0]["images"].shape) == (2, 2, 3, 32, 32)
    with pytest.raises(ValueError, match="split='test'"):
        load_samples("synthetic:32", "test", 4)


def test_interleaved_decode_times_every_model_on_the_same_tokens(tiny_checkpoint, samples):
    import torch

    from vla_driving.export.bench_lib import decode_steps, interleaved_decode

    model, tokenizer = load_checkpoint(tiny_checkpoint)
    assert len(list(decode_steps(model, tokenizer, samples[0], 3))) == 3
    tps = interleaved_decode({"a": model, "b": model}, tokenizer, samples[:2], tokens=3, runs=2)
    assert set(tps) == {"a", "b"} and all(math.isfinite(v) and v > 0 for v in tps.values())
    assert torch.is_grad_enabled(), "interleaved generators left autograd off"


def test_plan_text_agreement_of_a_model_with_itself_and_with_another(tiny_checkpoint, samples):
    import torch

    from vla_driving.export.bench_lib import plan_text_agreement

    model, tokenizer = load_checkpoint(tiny_checkpoint)
    same = plan_text_agreement(model, model, tokenizer, samples[:2])
    assert same == {"frames": 2, "same_text": 1.0, "prefix_tokens": 1.0}
    other, _ = load_checkpoint(tiny_checkpoint)
    with torch.no_grad():
        other.llm.get_output_embeddings().weight.mul_(-1.0)   # another greedy choice at once
    differs = plan_text_agreement(model, other, tokenizer, samples[:2])
    assert differs["same_text"] < 1.0 and differs["prefix_tokens"] < 1.0

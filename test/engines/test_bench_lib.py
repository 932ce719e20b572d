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

"""Planning and text generation share the model across threads (issue 19, item 5): GPTQModel's
compiled dequantization made transformers' output capturing use a process-global variable while
dynamo traced, and every plan failed ("'_contextvars.Token' object ..."). Plans and texts run
concurrently here, on the committed default bundle (GPTQ INT4), with zero failures."""

import threading
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from vla_driving.policy.base import MalformedOutputError
from vla_driving.types import EgoState, Observation

BUNDLE = Path(__file__).resolve().parents[2] / "models" / "default"
MS = 1_000_000


@pytest.fixture(scope="module", params=["default", "torch"])
def policy(request):
    """The CPU default (weights dequantized once) and GPTQModel's own torch kernel."""
    from vla_driving.engines.config import EngineConfig
    from vla_driving.policy.factory import load_vla_policy
    if request.param == "torch":
        pytest.importorskip("gptqmodel")
    return load_vla_policy(str(BUNDLE), EngineConfig.from_dict({"llm_kernel": request.param}))


def _obs(policy, i):
    rng = np.random.default_rng(i)
    t = policy.num_frames
    stamp = (i + 10) * 100 * MS
    images = rng.integers(0, 255, (t, len(policy.cameras), 64, 64, 3), dtype=np.uint8)
    return Observation(stamp_ns=stamp, images=images, cameras=tuple(policy.cameras),
                       ego=EgoState(stamp_ns=stamp, speed=10.0),
                       frame_stamps_ns=tuple(stamp - 500 * MS * k for k in reversed(range(t))))


def _run(policy, cycles):
    failures, texts = Counter(), Counter()
    stop = threading.Event()

    def text_loop():
        k = 0
        while not stop.is_set():
            try:
                policy.describe(_obs(policy, k))
                texts["ok"] += 1
            except MalformedOutputError:
                texts["rejected"] += 1      # the model's text, failing closed: not a failure
            except Exception as exc:  # noqa: BLE001 - counted, that is the test
                failures[f"text {type(exc).__name__}: {exc}"] += 1
            k += 1

    worker = threading.Thread(target=text_loop)
    worker.start()
    try:
        for i in range(cycles):
            try:
                policy.infer(_obs(policy, i))
            except Exception as exc:  # noqa: BLE001
                failures[f"plan {type(exc).__name__}: {exc}"] += 1
    finally:
        stop.set()
        worker.join()
    return failures, texts


def test_no_quantized_linear_is_compiled(policy):
    compiled = [type(m).__name__ for m in policy.bundle.model.modules()
                if "dequantize_weight" in vars(m)]
    assert compiled == []


def test_plans_and_texts_run_concurrently_without_failures(policy):
    failures, texts = _run(policy, 150)
    assert not failures, failures
    assert sum(texts.values()) > 0


@pytest.mark.slow
def test_thousands_of_concurrent_cycles_without_failures(policy):
    failures, texts = _run(policy, 3000)
    assert not failures, failures
    assert sum(texts.values()) > 10

"""The run-time policy (processor -> model -> plan) on a CUDA GPU, as the planner node runs it.

Marked `gpu`: skipped without CUDA (run with `pytest -m gpu` on a GPU machine; see docs/gpu.md).
"""

import time
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]

BUNDLE = Path(__file__).resolve().parents[2] / "models" / "default"


def test_the_default_bundle_plans_on_cuda():
    from vla_driving.engines.config import EngineConfig
    from vla_driving.policy.factory import load_vla_policy
    from vla_driving.types import EgoState, Observation

    start = time.perf_counter()
    policy = load_vla_policy(str(BUNDLE), EngineConfig(device="cuda"))
    assert next(policy.bundle.model.parameters()).device.type == "cuda"
    images = np.random.default_rng(0).integers(0, 255, (2, 2, 128, 128, 3), dtype=np.uint8)
    times = []
    for i in range(60):
        stamp = (i + 5) * 10**8
        obs = Observation(stamp, images, policy.cameras, EgoState(stamp, speed=20.0),
                          frame_stamps_ns=(stamp - 5 * 10**8, stamp))
        t = time.perf_counter()
        plan = policy.infer(obs)
        torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
        if i == 0:
            first_s = time.perf_counter() - start
        assert plan.waypoints.shape == (6, 2) and np.isfinite(plan.waypoints).all()
    from vla_driving.policy.base import MalformedOutputError
    try:
        text = policy.describe(obs).description         # text on the same device
    except MalformedOutputError as exc:                 # the strict parser may refuse it
        text = f"(refused: {exc})"
    p50 = 1000 * float(np.median(times[10:]))
    print(f"\n{torch.cuda.get_device_name()}: load + first plan {first_s:.2f} s, "
          f"infer p50 {p50:.1f} ms, text: {text}")
    assert p50 < 1000

"""Smoke test of a non-editable install, run from outside the checkout by the wheel's venv.

It proves what an editable install hides: every package is in the wheel, the default bundle and
the profiles are found in the installed share directory, a plan comes out, and the planner node
starts from its console script.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import vla_driving

BIN = Path(sys.executable).parent
assert "site-packages" in vla_driving.__file__, f"not the installed package: {vla_driving.__file__}"


def run(*cmd: str) -> str:
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{cmd}: rc {result.returncode}\n{result.stderr[-2000:]}"
    return result.stdout


def plan_once() -> None:
    from vla_driving.policy.factory import load_vla_policy, resolve_bundle
    from vla_driving.types import EgoState, Observation

    bundle = resolve_bundle("models/default")
    assert "share" in bundle.parts, f"default bundle not from the installed share: {bundle}"
    policy = load_vla_policy("models/default")
    images = np.zeros((2, 2, 128, 128, 3), np.uint8)
    obs = Observation(10**9, images, policy.cameras, EgoState(10**9, speed=20.0),
                      frame_stamps_ns=(5 * 10**8, 10**9))
    plan = policy.infer(obs)
    assert plan.waypoints.shape == (6, 2) and np.isfinite(plan.waypoints).all()
    print(f"plan from {bundle}: first waypoint {plan.waypoints[0].round(2).tolist()}")


def planner_node_starts() -> None:
    from vla_driving.ros import ensure_local_dds

    env = ensure_local_dds(dict(os.environ))
    proc = subprocess.Popen([str(BIN / "vla_planner")], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    seen, deadline = [], time.monotonic() + 120
    try:
        for line in proc.stdout:
            seen.append(line)
            if "configured with policy" in line or time.monotonic() > deadline:
                break
    finally:
        proc.send_signal(signal.SIGINT)
        rc = proc.wait(timeout=30)
    assert any("configured with policy" in s for s in seen), "".join(seen)[-2000:]
    print(f"vla_planner configured from the installed share and stopped (rc {rc})")


print(run(str(BIN / "vla-driving"), "--help").splitlines()[0])
print(run(str(BIN / "vla-driving"), "export", "verify", "models/default").splitlines()[0])
plan_once()
planner_node_starts()
print("installed package: OK")

"""The same route through the ROS nodes, with the default bundle, in two processes: the same
plans and the same score, and the same score as the ROS-free lockstep loop (hardening issue,
item 7). Before, the first frames were planned or not depending on start-up timing, the first
plan had the instruction or not depending on arrival order, and the controller's command for a
step used the new plan or the one before depending on which topic came first."""

import json
import os
import subprocess
import sys

import pytest

from vla_driving.evaluation.closed_loop import ClosedLoopConfig
from vla_driving.evaluation.closed_loop_scoring import score_route
from vla_driving.evaluation.lockstep import profile_configs, run_lockstep_route
from vla_driving.policy.factory import make_policy
from vla_driving.resources import find_bundle

pytestmark = pytest.mark.ros
SCENARIO, SEED, DURATION_S = "highway", 1000, 3.0
ROUTE = f"""
import json, sys
from vla_driving.apps.closed_loop_runner import run_stack_route
from vla_driving.evaluation.closed_loop import ClosedLoopConfig
from vla_driving.evaluation.closed_loop_scoring import score_route
cfg = ClosedLoopConfig(seeds=[{SEED}], duration_s={DURATION_S})
route = run_stack_route(cfg, "{SCENARIO}", {SEED}, "model", {{"policy": "vla", "bundle": sys.argv[1]}})
end_ns = 1_000_000_000 + int({DURATION_S} * 1e9)   # the last frame may come before the stop or not
plans = [[c.stamp_ns, c.plan.waypoints.tolist()] for c, _ in route.cycles
         if c.plan is not None and c.stamp_ns < end_ns]
print("ROUTE " + json.dumps({{"score": score_route(route.log), "plans": plans,
                              "timeouts": route.control_timeouts}}))
"""


def _route_in_a_new_process(bundle: str, domain: int) -> dict:
    env = dict(os.environ, ROS_DOMAIN_ID=str(domain))
    out = subprocess.run([sys.executable, "-c", ROUTE, bundle], env=env, capture_output=True,
                         text=True, timeout=300)
    lines = [line for line in out.stdout.splitlines() if line.startswith("ROUTE ")]
    assert out.returncode == 0 and lines, out.stderr[-3000:]
    return json.loads(lines[-1][len("ROUTE "):])


def test_the_same_route_gives_the_same_plans_in_two_processes_and_in_the_fast_loop():
    bundle = str(find_bundle("models/default"))
    domain = 200 + os.getpid() % 30
    first = _route_in_a_new_process(bundle, domain)
    second = _route_in_a_new_process(bundle, domain + 1)
    assert len(first["plans"]) >= 25 and first["timeouts"] == second["timeouts"] == 0
    assert first["plans"][0][0] == 1_000_000_000        # the first frame is planned too
    assert first["plans"] == second["plans"]
    assert first["score"] == second["score"]

    cfg = ClosedLoopConfig(seeds=[SEED], duration_s=DURATION_S)
    planner = {"policy": "vla", "bundle": bundle}
    policy = make_policy(profile_configs(cfg, SCENARIO, SEED, planner)[1])
    try:
        fast = run_lockstep_route(cfg, SCENARIO, SEED, "model", policy, planner)
    finally:
        policy.close()
    assert fast.plans == len(first["plans"])
    assert json.loads(json.dumps(score_route(fast.log))) == first["score"]

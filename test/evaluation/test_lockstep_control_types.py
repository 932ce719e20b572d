"""The ROS-free lockstep loop drives with each control type (`ClosedLoopConfig.control`), through
the same adapter dicts and bridge inputs as the nodes; scored routes agree with the default."""

import pytest

from vla_driving.evaluation.closed_loop import ClosedLoopConfig
from vla_driving.evaluation.closed_loop_scoring import score_route
from vla_driving.evaluation.lockstep import COMMAND_READERS, profile_configs, run_lockstep_route
from vla_driving.policy.factory import make_policy
from vla_driving.sim.bridge import CONTROL_TYPES

CV = {"policy": "constant_velocity"}


def test_every_control_type_has_a_reader():
    assert set(COMMAND_READERS) == set(CONTROL_TYPES)


@pytest.mark.parametrize("control", CONTROL_TYPES)
def test_the_lockstep_loop_drives_with_each_control_type(control):
    cfg = ClosedLoopConfig(seeds=[1001], duration_s=5.0, control=control)
    bridge_cfg, planner_cfg, controller_cfg = profile_configs(cfg, "highway", 1001, CV)
    assert (bridge_cfg.control_type, controller_cfg.output) == (control, control)
    policy = make_policy(planner_cfg)
    try:
        route = run_lockstep_route(cfg, "highway", 1001, "cv", policy, CV)
    finally:
        policy.close()
    row = score_route(route.log)
    assert route.plans >= 45 and row["route_completion"] > 50.0, row

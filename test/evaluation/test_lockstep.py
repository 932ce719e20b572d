"""The ROS-free lockstep loop scores a route exactly as the ROS closed loop through the nodes."""

import pytest

from vla_driving.evaluation.closed_loop import ClosedLoopConfig
from vla_driving.evaluation.closed_loop_scoring import score_route
from vla_driving.evaluation.lockstep import odometry_fields, profile_configs, run_lockstep_route
from vla_driving.policy.factory import make_policy
from vla_driving.sensors.odometry import ego_from_odometry
from vla_driving.types import EgoState

CV = {"policy": "constant_velocity"}


def test_odometry_fields_round_trip_through_the_planners_conversion():
    ego = EgoState(7, x=3.0, y=-2.0, yaw=2.5, speed=11.0, yaw_rate=0.2)
    back = ego_from_odometry(odometry_fields(ego))
    assert (back.stamp_ns, back.speed, back.yaw_rate) == (7, 11.0, 0.2)
    assert (back.x, back.y, back.yaw) == pytest.approx((3.0, -2.0, 2.5))


@pytest.mark.ros
def test_lockstep_and_the_ros_closed_loop_give_the_same_route():
    from vla_driving.apps.closed_loop_runner import run_stack_route

    cfg = ClosedLoopConfig(seeds=[1001], duration_s=6.0)
    _, planner_cfg, _ = profile_configs(cfg, "highway", 1001, CV)
    policy = make_policy(planner_cfg)
    try:
        fast = run_lockstep_route(cfg, "highway", 1001, "cv", policy, CV)
    finally:
        policy.close()
    ros = run_stack_route(cfg, "highway", 1001, "cv", CV)
    assert fast.plans >= 55                        # one plan per camera frame (10 Hz)
    # identical: the controller commands each step from the plan the bridge named, whatever
    # order the topics arrive in (the lockstep handshake), as the fast loop does
    assert score_route(fast.log) == score_route(ros.log)
    assert fast.log.infractions == ros.log.infractions


class _Watching:
    """Constant velocity that notes the brightest pixel of every observation it plans on."""

    def __init__(self):
        from vla_driving.policy.constant_velocity import ConstantVelocityPolicy
        self.inner, self.brightest = ConstantVelocityPolicy(), []

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def infer(self, observation):
        self.brightest.append(int(observation.images.max()))
        return self.inner.infer(observation)


def test_a_camera_corruption_reaches_the_planner_in_the_lockstep_loop():
    cfg = ClosedLoopConfig(seeds=[1001], duration_s=1.0)
    clean, blind = _Watching(), _Watching()
    run_lockstep_route(cfg, "highway", 1001, "cv", clean, CV)
    run_lockstep_route(cfg, "highway", 1001, "cv", blind, CV, corruption=("camera_crash", 5))
    assert len(blind.brightest) == len(clean.brightest) >= 8
    assert min(clean.brightest) > 0 and max(blind.brightest) == 0   # both cameras dead


def test_lockstep_plans_on_perspective_cameras_with_their_camera_infos():
    """Issue 16: the bridge's perspective views and CameraInfo reach a planner that checks them."""
    pytest.importorskip("panda3d", reason="panda3d not installed (the `sim` extra)")
    import dataclasses

    from vla_driving.evaluation.lockstep import LockstepLoop
    from vla_driving.policy.planner_config import PlannerConfig

    cfg = ClosedLoopConfig(seeds=[1001], duration_s=2.0)
    bridge, planner, controller = profile_configs(cfg, "highway", 1001, CV)
    sim = dataclasses.replace(bridge.sim, cameras=["front", "front_left"], camera_spans_m=[])
    bridge = dataclasses.replace(bridge, sim=sim)
    planner = PlannerConfig.from_dict({**planner.to_dict(), "ingest": {
        **planner.ingest.to_dict(), "cameras": ["front", "front_left"],
        "camera_info_cameras": ["front", "front_left"]}})
    policy = make_policy(planner)
    loop = LockstepLoop(bridge, planner, controller, policy)
    try:
        for _ in range(8):
            loop.step()
        sources = loop.planner.ingest.stats()["sources"]
        assert sources["front"]["accepted"] == 4 and sources["front"]["rejected"] == {}
        assert loop.images["front"].shape == (180, 320, 3) and loop.plans >= 3
    finally:
        loop.close()
        policy.close()

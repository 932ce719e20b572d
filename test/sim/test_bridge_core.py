"""The simulator bridge's lockstep core on the real simulator (no ROS)."""

import math

import numpy as np
import pytest

from vla_driving.sim.bridge import (LockstepBridge, SimBridgeConfig, brake_control,
                                    control_from_pedals, control_from_steering,
                                    control_from_twist)

CFG = SimBridgeConfig(sim={"step_hz": 20.0, "image_size": 32})


def test_twist_becomes_bounded_bicycle_control():
    c = control_from_twist(11.0, 0.0, 10.0, CFG)
    assert c.acceleration == pytest.approx(1.0 / CFG.speed_time_constant_s) and c.steering_angle == 0
    c = control_from_twist(10.0, 0.5, 10.0, CFG)
    assert c.steering_angle == pytest.approx(math.atan(0.5 * CFG.sim.wheelbase_m / 10.0))
    c = control_from_twist(10.0, 50.0, 10.0, CFG)
    assert c.steering_angle == CFG.sim.max_steering_rad
    assert control_from_twist(math.nan, 0.0, 10.0, CFG) == brake_control(CFG)
    assert control_from_twist(0.0, 0.0, 30.0, CFG).acceleration == -CFG.sim.max_brake


def test_steering_commands_keep_their_angle_and_track_the_speed():
    c = control_from_steering(11.0, 0.2, 10.0, CFG)
    assert c.acceleration == pytest.approx(1.0 / CFG.speed_time_constant_s)
    assert c.steering_angle == 0.2
    assert control_from_steering(10.0, -5.0, 10.0, CFG).steering_angle == -CFG.sim.max_steering_rad
    assert control_from_steering(10.0, math.inf, 10.0, CFG) == brake_control(CFG)


def test_carla_pedals_and_steer_positive_right():
    c = control_from_pedals(0.5, 0.0, 0.5, False, CFG)
    assert c.acceleration == pytest.approx(0.5 * CFG.pedal_accel_m_s2)
    assert c.steering_angle == pytest.approx(-0.5 * CFG.sim.max_steering_rad)   # right = negative
    assert control_from_pedals(0.0, 1.0, 0.0, False, CFG).acceleration == -CFG.pedal_decel_m_s2
    assert control_from_pedals(1.0, 0.0, 3.0, False, CFG).steering_angle == -CFG.sim.max_steering_rad
    assert control_from_pedals(1.0, 0.0, 0.0, True, CFG) == brake_control(CFG)
    assert control_from_pedals(math.nan, 0.0, 0.0, False, CFG) == brake_control(CFG)


def test_synchronous_mode_waits_for_the_tick_then_times_out_to_the_brake():
    bridge = LockstepBridge(CFG)
    try:
        assert bridge.due(0.0) == (False, False)
        assert bridge.due(10.0) == (False, False), "before any command it only waits"
        bridge.on_twist(bridge.now_ns - 1, 20.0, 0.0)     # a stale command does not count
        assert bridge.due(10.0 + CFG.control_timeout_s / 2) == (False, False)
        bridge.on_twist(bridge.now_ns, 20.0, 0.0)
        assert bridge.due(10.6) == (True, False)
        t0 = bridge.now_ns
        bridge.step()
        assert bridge.now_ns - t0 == 50_000_000
        assert bridge.due(20.0) == (False, False)
        assert bridge.due(20.0 + CFG.control_timeout_s + 0.1) == (True, True)
        bridge.step(timed_out=True)
        assert bridge.control_timeouts == 1 and bridge.control == brake_control(CFG)
    finally:
        bridge.close()


def test_same_seed_and_commands_give_the_same_run():
    def run():
        bridge = LockstepBridge(CFG)
        try:
            states = []
            for i in range(40):
                bridge.on_twist(bridge.now_ns, 15.0 + 0.1 * i, 0.05 * math.sin(i / 5))
                bridge.step()
                s = bridge.sim.ego_state()
                states.append((bridge.now_ns, s.x, s.y, s.yaw, s.speed))
            return np.array(states)
        finally:
            bridge.close()
    np.testing.assert_array_equal(run(), run())


def test_wait_for_plan_holds_camera_frames_until_the_planner_answers():
    cfg = SimBridgeConfig(sim={"step_hz": 20.0, "image_size": 32}, wait_for_plan=True,
                          plan_wait_timeout_s=2.0)
    bridge = LockstepBridge(cfg)
    try:
        bridge.cameras_published()
        bridge.on_twist(bridge.now_ns, 20.0, 0.0)
        assert bridge.due(0.0) == (False, False), "a planner is expected from the start"
        bridge.on_planner_status(bridge.now_ns - 1)       # an older frame does not count
        assert bridge.due(0.1) == (False, False)
        bridge.on_planner_status(bridge.now_ns)
        assert bridge.due(0.2) == (True, False)
        bridge.on_planner_status(None)                     # alive, no frame yet
        bridge.step()
        bridge.cameras_published()
        bridge.on_twist(bridge.now_ns, 20.0, 0.0)
        assert bridge.due(1.0) == (False, False)
        assert bridge.due(3.5) == (True, False) and bridge.plan_timeouts == 1
        bridge.step()
        bridge.cameras_published()
        bridge.on_twist(bridge.now_ns, 20.0, 0.0)
        assert bridge.due(3.6) == (True, False), "a silent planner is not waited for again"
    finally:
        bridge.close()

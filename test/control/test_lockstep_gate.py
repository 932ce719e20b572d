"""A lockstep controller commands each announced step once, from the plan the bridge named and
the odometry of that step, whatever order they arrive in; a lost message costs a bounded wait."""

import itertools

import numpy as np
import pytest

from vla_driving.control.config import ControllerConfig
from vla_driving.control.controller import TrajectoryController
from vla_driving.control.lockstep import NEW, OLD, REPEAT, LockstepGate
from vla_driving.types import EgoState

MS = 1_000_000


def test_a_step_is_due_once_its_plan_and_odometry_are_in():
    gate = LockstepGate(wait_s=1.0)
    assert gate.announce(100 * MS, 100 * MS, wall_s=0.0) == NEW
    assert gate.due(plan_stamp_ns=0, odom_stamp_ns=100 * MS, wall_s=0.1) is None   # old plan
    assert gate.due(plan_stamp_ns=100 * MS, odom_stamp_ns=50 * MS, wall_s=0.1) is None
    assert gate.due(plan_stamp_ns=100 * MS, odom_stamp_ns=100 * MS, wall_s=0.1) == 100 * MS
    assert gate.due(100 * MS, 100 * MS, 0.2) is None                # commanded once
    assert gate.announce(100 * MS, 100 * MS, 0.3) == REPEAT          # a resend of that step
    assert gate.announce(50 * MS, -1, 0.3) == OLD
    assert gate.late == 0


def test_no_plan_awaited_and_a_bounded_wait():
    gate = LockstepGate(wait_s=0.5)
    gate.announce(150 * MS, -1, wall_s=0.0)                          # between camera frames
    assert gate.due(None, 150 * MS, 0.0) == 150 * MS
    gate.announce(200 * MS, 200 * MS, wall_s=1.0)
    assert gate.due(150 * MS, 200 * MS, 1.4) is None
    assert gate.due(150 * MS, 200 * MS, 1.6) == 200 * MS and gate.late == 1


def _lockstep_controller():
    return TrajectoryController(ControllerConfig(lockstep_topic="/sim/lockstep"))


def _arrive(ctl, order):
    """Odometry at 0 and 100 ms (the car moved 2 m) and a plan of the 100 ms frame; then the
    command for 100 ms."""
    messages = {
        "odom": lambda: ctl.on_odometry(EgoState(stamp_ns=100 * MS, x=2.0, speed=20.0), 50 * MS),
        "plan": lambda: ctl.on_plan(np.stack([np.arange(1, 7) * 10.0, np.full(6, 0.2)], axis=1),
                                    100 * MS, 50 * MS)}
    ctl.on_odometry(EgoState(stamp_ns=0, speed=20.0), 0)
    for name in order:
        assert messages[name]() is None
    cmd = ctl.step(100 * MS)
    return cmd.steering_angle, cmd.acceleration


def test_a_plan_before_its_frames_odometry_is_anchored_on_that_odometry():
    """Lockstep: the plan of the 100 ms frame is in that frame's ego frame; arriving before the
    100 ms odometry it was anchored on the 0 ms pose, 2 m behind, so the command depended on
    which topic came first."""
    commands = {order: _arrive(_lockstep_controller(), order)
                for order in itertools.permutations(["odom", "plan"])}
    assert len(set(commands.values())) == 1
    vehicle = TrajectoryController(ControllerConfig())   # a vehicle anchors on what it has
    assert _arrive(vehicle, ("plan", "odom")) != commands[("odom", "plan")]
    assert commands[("odom", "plan")][0] == pytest.approx(_arrive(vehicle, ("odom", "plan"))[0])


def test_steps_the_timer_already_commanded_are_not_commanded_again():
    """The bridge's announcements can reach the controller after /clock has: the timer then
    commanded 950 and 1000 ms before the gate heard of step 1000 (CI saw stamps 1000, 1050,
    1000, 1050). An announced step at or before the newest command is a resend or old."""
    gate = LockstepGate(wait_s=1.0)
    gate.commanded(950 * MS)
    gate.commanded(1000 * MS)
    assert gate.announce(950 * MS, 900 * MS, wall_s=0.0) == OLD
    assert gate.announce(1000 * MS, 900 * MS, wall_s=0.0) == REPEAT
    assert gate.due(1000 * MS, 1000 * MS, 0.0) is None
    assert gate.announce(1050 * MS, 1000 * MS, wall_s=0.0) == NEW
    gate.commanded(1050 * MS)                      # a tick got there first: nothing pending
    assert gate.due(1050 * MS, 1050 * MS, 0.0) is None

"""Constant-velocity baseline: keep the current speed (and optionally yaw rate) for 3 s.

A real policy, used as the evaluation baseline and to run the stack without a model bundle.
"""

from __future__ import annotations

import math
import time

import numpy as np

from vla_driving.constants import NUM_WAYPOINTS, WAYPOINT_DT_S
from vla_driving.meta_action import MetaAction
from vla_driving.types import ControlSignals, Observation, Plan

from vla_driving.policy.base import DrivingPolicy, SceneText

STANDSTILL_M_S = 0.2
STRAIGHT_YAW_RATE = 0.02  # rad/s below which the motion counts as straight
BUNDLE_ID = "constant_velocity"


class ConstantVelocityPolicy(DrivingPolicy):
    """Extrapolates the ego state: straight line, or a constant-turn-rate arc with `use_yaw_rate`."""

    bundle_id = BUNDLE_ID

    def __init__(self, use_yaw_rate: bool = False, wheelbase_m: float = 2.9,
                 min_speed_m_s: float = 0.0) -> None:
        self.use_yaw_rate = use_yaw_rate
        self.wheelbase_m = wheelbase_m
        self.min_speed_m_s = min_speed_m_s

    def infer(self, observation: Observation) -> Plan:
        start = time.perf_counter()
        v = max(observation.ego.speed, self.min_speed_m_s)
        w = observation.ego.yaw_rate if self.use_yaw_rate else 0.0
        t = WAYPOINT_DT_S * np.arange(1, NUM_WAYPOINTS + 1)
        if abs(w) < 1e-6:
            wp = np.stack([v * t, np.zeros_like(t)], axis=1)
        else:
            wp = np.stack([v / w * np.sin(w * t), v / w * (1 - np.cos(w * t))], axis=1)
        steer = math.atan(w * self.wheelbase_m / v) if v > STANDSTILL_M_S else 0.0
        controls = ControlSignals(v, steer, 0.0, 0.0)
        return Plan(stamp_ns=observation.stamp_ns, waypoints=wp, controls=controls,
                    next_controls=controls, meta_action=self._meta(v, w), confidence=1.0,
                    bundle_id=self.bundle_id,
                    latency_s={"infer": time.perf_counter() - start})

    @staticmethod
    def _meta(v: float, w: float) -> MetaAction:
        if v <= STANDSTILL_M_S:
            return MetaAction("constant_speed", "idle")
        if abs(w) < STRAIGHT_YAW_RATE:
            return MetaAction("constant_speed", "straight")
        return MetaAction("constant_speed", "turn_left" if w > 0 else "turn_right")

    def describe(self, observation: Observation) -> SceneText:
        v = observation.ego.speed
        return SceneText(observation.stamp_ns,
                         description=f"ego vehicle at {v:.1f} m/s; no scene model (baseline)",
                         justification="keep the current speed and heading (constant-velocity baseline)",
                         meta_action=self._meta(v, observation.ego.yaw_rate))

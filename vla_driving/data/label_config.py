"""Thresholds of the label derivation (controls from odometry, meta-action rules)."""

from __future__ import annotations

from dataclasses import dataclass

from vla_driving.configuration import Config, ConfigError, param


@dataclass
class LabelConfig(Config):
    """How labels are derived from recorded motion; the same for simulator and car bags."""

    wheelbase_m: float = param(2.9, "wheelbase for steering angle = atan(L * yaw_rate / speed)",
                               low=1.0, high=6.0)
    derivative_window_s: float = param(0.3, "central-difference window for acceleration, yaw "
                                       "rate and steering rate (smooths 40 Hz odometry)",
                                       low=0.02, high=2.0)
    next_control_dt_s: float = param(0.5, "time of the 'next' control row after the current one",
                                     low=0.05, high=3.0)
    min_steering_speed: float = param(1.0, "below this speed the steering angle label is 0 "
                                      "(yaw rate / speed is noise)", low=0.0, high=10.0)
    max_gap_s: float = param(0.5, "odometry gaps longer than this invalidate labels across them",
                             low=0.05, high=10.0)
    speed_horizon_s: float = param(2.0, "horizon of the mean acceleration for the speed level",
                                   low=0.2, high=3.0)
    accel_threshold: float = param(0.3, "mean acceleration (m/s^2) above which: accelerate",
                                   low=0.0, high=5.0)
    quick_accel_threshold: float = param(1.5, "above which: quick accelerate", low=0.0, high=10.0)
    decel_threshold: float = param(0.3, "mean deceleration (m/s^2, positive) above which: "
                                   "decelerate", low=0.0, high=5.0)
    quick_decel_threshold: float = param(1.5, "above which: quick decelerate", low=0.0, high=10.0)
    idle_speed: float = param(0.5, "speed (m/s) under which a nearly still ego is idle",
                              low=0.0, high=5.0)
    idle_distance_m: float = param(1.0, "path length over the horizon under which: idle",
                                   low=0.0, high=10.0)
    turn_heading_rad: float = param(0.35, "heading change over the horizon above which: turn",
                                    low=0.01, high=3.0)
    shift_offset_m: float = param(1.0, "lateral offset beyond the arc the heading change "
                                  "explains, above which: shift (lane change)", low=0.05, high=10.0)

    lateral_moderate_accel: float = param(
        1.5, "peak lateral acceleration (m/s^2) over the horizon from which a turn or shift is "
        "'moderately' (below: 'slightly', within ride comfort); Sce2DriveX's lateral speed "
        "level", low=0.05, high=20.0)
    lateral_rapid_accel: float = param(
        3.0, "peak lateral acceleration (m/s^2) from which a turn or shift is 'rapidly' "
        "(brisk; cars stay under about 4 in comfort, see DESIGN.md)", low=0.05, high=20.0)

    def validate(self) -> None:
        if self.lateral_rapid_accel < self.lateral_moderate_accel:
            raise ConfigError(f"lateral_rapid_accel={self.lateral_rapid_accel} must be >= "
                              f"lateral_moderate_accel={self.lateral_moderate_accel}")
        if self.quick_accel_threshold < self.accel_threshold:
            raise ConfigError(f"quick_accel_threshold={self.quick_accel_threshold} must be >= "
                              f"accel_threshold={self.accel_threshold}")
        if self.quick_decel_threshold < self.decel_threshold:
            raise ConfigError(f"quick_decel_threshold={self.quick_decel_threshold} must be >= "
                              f"decel_threshold={self.decel_threshold}")

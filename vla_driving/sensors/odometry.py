"""Odometry fields -> `EgoState`, refusing non-finite or physically absurd values (speed 1e30,
a zero quaternion) instead of passing them on."""

from __future__ import annotations

import math
from dataclasses import dataclass

from vla_driving.constants import NS_PER_S
from vla_driving.types import EgoState
from vla_driving.sensors.config import OdometryLimits

REASON_NON_FINITE = "non_finite"
REASON_OUT_OF_BOUNDS = "out_of_bounds"
REASON_BAD_QUATERNION = "bad_quaternion"
DEFAULT_LIMITS = OdometryLimits()

# Longitudinal acceleration is a finite difference of speed; a low-pass weight keeps odometry
# noise from dominating it (1.0 = no smoothing).
ACCEL_SMOOTHING = 0.5


class OdometryError(ValueError):
    """Odometry that cannot become an ego state; `reason` is a short code for counters."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class OdometryFields:
    """What ingest needs from `nav_msgs/Odometry`: pose in the odometry frame, twist in the body
    frame (REP 105: `twist` is expressed in `child_frame_id`)."""

    stamp_ns: int
    x: float
    y: float
    qx: float
    qy: float
    qz: float
    qw: float
    vx: float
    vy: float
    yaw_rate: float

    @classmethod
    def planar(cls, stamp_ns: int, x: float, y: float, yaw: float, speed: float,
               yaw_rate: float) -> "OdometryFields":
        """A ground vehicle's odometry: heading only, forward speed in the body frame."""
        return cls(int(stamp_ns), float(x), float(y), 0.0, 0.0, math.sin(yaw / 2),
                   math.cos(yaw / 2), float(speed), 0.0, float(yaw_rate))


def yaw_from_quaternion(qx: float, qy: float, qz: float, qw: float) -> float:
    return math.atan2(2.0 * (qw * qz + qx * qy), 1.0 - 2.0 * (qy * qy + qz * qz))


def check_odometry(odom: OdometryFields, limits: OdometryLimits = DEFAULT_LIMITS) -> None:
    """Raise `OdometryError` unless every field is finite and inside `limits`."""
    names = ("x", "y", "qx", "qy", "qz", "qw", "vx", "vy", "yaw_rate")
    values = (odom.x, odom.y, odom.qx, odom.qy, odom.qz, odom.qw, odom.vx, odom.vy, odom.yaw_rate)
    if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in values):
        bad = [f"{n}={v!r}" for n, v in zip(names, values)
               if not (isinstance(v, (int, float)) and math.isfinite(v))]
        raise OdometryError(REASON_NON_FINITE, "odometry has non-finite " + ", ".join(bad))
    bounds = {"x": limits.max_position_m, "y": limits.max_position_m,
              "vx": limits.max_speed_m_s, "vy": limits.max_speed_m_s,
              "yaw_rate": limits.max_yaw_rate_rad_s}
    bad = [f"|{n}|={abs(getattr(odom, n)):.3g} > {b:g}" for n, b in bounds.items()
           if abs(getattr(odom, n)) > b]
    if bad:
        raise OdometryError(REASON_OUT_OF_BOUNDS, "odometry out of physical bounds: " + ", ".join(bad))
    norm = math.hypot(odom.qx, odom.qy, odom.qz, odom.qw)   # no overflow for q ~ 1e300
    if abs(norm - 1.0) > limits.quaternion_tolerance:
        raise OdometryError(REASON_BAD_QUATERNION, f"orientation quaternion has norm {norm:.3g}, "
                            f"not 1 +- {limits.quaternion_tolerance:g}")


def ego_from_odometry(odom: OdometryFields, previous: EgoState | None = None,
                      limits: OdometryLimits = DEFAULT_LIMITS) -> EgoState:
    """Ego state; acceleration is the smoothed speed derivative since `previous` (0 at start).
    Raises `OdometryError` for non-finite or out-of-bounds fields (`check_odometry`)."""
    check_odometry(odom, limits)
    speed = float(odom.vx)
    acceleration = 0.0
    if previous is not None and odom.stamp_ns > previous.stamp_ns:
        dt = (odom.stamp_ns - previous.stamp_ns) / NS_PER_S
        raw = (speed - previous.speed) / dt
        acceleration = ACCEL_SMOOTHING * raw + (1.0 - ACCEL_SMOOTHING) * previous.acceleration
    return EgoState(stamp_ns=int(odom.stamp_ns), x=float(odom.x), y=float(odom.y),
                    yaw=yaw_from_quaternion(odom.qx, odom.qy, odom.qz, odom.qw), speed=speed,
                    yaw_rate=float(odom.yaw_rate), acceleration=acceleration)

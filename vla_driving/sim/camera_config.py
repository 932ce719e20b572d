"""The perspective camera rig on the ego: one typed config for every camera's intrinsics,
mounting pose and image size, and the pinhole model and `CameraInfo` fields derived from it.

Kept free of panda3d and ROS: the renderer, the bridge's CameraInfo and the tests all read the
same numbers from here. Poses are in the ego's ROS frame (x forward, y left, z up, from the
centre of the vehicle at the ground); yaw is counter-clockwise, pitch positive looks down.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from vla_driving.configuration import Config, ConfigError, param

DEFAULT_NAMES = ["front", "front_left", "front_right", "rear"]
DISTORTION_MODEL = "plumb_bob"     # with all-zero coefficients: an ideal pinhole


@dataclass(frozen=True)
class Pinhole:
    """Intrinsics in pixels (u right, v down, principal point at (cx, cy))."""

    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float

    def project(self, points_cam: np.ndarray) -> np.ndarray:
        """Camera-frame points (N x 3: x right, y down, z forward) -> pixels (N x 2)."""
        p = np.asarray(points_cam, dtype=np.float64)
        return np.stack([self.cx + self.fx * p[:, 0] / p[:, 2],
                         self.cy + self.fy * p[:, 1] / p[:, 2]], axis=1)


@dataclass(frozen=True)
class Mount:
    """Where a camera sits on the ego (m, ego frame) and where it looks (rad)."""

    x: float
    y: float
    z: float
    yaw: float
    pitch: float

    def ego_to_camera(self, points_ego: np.ndarray) -> np.ndarray:
        """Ego-frame points (N x 3, ROS) -> optical frame (x right, y down, z forward)."""
        d = np.asarray(points_ego, dtype=np.float64) - [self.x, self.y, self.z]
        cy, sy = math.cos(self.yaw), math.sin(self.yaw)
        fwd = cy * d[:, 0] + sy * d[:, 1]
        left = -sy * d[:, 0] + cy * d[:, 1]
        up = d[:, 2]
        cp, sp = math.cos(self.pitch), math.sin(self.pitch)
        return np.stack([-left, -(cp * up + sp * fwd), cp * fwd - sp * up], axis=1)


@dataclass
class PerspectiveConfig(Config):
    """The rig: per-camera mounting lists (same order as `names`) and one shared image model.

    fx/fy/cx/cy of 0 derive from `fov_deg` and the image centre, as carla-ros-bridge does."""

    names: list[str] = param(list(DEFAULT_NAMES), "perspective camera names; list one in "
                             "sim.cameras to render it", min_len=1)
    x_m: list[float] = param([1.5, 1.2, 1.2, -2.2], "mount x per camera (m, ego frame, forward)",
                             low=-20.0, high=20.0)
    y_m: list[float] = param([0.0, 0.5, -0.5, 0.0], "mount y per camera (m, left)",
                             low=-10.0, high=10.0)
    z_m: list[float] = param([1.6, 1.6, 1.6, 1.6], "mount height per camera (m above ground)",
                             low=0.1, high=20.0)
    yaw_deg: list[float] = param([0.0, 60.0, -60.0, 180.0], "viewing direction per camera "
                                 "(deg, counter-clockwise from the ego's heading)",
                                 low=-180.0, high=180.0)
    pitch_deg: list[float] = param([0.0, 0.0, 0.0, 0.0], "pitch per camera (deg, positive "
                                   "looks down)", low=-60.0, high=60.0)
    width: int = param(320, "image width (px)", low=16, high=4096)
    height: int = param(180, "image height (px)", low=16, high=4096)
    fov_deg: float = param(90.0, "horizontal field of view (deg) when fx is 0", low=10.0,
                           high=170.0)
    fx: float = param(0.0, "focal length in pixels (0: from fov_deg)", low=0.0, high=1e5)
    fy: float = param(0.0, "vertical focal length in pixels (0: fx)", low=0.0, high=1e5)
    cx: float = param(0.0, "principal point column (0: width / 2)", low=0.0, high=1e5)
    cy: float = param(0.0, "principal point row (0: height / 2)", low=0.0, high=1e5)
    near_m: float = param(0.3, "nearest rendered distance (m)", low=0.01, high=10.0)
    far_m: float = param(300.0, "farthest rendered distance (m)", low=20.0, high=5000.0)

    def validate(self) -> None:
        n = len(self.names)
        for key in ("x_m", "y_m", "z_m", "yaw_deg", "pitch_deg"):
            if len(getattr(self, key)) != n:
                raise ConfigError(f"perspective.{key} has {len(getattr(self, key))} value(s) for "
                                  f"{n} camera(s) {self.names}")
        if len(set(self.names)) != n or any(not c or "/" in c for c in self.names):
            raise ConfigError(f"perspective.names={self.names}: unique, non-empty, without '/'")
        k = self.pinhole()
        if not (0 < k.cx < k.width and 0 < k.cy < k.height):
            raise ConfigError(f"perspective cx={k.cx}, cy={k.cy}: the principal point is outside "
                              f"the {k.width}x{k.height} image")
        if self.far_m <= self.near_m:
            raise ConfigError(f"perspective far_m={self.far_m} must exceed near_m={self.near_m}")

    def pinhole(self) -> Pinhole:
        fx = self.fx or self.width / (2.0 * math.tan(math.radians(self.fov_deg) / 2.0))
        return Pinhole(self.width, self.height, fx, self.fy or fx, self.cx or self.width / 2.0,
                       self.cy or self.height / 2.0)

    def mount(self, name: str) -> Mount:
        i = self.names.index(name)
        return Mount(self.x_m[i], self.y_m[i], self.z_m[i], math.radians(self.yaw_deg[i]),
                     math.radians(self.pitch_deg[i]))

    def camera_info(self, name: str) -> dict:
        """`sensor_msgs/CameraInfo` fields of camera `name` (an ideal pinhole, no distortion)."""
        self.mount(name)                       # ValueError for a camera not on the rig
        k = self.pinhole()
        return {"width": k.width, "height": k.height, "distortion_model": DISTORTION_MODEL,
                "d": [0.0] * 5, "k": [k.fx, 0.0, k.cx, 0.0, k.fy, k.cy, 0.0, 0.0, 1.0],
                "r": [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0],
                "p": [k.fx, 0.0, k.cx, 0.0, 0.0, k.fy, k.cy, 0.0, 0.0, 0.0, 1.0, 0.0]}

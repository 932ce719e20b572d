"""Configuration of the highway-env simulator behind `make_sim` (ego limits, cameras, rates)."""

from __future__ import annotations

from dataclasses import dataclass

from vla_driving.configuration import Config, ConfigError, param
from vla_driving.sim.camera_config import PerspectiveConfig

DEFAULT_CAMERAS = ["bev_near", "bev_far"]
DEFAULT_CAMERA_SPANS_M = [40.0, 100.0]
BEV_LOOK = "bev"
HIGHWAY_ENV_LOOK = "highway_env"
LOOKS = (BEV_LOOK, HIGHWAY_ENV_LOOK)


@dataclass
class SimConfig(Config):
    """Simulator settings shared by the data generator and the simulator bridge node."""

    step_hz: float = param(10.0, "control and recording rate (one step() call)", low=1.0, high=50.0)
    substeps: int = param(2, "physics sub-steps per step (highway-env simulation frequency = "
                          "step_hz * substeps)", low=1, high=10)
    max_duration_s: float = param(30.0, "episode time limit", low=1.0, high=3600.0)
    wheelbase_m: float = param(2.9, "ego kinematic-bicycle wheelbase (labels use the same)",
                               low=1.0, high=6.0)
    max_steering_rad: float = param(0.55, "ego front-wheel steering angle limit", low=0.05, high=1.2)
    max_steering_rate_rad_s: float = param(0.6, "ego steering rate limit", low=0.05, high=5.0)
    max_lateral_accel: float = param(7.0, "physical lateral acceleration limit of the ego (m/s^2)",
                                     low=1.0, high=12.0)
    max_accel: float = param(3.5, "ego acceleration limit (m/s^2)", low=0.5, high=10.0)
    max_brake: float = param(8.0, "ego braking limit (m/s^2, positive)", low=0.5, high=12.0)
    cameras: list[str] = param(list(DEFAULT_CAMERAS), "camera names, in output order: "
                               "bird's-eye views, and perspective cameras named in "
                               "perspective.names", min_len=1)
    camera_spans_m: list[float] = param(list(DEFAULT_CAMERA_SPANS_M),
                                        "side length of each bird's-eye view in metres, in the "
                                        "order of the bird's-eye cameras", low=5.0, high=500.0)
    image_size: int = param(128, "rendered bird's-eye image side in pixels", low=16, high=1024)
    perspective: PerspectiveConfig = param(PerspectiveConfig(), "perspective camera rig "
                                           "(intrinsics, mounts, image size; panda3d renders it)")
    ego_row_fraction: float = param(0.7, "image row of the ego (0 top, 1 bottom): more road ahead",
                                    low=0.1, high=0.9)
    look: str = param(BEV_LOOK, "how the bird's-eye views draw the scene: bev (our palette, PIL) or "
                      "highway_env (highway-env's viewer graphics and colours)", choices=LOOKS)
    truck_fraction: float = param(0.15, "share of other vehicles made trucks (scene variety)",
                                  low=0.0, high=1.0)
    density_scale: float = param(1.0, "multiplies the randomised traffic density", low=0.0, high=5.0)
    start_at_cruise: bool = param(False, "the ego starts at the expert's cruise speed instead of "
                                  "the map's start speed: the expert then slows only for what "
                                  "the cameras show (traffic, junctions, commands), never toward "
                                  "a speed target no input carries")

    def validate(self) -> None:
        bev = self.bev_cameras
        if len(bev) != len(self.camera_spans_m):
            raise ConfigError(f"camera_spans_m has {len(self.camera_spans_m)} value(s) for the "
                              f"{len(bev)} bird's-eye camera(s) {bev}")
        if len(set(self.cameras)) != len(self.cameras):
            raise ConfigError(f"cameras={self.cameras}: names must be unique")

    @property
    def bev_cameras(self) -> list[str]:
        return [c for c in self.cameras if c not in self.perspective.names]

    @property
    def perspective_cameras(self) -> list[str]:
        return [c for c in self.cameras if c in self.perspective.names]

    def bev_spans(self) -> dict[str, float]:
        return dict(zip(self.bev_cameras, self.camera_spans_m))

    @property
    def dt(self) -> float:
        return 1.0 / self.step_hz

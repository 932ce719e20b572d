"""Configuration of the camera ingest (`camera_ingest` node, also embedded by the planner)."""

from __future__ import annotations

from dataclasses import dataclass

from vla_driving.configuration import Config, ConfigError, param
from vla_driving.constants import TOPIC_INSTRUCTION, TOPIC_ODOMETRY

CAMERA_PLACEHOLDER = "{camera}"
TRANSPORTS = ("raw", "compressed")
DEFAULT_CAMERAS = ["bev_near", "bev_far"]
DEFAULT_CAMERA_TOPIC = "/carla/ego_vehicle/{camera}/image"
DEFAULT_CAMERA_INFO_TOPIC = "/carla/ego_vehicle/{camera}/camera_info"


@dataclass
class OdometryLimits(Config):
    """Physical bounds of accepted odometry: finite but absurd values (speed 1e30) are refused,
    not passed on to a planner or a controller."""

    max_speed_m_s: float = param(100.0, "largest accepted |twist.linear.x| and |y| (m/s)",
                                 low=1.0, high=1000.0)
    max_yaw_rate_rad_s: float = param(5.0, "largest accepted |twist.angular.z| (rad/s)",
                                      low=0.1, high=100.0)
    max_position_m: float = param(1.0e7, "largest accepted |x| and |y| of the pose (m; UTM "
                                  "northings stay below 1e7)", low=1.0, high=1.0e9)
    quaternion_tolerance: float = param(0.1, "largest accepted | |q| - 1 | of the orientation",
                                        low=1e-6, high=1.0)


@dataclass
class IngestConfig(Config):
    """Which cameras to read, how to synchronise them and what input to refuse."""

    cameras: list[str] = param(DEFAULT_CAMERAS, "camera names, in model input order", min_len=1)
    anchor_camera: str = param("", "camera whose frames trigger a synchronised set "
                                   "(empty: the first camera)")
    camera_topic: str = param(DEFAULT_CAMERA_TOPIC, "image topic template; {camera} is replaced "
                                                    "by the camera name")
    transport: str = param("raw", "raw: sensor_msgs/Image on camera_topic; compressed: "
                                  "sensor_msgs/CompressedImage on camera_topic + '/compressed'",
                           choices=TRANSPORTS)
    camera_info_cameras: list[str] = param([], "cameras whose frames need a sensor_msgs/"
                                           "CameraInfo of the same size (perspective cameras); "
                                           "their frames are refused until one arrived")
    camera_info_topic: str = param(DEFAULT_CAMERA_INFO_TOPIC, "CameraInfo topic template of "
                                   "camera_info_cameras ({camera} is replaced)")
    odometry_topic: str = param(TOPIC_ODOMETRY, "nav_msgs/Odometry topic")
    synced_topic: str = param("", "camera_ingest only: republish every synchronised set for other "
                              "nodes as raw rgb8 images stamped with the set's time on this "
                              "topic template ({camera} is replaced); empty: off")
    instruction_topic: str = param(TOPIC_INSTRUCTION, "std_msgs/String driving instruction topic")
    sync_tolerance_s: float = param(0.02, "largest stamp difference between a view and the "
                                          "anchor that counts as the same instant",
                                    low=0.0, high=1.0)
    hold_max_s: float = param(0.5, "how old a held (repeated) view may be before the set is "
                                   "degraded", low=0.0, high=10.0)
    max_wait_s: float = param(0.05, "how long a set waits for late views after its anchor "
                                    "arrived (ROS clock)", low=0.0, high=1.0)
    queue_depth: int = param(5, "DDS history depth of each camera subscription (sensor-data "
                                "QoS keeps the last N; deeper rides out longer stalls)",
                             low=1, high=100)
    buffer_len: int = param(4, "frames buffered per camera (the oldest is dropped)",
                            low=1, high=100)
    history: int = param(16, "synchronised sets kept for video input; the policy picks its "
                         "frames from them by stamp, so they must span the bundle's "
                         "(num_frames - 1) x frame_interval_s (0.5 s: 16 sets at 30 Hz)",
                         low=1, high=64)
    max_frame_age_s: float = param(1.0, "frames older than this (ROS clock - stamp) are "
                                        "rejected as stale", low=0.0, high=60.0)
    max_future_s: float = param(0.5, "frames and odometry stamped further ahead of the ROS "
                                "clock than this are rejected (a bridge publishes sensors a step "
                                "before /clock; a clock off by days must not freeze the input)",
                                low=0.0, high=10.0)
    odometry: OdometryLimits = param(OdometryLimits(), "physical bounds of accepted odometry")
    max_width: int = param(4096, "largest accepted image width (px)", low=1, high=16384)
    max_height: int = param(4096, "largest accepted image height (px)", low=1, high=16384)
    max_instruction_chars: int = param(256, "longest accepted instruction", low=1, high=10000)
    diagnostics_period_s: float = param(1.0, "period of /diagnostics (ROS clock)",
                                        low=0.05, high=60.0)

    @property
    def anchor(self) -> str:
        return self.anchor_camera or self.cameras[0]

    def topic_for(self, camera: str) -> str:
        topic = self.camera_topic.replace(CAMERA_PLACEHOLDER, camera)
        return topic + "/compressed" if self.transport == "compressed" else topic

    def camera_info_topic_for(self, camera: str) -> str:
        return self.camera_info_topic.replace(CAMERA_PLACEHOLDER, camera)

    def validate(self) -> None:
        unknown = [c for c in self.camera_info_cameras if c not in self.cameras]
        if unknown:
            raise ConfigError(f"camera_info_cameras: {unknown} not in cameras {self.cameras}")
        if self.camera_info_cameras and CAMERA_PLACEHOLDER not in self.camera_info_topic \
                and len(self.camera_info_cameras) > 1:
            raise ConfigError(f"camera_info_topic={self.camera_info_topic!r}: needs "
                              f"{CAMERA_PLACEHOLDER} with more than one camera")
        if len(set(self.cameras)) != len(self.cameras):
            raise ConfigError(f"cameras={self.cameras!r}: names must be unique")
        if any(not c or "/" in c for c in self.cameras):
            raise ConfigError(f"cameras={self.cameras!r}: names must be non-empty without '/'")
        if self.anchor_camera and self.anchor_camera not in self.cameras:
            raise ConfigError(f"anchor_camera={self.anchor_camera!r}: allowed values are "
                              f"{self.cameras}")
        if CAMERA_PLACEHOLDER not in self.camera_topic and len(self.cameras) > 1:
            raise ConfigError(f"camera_topic={self.camera_topic!r}: needs {CAMERA_PLACEHOLDER} "
                              f"with more than one camera")

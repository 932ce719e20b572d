"""Config of the `vla_planner` node: policy source, planning rate, topics, input-age bound."""

from __future__ import annotations

from dataclasses import dataclass

from vla_driving.configuration import Config, param
from vla_driving.constants import (FRAME_EGO, TOPIC_DECISION, TOPIC_DESCRIPTION, TOPIC_MARKERS,
                                   TOPIC_PLANNER_STATUS, TOPIC_TRAJECTORY)
from vla_driving.engines.config import EngineConfig
from vla_driving.sensors.config import IngestConfig

POLICIES = ("vla", "constant_velocity")


@dataclass
class PlannerConfig(Config):
    """The planner's one config; `ingest` is the embedded camera ingest (same keys as camera_ingest)."""

    policy: str = param("vla", "vla: the model bundle; constant_velocity: the baseline",
                        choices=POLICIES)
    bundle: str = param("models/default", "model bundle directory (policy: vla)")
    rate_hz: float = param(10.0, "planning rate (ROS clock)", low=2.0, high=20.0)
    sync_with_frames: bool = param(False, "plan once on every new synchronised set instead of on "
                                   "the rate_hz timer (simulation lockstep with the bridge's "
                                   "wait_for_plan); a set is planned once odometry of its time "
                                   "arrived, and a status is published for every set")
    sync_wait_instruction: bool = param(False, "with sync_with_frames: sets also wait for the "
                                        "first instruction (a simulator bridge sends one before "
                                        "its first frame; over DDS it can arrive after it, and "
                                        "the first plans then differ from run to run)")
    text_period_s: float = param(2.0, "scene description / justification period; 0: only on "
                                 "request (instruction topic)", low=0.0, high=600.0)
    record_path: str = param("", "append every plan / policy error as a JSON line here (empty: off)")
    max_input_age_s: float = param(0.5, "plan on the last frames until they are this old; after "
                                   "that report an error instead of planning", low=0.05, high=10.0)
    frame_id: str = param(FRAME_EGO, "frame of the trajectory (ego frame at the image stamp)")
    trajectory_topic: str = param(TOPIC_TRAJECTORY, "nav_msgs/Path output")
    autoware_trajectory_topic: str = param(
        "", "also publish each plan as autoware_planning_msgs/Trajectory here (stamped with the "
        "image time, in the odometry frame, points with time_from_start, velocity and heading); "
        "empty: off")
    autoware_trajectory_frame: str = param("map", "frame_id of the Autoware trajectory: the "
                                           "frame of the odometry input")
    decision_topic: str = param(TOPIC_DECISION, "std_msgs/String JSON decision output")
    description_topic: str = param(TOPIC_DESCRIPTION, "std_msgs/String JSON scene text output")
    markers_topic: str = param(TOPIC_MARKERS, "visualization_msgs/MarkerArray output")
    status_topic: str = param(TOPIC_PLANNER_STATUS, "std_msgs/String JSON status (ok / error)")
    diagnostics_period_s: float = param(1.0, "period of /diagnostics (ROS clock)", low=0.05,
                                        high=60.0)
    autostart: bool = param(True, "configure and activate at start-up (`ros2 run` / launch without "
                            "a lifecycle manager); the in-process bringup drives transitions itself")
    ingest: IngestConfig = param(IngestConfig(), "camera, odometry and instruction ingest")
    engine: EngineConfig = param(EngineConfig(), "encoder back end order, device and precision "
                                 "of the bundle's parts (policy: vla)")

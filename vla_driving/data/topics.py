"""Which topics a bag is read from (carla-ros-bridge layout by default) and the sim's own topics."""

from __future__ import annotations

from dataclasses import dataclass

from vla_driving.configuration import Config, ConfigError, param

CARLA_PREFIX = "/carla/ego_vehicle"
# Simulator ground truth (std_msgs/String JSON unless noted), written next to the vehicle topics.
TOPIC_SIM_AGENTS = "/sim/ground_truth/agents"          # String JSON per frame
TOPIC_SIM_LANES = "/sim/ground_truth/lanes"            # String JSON once per episode
TOPIC_SIM_COLLISION = "/sim/ground_truth/collision"    # std_msgs/Bool per frame
TOPIC_SIM_COMPLETED = "/sim/ground_truth/instruction_completed"   # std_msgs/Bool per frame
TOPIC_SIM_EPISODE = "/sim/episode"                      # String JSON once: scenario, seed, config
# DAgger episodes: the shadow expert's future from each labelled frame (String JSON per frame:
# t_ns, x, y, yaw, speed lists in the world frame, starting at the frame's own state).
TOPIC_SIM_EXPERT_FUTURE = "/sim/expert/future"
# Reference texts of the labelled frames (String JSON per frame, bag time = the frame's stamp,
# `stamp_ns` inside): the scene-graph caption, the expert's justification and the QA rounds that
# the training targets are made of; replay scores the model's text against them.
TOPIC_REF_DESCRIPTION = "/sim/reference/description"
TOPIC_REF_JUSTIFICATION = "/sim/reference/justification"
TOPIC_REF_QA = "/sim/reference/qa"


def camera_topic(camera: str, compressed: bool = True) -> str:
    return f"{CARLA_PREFIX}/{camera}/image" + ("/compressed" if compressed else "")


def camera_info_topic(camera: str) -> str:
    """carla-ros-bridge's CameraInfo beside `camera_topic(camera)` (perspective cameras)."""
    return f"{CARLA_PREFIX}/{camera}/camera_info"


@dataclass
class BagTopics(Config):
    """Topic names of a bag; camera topics pair with `cameras` in order."""

    cameras: list[str] = param(["bev_near", "bev_far"], "camera names (dataset order)")
    camera_topics: list[str] = param([camera_topic("bev_near"), camera_topic("bev_far")],
                                     "image topics (sensor_msgs/CompressedImage or Image), one "
                                     "per camera")
    odometry: str = param(f"{CARLA_PREFIX}/odometry", "nav_msgs/Odometry topic")
    instruction: str = param(f"{CARLA_PREFIX}/instruction", "std_msgs/String driving command "
                             "('' to have none)")
    agents: str = param(TOPIC_SIM_AGENTS, "ground-truth agents JSON ('' for none)")
    lanes: str = param(TOPIC_SIM_LANES, "ground-truth lanes JSON ('' for none)")
    collision: str = param(TOPIC_SIM_COLLISION, "ground-truth collision flag ('' for none)")
    completed: str = param(TOPIC_SIM_COMPLETED, "instruction-completed flag ('' for none)")
    episode: str = param(TOPIC_SIM_EPISODE, "episode description JSON ('' for none)")
    expert_future: str = param(TOPIC_SIM_EXPERT_FUTURE, "the shadow expert's future per frame "
                               "(DAgger episodes: labels come from it, not from the driven "
                               "odometry; '' for none)")
    reference_description: str = param(TOPIC_REF_DESCRIPTION, "reference scene caption per "
                                       "labelled frame ('' for none)")
    reference_justification: str = param(TOPIC_REF_JUSTIFICATION, "reference justification of "
                                         "the expert's meta-action per labelled frame ('' for "
                                         "none)")
    reference_qa: str = param(TOPIC_REF_QA, "reference QA rounds per labelled frame ('' for "
                              "none)")

    def validate(self) -> None:
        if len(self.cameras) != len(self.camera_topics):
            raise ConfigError(f"cameras ({len(self.cameras)}) and camera_topics "
                              f"({len(self.camera_topics)}) need the same length")
        if not self.odometry:
            raise ConfigError("odometry: a topic is required (labels come from it)")

    def for_cameras(self, cameras: list[str]) -> "BagTopics":
        return BagTopics(**{**self.to_dict(), "cameras": list(cameras),
                            "camera_topics": [camera_topic(c) for c in cameras]})

"""ros2 launch vla_driving carla.launch.py [config:=PATH]: the carla-ros-bridge topic layout (run CARLA and its ROS bridge separately).

Thin on purpose: the node list and parameters come from the same profile YAML that
`vla-driving run --config config/carla.yaml` reads (vla_driving.ros.bringup.launch_plan).
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from vla_driving.ros.bringup import launch_plan

PROFILE = "carla.yaml"


def _nodes(context):
    config = LaunchConfiguration("config").perform(context)
    return [Node(output="screen", **entry) for entry in launch_plan(config)]


def generate_launch_description():
    default = os.path.join(get_package_share_directory("vla_driving"), "config", PROFILE)
    return LaunchDescription([
        DeclareLaunchArgument("config", default_value=default, description="profile YAML"),
        OpaqueFunction(function=_nodes),
    ])

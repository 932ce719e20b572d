"""The launch description shared by every launch file: the nodes and parameters of one profile.

Launch files stay one line each; the node list comes from the same YAML profile that
`vla-driving run --config` reads (`bringup.launch_plan`), so both bring the same stack up.
`launch` and `launch_ros` come with a system ROS 2 install only, so they are imported here,
never by the in-process bringup.
"""

from __future__ import annotations

import os


def profile_launch_description(profile: str):
    """`ros2 launch vla_driving <file> [config:=PATH]` for the profile `config/<profile>`."""
    from ament_index_python.packages import get_package_share_directory
    from launch import LaunchDescription
    from launch.actions import DeclareLaunchArgument, OpaqueFunction
    from launch.substitutions import LaunchConfiguration
    from launch_ros.actions import Node

    from vla_driving.ros.stack import launch_plan

    def nodes(context):
        config = LaunchConfiguration("config").perform(context)
        return [Node(output="screen", **entry) for entry in launch_plan(config)]

    default = os.path.join(get_package_share_directory("vla_driving"), "config", profile)
    return LaunchDescription([
        DeclareLaunchArgument("config", default_value=default, description="profile YAML"),
        OpaqueFunction(function=nodes),
    ])

"""Trajectory tracking (PID + pure pursuit / Stanley), safety watchdog and output adapters.

ROS-free: the controller node (`vla_driving.ros.controller_node`) feeds plans and odometry in and
publishes the field values that `adapters` compute.
"""

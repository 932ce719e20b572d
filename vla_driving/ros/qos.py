"""QoS profiles, chosen for compatibility with the publishers a car or simulator has."""

from __future__ import annotations

from rclpy.qos import (DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy,
                       qos_profile_sensor_data)

# Cameras and odometry: best effort, keep the last few. A best-effort reader matches both
# reliable and best-effort writers, and never makes a writer wait for a slow reader.
SENSOR_QOS: QoSProfile = qos_profile_sensor_data

# Commands and instructions: reliable, volatile (matches volatile and transient-local writers).
COMMAND_DEPTH = 10
COMMAND_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=COMMAND_DEPTH,
                         reliability=ReliabilityPolicy.RELIABLE,
                         durability=DurabilityPolicy.VOLATILE)

# The bridge's step announcements: reliable, and the newest kept for a controller that joins
# late, so it knows it is in lockstep before its first /clock.
LOCKSTEP_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=COMMAND_DEPTH,
                          reliability=ReliabilityPolicy.RELIABLE,
                          durability=DurabilityPolicy.TRANSIENT_LOCAL)

# /diagnostics as diagnostic_aggregator expects it.
DIAGNOSTICS_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=COMMAND_DEPTH,
                             reliability=ReliabilityPolicy.RELIABLE,
                             durability=DurabilityPolicy.VOLATILE)


def sensor_qos(depth: int | None = None) -> QoSProfile:
    """The sensor-data profile, optionally with a different history depth."""
    if depth is None:
        return SENSOR_QOS
    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=depth,
                      reliability=ReliabilityPolicy.BEST_EFFORT,
                      durability=DurabilityPolicy.VOLATILE)

"""The planner's messages, built from `vla_driving.policy.planner_outputs` plain data."""

from __future__ import annotations

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from geometry_msgs.msg import Point, PoseStamped
from nav_msgs.msg import Path
from std_msgs.msg import ColorRGBA, Header
from visualization_msgs.msg import Marker, MarkerArray

from vla_driving.constants import NS_PER_S
from vla_driving.policy.planner import STATUS_DEGRADED, STATUS_ERROR, STATUS_OK, CycleResult
from vla_driving.policy.planner_outputs import (TrajectorySample, latency_values, path_poses,
                                                text_values)
from vla_driving.types import Plan

from vla_driving.ros.conversions import ns_to_stamp
from vla_driving.ros.messages import import_message

AUTOWARE_TRAJECTORY = "autoware_planning_msgs/msg/Trajectory"
AUTOWARE_TRAJECTORY_POINT = "autoware_planning_msgs/msg/TrajectoryPoint"
MARKER_NS = "vla_plan"
LINE_WIDTH_M = 0.3
TEXT_HEIGHT_M = 1.0
TEXT_OFFSET_Z_M = 2.0
LEVELS = {STATUS_OK: DiagnosticStatus.OK, STATUS_DEGRADED: DiagnosticStatus.WARN,
          STATUS_ERROR: DiagnosticStatus.ERROR}


def path_msg(plan: Plan, frame_id: str) -> Path:
    """Header stamped with the image time; pose i stamped +0.5 s x (i + 1)."""
    msg = Path(header=Header(stamp=ns_to_stamp(plan.stamp_ns), frame_id=frame_id))
    for p in path_poses(plan):
        pose = PoseStamped(header=Header(stamp=ns_to_stamp(p.stamp_ns), frame_id=frame_id))
        pose.pose.position.x, pose.pose.position.y = p.x, p.y
        q = pose.pose.orientation
        q.x, q.y, q.z, q.w = p.quaternion()
        msg.poses.append(pose)
    return msg


def autoware_trajectory_types() -> tuple[type, type]:
    """(Trajectory, TrajectoryPoint); a missing package raises `MessageTypeError` naming it."""
    return import_message(AUTOWARE_TRAJECTORY), import_message(AUTOWARE_TRAJECTORY_POINT)


def autoware_trajectory_msg(types: tuple[type, type], samples: list[TrajectorySample],
                            stamp_ns: int, frame_id: str):
    """autoware_planning_msgs/Trajectory stamped with the image time; None without points
    (Autoware's followers take an empty trajectory as an error, so none is ever sent)."""
    if not samples:
        return None
    trajectory_cls, point_cls = types
    msg = trajectory_cls(header=Header(stamp=ns_to_stamp(stamp_ns), frame_id=frame_id))
    for s in samples:
        point = point_cls()
        point.time_from_start.sec = int(s.time_from_start_s)
        point.time_from_start.nanosec = int(round((s.time_from_start_s % 1.0) * NS_PER_S))
        point.pose.position.x, point.pose.position.y = s.x, s.y
        q = point.pose.orientation
        q.x, q.y, q.z, q.w = s.quaternion()
        point.longitudinal_velocity_mps = s.velocity
        point.acceleration_mps2 = s.acceleration
        point.heading_rate_rps = s.heading_rate
        msg.points.append(point)
    return msg


def markers_msg(plan: Plan, frame_id: str) -> MarkerArray:
    header = Header(stamp=ns_to_stamp(plan.stamp_ns), frame_id=frame_id)
    line = Marker(header=header, ns=MARKER_NS, id=0, type=Marker.LINE_STRIP, action=Marker.ADD)
    line.scale.x = LINE_WIDTH_M
    line.color = ColorRGBA(r=0.1, g=0.9, b=0.2, a=1.0)
    line.pose.orientation.w = 1.0
    line.points = [Point(x=0.0, y=0.0, z=0.0)] + [Point(x=float(x), y=float(y), z=0.0)
                                                 for x, y in plan.waypoints]
    text = Marker(header=header, ns=MARKER_NS, id=1, type=Marker.TEXT_VIEW_FACING,
                  action=Marker.ADD, text=plan.meta_action.text())
    text.pose.position.z = TEXT_OFFSET_Z_M
    text.pose.orientation.w = 1.0
    text.scale.z = TEXT_HEIGHT_M
    text.color = ColorRGBA(r=1.0, g=1.0, b=1.0, a=1.0)
    return MarkerArray(markers=[line, text])


def diagnostics_msg(node, result: CycleResult, now_ns: int) -> DiagnosticArray:
    core = node.core
    stats = core.ingest.stats()
    level = LEVELS.get(result.status, DiagnosticStatus.WARN)
    message = result.status + (f": {result.error or result.detail}" if (result.error or result.detail) else "")
    values = {"status": result.status, "cycles": str(core.cycles), "errors": str(core.errors),
              "sets": str(stats["sets"]), "degraded_sets": str(stats["degraded_sets"]),
              "held_views": str(stats["held_views"]), "missing_views": str(stats["missing_views"]),
              "bundle_id": core.policy.bundle_id, "last_error": result.error or ""}
    for source, counts in stats["sources"].items():   # refused input, by source and reason
        for reason, n in counts["rejected"].items():
            values[f"rejected.{source}.{reason}"] = str(n)
    times = node.plan_times_ns
    if len(times) > 1 and times[-1] > times[0]:
        values["plan_rate_hz"] = f"{(len(times) - 1) * NS_PER_S / (times[-1] - times[0]):.2f}"
    text = core.text_stats()
    values.update(text_values(None if text is None else text.summary()))
    if text is not None and text.last_rejection:
        values["text.last_rejection"] = text.last_rejection
    ingest_latency = [ns / 1e9 for ns in stats["latency_ns"]]
    values.update(latency_values({"ingest": ingest_latency, **core.latencies}))
    status = DiagnosticStatus(level=level, name=f"{node.get_name()}: planner",
                              hardware_id=node.get_fully_qualified_name(), message=message,
                              values=[KeyValue(key=k, value=v) for k, v in values.items()])
    return DiagnosticArray(header=Header(stamp=ns_to_stamp(now_ns)), status=[status])

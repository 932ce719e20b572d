"""Where the ego sits in its lane, from the frame's ground truth: the auxiliary target that makes
the visual tokens keep what lane keeping depends on, as the lead target does for braking
(docs/training.md, "Off the road: the lane head").

Trained with its past motion hidden half of the time, a model must read its place in the lane
from the images; without a loss that asks for it, nothing makes the tokens keep it.
"""

from __future__ import annotations

import numpy as np

OFFSET_SCALE_M = 2.0       # lateral offset per unit of the target (half a lane)
HEADING_SCALE_RAD = 0.2    # heading error per unit of the target
CLIP = 3.0                 # targets beyond this many units are clipped (mid lane change)
ABSENT = np.array([0.0, 0.0, 0.0], dtype=np.float32)


def centerlines(lanes: list | None) -> dict[str, np.ndarray]:
    """lane name -> its centre line (N x 2, ROS frame) from the episode's lane geometry
    (`/sim/ground_truth/lanes`); lanes with fewer than two points are left out."""
    out = {}
    for lane in lanes or []:
        line = np.asarray(lane.get("centerline", []), dtype=np.float64).reshape(-1, 2)
        if len(line) >= 2:
            out[lane["lane"]] = line
    return out


def lane_pose(line: np.ndarray, pose) -> tuple[float, float]:
    """(offset m, left of the centre line positive; heading error rad, ego yaw minus the line's)
    of `pose` (x, y, yaw) against the nearest segment of the polyline `line`."""
    a, b = line[:-1], line[1:]
    d = b - a
    length2 = np.maximum((d ** 2).sum(axis=1), 1e-12)
    p = np.array(pose[:2], dtype=np.float64)
    t = np.clip(((p - a) * d).sum(axis=1) / length2, 0.0, 1.0)
    nearest = a + t[:, None] * d
    i = int(np.argmin(((p - nearest) ** 2).sum(axis=1)))
    seg = d[i] / np.sqrt(length2[i])
    rel = p - nearest[i]
    offset = float(seg[0] * rel[1] - seg[1] * rel[0])          # cross product: left positive
    heading = float(np.arctan2(np.sin(pose[2] - np.arctan2(seg[1], seg[0])),
                               np.cos(pose[2] - np.arctan2(seg[1], seg[0]))))
    return offset, heading


def lane_target(ground_truth: dict | None, pose, lines: dict[str, np.ndarray]) -> np.ndarray:
    """float32 [known, offset / OFFSET_SCALE_M, heading error / HEADING_SCALE_RAD] in the ego's
    lane (`ground_truth["road"]["ego_lane_name"]`, clipped to +-CLIP); [0, 0, 0] without ground
    truth or without that lane's geometry."""
    name = ((ground_truth or {}).get("road") or {}).get("ego_lane_name", "")
    line = lines.get(name)
    if line is None:
        return ABSENT.copy()
    offset, heading = lane_pose(line, pose)
    return np.array([1.0, np.clip(offset / OFFSET_SCALE_M, -CLIP, CLIP),
                     np.clip(heading / HEADING_SCALE_RAD, -CLIP, CLIP)], dtype=np.float32)

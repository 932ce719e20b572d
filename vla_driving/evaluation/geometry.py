"""Oriented boxes in the ego frame (x forward, y left) and the separating-axis overlap test.

A box is (x, y, yaw, length, width): centre, heading and full extents, metres and radians.
"""

from __future__ import annotations

import numpy as np

BOX_FIELDS = 5
CULL_MARGIN_M = 1e-6      # slack of the bounding-circle cull (rounding), never a tighter test
MIN_HEADING_STEP_M = 0.05  # shorter plan segments keep the previous heading (standing still)


def box_corners(boxes: np.ndarray) -> np.ndarray:
    """Corners (..., 4, 2) of boxes (..., 5), counter-clockwise from front-left."""
    boxes = np.asarray(boxes, dtype=np.float64)
    x, y, yaw, length, width = (boxes[..., i] for i in range(BOX_FIELDS))
    half = np.stack([length / 2, width / 2], axis=-1)
    signs = np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]], dtype=np.float64)
    local = signs * half[..., None, :]
    cos, sin = np.cos(yaw)[..., None], np.sin(yaw)[..., None]
    wx = local[..., 0] * cos - local[..., 1] * sin + x[..., None]
    wy = local[..., 0] * sin + local[..., 1] * cos + y[..., None]
    return np.stack([wx, wy], axis=-1)


def _axes(corners: np.ndarray) -> np.ndarray:
    """The two edge normals (..., 2, 2) of rectangles given by their corners."""
    edges = np.stack([corners[..., 1, :] - corners[..., 0, :],
                      corners[..., 2, :] - corners[..., 1, :]], axis=-2)
    normals = np.stack([-edges[..., 1], edges[..., 0]], axis=-1)
    norm = np.linalg.norm(normals, axis=-1, keepdims=True)
    return normals / np.where(norm > 0, norm, 1.0)


def boxes_overlap(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Whether `box` (5,) overlaps each of `others` (A, 5); touching edges do not count."""
    others = np.asarray(others, dtype=np.float64).reshape(-1, BOX_FIELDS)
    if len(others) == 0:
        return np.zeros(0, dtype=bool)
    a = box_corners(np.asarray(box, dtype=np.float64))          # 4 x 2
    b = box_corners(others)                                      # A x 4 x 2
    axes = np.concatenate([np.broadcast_to(_axes(a), (len(others), 2, 2)), _axes(b)], axis=1)
    proj_a = np.einsum("cd,akd->akc", a, axes)                  # A x 4 axes x 4 corners
    proj_b = np.einsum("acd,akd->akc", b, axes)
    separated = (proj_a.max(-1) <= proj_b.min(-1)) | (proj_b.max(-1) <= proj_a.min(-1))
    return ~separated.any(axis=1)


def boxes_overlap_pairs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Whether box a[i] overlaps box b[i], for (M, 5) pairs at once; touching does not count."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, BOX_FIELDS)
    b = np.asarray(b, dtype=np.float64).reshape(-1, BOX_FIELDS)
    if len(a) != len(b):
        raise ValueError(f"{len(a)} boxes paired with {len(b)}")
    if len(a) == 0:
        return np.zeros(0, dtype=bool)
    ca, cb = box_corners(a), box_corners(b)                      # M x 4 x 2
    axes = np.concatenate([_axes(ca), _axes(cb)], axis=1)        # M x 4 axes x 2
    proj_a = np.einsum("mcd,mkd->mkc", ca, axes)                # M x 4 axes x 4 corners
    proj_b = np.einsum("mcd,mkd->mkc", cb, axes)
    separated = (proj_a.max(-1) <= proj_b.min(-1)) | (proj_b.max(-1) <= proj_a.min(-1))
    return ~separated.any(axis=1)


def step_overlaps(poses: np.ndarray, length: float, width: float,
                  agents: np.ndarray) -> np.ndarray:
    """(S, A): whether a `length` x `width` box at any of the poses (S, P, 3) of step s overlaps
    agent a's box at step s (agents (S, A, 5); rows with NaN are absent and never overlap)."""
    poses = np.asarray(poses, dtype=np.float64)
    agents = np.asarray(agents, dtype=np.float64)
    steps, n_poses = poses.shape[:2]
    n_agents = agents.shape[1]
    out = np.zeros((steps, n_agents), dtype=bool)
    present = np.all(np.isfinite(agents), axis=2)                # S x A
    s_idx, a_idx = np.nonzero(present)
    # boxes whose circumscribed circles are apart cannot overlap: only the rest go to the
    # separating-axis test (most agents are far from the ego; same result, several times faster)
    reach = 0.5 * (np.hypot(length, width) + np.hypot(agents[s_idx, a_idx, 3],
                                                      agents[s_idx, a_idx, 4]))
    gap = np.hypot(poses[s_idx, :, 0] - agents[s_idx, a_idx, 0, None],
                   poses[s_idx, :, 1] - agents[s_idx, a_idx, 1, None])        # pairs x poses
    near = (gap <= reach[:, None] + CULL_MARGIN_M).any(axis=1)
    s_idx, a_idx = s_idx[near], a_idx[near]
    if len(s_idx) == 0:
        return out
    ego = np.concatenate([poses[s_idx], np.broadcast_to([length, width], (len(s_idx), n_poses, 2))],
                         axis=2).reshape(-1, BOX_FIELDS)
    other = np.repeat(agents[s_idx, a_idx], n_poses, axis=0)
    hit = boxes_overlap_pairs(ego, other).reshape(len(s_idx), n_poses).any(axis=1)
    out[s_idx, a_idx] = hit
    return out


def plan_poses(waypoints: np.ndarray) -> np.ndarray:
    """(S, 3) poses x, y, yaw along a plan that starts at the origin heading +x.

    The heading of each waypoint is the direction of travel from the previous one, the way the
    open-loop planning metrics place the ego box.
    """
    wp = np.asarray(waypoints, dtype=np.float64).reshape(-1, 2)
    prev = np.vstack([np.zeros((1, 2)), wp[:-1]])
    delta = wp - prev
    yaws = np.zeros(len(wp))
    heading = 0.0
    for i, (dx, dy) in enumerate(delta):
        if np.hypot(dx, dy) >= MIN_HEADING_STEP_M:
            heading = float(np.arctan2(dy, dx))
        yaws[i] = heading
    return np.column_stack([wp, yaws])


def fixed_heading_poses(waypoints: np.ndarray, forward_offset_m: float = 0.0) -> np.ndarray:
    """(S, 3) poses of boxes that keep the heading of the frame (+x) at every waypoint, their
    centre `forward_offset_m` ahead of it: how UniAD, ST-P3 and VAD place the ego box (their
    footprint is a fixed polygon shifted along the plan, never turned)."""
    wp = np.asarray(waypoints, dtype=np.float64).reshape(-1, 2)
    return np.column_stack([wp[:, 0] + forward_offset_m, wp[:, 1], np.zeros(len(wp))])


def interpolate_poses(start: np.ndarray, end: np.ndarray, substeps: int) -> np.ndarray:
    """`substeps` poses from just after `start` up to `end` (positions linear, yaw of `end`)."""
    fractions = np.arange(1, substeps + 1) / substeps
    xy = start[None, :2] + fractions[:, None] * (end[None, :2] - start[None, :2])
    return np.column_stack([xy, np.full(substeps, end[2])])

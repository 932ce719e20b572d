"""Ego-centred, heading-up bird's-eye views drawn from the simulator state (PIL, no display).

highway-env's own renderer is world-aligned; drawing the views here keeps them heading-up (the
driver's left is the image's left), lets each camera have its own span, and needs no SDL surface.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from vla_driving.sim.frames import world_to_ego

BACKGROUND = (48, 72, 48)
ROAD = (96, 96, 96)
SOLID = (235, 235, 235)
DASHED = (190, 190, 190)
EGO = (40, 210, 70)
OTHER = (60, 120, 235)
TRUCK = (240, 170, 40)
OBSTACLE = (150, 110, 80)
CRASHED = (230, 40, 40)
CULL_MARGIN = 1.6          # keep lane points within this multiple of the half-diagonal


class BevRenderer:
    """Draws one square view of `span_m` metres with the ego at `ego_row` of the height."""

    def __init__(self, size: int, span_m: float, ego_row: float):
        self.size = size
        self.ppm = size / span_m
        self.origin = np.array([size / 2.0, size * ego_row])
        self.radius = span_m * CULL_MARGIN

    def _to_px(self, ego_xy: np.ndarray) -> np.ndarray:
        return np.stack([self.origin[0] - ego_xy[..., 1] * self.ppm,
                         self.origin[1] - ego_xy[..., 0] * self.ppm], axis=-1)

    def _runs(self, pts_ego: np.ndarray):
        """Contiguous runs of points inside the cull radius, as pixel polylines."""
        keep = np.hypot(pts_ego[:, 0], pts_ego[:, 1]) < self.radius
        if not keep.any():
            return
        idx = np.flatnonzero(keep)
        for run in np.split(idx, np.flatnonzero(np.diff(idx) > 1) + 1):
            if len(run) >= 2:
                yield self._to_px(pts_ego[run])

    def render(self, pose, lanes, boxes) -> np.ndarray:
        """pose (x, y, yaw) ROS; lanes: LaneGeometry list; boxes: (x, y, yaw, L, W, colour)."""
        img = Image.new("RGB", (self.size, self.size), BACKGROUND)
        draw = ImageDraw.Draw(img)
        x, y, yaw = pose
        for lane in lanes:
            for px in self._runs(world_to_ego(lane.center_np, x, y, yaw)):
                draw.line([tuple(p) for p in px], fill=ROAD,
                          width=max(1, int(round(lane.width * self.ppm))) + 1, joint="curve")
        for lane in lanes:
            for line, kind in zip(lane.bounds_np, lane.line_types):
                if kind == "none":
                    continue
                for px in self._runs(world_to_ego(line, x, y, yaw)):
                    if kind == "solid":
                        draw.line([tuple(p) for p in px], fill=SOLID, width=1)
                    else:
                        for a, b in zip(px[0:-1:2], px[1::2]):
                            draw.line([tuple(a), tuple(b)], fill=DASHED, width=1)
        for bx, by, byaw, length, width, colour in boxes:
            corners = _box(bx, by, byaw, length, width)
            ego_xy = world_to_ego(corners, x, y, yaw)
            if np.min(np.hypot(ego_xy[:, 0], ego_xy[:, 1])) < self.radius:
                draw.polygon([tuple(p) for p in self._to_px(ego_xy)], fill=colour)
        return np.asarray(img, dtype=np.uint8)


def _box(x: float, y: float, yaw: float, length: float, width: float) -> np.ndarray:
    c, s = np.cos(yaw), np.sin(yaw)
    half = np.array([[1, 1], [1, -1], [-1, -1], [-1, 1]]) * [length / 2, width / 2]
    return np.stack([x + c * half[:, 0] - s * half[:, 1], y + s * half[:, 0] + c * half[:, 1]], 1)

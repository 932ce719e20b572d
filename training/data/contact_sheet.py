"""Contact sheet: a grid of frames with the future trajectory drawn on them (PNG).

On simulator bird's-eye views the waypoints are drawn in the image's own metric frame (the view
span and ego row come from the episode's config); other cameras and bags without images get the trajectory alone, zoomed to its extent.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from vla_driving.data.images import decode_image
from vla_driving.sim.camera_config import PerspectiveConfig

TILE = 256
CAPTION_H = 28
INSET_MIN_SPAN_M = 10.0     # trajectory-only tiles zoom to the motion, at least this wide
TRAJ = (255, 40, 200)
PAST = (255, 255, 255)
TEXT = (255, 255, 255)


def _view_geometry(info: dict | None, camera: str):
    """(span m, ego row fraction) of a simulator BEV camera, else None."""
    try:
        sim = info["config"]["sim"]
        rig = sim.get("perspective", {}).get("names", [])       # perspective views: no span
        bev = [c for c in sim["cameras"] if c not in rig]
        return sim["camera_spans_m"][bev.index(camera)], sim["ego_row_fraction"]
    except (TypeError, KeyError, ValueError):
        return None


def _to_px(points: np.ndarray, span: float, row: float) -> list:
    ppm = TILE / span
    return [(TILE / 2 - y * ppm, TILE * row - x * ppm) for x, y in points]


def _rig(info: dict | None, camera: str):
    """The simulator's perspective camera `camera` (PerspectiveConfig), else None."""
    try:
        rig = PerspectiveConfig.from_dict(info["config"]["sim"]["perspective"])
        rig.mount(camera)
    except (TypeError, KeyError, ValueError):
        return None
    return rig


def _on_ground(rig, camera: str, points: np.ndarray) -> list:
    """Ego-frame ground points (N x 2) -> tile pixels through the camera's pinhole; points
    behind or beside the lens (closer than 1 m along its axis) are left out."""
    cam = rig.mount(camera).ego_to_camera(np.column_stack([points, np.zeros(len(points))]))
    k = rig.pinhole()
    uv = k.project(cam[cam[:, 2] > 1.0]) if np.any(cam[:, 2] > 1.0) else np.zeros((0, 2))
    return [(u * TILE / k.width, v * TILE / k.height) for u, v in uv]


def tile(episode, sample, camera: str) -> Image.Image:
    geom = _view_geometry(episode.info, camera)
    if sample.images.get(camera):
        img = Image.fromarray(decode_image(*sample.images[camera])).resize((TILE, TILE))
    else:
        img = Image.new("RGB", (TILE, TILE), (30, 30, 30))
    draw = ImageDraw.Draw(img)
    lab = sample.labels
    rig = _rig(episode.info, camera)
    if rig is not None:            # a perspective view: the future on the road, as it sees it
        px = _on_ground(rig, camera, np.vstack([[0.0, 0.0], lab.waypoints]))
        if len(px) >= 2:
            draw.line(px, fill=TRAJ, width=2)
        for x, y in px:
            draw.ellipse([x - 2, y - 2, x + 2, y + 2], fill=TRAJ)
        return img
    extent = float(np.max(np.abs(np.vstack([lab.past, lab.waypoints]))))
    span, row = geom if geom else (max(INSET_MIN_SPAN_M, 2.5 * extent), 0.6)
    for pts, colour in ((lab.past[::-1], PAST), (lab.waypoints, TRAJ)):   # both from the ego out
        px = _to_px(np.vstack([[0.0, 0.0], pts]), span, row)
        draw.line(px, fill=colour, width=2)
        for x, y in px[1:]:
            draw.ellipse([x - 2, y - 2, x + 2, y + 2], fill=colour)
    return img


def contact_sheet(dataset, out: Path, n: int = 12, columns: int = 4,
                  camera: str | None = None) -> Path:
    """Write `n` evenly spaced frames of `dataset` (a DrivingDataset) to `out`."""
    camera = camera or dataset.cfg.cameras[0]
    picks = np.linspace(0, len(dataset) - 1, num=min(n, len(dataset))).astype(int)
    rows = max(1, int(np.ceil(len(picks) / columns)))
    sheet = Image.new("RGB", (columns * TILE, rows * (TILE + CAPTION_H)), (0, 0, 0))
    draw = ImageDraw.Draw(sheet)
    for k, i in enumerate(picks):
        episode, s = dataset.sample(int(i))
        x, y = (k % columns) * TILE, (k // columns) * (TILE + CAPTION_H)
        sheet.paste(tile(episode, s, camera), (x, y))
        caption = f"{s.labels.meta.text()}\n{s.instruction[:40]}"
        draw.multiline_text((x + 3, y + TILE + 1), caption, fill=TEXT, spacing=1)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out)
    return out

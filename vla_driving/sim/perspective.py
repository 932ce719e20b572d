"""Perspective camera images of the simulator's scene, rendered offscreen with panda3d.

The scene is rebuilt from our own state, not from highway-env's drawing: the road surface, lane
markings and road edges from the episode's lane geometry (once per episode), vehicles as shaded
boxes (moved every frame), a ground plane under a sky-coloured clear (`perspective_scene.py`,
`perspective_meshes.py`). panda3d picks its headless EGL display (Mesa llvmpipe on a CPU
machine); `framebuffer-software` is left alone, it makes panda3d refuse llvmpipe.

One `PerspectiveRenderer` per process (`shared_renderer()`): every simulator of the process
renders through it, and `close()` frees its buffers and scene. An EGL context is current on one
thread only, and a multi-threaded ROS executor calls the bridge from any of its threads
(eglMakeCurrent failed with EGL_BAD_ACCESS), so all panda3d work runs on one render thread of
the process and callers wait for it.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from queue import SimpleQueue

import numpy as np

from vla_driving.sim.camera_config import PerspectiveConfig
from vla_driving.sim.perspective_meshes import ROAD  # noqa: F401  (tests read the palette here)
from vla_driving.sim.perspective_scene import GROUND, SKY  # noqa: F401

CAR_HEIGHT_M, TRUCK_HEIGHT_M, OBSTACLE_HEIGHT_M = 1.5, 3.2, 1.0
TRUCK_MIN_LENGTH_M = 8.0
# Distinct vehicle colours (by agent id): neighbours in the list differ in hue.
PALETTE = [(0.85, 0.15, 0.15), (0.15, 0.35, 0.85), (0.95, 0.75, 0.10), (0.10, 0.65, 0.30),
           (0.60, 0.20, 0.75), (0.95, 0.45, 0.05), (0.10, 0.70, 0.75), (0.85, 0.30, 0.60),
           (0.55, 0.55, 0.10), (0.30, 0.15, 0.05), (0.95, 0.95, 0.95), (0.10, 0.10, 0.10)]
OBSTACLE_COLOUR = (0.60, 0.45, 0.30)

_shared = None
_shared_lock = threading.Lock()
_jobs: SimpleQueue | None = None   # the render thread's queue
_thread_lock = threading.Lock()


def shared_renderer() -> "PerspectiveRenderer":
    """The process's renderer (created on first use, again after `close()`)."""
    global _shared
    with _shared_lock:
        if _shared is None or _shared.closed:
            _shared = PerspectiveRenderer()
        return _shared


def close_shared_renderer() -> None:
    """Free the process's renderer, if one was made (the next `shared_renderer()` makes one)."""
    with _shared_lock:
        if _shared is not None:
            _shared.close()


def box_height(length: float, is_vehicle: bool) -> float:
    if not is_vehicle:
        return OBSTACLE_HEIGHT_M
    return TRUCK_HEIGHT_M if length >= TRUCK_MIN_LENGTH_M else CAR_HEIGHT_M


def _serve(jobs: SimpleQueue) -> None:
    while True:
        fn, args, future = jobs.get()
        try:
            future.set_result(fn(*args))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            future.set_exception(exc)


def _on_render_thread(fn, *args):
    """Run `fn(*args)` on the process's render thread (started on first use, kept: the GL
    context stays current on it) and return its result."""
    global _jobs
    with _thread_lock:
        if _jobs is None:
            _jobs = SimpleQueue()
            threading.Thread(target=_serve, args=(_jobs,), name="panda3d-render",
                             daemon=True).start()
    future: Future = Future()
    _jobs.put((fn, args, future))
    return future.result()


class PerspectiveRenderer:
    """A `PerspectiveScene` driven from any thread (one call at a time), run on the render
    thread. `close()` frees its camera buffers, textures and scene graph; the process keeps its
    GL context and render thread for the next renderer (see `perspective_scene._context`)."""

    def __init__(self) -> None:
        from vla_driving.sim.perspective_scene import PerspectiveScene

        self.closed = False
        self._lock = threading.Lock()
        self._scene = _on_render_thread(PerspectiveScene)

    def render(self, cfg: PerspectiveConfig, names: list[str], pose, lanes, road_key,
               boxes) -> dict[str, np.ndarray]:
        """Images (H x W x 3 uint8) of cameras `names` on the ego at pose (x, y, yaw); lanes
        (rebuilt when `road_key` changes) and boxes (x, y, yaw, length, width, height, rgb) in
        the map frame."""
        with self._lock:
            if self.closed:
                raise RuntimeError("PerspectiveRenderer is closed")
            return _on_render_thread(self._scene.render, cfg, names, pose, lanes, road_key,
                                     boxes)

    def close(self) -> None:
        with self._lock:
            if not self.closed:
                self.closed = True
                _on_render_thread(self._scene.close)

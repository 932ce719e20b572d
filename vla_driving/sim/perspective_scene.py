"""The panda3d side of the perspective cameras: scene graph, offscreen buffers, read-back.

World coordinates are the ROS map frame (x, y, z up), which panda3d's default Z-up right-handed
frame takes unchanged; panda3d cameras look along +Y, so a ROS yaw is a panda3d heading of
yaw - 90 degrees. A lens gets the film size of the image in pixels, the focal length fx and a
film offset that puts the principal point at (cx, cy).
"""

from __future__ import annotations

import math

import numpy as np

from vla_driving.sim.camera_config import PerspectiveConfig
from vla_driving.sim.perspective_meshes import cube_node, quad_node, road_node

SKY = (0.62, 0.76, 0.92)
GROUND = (0.30, 0.42, 0.26)
GROUND_HALF_M = 1500.0
GROUND_Z = -0.05
PRC = ("audio-library-name null\nload-display p3headlessgl\naux-display pandagl\n"
       "window-type offscreen\nsync-video false\nnotify-level warning\n"
       "notify-level-display error\nnotify-level-device error\ntextures-power-2 none\n")
_CONTEXT = None       # (pipe, engine, anchor buffer): one per process, see _context


class PerspectiveScene:
    """One GL context; a buffer per camera (made on first use); the scene graph they share.
    Every call must come from the thread that made it (`PerspectiveRenderer` sees to that)."""

    def __init__(self) -> None:
        from panda3d import core as p3

        self.p3 = p3
        self.pipe, self.engine, self.anchor = _context(p3)
        self.root = p3.NodePath("scene")
        self.road = self.root.attachNewNode("road")
        self.vehicles = self.root.attachNewNode("vehicles")
        self._lights()
        self.ground = self.root.attachNewNode(quad_node(p3, GROUND_HALF_M, GROUND))
        self._cube = cube_node(p3)
        self._pool: list = []
        self._shown = 0                # pool nodes in use (the rest are stashed)
        self._cams: dict = {}          # (name, config key) -> (buffer, texture, camera NodePath)
        self._road_key = None
        self.closed = False

    # ---- scene -------------------------------------------------------------------------------
    def _lights(self) -> None:
        p3 = self.p3
        sun = p3.DirectionalLight("sun")
        sun.setColor((0.75, 0.75, 0.72, 1))
        sun_np = self.root.attachNewNode(sun)
        sun_np.setHpr(35, -50, 0)
        amb = p3.AmbientLight("ambient")
        amb.setColor((0.42, 0.42, 0.45, 1))
        amb_np = self.root.attachNewNode(amb)
        self.vehicles.setLight(sun_np)
        self.vehicles.setLight(amb_np)

    def set_road(self, key, lanes) -> None:
        """Rebuild the road meshes when `key` (one object per episode) changes."""
        if key is self._road_key:
            return
        self.road.removeNode()
        self.road = self.root.attachNewNode("road")
        self.road.attachNewNode(road_node(self.p3, lanes))
        self._road_key = key

    def set_vehicles(self, boxes) -> None:
        """boxes: (x, y, yaw, length, width, height, rgb) in the map frame."""
        while len(self._pool) < len(boxes):
            self._pool.append(self._cube.copyTo(self.vehicles))
        for i in range(len(boxes), self._shown):
            self._pool[i].stash()
        for i in range(self._shown, len(boxes)):
            self._pool[i].unstash()
        self._shown = len(boxes)
        for node, (x, y, yaw, length, width, height, rgb) in zip(self._pool, boxes):
            node.setPosHprScale(x, y, height / 2.0, math.degrees(yaw), 0, 0,
                                length, width, height)
            node.setColor(*rgb, 1.0)

    # ---- cameras -----------------------------------------------------------------------------
    def _camera(self, name: str, cfg: PerspectiveConfig):
        key = (name, repr(cfg))
        if key not in self._cams:
            self._cams[key] = self._make_camera(name, cfg)
        return self._cams[key]

    def _make_camera(self, name: str, cfg: PerspectiveConfig):
        p3, k = self.p3, cfg.pinhole()
        fbp = p3.FrameBufferProperties()
        fbp.setRgbColor(True)
        fbp.setRgbaBits(8, 8, 8, 0)
        fbp.setDepthBits(24)
        buf = self.engine.makeOutput(self.pipe, f"camera_{name}", 0, fbp,
                                     p3.WindowProperties.size(k.width, k.height),
                                     p3.GraphicsPipe.BFRefuseWindow, self.anchor.getGsg(),
                                     self.anchor)
        if buf is None:
            raise RuntimeError(f"panda3d: cannot make a {k.width}x{k.height} offscreen buffer "
                               f"for camera {name}")
        buf.setClearColor((*SKY, 1))
        tex = p3.Texture(name)
        buf.addRenderTexture(tex, p3.GraphicsOutput.RTMCopyRam)
        lens = p3.PerspectiveLens()
        aspect = k.fx / k.fy
        lens.setFilmSize(k.width, k.height * aspect)
        lens.setFocalLength(k.fx)
        lens.setFilmOffset(k.width / 2.0 - k.cx, (k.cy - k.height / 2.0) * aspect)
        lens.setNearFar(cfg.near_m, cfg.far_m)
        cam = self.root.attachNewNode(p3.Camera(name, lens))
        buf.makeDisplayRegion().setCamera(cam)
        self.engine.openWindows()          # a buffer on the context's host opens lazily
        return buf, tex, cam

    def render(self, cfg: PerspectiveConfig, names: list[str], pose, lanes, road_key,
               boxes) -> dict[str, np.ndarray]:
        """Images (H x W x 3 uint8) of cameras `names` on the ego at pose (x, y, yaw)."""
        self.set_road(road_key, lanes)
        self.set_vehicles(boxes)
        x, y, yaw = pose
        self.ground.setPos(x, y, GROUND_Z)
        cams = {n: self._camera(n, cfg) for n in names}
        for buf, _, _ in self._cams.values():
            buf.setActive(False)
        for name, (buf, _, cam) in cams.items():
            m = cfg.mount(name)
            c, s = math.cos(yaw), math.sin(yaw)
            cam.setPosHpr(x + c * m.x - s * m.y, y + s * m.x + c * m.y, m.z,
                          math.degrees(yaw + m.yaw) - 90.0, -math.degrees(m.pitch), 0)
            buf.setActive(True)
        self.engine.renderFrame()
        return {name: _read(tex) for name, (_, tex, _) in cams.items()}

    def close(self) -> None:
        """Free the camera buffers, their textures and the scene graph (not the context)."""
        if not self.closed:
            for buf, tex, _ in self._cams.values():
                buf.clearRenderTextures()
                self.engine.removeWindow(buf)
                tex.releaseAll()
            self._cams.clear()
            self.root.removeNode()
            self.closed = True


def _context(p3):
    """The process's pipe, engine and GL context (held by a 1x1 buffer the camera buffers are
    made on), made once on the render thread and kept: after the context was freed, a new pipe
    found the EGL display terminated (eglChooseConfig: EGL_NOT_INITIALIZED), and a new context
    on the same pipe rendered wrong colours (panda3d's caches outlive a GSG)."""
    global _CONTEXT
    if _CONTEXT is None:
        p3.loadPrcFileData("vla_driving", PRC)
        pipe = p3.GraphicsPipeSelection.getGlobalPtr().makeDefaultPipe()
        if pipe is None:
            raise RuntimeError("panda3d: no graphics pipe (install Mesa's EGL: libegl1 + "
                               "libgl1-mesa-dri)")
        engine = p3.GraphicsEngine(pipe)
        fbp = p3.FrameBufferProperties()
        fbp.setRgbColor(True)
        fbp.setDepthBits(24)
        anchor = engine.makeOutput(pipe, "context", 0, fbp, p3.WindowProperties.size(1, 1),
                                   p3.GraphicsPipe.BFRefuseWindow)
        if anchor is None:
            raise RuntimeError("panda3d: cannot make an offscreen buffer (EGL pbuffer)")
        anchor.setActive(False)
        engine.openWindows()
        _CONTEXT = pipe, engine, anchor
    return _CONTEXT


def _read(tex) -> np.ndarray:
    data = np.frombuffer(bytes(tex.getRamImageAs("RGB")), dtype=np.uint8)
    img = data.reshape(tex.getYSize(), tex.getXSize(), 3)
    return np.ascontiguousarray(img[::-1])          # GL rows are bottom-up

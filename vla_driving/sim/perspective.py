"""Perspective camera images of the simulator's scene, rendered offscreen with panda3d.

The scene is rebuilt from our own state, not from highway-env's drawing: the road surface, lane
markings and road edges from the episode's lane geometry (once per episode), vehicles as shaded
boxes (moved every frame), a ground plane under a sky-coloured clear. panda3d picks its headless
EGL display (Mesa llvmpipe on a CPU machine); `framebuffer-software` is left alone, it makes
panda3d refuse llvmpipe. One `PerspectiveRenderer` per process (`shared_renderer()`): every
simulator of the process renders through it, and `close()` frees its GL context and buffers.

World coordinates are the ROS map frame (x, y, z up), which panda3d's default Z-up right-handed
frame takes unchanged; panda3d cameras look along +Y, so a ROS yaw is a panda3d heading of
yaw - 90 degrees.
"""

from __future__ import annotations

import math
import threading

import numpy as np

from vla_driving.sim.camera_config import PerspectiveConfig

SKY = (0.62, 0.76, 0.92)
GROUND = (0.30, 0.42, 0.26)
ROAD = (0.36, 0.36, 0.38)
MARKING = (0.92, 0.92, 0.90)
GROUND_HALF_M = 1500.0
GROUND_Z, MARKING_Z = -0.05, 0.03
MARKING_WIDTH_M = 0.15
DASH_M, DASH_PERIOD_M = 3.0, 9.0
TILE_M = 50.0
CAR_HEIGHT_M, TRUCK_HEIGHT_M, OBSTACLE_HEIGHT_M = 1.5, 3.2, 1.0
TRUCK_MIN_LENGTH_M = 8.0
# Distinct vehicle colours (by agent id): neighbours in the list differ in hue.
PALETTE = [(0.85, 0.15, 0.15), (0.15, 0.35, 0.85), (0.95, 0.75, 0.10), (0.10, 0.65, 0.30),
           (0.60, 0.20, 0.75), (0.95, 0.45, 0.05), (0.10, 0.70, 0.75), (0.85, 0.30, 0.60),
           (0.55, 0.55, 0.10), (0.30, 0.15, 0.05), (0.95, 0.95, 0.95), (0.10, 0.10, 0.10)]
OBSTACLE_COLOUR = (0.60, 0.45, 0.30)
PRC = ("audio-library-name null\nload-display p3headlessgl\naux-display pandagl\n"
       "window-type offscreen\nsync-video false\nnotify-level warning\n"
       "notify-level-display error\nnotify-level-device error\n")

_shared = None
_shared_lock = threading.Lock()


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


class PerspectiveRenderer:
    """One GL context; a buffer per camera (made on first use); the scene graph they share."""

    def __init__(self) -> None:
        from panda3d import core as p3

        p3.loadPrcFileData("vla_driving", PRC)
        self.p3 = p3
        self.pipe = p3.GraphicsPipeSelection.getGlobalPtr().makeDefaultPipe()
        if self.pipe is None:
            raise RuntimeError("panda3d: no graphics pipe (install Mesa's EGL: libegl1 + "
                               "libgl1-mesa-dri)")
        self.engine = p3.GraphicsEngine(self.pipe)
        self.root = p3.NodePath("scene")
        self.road = self.root.attachNewNode("road")
        self.vehicles = self.root.attachNewNode("vehicles")
        self._lights()
        self.ground = self.root.attachNewNode(_quad_node(p3, GROUND_HALF_M, GROUND))
        self._cube = _cube_node(p3)
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
        self.road.attachNewNode(_road_node(self.p3, lanes))
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
        host = next(iter(self._cams.values()))[0] if self._cams else None
        buf = self.engine.makeOutput(self.pipe, f"camera_{name}", 0, fbp,
                                     p3.WindowProperties.size(k.width, k.height),
                                     p3.GraphicsPipe.BFRefuseWindow,
                                     host.getGsg() if host else None, host)
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
        return buf, tex, cam

    def render(self, cfg: PerspectiveConfig, names: list[str], pose, lanes, road_key,
               boxes) -> dict[str, np.ndarray]:
        """Images (H x W x 3 uint8) of cameras `names` on the ego at pose (x, y, yaw)."""
        if self.closed:
            raise RuntimeError("PerspectiveRenderer is closed")
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
        """Free the GL buffers and context; rendering again needs a new renderer."""
        if not self.closed:
            self.engine.removeAllWindows()
            self._cams.clear()
            self.root.removeNode()
            self.closed = True


def _read(tex) -> np.ndarray:
    data = np.frombuffer(bytes(tex.getRamImageAs("RGB")), dtype=np.uint8)
    img = data.reshape(tex.getYSize(), tex.getXSize(), 3)
    return np.ascontiguousarray(img[::-1])          # GL rows are bottom-up


def box_height(length: float, is_vehicle: bool) -> float:
    if not is_vehicle:
        return OBSTACLE_HEIGHT_M
    return TRUCK_HEIGHT_M if length >= TRUCK_MIN_LENGTH_M else CAR_HEIGHT_M


# ---- geometry --------------------------------------------------------------------------------
def _geom_node(p3, name: str, vertices: np.ndarray, normals: np.ndarray | None, colour,
               triangles: np.ndarray):
    fmt = p3.GeomVertexFormat.getV3n3() if normals is not None else p3.GeomVertexFormat.getV3()
    vdata = p3.GeomVertexData(name, fmt, p3.Geom.UHStatic)
    vdata.uncleanSetNumRows(len(vertices))
    arr = np.asarray(vertices, dtype=np.float32)
    if normals is not None:
        arr = np.concatenate([arr, np.asarray(normals, dtype=np.float32)], axis=1)
    memoryview(vdata.modifyArray(0)).cast("B").cast("f")[:] = arr.ravel()
    prim = p3.GeomTriangles(p3.Geom.UHStatic)
    prim.setIndexType(p3.GeomEnums.NT_uint32)
    prim.modifyVertices().uncleanSetNumRows(triangles.size)
    memoryview(prim.modifyVertices()).cast("B").cast("I")[:] = \
        np.asarray(triangles, dtype=np.uint32).ravel()
    geom = p3.Geom(vdata)
    geom.addPrimitive(prim)
    node = p3.GeomNode(name)
    node.addGeom(geom)
    path = p3.NodePath(node)
    if colour is not None:
        path.setColor(*colour, 1.0)
    path.setTwoSided(True)
    return path.node()


def _quad_node(p3, half: float, colour):
    v = np.array([[-half, -half, 0], [half, -half, 0], [half, half, 0], [-half, half, 0]])
    return _geom_node(p3, "ground", v, None, colour, np.array([[0, 1, 2], [0, 2, 3]]))


def _cube_node(p3):
    """A unit box centred at the origin, flat normals per face (for shading)."""
    verts, norms, tris = [], [], []
    for axis in range(3):
        for sign in (-1.0, 1.0):
            n = np.zeros(3)
            n[axis] = sign
            u, w = np.eye(3)[(axis + 1) % 3], np.eye(3)[(axis + 2) % 3]
            base = len(verts)
            for a, b in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
                verts.append(0.5 * (n + a * u + b * w))
                norms.append(n)
            tris += [[base, base + 1, base + 2], [base, base + 2, base + 3]]
    return p3.NodePath(_geom_node(p3, "box", np.array(verts), np.array(norms), None,
                                  np.array(tris)))


def _strip(left: np.ndarray, right: np.ndarray, z: float):
    """Triangles between two polylines of equal length: (vertices, triangles)."""
    n = len(left)
    v = np.concatenate([left, right])
    v = np.concatenate([v, np.full((2 * n, 1), z)], axis=1)
    i = np.arange(n - 1)
    tris = np.concatenate([np.stack([i, i + 1, n + i], 1), np.stack([i + 1, n + i + 1, n + i], 1)])
    return v, tris


def _offset(line: np.ndarray, half: float) -> tuple[np.ndarray, np.ndarray]:
    d = np.gradient(line, axis=0)
    d /= np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-9)
    normal = np.stack([-d[:, 1], d[:, 0]], 1)
    return line + half * normal, line - half * normal


def _dashes(line: np.ndarray) -> list[np.ndarray]:
    """The painted pieces of a dashed line (DASH_M on, the rest of DASH_PERIOD_M off)."""
    seg = np.linalg.norm(np.diff(line, axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    out = []
    for start in np.arange(0.0, s[-1], DASH_PERIOD_M):
        ts = np.linspace(start, min(start + DASH_M, s[-1]), 3)
        out.append(np.stack([np.interp(ts, s, line[:, 0]), np.interp(ts, s, line[:, 1])], 1))
    return out


def _road_node(p3, lanes):
    """One node: every lane's surface (ROAD) plus its solid and dashed markings (MARKING)."""
    top = p3.NodePath("road")
    surf_v, surf_t, mark_v, mark_t = [], [], [], []

    def add(vs, ts, v, t):
        ts.append(t + sum(len(a) for a in vs))
        vs.append(v)

    for lane in lanes:
        left, right = (np.asarray(b, dtype=np.float64)[:, :2] for b in lane.bounds_np)
        if len(left) >= 2 and len(left) == len(right):
            add(surf_v, surf_t, *_strip(left, right, 0.0))
        for line, kind in zip((left, right), lane.line_types):
            pieces = [line] if kind == "solid" else _dashes(line) if kind == "dashed" else []
            for piece in pieces:
                if len(piece) >= 2:
                    add(mark_v, mark_t, *_strip(*_offset(piece, MARKING_WIDTH_M / 2), MARKING_Z))
    for name, vs, ts, colour in (("surface", surf_v, surf_t, ROAD),
                                 ("markings", mark_v, mark_t, MARKING)):
        if vs:
            for v, t in _tiles(np.concatenate(vs), np.concatenate(ts)):
                top.attachNewNode(_geom_node(p3, name, v, None, colour, t))
    return top.node()


def _tiles(vertices: np.ndarray, triangles: np.ndarray):
    """The mesh cut into TILE_M squares (by each triangle's first vertex), so that panda3d's
    view-frustum culling skips the road behind and beside the cameras (a 2 km highway is one
    mesh otherwise, and llvmpipe transformed all of it for every camera)."""
    keys = np.floor(vertices[triangles[:, 0], :2] / TILE_M).astype(np.int64)
    _, tile = np.unique(keys, axis=0, return_inverse=True)
    for k in range(tile.max() + 1):
        tris = triangles[tile.ravel() == k]
        used, local = np.unique(tris, return_inverse=True)
        yield vertices[used], local.reshape(tris.shape)

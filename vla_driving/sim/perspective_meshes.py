"""Meshes of the perspective cameras' scene (panda3d geometry from numpy arrays).

The road comes from the episode's lane geometry: each lane's surface between its two
boundaries, solid and dashed lines as thin strips on top, all cut into `TILE_M` squares so that
panda3d's view-frustum culling skips what no camera sees. Vehicles share one unit box with flat
face normals (so the scene's lights shade its sides), scaled and coloured per vehicle.
"""

from __future__ import annotations

import numpy as np

ROAD = (0.36, 0.36, 0.38)
MARKING = (0.92, 0.92, 0.90)
MARKING_Z = 0.03                   # above the road surface (m), clear of depth fighting
MARKING_WIDTH_M = 0.15
DASH_M, DASH_PERIOD_M = 3.0, 9.0
TILE_M = 50.0


def geom_node(p3, name: str, vertices: np.ndarray, normals: np.ndarray | None, colour,
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


def quad_node(p3, half: float, colour):
    v = np.array([[-half, -half, 0], [half, -half, 0], [half, half, 0], [-half, half, 0]])
    return geom_node(p3, "ground", v, None, colour, np.array([[0, 1, 2], [0, 2, 3]]))


def cube_node(p3):
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
    return p3.NodePath(geom_node(p3, "box", np.array(verts), np.array(norms), None,
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


def road_node(p3, lanes):
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
                top.attachNewNode(geom_node(p3, name, v, None, colour, t))
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

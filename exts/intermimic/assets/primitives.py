"""Procedural meshes and surface sampling shared by object assets and demo clips."""

from __future__ import annotations

import numpy as np
import torch

DEMO_OBJECT_NAME = "demobox"
DEMO_BOX_HALF_SIZE = (0.2, 0.15, 0.15)
"""The built-in demo box: 40 x 30 x 30 cm."""
DEMO_BOX_DENSITY = 200.0
"""Density (kg/m^3) the demo motions are balanced for: a 7.2 kg box."""

NUM_SURFACE_POINTS = 1024
SURFACE_POINT_SEED = 0


def box_mesh(half_size) -> tuple[np.ndarray, np.ndarray]:
    """Vertices ``[8, 3]`` and outward-facing triangles ``[12, 3]`` of a box centred at the origin."""
    hx, hy, hz = half_size
    v = np.array([[sx * hx, sy * hy, sz * hz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)], dtype=np.float64)
    f = np.array(
        [[0, 1, 3], [0, 3, 2], [4, 6, 7], [4, 7, 5], [0, 4, 5], [0, 5, 1],
         [2, 3, 7], [2, 7, 6], [0, 2, 6], [0, 6, 4], [1, 5, 7], [1, 7, 3]],
        dtype=np.int64,
    )  # fmt: skip
    return v, f


def sample_surface(
    vertices: np.ndarray, faces: np.ndarray, n: int = NUM_SURFACE_POINTS, seed: int = SURFACE_POINT_SEED
) -> torch.Tensor:
    """``n`` points spread uniformly by area over a triangle mesh, reproducible for a seed."""
    rng = np.random.default_rng(seed)
    tri = vertices[faces]  # [F, 3, 3]
    area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    if not np.isfinite(area).all() or area.sum() <= 0:
        raise ValueError("mesh has no surface area to sample")
    # stratified choice of triangles: one point per equal slice of the cumulative area
    cdf = np.cumsum(area) / area.sum()
    u = (np.arange(n) + rng.random(n)) / n
    idx = np.minimum(np.searchsorted(cdf, u), len(faces) - 1)
    r1, r2 = rng.random(n), rng.random(n)
    s = np.sqrt(r1)
    a, b, c = tri[idx, 0], tri[idx, 1], tri[idx, 2]
    pts = (1 - s)[:, None] * a + (s * (1 - r2))[:, None] * b + (s * r2)[:, None] * c
    return torch.from_numpy(pts.astype(np.float32))


def demo_box_points() -> torch.Tensor:
    return sample_surface(*box_mesh(DEMO_BOX_HALF_SIZE))

"""Points on the humanoid's collision shapes: the skin of a body when no body model gives one.

Contact labels need each body's distance to the object (:mod:`contacts`). Converters that pose
a body model use its vertices; a clip made from joint positions has no skin, so the surface
of the humanoid's own collision shapes (``assets.humanoid_spec.BODY_GEOMS``: spheres, capsules,
boxes) stands in for it: points spread over each shape, moved with its body.
"""

from __future__ import annotations

import numpy as np
import torch

from ...assets import humanoid_spec as spec
from ...utils import rotations as rot

POINTS_PER_SHAPE = 96


def _sphere_directions(n: int) -> np.ndarray:
    """``n`` unit vectors spread evenly over the sphere (Fibonacci lattice)."""
    i = np.arange(n) + 0.5
    z = 1.0 - 2.0 * i / n
    phi = np.pi * (1.0 + 5**0.5) * i
    r = np.sqrt(1.0 - z * z)
    return np.stack([r * np.cos(phi), r * np.sin(phi), z], axis=1)


def shape_points(shape, n: int = POINTS_PER_SHAPE) -> np.ndarray:
    """Points on the surface of one collision shape, in its body's frame."""
    if isinstance(shape, spec.Sphere):
        return np.asarray(shape.pos) + shape.radius * _sphere_directions(n)
    if isinstance(shape, spec.Capsule):
        a, b = np.asarray(shape.start), np.asarray(shape.end)
        centres = a + np.linspace(0.0, 1.0, 5)[:, None] * (b - a)
        pts = (centres[:, None] + shape.radius * _sphere_directions(max(8, n // 3))[None]).reshape(-1, 3)
        ab = b - a
        t = np.clip(((pts - a) @ ab) / max(float(ab @ ab), 1e-12), 0.0, 1.0)
        on_surface = np.abs(np.linalg.norm(pts - (a + t[:, None] * ab), axis=1) - shape.radius) < 1e-6
        return pts[on_surface]
    if isinstance(shape, spec.Box):
        h = np.asarray(shape.half_size)
        k = max(2, int(round((n / 6) ** 0.5)))
        g = np.linspace(-1.0, 1.0, k)
        u, v = np.meshgrid(g, g)
        faces = []
        for axis in range(3):
            for sign in (-1.0, 1.0):
                f = np.zeros((k * k, 3))
                others = [x for x in range(3) if x != axis]
                f[:, axis] = sign
                f[:, others[0]], f[:, others[1]] = u.ravel(), v.ravel()
                faces.append(f)
        return np.asarray(shape.pos) + np.concatenate(faces) * h
    raise TypeError(f"unsupported shape {shape!r}")


def skin_points() -> tuple[torch.Tensor, torch.Tensor]:
    """``[P, 3]`` points in their bodies' frames and ``[P]`` the body of each."""
    pts, owner = [], []
    for b, shape in enumerate(spec.BODY_GEOMS):
        p = shape_points(shape)
        pts.append(p)
        owner.append(np.full(len(p), b))
    return torch.as_tensor(np.concatenate(pts)), torch.as_tensor(np.concatenate(owner)).long()


def posed_skin(body_pos: torch.Tensor, body_quat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """World skin points ``[T, P, 3]`` of bodies at ``body_pos`` ``[T, 52, 3]`` / ``body_quat`` ``[T, 52, 4]``,
    and the body of each point."""
    local, owner = skin_points()
    local = local.to(body_pos.dtype)
    q = body_quat[:, owner]
    return body_pos[:, owner] + rot.rotate(q, local[None].expand(q.shape[0], -1, -1)), owner

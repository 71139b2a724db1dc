"""Quaternion helpers on numpy arrays (float64), **xyzw** like the clip format."""

from __future__ import annotations

import numpy as np


def to_matrix(q: np.ndarray) -> np.ndarray:
    """``[..., 4]`` xyzw -> ``[..., 3, 3]`` rotation matrices."""
    x, y, z, w = np.moveaxis(np.asarray(q, dtype=np.float64), -1, 0)
    return np.stack(
        (
            np.stack((1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)), -1),
            np.stack((2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)), -1),
            np.stack((2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)), -1),
        ),
        -2,
    )


def yaw(q: np.ndarray) -> np.ndarray:
    """Heading about world z of the rotated x axis."""
    fwd = to_matrix(q)[..., :, 0]
    return np.arctan2(fwd[..., 1], fwd[..., 0])


def from_yaw(angle: np.ndarray) -> np.ndarray:
    """Rotation about world z by ``angle`` (xyzw)."""
    angle = np.asarray(angle, dtype=np.float64)
    z = np.zeros_like(angle)
    return np.stack((z, z, np.sin(0.5 * angle), np.cos(0.5 * angle)), -1)


def to_wxyz(q: np.ndarray) -> np.ndarray:
    return np.concatenate([q[..., 3:4], q[..., :3]], axis=-1)


def from_wxyz(q: np.ndarray) -> np.ndarray:
    return np.concatenate([q[..., 1:4], q[..., 0:1]], axis=-1)

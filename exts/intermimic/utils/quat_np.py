"""Numpy entry points to :mod:`.rotations` (float64 arrays, quaternions **xyzw** like the clip
format) for the numpy code of the robot retargeting; the maths lives in :mod:`.rotations`."""

from __future__ import annotations

import numpy as np
import torch

from . import rotations as rot


def _np(fn, *arrays) -> np.ndarray:
    return fn(*(torch.as_tensor(np.asarray(a, dtype=np.float64)) for a in arrays)).numpy()


def to_matrix(q: np.ndarray) -> np.ndarray:
    """``[..., 4]`` xyzw -> ``[..., 3, 3]`` rotation matrices."""
    return _np(rot.to_matrix, q)


def yaw(q: np.ndarray) -> np.ndarray:
    """Heading about world z of the rotated x axis."""
    return _np(rot.yaw, q)


def from_yaw(angle: np.ndarray) -> np.ndarray:
    """Rotation about world z by ``angle`` (xyzw)."""
    return _np(rot.yaw_quat, angle)


def from_wxyz(q: np.ndarray) -> np.ndarray:
    return _np(rot.from_wxyz, q)


def to_wxyz(q: np.ndarray) -> np.ndarray:
    return _np(rot.to_wxyz, q)

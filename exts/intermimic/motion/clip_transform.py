"""Whole-clip transforms in the InterMimic clip format: turning about the vertical axis and
re-timing. Both keep a clip physically consistent (every world quantity moves together; joint
rotations are local and unchanged by a turn)."""

from __future__ import annotations

import math

import torch

from ..utils import rotations as rot
from .clip_format import COLUMNS, QUAT_FIELDS, field

_WORLD_POSITIONS = ("root_pos", "obj_pos", "body_pos")
_CATEGORICAL = ("obj_manipulated", "contact")


def turn_clip(clip: torch.Tensor, yaw: float, shift_xy: tuple[float, float] = (0.0, 0.0)) -> torch.Tensor:
    """The clip turned by ``yaw`` radians about the world z axis through the origin, then moved
    by ``shift_xy`` on the ground."""
    out = clip.clone()
    half = 0.5 * yaw
    turn = clip.new_tensor([0.0, 0.0, math.sin(half), math.cos(half)])
    shift = clip.new_tensor([shift_xy[0], shift_xy[1], 0.0])
    for name in _WORLD_POSITIONS:
        p = field(clip, name)
        moved = rot.rotate(turn.expand(*p.shape[:-1], 4), p) + shift
        out[:, COLUMNS[name].slice] = moved.reshape(clip.shape[0], -1)
    for name in QUAT_FIELDS:
        q = field(clip, name)
        out[:, COLUMNS[name].slice] = rot.multiply(turn.expand_as(q), q).reshape(clip.shape[0], -1)
    return out


def retime_clip(clip: torch.Tensor, factor: float) -> torch.Tensor:
    """The clip played ``factor`` times slower (``factor > 1``: more frames at the same rate).

    Positions are interpolated linearly, rotations (root, object, body and joint rotations) by
    slerp, contact labels and the manipulation flag take the nearer frame."""
    if factor <= 0:
        raise ValueError(f"retime factor must be positive, got {factor}")
    T = clip.shape[0]
    n = int(round((T - 1) * factor)) + 1
    src = torch.arange(n, dtype=torch.float64) / factor
    i0 = src.floor().long().clamp(0, T - 1)
    i1 = (i0 + 1).clamp(max=T - 1)
    alpha = (src - i0.to(torch.float64)).to(clip.dtype)
    out = clip[i0] + (clip[i1] - clip[i0]) * alpha[:, None]  # positions and unused columns
    nearest = torch.where(alpha < 0.5, i0, i1)
    for name in _CATEGORICAL:
        out[:, COLUMNS[name].slice] = clip[nearest][:, COLUMNS[name].slice]
    for name in QUAT_FIELDS:
        a, b = field(clip[i0], name), field(clip[i1], name)
        t = alpha.reshape(-1, *([1] * (a.dim() - 2))).expand(a.shape[:-1])
        out[:, COLUMNS[name].slice] = rot.slerp(a, b, t).reshape(n, -1)
    joints = field(clip, "dof_pos").reshape(T, -1, 3)
    qa, qb = rot.from_exp_map(joints[i0]), rot.from_exp_map(joints[i1])
    t = alpha[:, None].expand(qa.shape[:-1])
    out[:, COLUMNS["dof_pos"].slice] = rot.to_exp_map(rot.slerp(qa, qb, t)).reshape(n, -1)
    return out

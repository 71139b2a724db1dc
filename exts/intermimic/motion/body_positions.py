"""A clip's body positions checked against its joint rotations, and repaired from them.

Bones are rigid: each body sits at a fixed offset in its parent's frame, so a body's stored
position must equal forward kinematics of the clip's root pose and joint rotations, and the
distance to its parent (the bone length) must stay constant over the clip. Clips store the
positions and the rotations separately, so a glitch in one (e.g. finger points that jump
around while the joint rotations move smoothly) goes unnoticed by the format checks.

The skeleton is the clip's own (subjects differ in size): each bone's offset in its parent's
frame is the median over the clip's frames, which stays right while fewer than half of the
frames are displaced. :func:`position_faults` names every body whose stored position is off
forward kinematics by more than :data:`POSITION_TOL`, with the frames and how far; the same
displacement changes the length of the body's bone. :func:`repaired_positions` writes forward
kinematics into the position columns (what ``repair_positions`` does, docs/data.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..assets import humanoid_spec as spec
from ..utils import rotations as rot
from . import clip_format as cf

POSITION_TOL = 0.005
"""Largest accepted distance (m) between a stored body position and forward kinematics of the
joint rotations. The sample clips (raw motion capture and teacher rollouts) stay within 0.02 mm
of forward kinematics and change no bone's length by more than 0.006 mm (float32 rounding), so
5 mm is some 300 times what clean data shows, yet a quarter of the shortest bone (a fingertip,
2 cm) and of the 2 cm contact distance: a displaced finger point is found before it changes
contact labels or rewards."""

_PARENTS = list(spec.PARENT_INDICES[1:])


@dataclass(frozen=True)
class BodyFault:
    """One body whose stored positions are off forward kinematics in some frames."""

    body: str
    frames: tuple[int, ...]
    """Rows of the clip (as given to :func:`position_faults`) where the body is off."""
    max_offset: float
    """Largest distance (m) between stored position and forward kinematics over those frames."""
    max_bone_change: float
    """Largest change (m) of the length of the bone from the body's parent over those frames,
    against the bone's median length."""

    def describe(self, row_offset: int = 0) -> str:
        parent = spec.BODY_NAMES[spec.PARENT_INDICES[spec.BODY_NAMES.index(self.body)]] if self.body != spec.ROOT_BODY else None
        bone = f", its bone from {parent} changes length by up to {100 * self.max_bone_change:.1f} cm" if parent else ""
        return (f"{self.body} at {len(self.frames)} frame(s) ({frame_ranges([f + row_offset for f in self.frames])}): "
                f"up to {100 * self.max_offset:.1f} cm off{bone}")  # fmt: skip


def frame_ranges(frames, limit: int = 6) -> str:
    """``[3, 4, 5, 9]`` -> ``"3-5, 9"`` (at most ``limit`` ranges, then how many more)."""
    ranges: list[list[int]] = []
    for f in frames:
        if ranges and f == ranges[-1][1] + 1:
            ranges[-1][1] = f
        else:
            ranges.append([f, f])
    text = ", ".join(f"{a}-{b}" if b > a else f"{a}" for a, b in ranges[:limit])
    return text + (f", ... ({len(ranges) - limit} more ranges)" if len(ranges) > limit else "")


def _levels() -> list[list[int]]:
    """Bodies grouped by depth in the tree (pelvis excluded): the parents of one group are all
    in earlier groups, so a group's rotations and positions are computed in one batched step."""
    depth = [0] * spec.NUM_BODIES
    for i in range(1, spec.NUM_BODIES):
        depth[i] = depth[spec.PARENT_INDICES[i]] + 1
    return [[i for i in range(1, spec.NUM_BODIES) if depth[i] == d] for d in range(1, max(depth) + 1)]


_LEVELS = _levels()


def joint_rotations(clip: torch.Tensor) -> torch.Tensor:
    """``[T, 52, 4]`` global body rotations from the root rotation and the joint columns (exponential maps)."""
    local = rot.from_exp_map(cf.field(clip, "dof_pos").reshape(clip.shape[0], spec.NUM_BODIES - 1, 3))
    out = torch.empty(clip.shape[0], spec.NUM_BODIES, 4, dtype=clip.dtype, device=clip.device)
    out[:, 0] = cf.field(clip, "root_quat")
    for level in _LEVELS:
        parents = [spec.PARENT_INDICES[i] for i in level]
        out[:, level] = rot.multiply(out[:, parents], local[:, [i - 1 for i in level]])
    return out


def clip_skeleton(clip: torch.Tensor, rotations: torch.Tensor | None = None) -> torch.Tensor:
    """``[52, 3]`` body offsets in the parent's frame: each bone's median over the clip's frames."""
    rotations = joint_rotations(clip) if rotations is None else rotations
    pos = cf.field(clip, "body_pos")
    local = rot.rotate_inverse(rotations[:, _PARENTS], pos[:, 1:] - pos[:, _PARENTS])  # [T, 51, 3]
    return torch.cat([local.new_zeros(1, 3), local.median(dim=0).values])


def fk_positions(clip: torch.Tensor) -> torch.Tensor:
    """``[T, 52, 3]`` body positions by forward kinematics of the clip's joint rotations on its own
    skeleton (:func:`clip_skeleton`)."""
    rotations = joint_rotations(clip)
    offsets = clip_skeleton(clip, rotations)
    bones = rot.rotate(rotations[:, _PARENTS], offsets[1:].expand(clip.shape[0], -1, -1))  # [T, 51, 3] world
    out = torch.empty(clip.shape[0], spec.NUM_BODIES, 3, dtype=clip.dtype, device=clip.device)
    out[:, 0] = cf.field(clip, "root_pos")
    for level in _LEVELS:
        parents = [spec.PARENT_INDICES[i] for i in level]
        out[:, level] = out[:, parents] + bones[:, [i - 1 for i in level]]
    return out


def position_faults(clip: torch.Tensor, tol: float = POSITION_TOL, fk: torch.Tensor | None = None) -> list[BodyFault]:
    """Every body whose stored position is more than ``tol`` off forward kinematics, in body order.

    ``clip`` is a finite ``[T, 591]`` clip with unit quaternions; ``fk`` its :func:`fk_positions`
    when already computed.
    """
    if clip.shape[0] == 0:
        return []
    fk = fk_positions(clip) if fk is None else fk
    pos = cf.field(clip, "body_pos")
    offset = (pos - fk).norm(dim=-1)  # [T, 52]
    bad = offset > tol
    if not bool(bad.any()):
        return []
    length = (pos[:, 1:] - pos[:, _PARENTS]).norm(dim=-1)
    change = torch.cat([torch.zeros_like(length[:, :1]), (length - length.median(dim=0).values).abs()], dim=1)
    faults = []
    for body in torch.nonzero(bad.any(dim=0)).flatten().tolist():
        frames = torch.nonzero(bad[:, body]).flatten()
        faults.append(BodyFault(
            body=spec.BODY_NAMES[body], frames=tuple(frames.tolist()), max_offset=float(offset[frames, body].max()),
            max_bone_change=float(change[frames, body].max()),
        ))  # fmt: skip
    return faults


def repaired_positions(clip: torch.Tensor, fk: torch.Tensor | None = None) -> torch.Tensor:
    """A copy of ``clip`` whose body positions are forward kinematics of its joint rotations."""
    fk = fk_positions(clip) if fk is None else fk
    out = clip.clone()
    out[:, cf.COLUMNS["body_pos"].slice] = fk.reshape(clip.shape[0], -1).to(clip.dtype)
    return out

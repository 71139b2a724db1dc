"""The InterMimic clip format: one ``[T, 591]`` float tensor per clip, 30 fps, Z-up, quats xyzw.

This module is the one place that knows the column layout. Everything else slices clips
through :data:`COLUMNS` / :func:`field`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch

from ..assets.humanoid_spec import NUM_BODIES, NUM_DOFS

CLIP_FPS = 30
CLIP_WIDTH = 591


@dataclass(frozen=True)
class Field:
    name: str
    start: int
    stop: int
    description: str

    @property
    def width(self) -> int:
        return self.stop - self.start

    @property
    def slice(self) -> slice:
        return slice(self.start, self.stop)


def _layout() -> dict[str, Field]:
    spec = (
        ("root_pos", 3, "root (pelvis) position, world"),
        ("root_quat", 4, "root rotation, quat xyzw"),
        ("unused_a", 2, "unused"),
        ("dof_pos", NUM_DOFS, "joint rotations, 51 joints x 3 hinge values, body order"),
        ("body_pos", 3 * NUM_BODIES, "52 body positions, world"),
        ("obj_pos", 3, "object position (mesh-frame origin), world"),
        ("obj_quat", 4, "object rotation, quat xyzw"),
        ("unused_b", 5, "unused"),
        ("obj_manipulated", 1, "object-manipulated flag {0, 1}"),
        ("contact", NUM_BODIES, "per-body contact label {+1 promote, 0 neutral, -1 penalize}"),
        ("body_quat", 4 * NUM_BODIES, "52 body global rotations, quat xyzw"),
    )
    fields, col = {}, 0
    for name, width, desc in spec:
        fields[name] = Field(name, col, col + width, desc)
        col += width
    assert col == CLIP_WIDTH, col
    return fields


COLUMNS: dict[str, Field] = _layout()
QUAT_FIELDS = ("root_quat", "obj_quat", "body_quat")


def field(clip: torch.Tensor, name: str) -> torch.Tensor:
    """The columns of ``name`` of a ``[T, 591]`` clip, reshaped per body where it applies."""
    f = COLUMNS[name]
    x = clip[..., f.slice]
    if name == "body_pos":
        return x.reshape(*x.shape[:-1], NUM_BODIES, 3)
    if name == "body_quat":
        return x.reshape(*x.shape[:-1], NUM_BODIES, 4)
    if name == "obj_manipulated":
        return x[..., 0]
    return x


def column_name(col: int) -> str:
    """Human-readable name of a column index, e.g. ``body_quat[3].w`` (for error messages)."""
    for f in COLUMNS.values():
        if f.start <= col < f.stop:
            off = col - f.start
            if f.name in ("body_pos", "body_quat"):
                per = 3 if f.name == "body_pos" else 4
                from ..assets.humanoid_spec import BODY_NAMES

                return f"{f.name}[{BODY_NAMES[off // per]}].{'xyzw'[off % per]} (column {col})"
            return f"{f.name}[{off}] (column {col})"
    raise IndexError(col)


def assemble(**parts: torch.Tensor) -> torch.Tensor:
    """Build a ``[T, 591]`` clip from named fields (missing fields are zero)."""
    unknown = set(parts) - set(COLUMNS)
    if unknown:
        raise KeyError(f"unknown clip fields: {sorted(unknown)}; expected some of {list(COLUMNS)}")
    T = next(iter(parts.values())).shape[0]
    ref = next(iter(parts.values()))
    clip = torch.zeros(T, CLIP_WIDTH, dtype=torch.float32, device=ref.device)
    for name, value in parts.items():
        f = COLUMNS[name]
        clip[:, f.slice] = value.reshape(T, f.width).to(torch.float32)
    return clip


_NAME_RE = re.compile(r"^sub(?P<subject>\d+)_(?P<object>.+?)_(?P<index>\d+)$")


@dataclass(frozen=True)
class ClipName:
    subject: int | None
    object: str | None
    index: int | None


def parse_clip_name(stem: str) -> ClipName:
    """``sub2_largetable_003`` -> subject 2, object ``largetable``, index 3."""
    m = _NAME_RE.match(stem)
    if m is None:
        return ClipName(None, None, None)
    return ClipName(int(m["subject"]), m["object"], int(m["index"]))

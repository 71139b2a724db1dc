"""Checks of clip tensors against the InterMimic clip format, with errors that say where.

Every problem is raised as a :class:`ClipError` naming the file, the frame (file row) and the
column (by field name, e.g. ``body_quat[L_Knee]``) and what was expected instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import torch

from ..assets.humanoid_spec import BODY_NAMES
from . import clip_format as cf
from .body_positions import POSITION_TOL, BodyFault, fk_positions, position_faults, repaired_positions

QUAT_NORM_TOL = 1.0e-3
"""Largest accepted deviation of a stored quaternion's norm from 1."""


REPAIR_HINT = ("dataset.repair_positions=true (train, play, evaluate, replay, retarget), --repair-positions (data inspect, "
               "retarget-robot, convert)")
"""How to ask for the repair of body positions, in every command (for messages)."""


class DataMismatchError(ValueError):
    """Motion data that do not fit the simulated body (another robot's joints or bodies)."""


class ClipError(ValueError):
    """A clip file that does not follow the clip format.

    Attributes:
        path: the file.
        reason: what is wrong and what was expected.
        frame: the file row where it was found (``None`` when it is about the whole file).
        column: the column index or a description of the columns (``None`` when not column-bound).
    """

    def __init__(self, path, reason: str, frame: int | None = None, column: int | str | None = None):
        self.path = str(path)
        self.reason = reason
        self.frame = frame
        self.column = column
        where = []
        if frame is not None:
            where.append(f"frame {frame}")
        if column is not None:
            where.append(f"column {cf.column_name(column)}" if isinstance(column, int) else f"column {column}")
        prefix = f"{self.path}: " + (", ".join(where) + ": " if where else "")
        super().__init__(prefix + reason)


class BodyPositionError(ClipError):
    """Body positions that do not follow the clip's joint rotations (rigid bones), with the
    offending bodies and frames in :attr:`faults`."""

    def __init__(self, path, faults: list[BodyFault], row_offset: int = 0):
        self.faults = faults
        self.row_offset = row_offset
        listed = "; ".join(f.describe(row_offset) for f in faults)
        super().__init__(
            path, f"body positions do not follow the joint rotations (rigid bones; forward kinematics, tolerance "
            f"{100 * POSITION_TOL:g} cm): {listed}; recompute them from the rotations with {REPAIR_HINT} (docs/data.md)",
        )  # fmt: skip


class ClipProblems(ClipError):
    """Several problems of one clip file (each a :class:`ClipError` in :attr:`errors`), listed together."""

    def __init__(self, path, errors: list[ClipError]):
        self.errors = list(errors)
        parts = [str(e)[len(str(path)) + 2 :] if str(e).startswith(f"{path}: ") else str(e) for e in errors]
        super().__init__(path, f"{len(errors)} problems: " + " | ".join(f"({i + 1}) {p}" for i, p in enumerate(parts)))

    @property
    def position_errors(self) -> list[BodyPositionError]:
        return [e for e in self.errors if isinstance(e, BodyPositionError)]


def raise_collected(path, errors: list[ClipError]) -> None:
    """Raise the problems found in one file: the one, or all of them as :class:`ClipProblems`."""
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ClipProblems(path, errors)


def _first_true(mask: torch.Tensor) -> tuple[int, int]:
    """(row, column) of the first True entry of a 2-D mask, in row-major order."""
    flat = int(torch.nonzero(mask.reshape(-1))[0])
    return flat // mask.shape[1], flat % mask.shape[1]


def _quat_columns(name: str, index: int) -> str:
    f = cf.COLUMNS[name]
    if name == "body_quat":
        start = f.start + 4 * index
        return f"body_quat[{BODY_NAMES[index]}] (columns {start}-{start + 3})"
    return f"{name} (columns {f.start}-{f.stop - 1})"


def check_clip(
    clip, path: str | os.PathLike, min_frames: int = 1, row_offset: int = 0, repair_positions: bool = False,
    repaired: list | None = None,
) -> torch.Tensor:
    """Validate one clip tensor and return it as float32.

    Args:
        clip: the tensor read from ``path``.
        path: the file it came from (for messages).
        min_frames: fewest frames a clip may have (the future horizon + 1).
        row_offset: file row of ``clip[0]`` (1 for teacher-corrected clips whose row 0 is skipped).
        repair_positions: body positions off the joint rotations' forward kinematics are replaced
            by it (the returned clip is repaired) instead of failing the check.
        repaired: when given, the :class:`BodyFault` s the repair removed are appended (frames are
            rows of ``clip``; add ``row_offset`` for file rows).
    """
    if not isinstance(clip, torch.Tensor):
        raise ClipError(path, f"holds a {type(clip).__name__}, expected a [T, {cf.CLIP_WIDTH}] float tensor")
    if clip.dim() != 2:
        raise ClipError(path, f"has shape {tuple(clip.shape)}, expected a 2-D tensor [T, {cf.CLIP_WIDTH}]")
    if clip.shape[1] != cf.CLIP_WIDTH:
        raise ClipError(
            path, f"has {clip.shape[1]} columns, expected {cf.CLIP_WIDTH} (InterMimic clip format, docs/method.md §1)"
        )
    if not clip.is_floating_point():
        raise ClipError(path, f"has dtype {clip.dtype}, expected a floating-point tensor")
    clip = clip.to(torch.float32)

    bad = ~torch.isfinite(clip)
    if bad.any():
        row, col = _first_true(bad)
        raise ClipError(
            path, f"value {clip[row, col].item()} is not finite ({int(bad.sum())} non-finite values in the file)",
            frame=row + row_offset, column=col,
        )  # fmt: skip

    manip = cf.field(clip, "obj_manipulated")
    bad_manip = (manip != 0) & (manip != 1)
    if bad_manip.any():
        row = int(torch.nonzero(bad_manip)[0])
        raise ClipError(
            path, f"object-manipulated flag is {manip[row].item()}, expected 0 or 1",
            frame=row + row_offset, column=cf.COLUMNS["obj_manipulated"].start,
        )  # fmt: skip
    contact = cf.field(clip, "contact")
    bad_contact = (contact != -1) & (contact != 0) & (contact != 1)
    if bad_contact.any():
        row, col = _first_true(bad_contact)
        raise ClipError(
            path, f"contact label is {contact[row, col].item()}, expected -1, 0 or +1",
            frame=row + row_offset, column=cf.COLUMNS["contact"].start + col,
        )  # fmt: skip

    for name in cf.QUAT_FIELDS:
        q = cf.field(clip, name)
        q = q.reshape(q.shape[0], -1, 4)  # [T, Q, 4]
        dev = (q.norm(dim=-1) - 1.0).abs()
        bad_q = dev > QUAT_NORM_TOL
        if bad_q.any():
            row, index = _first_true(bad_q)
            raise ClipError(
                path, f"quaternion norm is {q[row, index].norm().item():.6f}, expected 1 (within {QUAT_NORM_TOL})",
                frame=row + row_offset, column=_quat_columns(name, index),
            )  # fmt: skip

    clip = check_body_positions(clip, path, row_offset, repair_positions, repaired)
    check_length(path, clip.shape[0], min_frames)
    return clip


def check_body_positions(
    clip: torch.Tensor, path, row_offset: int = 0, repair: bool = False, repaired: list | None = None
) -> torch.Tensor:
    """Body positions must follow forward kinematics of the joint rotations (rigid bones,
    :mod:`~intermimic.motion.body_positions`); with ``repair`` they are set to it instead."""
    fk = fk_positions(clip)
    faults = position_faults(clip, fk=fk)
    if not faults:
        return clip
    if not repair:
        raise BodyPositionError(path, faults, row_offset)
    if repaired is not None:
        repaired += faults
    return repaired_positions(clip, fk=fk)


def check_length(path, num_frames: int, min_frames: int, dropped_rows: int = 0) -> None:
    """A clip must be long enough to look ``min_frames - 1`` frames ahead (the future horizon)."""
    if num_frames < min_frames:
        note = f" after dropping {dropped_rows} row(s) to align with its corrected clip" if dropped_rows else ""
        raise ClipError(
            path, f"has {num_frames} frames{note}, fewer than the {min_frames} needed to look "
            f"{min_frames - 1} frames ahead (the future horizon)",
        )  # fmt: skip


def check_corrected_pair(raw: torch.Tensor, corrected: torch.Tensor, raw_path, corrected_path) -> None:
    """A teacher-corrected clip must have as many rows as its raw clip (its row 0 is a placeholder)."""
    if corrected.dim() == 2 and raw.dim() == 2 and corrected.shape[0] != raw.shape[0]:
        raise ClipError(
            corrected_path,
            f"has {corrected.shape[0]} rows but its raw clip {raw_path} has {raw.shape[0]}; a teacher-corrected "
            "clip must have the same number of rows as its raw clip (its row 0 is a zero placeholder)",
        )


def check_object(path, name: str, known: Iterable[str], objects_dir) -> None:
    known = sorted(known)
    if name not in known:
        where = f"in objects folder {objects_dir}" if objects_dir else "(no objects folder given: only the built-in ones)"
        raise ClipError(path, f"object '{name}' is unknown {where}; known objects: {', '.join(known)}")


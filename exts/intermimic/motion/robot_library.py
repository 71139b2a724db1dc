"""Robot reference clips (``.npz`` from ``retarget-robot``) as motion-library entries.

:func:`read_robot_pair` reads one robot clip (and its teacher-corrected counterpart) for the
data-set reader (which names the clip's subject and object from its file name, as for SMPL-X
clips); :func:`~intermimic.motion.packed.pack_robot_clip` packs it in an embodiment's body and
joint order.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from . import validation as val
from .robot_clip import RobotClip, RobotClipError, load_robot_clip


def _load(path, embodiment: str) -> RobotClip:
    try:
        clip = load_robot_clip(path)
    except RobotClipError as exc:
        raise val.ClipError(path, str(exc).removeprefix(f"{path}: ")) from None
    if clip.robot != embodiment:
        raise val.ClipError(path, f"a clip of robot '{clip.robot}', but the task simulates {embodiment}")
    return clip


def drop_first_frame(clip: RobotClip) -> RobotClip:
    """The clip without its frame 0 (every per-frame array)."""
    per_frame = ("root_pos", "root_quat", "dof_pos", "body_pos", "body_quat", "object_pos", "object_quat", "contact",
                 "object_contact")  # fmt: skip
    return dataclasses.replace(clip, **{k: getattr(clip, k)[1:] for k in per_frame})


def read_robot_pair(path: Path, corrected_file: Path | None, embodiment: str):
    """(raw, corrected or None, first raw frame kept) of a robot clip of ``embodiment`` and its
    teacher-corrected clip; raises ``ClipError``.

    Raw and corrected are aligned on their last frames: ``retarget-robot`` drops a corrected
    clip's placeholder row 0, so the raw clip (one frame longer) loses its frame 0 as the SMPL-X
    raw clips do.
    """
    raw = _load(path, embodiment)
    if corrected_file is None:
        return raw, None, 0
    corrected = _load(corrected_file, embodiment)
    if (corrected.joint_names, corrected.body_names) != (raw.joint_names, raw.body_names):
        raise val.ClipError(corrected_file, f"joints or bodies differ from those of {path}")
    first_row = 0
    if raw.num_frames == corrected.num_frames + 1:
        raw, first_row = drop_first_frame(raw), 1
    if raw.num_frames != corrected.num_frames:
        raise val.ClipError(corrected_file, f"has {corrected.num_frames} frames, expected {raw.num_frames} "
                            f"(or one fewer) as {path}")  # fmt: skip
    return raw, corrected, first_row

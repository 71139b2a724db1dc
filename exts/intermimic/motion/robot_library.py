"""Robot reference clips (``.npz`` from ``retarget-robot``) as motion-library entries.

:func:`read_robot_clip` reads one robot clip (and its teacher-corrected counterpart) for the
data-set reader; :func:`~intermimic.motion.packed.pack_robot_clip` packs it in an
embodiment's body and joint order.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from . import validation as val
from .clip_format import parse_clip_name
from .library import ClipInfo, LoadedClip
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


def read_robot_clip(
    src, known_objects, objects_dir, min_frames: int, want_corrected: bool, embodiment: str,
    corrected_file: Path | None,
) -> LoadedClip:  # fmt: skip
    """One robot clip of ``embodiment`` for the reader (a ``ClipSource``; ``corrected_file``: its
    teacher-corrected clip, matched by the reader); raises ``ClipError``.

    With a corrected clip, raw and corrected are aligned on their last frames: ``retarget-robot``
    drops a corrected clip's placeholder row 0, so the raw clip (one frame longer) loses its
    frame 0 as the SMPL-X raw clips do.
    """
    raw = _load(src.path, embodiment)
    parsed = parse_clip_name(raw.source or src.name)
    subject = src.subject if src.subject is not None else parsed.subject
    obj = src.object if src.object is not None else (raw.object_name or parsed.object)
    if subject is None or not obj:
        raise val.ClipError(src.path, f"cannot tell subject and object from the source name '{raw.source}' (expected "
                            "sub{ID}_{object}_{index}); name them in a manifest entry (subject:, object:)")  # fmt: skip
    val.check_object(src.path, obj, known_objects, objects_dir)
    corrected, first_row = None, 0
    if want_corrected:
        if corrected_file is None:
            raise val.ClipError(src.path, f"no teacher-corrected clip named {src.path.name} in "
                                f"{', '.join(str(d) for d in src.corrected_dirs)}")  # fmt: skip
        corrected = _load(corrected_file, embodiment)
        if (corrected.joint_names, corrected.body_names) != (raw.joint_names, raw.body_names):
            raise val.ClipError(corrected_file, f"joints or bodies differ from those of {src.path}")
        if raw.num_frames == corrected.num_frames + 1:
            raw, first_row = drop_first_frame(raw), 1
        if raw.num_frames != corrected.num_frames:
            raise val.ClipError(corrected_file, f"has {corrected.num_frames} frames, expected {raw.num_frames} "
                                f"(or one fewer) as {src.path}")  # fmt: skip
    val.check_length(src.path, raw.num_frames, min_frames, dropped_rows=first_row)
    info = ClipInfo(
        name=src.name, subject=int(subject), object=str(obj), num_frames=raw.num_frames, path=str(src.path),
        corrected_path=str(corrected_file) if corrected_file else None, first_row=first_row,
    )  # fmt: skip
    return LoadedClip(info=info, raw=raw, corrected=corrected)

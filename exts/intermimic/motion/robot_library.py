"""Robot reference clips (``.npz`` from ``retarget-robot``) as motion-library entries.

:func:`read_robot_clip` reads one robot clip (and its teacher-corrected counterpart, matched by
file name) for the data-set reader; :func:`pack_robot_clip` turns it into
:class:`~intermimic.motion.packed.PackedFrames` in an embodiment's body and joint order, matched
by name. A robot clip labels contacts only on the embodiment's contact bodies; every other body
takes the label of the contact body the embodiment names for it
(:attr:`~intermimic.assets.embodiment_spec.Embodiment.contact_label_sources`), so the reward's
penalised-contact factor covers the whole robot as it covers the whole SMPL-X body.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

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


def read_robot_clip(src, known_objects, objects_dir, min_frames: int, want_corrected: bool, embodiment: str) -> LoadedClip:
    """One robot clip of ``embodiment`` for the reader (a ``ClipSource``); raises ``ClipError``.

    With a corrected clip, raw and corrected are aligned on their last frames: ``retarget-robot``
    drops a corrected clip's placeholder row 0, so the raw clip (one frame longer) loses its
    frame 0 as the SMPL-X raw clips do.
    """
    from .reader import find_corrected

    raw = _load(src.path, embodiment)
    parsed = parse_clip_name(raw.source or src.name)
    subject = src.subject if src.subject is not None else parsed.subject
    obj = src.object if src.object is not None else (raw.object_name or parsed.object)
    if subject is None or not obj:
        raise val.ClipError(src.path, f"cannot tell subject and object from the source name '{raw.source}' (expected "
                            "sub{ID}_{object}_{index}); name them in a manifest entry (subject:, object:)")  # fmt: skip
    val.check_object(src.path, obj, known_objects, objects_dir)
    corrected, corrected_file, first_row = None, None, 0
    if want_corrected:
        corrected_file = find_corrected(src)
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


def _order(have: tuple[str, ...], want: tuple[str, ...], what: str, where: str) -> list[int]:
    if set(have) != set(want):
        missing, extra = sorted(set(want) - set(have)), sorted(set(have) - set(want))
        raise ValueError(f"{where}: its {what} do not match the simulated robot's (missing {missing[:4]}, "
                         f"unexpected {extra[:4]})")  # fmt: skip
    return [have.index(n) for n in want]


def body_contact_labels(clip: RobotClip, embodiment) -> np.ndarray:
    """``[T, B]`` contact label per embodiment body (0 where no contact body stands for it)."""
    out = np.zeros((clip.num_frames, embodiment.num_bodies), dtype=np.float32)
    for b, name in enumerate(embodiment.body_names):
        source = embodiment.contact_label_body(name)
        if source is not None and source in clip.contact_body_names:
            out[:, b] = clip.contact[:, clip.contact_body_names.index(source)]
    return out


def pack_robot_clip(clip: RobotClip, object_points: torch.Tensor | None, embodiment, device, where: str = "robot clip"):
    """:class:`~intermimic.motion.packed.PackedFrames` of ``clip`` in ``embodiment``'s order."""
    from ..utils import rotations as rot
    from .packed import PackedFrames, nearest_surface_point

    joints = _order(clip.joint_names, embodiment.joint_names, "joints", where)
    bodies = _order(clip.body_names, embodiment.body_names, "bodies", where)

    def t(x):
        return torch.as_tensor(np.ascontiguousarray(x), dtype=torch.float32, device=device)

    body_pos = t(clip.body_pos[:, bodies])
    obj_pos, obj_quat = t(clip.object_pos), rot.normalize(t(clip.object_quat))
    if object_points is None:
        nearest = torch.zeros(body_pos.shape[:2], dtype=torch.long, device=device)
    else:
        nearest = nearest_surface_point(body_pos, obj_pos, obj_quat, object_points.to(device))
    return PackedFrames(
        root_pos=t(clip.root_pos), root_quat=rot.normalize(t(clip.root_quat)), dof_pos=t(clip.dof_pos[:, joints]),
        body_pos=body_pos, body_quat=rot.normalize(t(clip.body_quat[:, bodies])), obj_pos=obj_pos, obj_quat=obj_quat,
        contact=t(body_contact_labels(clip, embodiment)).round().to(torch.int8),
        obj_manipulated=t(clip.object_contact).round().to(torch.int8), nearest_point=nearest.to(torch.int16),
    )  # fmt: skip

"""SMPL-X parameters + object poses (OMOMO-style sequences) -> InterMimic clips.

A sequence gives, per frame, the SMPL-X pose of a subject and the pose of the object they
interact with. The body is posed with the ``smplx`` package (model files supplied by the
user), and the clip takes:

* body positions: the SMPL-X joints of the 52 humanoid bodies (jaw and eyes are left out);
* joint columns: each body's local rotation (the pose parameters), turned from the SMPL-X
  body frame (x left, y up, z forward) into the humanoid's (x forward, y left, z up), as an
  exponential map; body rotations: the same rotations chained along the skeleton;
* the object's pose, moved to the centre of its mesh (the frame of the object registry);
* contact labels from the distance of each body's skin (SMPL-X vertices, assigned to the body
  with the largest skinning weight) to the object surface (see :mod:`contacts`).

Input format: see :class:`SmplxSequence` and ``docs/data.md``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ...utils import rotations as rot
from .. import clip_format as cf
from . import body_model
from .body_model import GENDERS, SMPLX
from .posed_body import (  # noqa: F401 - re-exported for the converters' users
    SMPL_TO_HUMANOID,
    Y_UP_TO_Z_UP,
    ConvertOptions,
    PosedBody,
    assemble_clip,
    check_parents,
    convert_posed,
    humanoid_rotations,
    mesh_centre,
)
from .sequence_files import read_sequence_file

NUM_SMPLX_JOINTS = SMPLX.num_joints
SMPLX_JOINT_OF_BODY: tuple[int, ...] = SMPLX.joint_of_body
"""SMPL-X joint index of each humanoid body, in humanoid body order (names match one to one:
pelvis, hips, knees, ankles, feet/toes, spine1-3 = torso/spine/chest, neck, head, collars =
thoraxes, shoulders, elbows, wrists, and the fingers in the same order)."""

MODEL_FILE_HELP = (
    "SMPL-X model files are not included (licence): register at https://smpl-x.is.tue.mpg.de, download "
    "the SMPL-X model (npz) and pass its folder with --smplx-models"
)


# -------------------------------------------------------------------------------------------------
# Input
# -------------------------------------------------------------------------------------------------
@dataclass
class SmplxSequence:
    """One OMOMO-style sequence (all arrays per frame, 30 fps, z-up world unless ``up_axis``).

    Attributes:
        name: clip name; ``sub{ID}_{object}_{index}`` gives subject and object.
        betas: ``[B]`` SMPL-X shape (B <= the model's shape components).
        gender: "neutral", "male" or "female" (selects the model file).
        trans: ``[T, 3]`` SMPL-X translation; root_orient ``[T, 3]`` axis-angle.
        pose_body: ``[T, 63]`` axis-angle of the 21 body joints.
        pose_hand: ``[T, 90]`` axis-angle of the 30 finger joints (left then right), or None
            for flat hands.
        obj_trans: ``[T, 3]``; obj_rot ``[T, 3, 3]`` rotation matrices: world pose of the
            object's mesh as stored in its file (``object_frame="raw"``) or of the centred
            mesh (``"centred"``).
        obj_scale: scale applied to the mesh (must be 1: meshes are used as stored).
        object: object name (its mesh comes from the object registry).
        subject: subject id.
    """

    name: str
    betas: torch.Tensor
    gender: str
    trans: torch.Tensor
    root_orient: torch.Tensor
    pose_body: torch.Tensor
    pose_hand: torch.Tensor | None
    obj_trans: torch.Tensor
    obj_rot: torch.Tensor
    obj_scale: float
    object: str
    subject: int
    fps: float = cf.CLIP_FPS

    @property
    def num_frames(self) -> int:
        return self.trans.shape[0]


_NAME = re.compile(r"^sub(?P<subject>\d+)_(?P<object>[A-Za-z0-9]+)_(?P<index>\d+)")


def sequence_identity(data: dict, source: str, name: str | None, subject: int | None,
                      object_name: str | None) -> tuple[str, int, str]:  # fmt: skip
    """(name, subject, object) of a sequence: given, else from its name ``sub{ID}_{object}_{index}``
    (``seq_name`` in ``data``, else the file's stem) or ``data["object"]``; ValueError naming
    ``source`` when neither tells."""
    name = name or str(data.get("seq_name") or Path(source).stem)
    m = _NAME.match(name)
    subject = subject if subject is not None else (int(m["subject"]) if m else None)
    object_name = object_name or (m["object"] if m else data.get("object"))
    if subject is None or not object_name:
        raise ValueError(f"{source}: cannot tell subject and object from '{name}'; name it sub{{ID}}_{{object}}_{{index}} "
                         "or pass --subject and --object")  # fmt: skip
    return name, subject, object_name


def _array(data: dict, key: str, source: str, shape_tail: tuple[int, ...] | None = None, optional=False):
    if key not in data or data[key] is None:
        if optional:
            return None
        raise KeyError(f"{source}: missing '{key}' (have: {', '.join(sorted(map(str, data)))})")
    value = torch.as_tensor(np.asarray(data[key]), dtype=torch.float64)
    if shape_tail is not None and tuple(value.shape[-len(shape_tail):]) != shape_tail:
        raise ValueError(f"{source}: '{key}' has shape {tuple(value.shape)}, expected [T, {', '.join(map(str, shape_tail))}]")
    return value


def sequence_from_dict(data: dict, source: str, name: str | None = None, subject: int | None = None,
                       object_name: str | None = None) -> SmplxSequence:  # fmt: skip
    """Read one sequence from a mapping of arrays (keys as in :class:`SmplxSequence`; OMOMO's
    ``seq_name``, ``[T, 3, 1]`` object translations and per-frame ``obj_scale`` are accepted)."""
    name, subject, object_name = sequence_identity(data, source, name, subject, object_name)
    trans = _array(data, "trans", source, (3,))
    T = trans.shape[0]
    obj_trans = _array(data, "obj_trans", source).reshape(T, 3)
    obj_rot = _array(data, "obj_rot", source)
    if obj_rot.shape[-1] == 4 and obj_rot.dim() == 2:  # quaternions xyzw
        from ..kinematics import quat_to_matrix

        obj_rot = quat_to_matrix(rot.normalize(obj_rot))
    obj_rot = obj_rot.reshape(T, 3, 3)
    scale = data.get("obj_scale", 1.0)
    scale = float(np.mean(np.asarray(scale))) if scale is not None else 1.0
    betas = _array(data, "betas", source).reshape(-1)
    gender = data.get("gender", "neutral")
    gender = str(gender.item() if hasattr(gender, "item") else gender).lower()
    seq = SmplxSequence(
        name=name, betas=betas, gender=gender, trans=trans, root_orient=_array(data, "root_orient", source, (3,)),
        pose_body=_array(data, "pose_body", source, (63,)), pose_hand=_array(data, "pose_hand", source, (90,), optional=True),
        obj_trans=obj_trans, obj_rot=obj_rot, obj_scale=scale, object=str(object_name), subject=int(subject),
        fps=float(data.get("fps", cf.CLIP_FPS)),
    )  # fmt: skip
    for key in ("root_orient", "pose_body", "obj_rot"):
        if getattr(seq, key).shape[0] != T:
            raise ValueError(f"{source}: '{key}' has {getattr(seq, key).shape[0]} frames, 'trans' has {T}")
    if abs(seq.fps - cf.CLIP_FPS) > 1e-6:
        raise ValueError(f"{source}: sequence is at {seq.fps} fps; clips are {cf.CLIP_FPS} fps (resample it first)")
    if abs(seq.obj_scale - 1.0) > 1e-3:
        raise ValueError(f"{source}: object scale {seq.obj_scale:g} is not supported; meshes are used as stored (scale 1)")
    return seq


def read_sequences(path: str | os.PathLike, **overrides) -> list[SmplxSequence]:
    """Sequences in a file: ``.npz``, ``.pt`` or ``.pkl``/``.p`` holding one sequence (a mapping
    of arrays) or a mapping of sequences (e.g. OMOMO's ``*.p`` files)."""
    data = read_sequence_file(path)
    if "trans" in data:
        return [sequence_from_dict(data, str(path), **overrides)]
    out = []
    for key, value in data.items():
        if not isinstance(value, dict):
            raise ValueError(f"{path}: entry '{key}' is not a sequence mapping")
        name = str(value.get("seq_name") or key)
        out.append(sequence_from_dict(value, f"{path}[{key}]", name=name, **overrides))
    return out


# -------------------------------------------------------------------------------------------------
# SMPL-X
# -------------------------------------------------------------------------------------------------
def find_model_file(model_dir: str | os.PathLike | None, gender: str) -> Path:
    """The SMPL-X model file for a gender, or a :class:`FileNotFoundError` saying what is missing."""
    gender = gender.lower()
    if gender not in GENDERS:
        raise ValueError(f"unknown SMPL-X gender '{gender}' (expected neutral, male or female)")
    if not model_dir:
        raise FileNotFoundError(f"no SMPL-X model folder given. {MODEL_FILE_HELP}")
    try:
        return body_model.find_model_file(model_dir, "smplx", gender)
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"{exc}; {MODEL_FILE_HELP}") from None


def pose_smplx(seq: SmplxSequence, model_dir, device: str = "cpu", batch: int = 512, models=None) -> PosedBody:
    """Run the SMPL-X model on a sequence (``smplx`` package, user-supplied model files)."""
    models = models or body_model.ModelCache(model_dir, device)
    find_model_file(model_dir, seq.gender)
    model = models.get("smplx", seq.gender)
    T = seq.num_frames
    hands = seq.pose_hand if seq.pose_hand is not None else torch.zeros(T, 90, dtype=torch.float64)
    template = model.shaped_template(betas=seq.betas.numpy(), source=f"{seq.name}: ")
    joints, vertices = model.pose(template, seq.root_orient, seq.pose_body, hands, seq.trans, batch=batch)
    full_pose = torch.cat(
        [seq.root_orient[:, None], seq.pose_body.reshape(T, 21, 3), torch.zeros(T, 3, 3, dtype=torch.float64),
         hands.reshape(T, 30, 3)], dim=1,
    )  # fmt: skip
    return PosedBody(joints, vertices, full_pose, model.parents, model.vertex_body, SMPLX)


def convert_sequence(seq: SmplxSequence, body: PosedBody, registry, options: ConvertOptions = ConvertOptions()) -> torch.Tensor:
    """The clip of one sequence, given its posed SMPL-X body and the object registry."""
    return convert_posed(body, seq.obj_trans, seq.obj_rot, seq.object, registry, options)

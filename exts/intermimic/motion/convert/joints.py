"""Joint positions + object poses (generated interactions) -> InterMimic clips, by inverse kinematics.

Some text-to-interaction generators give only joint positions (HOI-Diff, InterAct's
text2interaction): per frame the 52 SMPL-H joints (22 body joints, then 15 + 15 finger joints,
in the model's order), the 55 SMPL-X joints (jaw and eyes ignored) or only the 22 body joints
(the hands are then flat), and the object's pose. The clip takes:

* the skeleton: the humanoid's, with each bone's length measured in the input (the median over
  frames; ``skeleton="canonical"`` keeps the humanoid's own lengths);
* joint rotations: inverse kinematics onto that skeleton on the humanoid's own hinges, inside
  their limits (:mod:`humanoid_ik`); body positions and rotations: forward kinematics of them, so
  the clip is consistent with its joint columns (the report says how far the input's points are
  from the solved ones, which joints rest at a limit, how high the lowest skin point is and which
  rotations the positions left open);
* contact labels by the package's rule, with the surface of the humanoid's collision shapes as
  the skin (:mod:`humanoid_skin`).

Input keys (``.npz``, ``.pt`` or ``.pkl``; one sequence or a mapping of sequences):

| key | shape | meaning |
|---|---|---|
| ``joints`` (or ``positions``) | ``[T, 52 / 55 / 22, 3]`` | joint positions (m), model joint order |
| ``obj_trans`` | ``[T, 3]`` | object translation |
| ``obj_rot`` / ``obj_angles`` | ``[T, 3, 3]`` or ``[T, 4]`` xyzw / ``[T, 3]`` axis-angle | object rotation |
| ``seq_name`` | str | ``sub{ID}_{object}_{index}`` (else the file name; ``--subject``/``--object`` override) |
| ``fps`` | | optional; 30 or a multiple of it |
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
import torch

from ...assets import humanoid_spec as spec
from ...utils import rotations as rot
from .. import clip_format as cf
from ..kinematics import forward_kinematics, matrix_to_quat, quat_to_matrix
from .body_model import SMPLH, SMPLX
from .posed_body import Y_UP_TO_Z_UP, ConvertOptions, contact_labels, mesh_centre
from .sequence_files import read_sequence_file
from .smplx_sequence import sequence_identity

BODY_JOINTS = 22
"""Joints of the body without the hands (SMPL-H / SMPL-X joints 0-21)."""


@dataclass
class JointSequence:
    name: str
    joints: torch.Tensor  # [T, 52, 3] humanoid body order (rows of bodies without a target: zero)
    mask: torch.Tensor  # [52] bodies with a target
    obj_trans: torch.Tensor  # [T, 3]
    obj_rot: torch.Tensor  # [T, 3, 3]
    object: str
    subject: int
    notes: list[str] = field(default_factory=list)

    @property
    def num_frames(self) -> int:
        return self.joints.shape[0]


def _tensor(data: dict, key: str, source: str) -> torch.Tensor:
    value = data[key]
    try:
        t = torch.as_tensor(np.asarray(value.detach().cpu() if torch.is_tensor(value) else value), dtype=torch.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{source}: field '{key}' is not numeric") from None
    bad = ~torch.isfinite(t)
    if bad.any():
        raise ValueError(f"{source}: field '{key}' has {int(bad.sum())} non-finite value(s), first at frame "
                         f"{int(torch.nonzero(bad)[0][0])}")  # fmt: skip
    return t


def body_targets(joints: torch.Tensor, source: str = "") -> tuple[torch.Tensor, torch.Tensor]:
    """Model joint positions ``[T, J, 3]`` (J = 52, 55 or 22) -> ``[T, 52, 3]`` targets in humanoid
    body order and the ``[52]`` mask of bodies that have one."""
    J = joints.shape[1]
    if J == SMPLH.num_joints:
        kind = SMPLH
    elif J == SMPLX.num_joints:
        kind = SMPLX
    elif J == BODY_JOINTS:
        kind = SMPLH
    else:
        raise ValueError(f"{source}field 'joints' has {J} joints per frame, expected 52 (SMPL-H), 55 (SMPL-X) or 22 "
                         "(body only)")  # fmt: skip
    out = torch.zeros(joints.shape[0], spec.NUM_BODIES, 3, dtype=torch.float64)
    mask = torch.zeros(spec.NUM_BODIES, dtype=torch.bool)
    for b, j in enumerate(kind.joint_of_body):
        if j < J:
            out[:, b] = joints[:, j]
            mask[b] = True
    return out, mask


def sequence_from_dict(data: dict, source: str, name: str | None = None, subject: int | None = None,
                       object_name: str | None = None, up_axis: str = "z", fps: float | None = None) -> JointSequence:  # fmt: skip
    """One sequence from a mapping of arrays (keys: see the module docstring)."""
    name, subject, object_name = sequence_identity(data, source, name, subject, object_name)
    key = "joints" if "joints" in data else "positions" if "positions" in data else None
    if key is None:
        raise KeyError(f"{source}: missing field 'joints' (have: {', '.join(sorted(map(str, data)))})")
    joints = _tensor(data, key, source)
    if joints.dim() != 3 or joints.shape[-1] != 3:
        raise ValueError(f"{source}: field '{key}' has shape {list(joints.shape)}, expected [T, J, 3]")
    T = joints.shape[0]
    if "obj_trans" not in data:
        raise KeyError(f"{source}: missing field 'obj_trans' (have: {', '.join(sorted(map(str, data)))})")
    obj_trans = _tensor(data, "obj_trans", source).reshape(-1, 3)
    if "obj_rot" in data:
        obj_rot = _tensor(data, "obj_rot", source)
        if obj_rot.dim() == 2 and obj_rot.shape[-1] == 4:
            obj_rot = quat_to_matrix(rot.normalize(obj_rot))
        elif obj_rot.dim() == 2 and obj_rot.shape[-1] == 3:
            obj_rot = quat_to_matrix(rot.from_exp_map(obj_rot))
    elif "obj_angles" in data:
        obj_rot = quat_to_matrix(rot.from_exp_map(_tensor(data, "obj_angles", source).reshape(-1, 3)))
    else:
        raise KeyError(f"{source}: missing field 'obj_rot' or 'obj_angles' (have: {', '.join(sorted(map(str, data)))})")
    if obj_rot.shape[-2:] != (3, 3):
        raise ValueError(f"{source}: field 'obj_rot' has shape {list(obj_rot.shape)}, expected [T, 3, 3], [T, 4] or [T, 3]")
    for label, n in (("obj_trans", obj_trans.shape[0]), ("obj_rot", obj_rot.shape[0])):
        if n != T:
            raise ValueError(f"{source}: field '{label}' has {n} frames, '{key}' has {T}")
    rate = float(fps or np.asarray(data.get("fps", cf.CLIP_FPS)).reshape(-1)[0])
    step = rate / cf.CLIP_FPS
    if abs(step - round(step)) > 1e-6 or round(step) < 1:
        raise ValueError(f"{source}: field 'fps' is {rate:g}; expected {cf.CLIP_FPS} or a multiple of it")
    step = int(round(step))
    joints, obj_trans, obj_rot = joints[::step], obj_trans[::step], obj_rot[::step]
    if up_axis == "y":
        w = Y_UP_TO_Z_UP
        joints, obj_trans, obj_rot = joints @ w.T, obj_trans @ w.T, w @ obj_rot
    targets, mask = body_targets(joints, f"{source}: ")
    seq = JointSequence(name, targets, mask, obj_trans, obj_rot, str(object_name), int(subject))
    if step > 1:
        seq.notes.append(f"{rate:g} fps -> {cf.CLIP_FPS} fps (every {step}th frame)")
    if not bool(mask[spec.HAND_BODY_IDS["L"][1]]):
        seq.notes.append("no finger joints: flat hands")
    return seq


def read_sequences(path: str | os.PathLike, **overrides) -> list[JointSequence]:
    """Sequences in a file (``.npz``, ``.pt``, ``.pkl``/``.p``): one mapping of arrays or a mapping of them."""
    data = read_sequence_file(path, npz_objects=True)
    if "joints" in data or "positions" in data:
        return [sequence_from_dict(data, str(path), **overrides)]
    return [sequence_from_dict(v, f"{path}[{k}]", name=str(v.get("seq_name") or k), **overrides)
            for k, v in data.items() if isinstance(v, dict)]  # fmt: skip


def fitted_skeleton(targets: torch.Tensor, mask: torch.Tensor) -> np.ndarray:
    """The humanoid's skeleton with each bone (both ends targeted) as long as its median length in ``targets``."""
    offsets = np.asarray(spec.BODY_OFFSETS, dtype=np.float64).copy()
    for b, p in enumerate(spec.PARENT_INDICES):
        if p < 0 or not (mask[b] and mask[p]):
            continue
        length = float((targets[:, b] - targets[:, p]).norm(dim=-1).median())
        rest = np.linalg.norm(offsets[b])
        if rest > 1e-9:
            offsets[b] *= length / rest
    return offsets


@dataclass
class JointsClip:
    clip: torch.Tensor
    body_offsets: np.ndarray
    residual_cm: tuple[float, float]
    """Mean and largest distance (cm) of the input's points from the solved bodies."""
    at_limit: dict[str, float] = field(default_factory=dict)
    """Joints that rest at a limit of theirs, and on which share of the frames (none beyond one)."""
    floor_cm: float = 0.0
    """Median over frames of the lowest skin point's height (cm) after the floor rule."""
    open_bodies: tuple[str, ...] = ()
    """Bodies whose rotation the input's positions leave open (no targeted child): they follow the priors."""

    def notes(self) -> list[str]:
        """What the conversion could not match, for the report."""
        out = [f"IK: input points {self.residual_cm[0]:.2f} cm mean, {self.residual_cm[1]:.2f} cm max from the solved bodies"]
        if self.at_limit:
            worst = sorted(self.at_limit.items(), key=lambda kv: -kv[1])
            listed = ", ".join(f"{j} {100 * share:.0f}%" for j, share in worst[:5])
            out.append(f"joint limits held {len(self.at_limit)} joint(s) at a limit (share of frames: {listed}"
                       f"{', ...' if len(worst) > 5 else ''}); no joint value beyond its limit")  # fmt: skip
        else:
            out.append("joint limits: every joint inside its limits")
        out.append(f"lowest skin point {self.floor_cm:.2f} cm above the floor (median over frames)")
        if self.open_bodies:
            out.append(f"rotations left open by the positions ({len(self.open_bodies)} bodies, e.g. "
                       f"{', '.join(self.open_bodies[:4])}): from the posture prior")  # fmt: skip
        return out


def open_rotation_bodies(mask) -> tuple[str, ...]:
    """Bodies with a target but no targeted child: positions say nothing about their rotation."""
    mask = [bool(m) for m in mask]
    children = {b: [c for c, p in enumerate(spec.PARENT_INDICES) if p == b and mask[c]] for b in range(spec.NUM_BODIES)}
    return tuple(spec.BODY_NAMES[b] for b in range(1, spec.NUM_BODIES) if mask[b] and not children[b])


def convert_joint_sequence(seq: JointSequence, registry, options: ConvertOptions = ConvertOptions(),
                           skeleton: str = "fit") -> JointsClip:  # fmt: skip
    """The clip of one joint-position sequence (world already z-up)."""
    from .humanoid_ik import solve_positions
    from .humanoid_skin import posed_skin

    if skeleton not in ("fit", "canonical"):
        raise ValueError(f"skeleton must be 'fit' or 'canonical', got '{skeleton}'")
    offsets = fitted_skeleton(seq.joints, seq.mask) if skeleton == "fit" else np.asarray(spec.BODY_OFFSETS, np.float64)
    ik = solve_positions(seq.joints.numpy(), offsets, seq.mask.numpy())
    root_pos, root_quat = torch.as_tensor(ik.root_pos), torch.as_tensor(ik.root_quat)
    dof = rot.to_exp_map(rot.from_hinges(torch.as_tensor(ik.hinges).reshape(seq.num_frames, -1, 3))).reshape(seq.num_frames, -1)
    body_pos, body_quat = forward_kinematics(root_pos, root_quat, dof, "exp_map", torch.as_tensor(offsets))
    if options.object_frame == "raw":
        obj_pos = seq.obj_trans + seq.obj_rot @ mesh_centre(registry, seq.object)
    else:
        obj_pos = seq.obj_trans.clone()
    obj_quat = matrix_to_quat(seq.obj_rot)
    skin, owner = posed_skin(body_pos, body_quat)
    if options.floor:
        frames = skin if options.floor_frames is None else skin[: options.floor_frames]
        shift = frames[..., 2].min()
        body_pos, skin, obj_pos = body_pos.clone(), skin.clone(), obj_pos.clone()
        for x in (body_pos, skin, obj_pos):
            x[..., 2] -= shift
        root_pos = body_pos[:, 0]
    labels, manipulated = contact_labels(skin, owner, obj_pos, obj_quat, registry.mesh(seq.object), options, body_pos)
    clip = cf.assemble(root_pos=root_pos, root_quat=root_quat, dof_pos=dof, body_pos=body_pos, obj_pos=obj_pos,
                       obj_quat=obj_quat, obj_manipulated=manipulated[:, None], contact=labels, body_quat=body_quat)  # fmt: skip
    res = ik.residual
    share = ik.at_limit.mean(axis=0)
    at_limit = {spec.JOINT_NAMES[j]: float(share[j]) for j in np.flatnonzero(share > 0)}
    floor_cm = 100 * float(skin[..., 2].min(dim=1).values.median())
    return JointsClip(clip, offsets, (100 * float(res.mean()), 100 * float(res.max())), at_limit, floor_cm,
                      open_rotation_bodies(seq.mask.numpy()))  # fmt: skip

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
import pickle
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ...assets import humanoid_spec as spec
from ...utils import rotations as rot
from .. import clip_format as cf
from .contacts import body_distances, labels_from_distances, manipulated_from_labels
from ..kinematics import matrix_to_quat

NUM_SMPLX_JOINTS = 55
SMPLX_JOINT_OF_BODY: tuple[int, ...] = (
    0, 1, 4, 7, 10, 2, 5, 8, 11, 3, 6, 9, 12, 15,
    13, 16, 18, 20, *range(25, 40),
    14, 17, 19, 21, *range(40, 55),
)  # fmt: skip
"""SMPL-X joint index of each humanoid body, in humanoid body order (names match one to one:
pelvis, hips, knees, ankles, feet/toes, spine1-3 = torso/spine/chest, neck, head, collars =
thoraxes, shoulders, elbows, wrists, and the fingers in the same order)."""
HEAD_JOINTS = (22, 23, 24)
"""SMPL-X jaw and eyes: their vertices count as the head."""

SMPL_TO_HUMANOID = torch.tensor([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], dtype=torch.float64)
"""Maps vectors in the SMPL-X body frame (x left, y up, z forward) to the humanoid body frame
(x forward, y left, z up)."""
Y_UP_TO_Z_UP = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]], dtype=torch.float64)
"""Maps a y-up world to the clips' z-up world."""

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
    name = name or str(data.get("seq_name") or Path(source).stem)
    m = _NAME.match(name)
    subject = subject if subject is not None else (int(m["subject"]) if m else None)
    object_name = object_name or (m["object"] if m else data.get("object"))
    if subject is None or not object_name:
        raise ValueError(f"{source}: cannot tell subject and object from '{name}'; name it sub{{ID}}_{{object}}_{{index}} "
                         "or pass --subject and --object")  # fmt: skip
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
    path = Path(path)
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as f:
            data = {k: f[k] for k in f.files}
    elif path.suffix == ".pt":
        data = torch.load(path, map_location="cpu", weights_only=True)
    elif path.suffix in (".pkl", ".p", ".pickle"):
        try:
            with open(path, "rb") as f:
                data = pickle.load(f)
        except Exception:
            import joblib

            data = joblib.load(path)
    else:
        raise ValueError(f"{path}: unsupported input (expected .npz, .pt, .pkl or .p)")
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of arrays or of sequences, got {type(data).__name__}")
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
    if gender not in ("neutral", "male", "female"):
        raise ValueError(f"unknown SMPL-X gender '{gender}' (expected neutral, male or female)")
    if not model_dir:
        raise FileNotFoundError(f"no SMPL-X model folder given. {MODEL_FILE_HELP}")
    root = Path(model_dir).expanduser()
    names = [f"SMPLX_{gender.upper()}.{ext}" for ext in ("npz", "pkl")]
    candidates = [folder / n for folder in (root, root / "smplx", root / "models" / "smplx") for n in names]
    for c in candidates:
        if c.is_file():
            return c
    raise FileNotFoundError(
        f"SMPL-X model file for gender '{gender}' not found: looked for {', '.join(str(c) for c in candidates[:4])}. "
        f"{MODEL_FILE_HELP}"
    )


@dataclass
class PosedBody:
    """The SMPL-X body of a sequence: joints, skin and rotations (world frame of the input)."""

    joints: torch.Tensor  # [T, 55, 3]
    vertices: torch.Tensor  # [T, V, 3]
    full_pose: torch.Tensor  # [T, 55, 3] axis-angle local rotations (joint 0: global orientation)
    parents: torch.Tensor  # [55]
    vertex_body: torch.Tensor  # [V] humanoid body index of each vertex


def vertex_bodies(lbs_weights: torch.Tensor) -> torch.Tensor:
    """Humanoid body of each SMPL-X vertex: the joint with the largest skinning weight."""
    joint = lbs_weights[:, :NUM_SMPLX_JOINTS].argmax(dim=-1)
    body_of_joint = torch.full((NUM_SMPLX_JOINTS,), -1, dtype=torch.long)
    body_of_joint[list(SMPLX_JOINT_OF_BODY)] = torch.arange(spec.NUM_BODIES)
    body_of_joint[list(HEAD_JOINTS)] = spec.body_index("Head")
    return body_of_joint[joint]


def pose_smplx(seq: SmplxSequence, model_dir, device: str = "cpu", batch: int = 512) -> PosedBody:
    """Run the SMPL-X model on a sequence (``smplx`` package, user-supplied model files)."""
    model_file = find_model_file(model_dir, seq.gender)
    import smplx

    num_betas = int(seq.betas.shape[0])
    model = smplx.create(
        str(model_file), model_type="smplx", gender=seq.gender, ext=model_file.suffix[1:], use_pca=False,
        flat_hand_mean=True, num_betas=num_betas, batch_size=1,
    ).to(device)  # fmt: skip
    T = seq.num_frames
    hands = seq.pose_hand if seq.pose_hand is not None else torch.zeros(T, 90, dtype=torch.float64)
    zeros3 = torch.zeros(T, 3, dtype=torch.float32, device=device)
    joints, vertices = [], []
    with torch.no_grad():
        for s in range(0, T, batch):
            e = min(T, s + batch)
            n = e - s
            out = model(
                betas=seq.betas.float().to(device)[None].expand(n, -1),
                global_orient=seq.root_orient[s:e].float().to(device),
                body_pose=seq.pose_body[s:e].float().to(device),
                left_hand_pose=hands[s:e, :45].float().to(device),
                right_hand_pose=hands[s:e, 45:].float().to(device),
                jaw_pose=zeros3[:n], leye_pose=zeros3[:n], reye_pose=zeros3[:n],
                expression=torch.zeros(n, model.num_expression_coeffs, device=device),
                transl=seq.trans[s:e].float().to(device), return_verts=True,
            )  # fmt: skip
            joints.append(out.joints[:, :NUM_SMPLX_JOINTS].double().cpu())
            vertices.append(out.vertices.double().cpu())
    full_pose = torch.cat(
        [seq.root_orient[:, None], seq.pose_body.reshape(T, 21, 3), torch.zeros(T, 3, 3, dtype=torch.float64),
         hands.reshape(T, 30, 3)], dim=1,
    )  # fmt: skip
    parents = model.parents.detach().cpu().long()[:NUM_SMPLX_JOINTS]
    return PosedBody(torch.cat(joints), torch.cat(vertices), full_pose, parents,
                     vertex_bodies(model.lbs_weights.detach().cpu()))  # fmt: skip


# -------------------------------------------------------------------------------------------------
# Assembly
# -------------------------------------------------------------------------------------------------
def humanoid_rotations(full_pose: torch.Tensor, parents: torch.Tensor, world: torch.Tensor | None = None):
    """Local (``[T, 51, 4]``, humanoid frame) and global (``[T, 52, 4]``, world) rotations of the
    humanoid bodies from SMPL-X axis-angle pose parameters ``[T, 55, 3]``.

    ``world``: optional ``[3, 3]`` rotation applied to the input world (y-up -> z-up).
    """
    T = full_pose.shape[0]
    local = rot.from_exp_map(full_pose.double())  # [T, 55, 4] SMPL-X frame
    if world is not None:
        local[:, 0] = rot.multiply(matrix_to_quat(world.double()).expand(T, 4), local[:, 0])
    glob = [local[:, 0]]
    for j in range(1, NUM_SMPLX_JOINTS):
        glob.append(rot.multiply(glob[int(parents[j])], local[:, j]))
    glob = torch.stack(glob, dim=1)
    c = matrix_to_quat(SMPL_TO_HUMANOID).expand(T, 4)
    c_inv = rot.conjugate(c)
    body_joints = list(SMPLX_JOINT_OF_BODY)
    global_h = rot.multiply(glob[:, body_joints], c_inv[:, None].expand(-1, spec.NUM_BODIES, -1))
    local_h = rot.multiply(rot.multiply(c[:, None].expand(-1, 51, -1), local[:, body_joints[1:]]),
                           c_inv[:, None].expand(-1, 51, -1))  # fmt: skip
    return local_h, global_h


def check_parents(parents: torch.Tensor) -> None:
    """The SMPL-X kinematic tree must match the humanoid's (same parent for every body)."""
    for b, j in enumerate(SMPLX_JOINT_OF_BODY):
        p = spec.PARENT_INDICES[b]
        want = -1 if p < 0 else SMPLX_JOINT_OF_BODY[p]
        if int(parents[j]) != want:
            raise ValueError(f"SMPL-X joint {j} has parent {int(parents[j])}, the humanoid body {spec.BODY_NAMES[b]} expects {want}")


def assemble_clip(
    joints: torch.Tensor, full_pose: torch.Tensor, parents: torch.Tensor, obj_pos: torch.Tensor,
    obj_quat: torch.Tensor, contact: torch.Tensor, world: torch.Tensor | None = None,
) -> torch.Tensor:  # fmt: skip
    """A ``[T, 591]`` clip from posed SMPL-X joints (world, already z-up), pose parameters, the
    object pose (centred mesh, xyzw) and contact labels."""
    check_parents(parents)
    local_h, global_h = humanoid_rotations(full_pose, parents, world)
    body_pos = joints[:, list(SMPLX_JOINT_OF_BODY)]
    labels = contact.to(torch.float32)
    return cf.assemble(
        root_pos=body_pos[:, 0], root_quat=global_h[:, 0], dof_pos=rot.to_exp_map(local_h), body_pos=body_pos,
        obj_pos=obj_pos, obj_quat=obj_quat, obj_manipulated=manipulated_from_labels(labels)[:, None],
        contact=labels, body_quat=global_h,
    )  # fmt: skip


@dataclass
class ConvertOptions:
    up_axis: str = "z"
    """Up axis of the input world ("z" for OMOMO, "y" for y-up data)."""
    object_frame: str = "raw"
    """"raw": object poses move the mesh as stored in its file; "centred": the mesh centred on its vertex mean."""
    floor: bool = True
    """Shift the sequence vertically so the lowest skin vertex touches z = 0."""
    contact_distance: float = 0.02
    penalize_distance: float = 0.10
    surface_points: int = 16384
    """Object surface samples for the skin-to-object distances."""


def mesh_centre(registry, name: str) -> torch.Tensor:
    """Vertex mean of an object's mesh as stored in its file (the origin of the centred mesh)."""
    import trimesh

    mesh = trimesh.load(str(registry.mesh_path(name)), force="mesh", process=False)
    return torch.as_tensor(np.asarray(mesh.vertices, dtype=np.float64).mean(axis=0))


def convert_sequence(seq: SmplxSequence, body: PosedBody, registry, options: ConvertOptions = ConvertOptions()) -> torch.Tensor:
    """The clip of one sequence, given its posed SMPL-X body and the object registry."""
    from ...assets.primitives import sample_surface

    world = None
    joints, vertices = body.joints.double(), body.vertices.double()
    obj_trans, obj_rot = seq.obj_trans.double(), seq.obj_rot.double()
    if options.up_axis == "y":
        world = Y_UP_TO_Z_UP
        joints, vertices = joints @ world.T, vertices @ world.T
        obj_trans, obj_rot = obj_trans @ world.T, world @ obj_rot
    elif options.up_axis != "z":
        raise ValueError(f"up_axis must be 'z' or 'y', got '{options.up_axis}'")
    if options.object_frame == "raw":
        centre = mesh_centre(registry, seq.object)
        obj_pos = obj_trans + (obj_rot @ centre)
    elif options.object_frame == "centred":
        obj_pos = obj_trans
    else:
        raise ValueError(f"object_frame must be 'raw' or 'centred', got '{options.object_frame}'")
    if options.floor:
        shift = vertices[..., 2].min()
        joints, vertices = joints.clone(), vertices.clone()
        joints[..., 2] -= shift
        vertices[..., 2] -= shift
        obj_pos = obj_pos.clone()
        obj_pos[:, 2] -= shift
    obj_quat = matrix_to_quat(obj_rot)
    mesh = registry.mesh(seq.object)
    points = sample_surface(mesh.vertices, mesh.faces, n=options.surface_points)
    distance = body_distances(vertices, body.vertex_body, obj_pos, obj_quat, points)
    labels = labels_from_distances(distance, options.contact_distance, options.penalize_distance)
    return assemble_clip(joints, body.full_pose, body.parents, obj_pos, obj_quat, labels, world)

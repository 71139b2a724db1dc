"""A posed SMPL-H / SMPL-X body and an object pose -> one InterMimic clip.

Shared by the converters that pose a body model (:mod:`smplx_sequence`, :mod:`interact`):

* body positions: the model joints of the 52 humanoid bodies (SMPL-X's jaw and eyes are left out);
* joint columns: each body's local rotation (the pose parameters), turned from the SMPL body
  frame (x left, y up, z forward) into the humanoid's (x forward, y left, z up), as an
  exponential map; body rotations: the same rotations chained along the skeleton;
* the object's pose, moved to the centre of its mesh (the frame of the object registry);
* contact labels from the distance of each body's skin (model vertices, assigned to the body
  with the largest skinning weight) to the object surface (:mod:`contacts`).

Joint positions of a skinned model are forward kinematics of its rest skeleton, so the clip's
body positions are reproduced by its joint rotations on the subject's skeleton
(:func:`~intermimic.motion.convert.body_model.body_offsets_from_rest_joints`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ...assets import humanoid_spec as spec
from ...utils import rotations as rot
from .. import clip_format as cf
from ..kinematics import matrix_to_quat
from .body_model import SMPL_TO_HUMANOID as _SMPL_TO_HUMANOID_NP
from .body_model import SMPLX, ModelKind
from .contacts import body_distances, interact_contact_points, interact_labels, labels_from_distances, manipulated_from_labels

SMPL_TO_HUMANOID = torch.tensor(_SMPL_TO_HUMANOID_NP, dtype=torch.float64)
"""Maps vectors in the SMPL body frame (x left, y up, z forward) to the humanoid body frame
(x forward, y left, z up)."""
Y_UP_TO_Z_UP = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]], dtype=torch.float64)
"""Maps a y-up world to the clips' z-up world (a quarter turn about x, as InterAct's converter does)."""
DISTANCE_CHUNK = 128
"""Frames whose skin-to-object distances are computed at once (bounds the memory of long sequences)."""


@dataclass
class PosedBody:
    """A posed body model: joints, skin and rotations (world frame of the input)."""

    joints: torch.Tensor  # [T, J, 3]
    vertices: torch.Tensor  # [T, V, 3]
    full_pose: torch.Tensor  # [T, J, 3] axis-angle local rotations (joint 0: global orientation)
    parents: torch.Tensor  # [J]
    vertex_body: torch.Tensor  # [V] humanoid body index of each vertex
    kind: ModelKind = SMPLX


@dataclass
class ConvertOptions:
    up_axis: str = "z"
    """Up axis of the input world ("z" for OMOMO's own files, "y" for InterAct's and other y-up data)."""
    object_frame: str = "raw"
    """"raw": object poses move the mesh as stored in its file; "centred": the mesh centred on its vertex mean."""
    floor: bool = True
    """Shift the sequence vertically so the lowest skin vertex touches z = 0."""
    floor_frames: int | None = None
    """Look for the lowest skin vertex in the first this many frames only (InterAct: 30); None: all frames."""
    lift_object: bool = False
    """After the floor shift, lift everything so the object's mesh is not below the ground in the
    first frame (InterAct does this)."""
    contact_distance: float = 0.02
    penalize_distance: float = 0.10
    surface_points: int = 16384
    """Object surface samples for the skin-to-object distances."""
    contact_rule: str = "distance"
    """``distance``: the package's rule (:func:`~.contacts.labels_from_distances`); ``interact``: InterAct's
    converter's (:func:`~.contacts.interact_labels`, with its 1024 object samples)."""


def humanoid_rotations(full_pose: torch.Tensor, parents: torch.Tensor, world: torch.Tensor | None = None,
                       kind: ModelKind = SMPLX):  # fmt: skip
    """Local (``[T, 51, 4]``, humanoid frame) and global (``[T, 52, 4]``, world) rotations of the
    humanoid bodies from axis-angle pose parameters ``[T, J, 3]``.

    ``world``: optional ``[3, 3]`` rotation applied to the input world (y-up -> z-up).
    """
    T, J = full_pose.shape[:2]
    local = rot.from_exp_map(full_pose.double())  # [T, J, 4] model frame
    if world is not None:
        local[:, 0] = rot.multiply(matrix_to_quat(world.double()).expand(T, 4), local[:, 0])
    glob = [local[:, 0]]
    for j in range(1, J):
        glob.append(rot.multiply(glob[int(parents[j])], local[:, j]))
    glob = torch.stack(glob, dim=1)
    c = matrix_to_quat(SMPL_TO_HUMANOID).expand(T, 4)
    c_inv = rot.conjugate(c)
    body_joints = list(kind.joint_of_body)
    global_h = rot.multiply(glob[:, body_joints], c_inv[:, None].expand(-1, spec.NUM_BODIES, -1))
    local_h = rot.multiply(rot.multiply(c[:, None].expand(-1, 51, -1), local[:, body_joints[1:]]),
                           c_inv[:, None].expand(-1, 51, -1))  # fmt: skip
    return local_h, global_h


def model_pose_from_humanoid(local_h: torch.Tensor, root_h: torch.Tensor, kind: ModelKind = SMPLX) -> torch.Tensor:
    """Axis-angle model pose ``[T, J, 3]`` (z-up world) of humanoid local rotations ``[T, 51, 4]``
    and root rotation ``[T, 4]``: the inverse of :func:`humanoid_rotations` (joints without a
    humanoid body get zero)."""
    T = local_h.shape[0]
    c = matrix_to_quat(SMPL_TO_HUMANOID.to(local_h.dtype)).expand(T, 4)
    c_inv = rot.conjugate(c)
    pose = torch.zeros(T, kind.num_joints, 4, dtype=local_h.dtype)
    pose[..., 3] = 1.0
    pose[:, 0] = rot.multiply(root_h, c)
    local = rot.multiply(rot.multiply(c_inv[:, None].expand(-1, 51, -1), local_h), c[:, None].expand(-1, 51, -1))
    pose[:, list(kind.joint_of_body[1:])] = local
    return rot.to_exp_map(pose)


def check_parents(parents: torch.Tensor, kind: ModelKind = SMPLX) -> None:
    """The model's kinematic tree must match the humanoid's (same parent for every body)."""
    for b, j in enumerate(kind.joint_of_body):
        p = spec.PARENT_INDICES[b]
        want = -1 if p < 0 else kind.joint_of_body[p]
        if int(parents[j]) != want:
            raise ValueError(f"{kind.name.upper()} joint {j} has parent {int(parents[j])}, the humanoid body "
                             f"{spec.BODY_NAMES[b]} expects {want}")  # fmt: skip


def assemble_clip(
    joints: torch.Tensor, full_pose: torch.Tensor, parents: torch.Tensor, obj_pos: torch.Tensor,
    obj_quat: torch.Tensor, contact: torch.Tensor, world: torch.Tensor | None = None, kind: ModelKind = SMPLX,
    manipulated: torch.Tensor | None = None,
) -> torch.Tensor:  # fmt: skip
    """A ``[T, 591]`` clip from posed model joints (world, already z-up), pose parameters, the
    object pose (centred mesh, xyzw), contact labels and the manipulated flag (default: from the labels)."""
    check_parents(parents, kind)
    local_h, global_h = humanoid_rotations(full_pose, parents, world, kind)
    body_pos = joints[:, list(kind.joint_of_body)]
    labels = contact.to(torch.float32)
    manipulated = manipulated_from_labels(labels) if manipulated is None else manipulated.to(torch.float32)
    return cf.assemble(
        root_pos=body_pos[:, 0], root_quat=global_h[:, 0], dof_pos=rot.to_exp_map(local_h), body_pos=body_pos,
        obj_pos=obj_pos, obj_quat=obj_quat, obj_manipulated=manipulated[:, None], contact=labels, body_quat=global_h,
    )  # fmt: skip


def mesh_centre(registry, name: str) -> torch.Tensor:
    """Vertex mean of an object's mesh as stored in its file (the origin of the centred mesh)."""
    import trimesh

    path = registry.mesh_path(name)
    try:
        vertices = np.asarray(trimesh.load(str(path), force="mesh", process=False).vertices, dtype=np.float64)
    except Exception as exc:  # a broken or foreign file
        raise ValueError(f"{path}: cannot read mesh: {exc}") from None
    if vertices.ndim != 2 or len(vertices) == 0:
        raise ValueError(f"{path}: mesh has no vertices")
    return torch.as_tensor(vertices.mean(axis=0))


def convert_posed(body: PosedBody, obj_trans: torch.Tensor, obj_rot: torch.Tensor, object_name: str, registry,
                  options: ConvertOptions = ConvertOptions()) -> torch.Tensor:  # fmt: skip
    """The clip of a posed body and the object's world pose (``[T, 3]`` translation and ``[T, 3, 3]``
    rotation of the mesh as stored, or centred: ``options.object_frame``), in the input's world."""
    world = None
    joints, vertices = body.joints.double(), body.vertices
    obj_trans, obj_rot = obj_trans.double(), obj_rot.double()
    if options.up_axis == "y":
        world = Y_UP_TO_Z_UP
        joints, vertices = joints @ world.T, vertices @ world.T.to(vertices.dtype)
        obj_trans, obj_rot = obj_trans @ world.T, world @ obj_rot
    elif options.up_axis != "z":
        raise ValueError(f"up_axis must be 'z' or 'y', got '{options.up_axis}'")
    if options.object_frame == "raw":
        obj_pos = obj_trans + (obj_rot @ mesh_centre(registry, object_name))
    elif options.object_frame == "centred":
        obj_pos = obj_trans
    else:
        raise ValueError(f"object_frame must be 'raw' or 'centred', got '{options.object_frame}'")
    obj_quat = matrix_to_quat(obj_rot)
    mesh = registry.mesh(object_name)
    if options.floor:
        frames = vertices if options.floor_frames is None else vertices[: options.floor_frames]
        shift = frames[..., 2].min().double()
        if options.lift_object:
            first = obj_pos[0] + torch.as_tensor(mesh.vertices, dtype=torch.float64) @ rot.to_matrix(obj_quat[0]).T
            shift = torch.minimum(shift, first[:, 2].min())
        joints, vertices, obj_pos = joints.clone(), vertices.clone(), obj_pos.clone()
        joints[..., 2] -= shift
        vertices[..., 2] -= shift.to(vertices.dtype)
        obj_pos[:, 2] -= shift
    body_pos = joints[:, list(body.kind.joint_of_body)]
    labels, manipulated = contact_labels(vertices, body.vertex_body, obj_pos, obj_quat, mesh, options, body_pos)
    return assemble_clip(joints, body.full_pose, body.parents, obj_pos, obj_quat, labels, world, body.kind, manipulated)


def contact_labels(vertices: torch.Tensor, vertex_body: torch.Tensor, obj_pos: torch.Tensor, obj_quat: torch.Tensor,
                   mesh, options: ConvertOptions = ConvertOptions(), body_pos: torch.Tensor | None = None):  # fmt: skip
    """``[T, 52]`` contact labels and the ``[T]`` manipulated flag from skin points ``[T, V, 3]``
    (body of each: ``vertex_body``) and the object's mesh at ``obj_pos``/``obj_quat`` (its centred
    frame), a chunk of frames at a time, by ``options.contact_rule`` (InterAct's needs the bodies'
    positions ``body_pos`` ``[T, 52, 3]`` for its still-foot test)."""
    from ...assets.primitives import sample_surface

    if options.contact_rule not in ("distance", "interact"):
        raise ValueError(f"contact_rule must be 'distance' or 'interact', got '{options.contact_rule}'")
    interact = options.contact_rule == "interact"
    if interact:
        points = torch.as_tensor(interact_contact_points(mesh.vertices, mesh.faces))
    else:
        points = sample_surface(mesh.vertices, mesh.faces, n=options.surface_points)
    chunks = range(0, vertices.shape[0], DISTANCE_CHUNK)
    part = lambda x, s: x[s : s + DISTANCE_CHUNK]  # noqa: E731
    distance = torch.cat([body_distances(part(vertices, s), vertex_body, part(obj_pos, s), part(obj_quat, s), points)
                          for s in chunks])  # fmt: skip
    if not interact:
        labels = labels_from_distances(distance, options.contact_distance, options.penalize_distance)
        return labels, manipulated_from_labels(labels)
    owner = vertex_body.long().cpu()
    lowest = torch.cat([
        torch.full((min(DISTANCE_CHUNK, vertices.shape[0] - s), spec.NUM_BODIES), float("inf")).scatter_reduce(
            1, owner[None].expand(min(DISTANCE_CHUNK, vertices.shape[0] - s), -1), part(vertices, s)[..., 2].float().cpu(),
            reduce="amin", include_self=True)
        for s in chunks
    ])  # fmt: skip
    # the object's lowest point per frame from every mesh vertex (InterAct measures heights exactly)
    mesh_vertices = torch.as_tensor(mesh.vertices, dtype=torch.float64)
    obj_lowest = obj_pos[:, 2].double() + (mesh_vertices @ rot.to_matrix(obj_quat.double()).transpose(1, 2))[..., 2].min(dim=1).values
    ground = float(min(vertices[..., 2].min(), obj_lowest.min()))
    toes = body_pos[:, spec.body_indices(("L_Toe", "R_Toe"))]
    return interact_labels(distance, lowest.double(), ground, obj_lowest, obj_pos.double(), toes.double())

"""Compact per-frame storage of one reference source, and the batched gather that expands it.

A clip frame carries ~1200 derived numbers (poses, velocities, interaction field). Storing them
all as float32 costs ~4.9 KB per frame, ~5.3 GB for the 10 hours of OMOMO. :class:`PackedFrames`
keeps only what cannot be recomputed cheaply and exactly:

* poses in float32: root, hinge joint angles, 52 body positions and rotations, object pose;
* contact labels and the manipulation flag as int8;
* the interaction field as the *index* of each body's nearest object surface point (int16).

Velocities (finite differences of the frame and its predecessor in the same clip) and the
interaction field vectors (body minus its nearest surface point, in the root heading frame)
are computed when frames are gathered. Both are per-query elementwise work, so a query's cost
depends on how many frames are asked for, never on how many clips are stored; the result is
the same as deriving everything up front (``frames_from_clip``) because both use the
functions below. About 2.3 KB per frame remain (see :meth:`PackedFrames.bytes_per_frame`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import torch

from ..assets.humanoid_spec import NUM_BODIES, NUM_DOFS
from ..utils import rotations as rot
from . import clip_format as cf
from .kinematics import exp_map_to_hinge_sequence
from .reference import ReferenceFrames
from .robot_clip import RobotClip
from .validation import DataMismatchError

NEAREST_PAIRS_PER_CHUNK = 1 << 25
"""(body position, object point) pairs per batch of the nearest-point search (bounds its
temporary memory: 4 bytes each)."""


# ---------------------------------------------------------------------------------------------
# Derived quantities shared by the packed library and frames_from_clip
# ---------------------------------------------------------------------------------------------
def linear_velocity(prev: torch.Tensor, cur: torch.Tensor, fps) -> torch.Tensor:
    return (cur - prev) * fps


def angular_velocity(prev: torch.Tensor, cur: torch.Tensor, fps: float) -> torch.Tensor:
    """World-frame angular velocity taking rotation ``prev`` to ``cur`` in one frame."""
    return rot.angular_velocity(prev, cur, 1.0 / fps)


def hinge_velocity(prev: torch.Tensor, cur: torch.Tensor, fps) -> torch.Tensor:
    """Hinge angle rates; a step across the +-pi seam counts as the short way round."""
    d = cur - prev
    return (d - torch.round(d / (2 * torch.pi)) * (2 * torch.pi)) * fps


def nearest_surface_point(
    body_pos: torch.Tensor, obj_pos: torch.Tensor, obj_quat: torch.Tensor, points: torch.Tensor
) -> torch.Tensor:
    """Index of each body's nearest object surface point.

    Args:
        body_pos: ``[T, B, 3]`` world positions; obj_pos ``[T, 3]``, obj_quat ``[T, 4]``.
        points: ``[P, 3]`` surface points in the object frame.
    Returns:
        ``[T, B]`` long indices into ``points``.
    """
    T, B = body_pos.shape[:2]
    local = rot.rotate_inverse(obj_quat[:, None, :], body_pos - obj_pos[:, None, :]).reshape(-1, 3)
    pts = points.to(local)
    rows = max(1, NEAREST_PAIRS_PER_CHUNK // max(1, pts.shape[0]))
    out = torch.empty(local.shape[0], dtype=torch.long, device=local.device)
    for s in range(0, local.shape[0], rows):
        # distances by differences, not by matrix products: exact in float32 whatever the matmul
        # precision (TF32) a launcher chose, so the nearest points agree on every device
        d = torch.cdist(local[s : s + rows], pts, compute_mode="donot_use_mm_for_euclid_dist")
        out[s : s + rows] = d.argmin(dim=-1)
    return out.reshape(T, B)


def nearest_point_indices(
    body_pos: torch.Tensor, obj_pos: torch.Tensor, obj_quat: torch.Tensor, points: torch.Tensor | None
) -> torch.Tensor:
    """``[T, B]`` int16 index of each body's nearest object surface point, as packed frames store it;
    without points every body's nearest point is index 0 of a single origin point (the interaction
    field is then the body's offset from the object origin)."""
    if points is None:
        return torch.zeros(body_pos.shape[:2], dtype=torch.int16, device=body_pos.device)
    if points.shape[0] > torch.iinfo(torch.int16).max:
        raise ValueError(f"at most {torch.iinfo(torch.int16).max} surface points per object are supported")
    return nearest_surface_point(body_pos, obj_pos, obj_quat, points.to(body_pos.device)).to(torch.int16)


def field_from_points(
    body_pos: torch.Tensor, root_quat: torch.Tensor, obj_pos: torch.Tensor, obj_quat: torch.Tensor,
    near_points: torch.Tensor,
) -> torch.Tensor:  # fmt: skip
    """Interaction field: body minus its nearest surface point, rotated into the root heading frame.

    Args:
        body_pos: ``[..., B, 3]``; root_quat ``[..., 4]``; obj_pos ``[..., 3]``; obj_quat ``[..., 4]``.
        near_points: ``[..., B, 3]`` each body's nearest surface point, object frame.
    """
    world = obj_pos[..., None, :] + rot.rotate(obj_quat[..., None, :], near_points)
    heading = rot.heading_inverse(root_quat)[..., None, :]
    return rot.rotate(heading, body_pos - world)


# ---------------------------------------------------------------------------------------------
@dataclass
class PackedFrames:
    """Frames of one reference source, flat over clips: leading dimension ``N`` (frames)."""

    root_pos: torch.Tensor  # [N, 3] float32
    root_quat: torch.Tensor  # [N, 4] float32, unit
    dof_pos: torch.Tensor  # [N, J] float32 hinge angles (J = 153 for SMPL-X)
    body_pos: torch.Tensor  # [N, B, 3] float32 (B = 52 for SMPL-X)
    body_quat: torch.Tensor  # [N, B, 4] float32, unit
    obj_pos: torch.Tensor  # [N, 3] float32
    obj_quat: torch.Tensor  # [N, 4] float32, unit
    contact: torch.Tensor  # [N, B] int8 in {-1, 0, 1}
    obj_manipulated: torch.Tensor  # [N] int8 in {0, 1}
    nearest_point: torch.Tensor  # [N, B] int16 index into the clip object's surface points

    POSE_FIELDS = ("root_pos", "root_quat", "dof_pos", "body_pos", "body_quat", "obj_pos", "obj_quat")

    # -----------------------------------------------------------------------------------------
    def fields(self) -> dict[str, torch.Tensor]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @property
    def num_frames(self) -> int:
        return self.root_pos.shape[0]

    @property
    def device(self) -> torch.device:
        return self.root_pos.device

    def nbytes(self) -> int:
        return sum(v.element_size() * v.numel() for v in self.fields().values())

    @staticmethod
    def bytes_per_frame() -> int:
        return PackedFrames.empty(1).nbytes()

    def to(self, device) -> PackedFrames:
        return PackedFrames(**{k: v.to(device) for k, v in self.fields().items()})

    @property
    def num_bodies(self) -> int:
        return self.body_pos.shape[1]

    @property
    def num_dofs(self) -> int:
        return self.dof_pos.shape[1]

    @staticmethod
    def empty(
        num_frames: int, device: str | torch.device = "cpu", num_bodies: int = NUM_BODIES, num_dofs: int = NUM_DOFS
    ) -> PackedFrames:
        """Zeroed frames (the SMPL-X humanoid's sizes unless told otherwise)."""

        def f(*shape, dtype=torch.float32):
            return torch.zeros(num_frames, *shape, dtype=dtype, device=device)

        return PackedFrames(
            root_pos=f(3), root_quat=f(4), dof_pos=f(num_dofs), body_pos=f(num_bodies, 3),
            body_quat=f(num_bodies, 4), obj_pos=f(3), obj_quat=f(4), contact=f(num_bodies, dtype=torch.int8),
            obj_manipulated=f(dtype=torch.int8), nearest_point=f(num_bodies, dtype=torch.int16),
        )  # fmt: skip

    def write(self, start: int, frames: PackedFrames) -> None:
        """Copy ``frames`` into rows ``[start, start + frames.num_frames)``."""
        stop = start + frames.num_frames
        for name, value in frames.fields().items():
            getattr(self, name)[start:stop] = value.to(self.device)

    @staticmethod
    def cat(items: list[PackedFrames]) -> PackedFrames:
        names = [f.name for f in dataclasses.fields(PackedFrames)]
        return PackedFrames(**{n: torch.cat([getattr(i, n) for i in items]) for n in names})

    # -----------------------------------------------------------------------------------------
    @staticmethod
    def from_clip(clip: torch.Tensor, object_points: torch.Tensor | None) -> PackedFrames:
        """Pack one ``[T, 591]`` clip (quaternions normalised, joint exp maps -> hinge angles that
        stay on one branch over time, see :func:`~intermimic.motion.kinematics.continuous_hinges`).

        Nearest object points as :func:`nearest_point_indices` finds them.
        """
        clip = clip.to(torch.float32)
        body_pos = cf.field(clip, "body_pos")
        obj_pos = cf.field(clip, "obj_pos")
        obj_quat = rot.normalize(cf.field(clip, "obj_quat"))
        return PackedFrames(
            root_pos=cf.field(clip, "root_pos").clone(),
            root_quat=rot.normalize(cf.field(clip, "root_quat")),
            dof_pos=exp_map_to_hinge_sequence(cf.field(clip, "dof_pos")),
            body_pos=body_pos.clone(),
            body_quat=rot.normalize(cf.field(clip, "body_quat")),
            obj_pos=obj_pos.clone(),
            obj_quat=obj_quat,
            contact=cf.field(clip, "contact").round().to(torch.int8),
            obj_manipulated=cf.field(clip, "obj_manipulated").round().to(torch.int8),
            nearest_point=nearest_point_indices(body_pos, obj_pos, obj_quat, object_points),
        )

    def to_clip(self, start: int, stop: int) -> torch.Tensor:
        """Rows ``[start, stop)`` back in the ``[T, 591]`` clip format (joint columns as exp maps)."""
        from .kinematics import hinge_to_exp_map

        if (self.num_bodies, self.num_dofs) != (NUM_BODIES, NUM_DOFS):
            raise ValueError(f"frames of {self.num_bodies} bodies and {self.num_dofs} joints are robot references; "
                             "only SMPL-X frames have the [T, 591] clip format")  # fmt: skip
        s = slice(start, stop)
        return cf.assemble(
            root_pos=self.root_pos[s], root_quat=self.root_quat[s], dof_pos=hinge_to_exp_map(self.dof_pos[s]),
            body_pos=self.body_pos[s], obj_pos=self.obj_pos[s], obj_quat=self.obj_quat[s],
            obj_manipulated=self.obj_manipulated[s].float()[:, None], contact=self.contact[s].float(),
            body_quat=self.body_quat[s],
        )  # fmt: skip

    # -----------------------------------------------------------------------------------------
    def gather(
        self, idx: torch.Tensor, prev_idx: torch.Tensor, obj_ids: torch.Tensor, object_points: torch.Tensor,
        fps: float,
    ) -> ReferenceFrames:  # fmt: skip
        """Expand frames ``idx`` (any shape) into full :class:`ReferenceFrames` of that shape.

        Args:
            idx: flat frame indices.
            prev_idx: the preceding frame of the same clip for each index (``idx`` itself at a
                clip's first frame, which gives velocity zero).
            obj_ids: object id of each index's clip (same shape as ``idx``).
            object_points: ``[num_objects, P, 3]`` surface points per object (object frame).
            fps: frame rate for the finite differences.
        """
        shape = idx.shape
        i, p = idx.reshape(-1), prev_idx.reshape(-1)
        cur = {n: getattr(self, n).index_select(0, i) for n in self.POSE_FIELDS}
        prev = {n: getattr(self, n).index_select(0, p) for n in self.POSE_FIELDS}
        nearest = self.nearest_point.index_select(0, i).long()  # [M, 52]
        near = object_points[obj_ids.reshape(-1, 1), nearest]  # [M, 52, 3]
        moving = (i != p).to(torch.float32)  # 0 at a clip's first frame: velocity exactly zero
        vel_fps = moving * fps
        frames = ReferenceFrames(
            root_pos=cur["root_pos"],
            root_quat=cur["root_quat"],
            root_lin_vel=linear_velocity(prev["root_pos"], cur["root_pos"], vel_fps[:, None]),
            root_ang_vel=angular_velocity(prev["root_quat"], cur["root_quat"], fps) * moving[:, None],
            dof_pos=cur["dof_pos"],
            dof_vel=hinge_velocity(prev["dof_pos"], cur["dof_pos"], vel_fps[:, None]),
            body_pos=cur["body_pos"],
            body_quat=cur["body_quat"],
            body_lin_vel=linear_velocity(prev["body_pos"], cur["body_pos"], vel_fps[:, None, None]),
            body_ang_vel=angular_velocity(prev["body_quat"], cur["body_quat"], fps) * moving[:, None, None],
            obj_pos=cur["obj_pos"],
            obj_quat=cur["obj_quat"],
            obj_lin_vel=linear_velocity(prev["obj_pos"], cur["obj_pos"], vel_fps[:, None]),
            obj_ang_vel=angular_velocity(prev["obj_quat"], cur["obj_quat"], fps) * moving[:, None],
            contact=self.contact.index_select(0, i).to(torch.float32),
            obj_manipulated=self.obj_manipulated.index_select(0, i).to(torch.float32),
            interaction_field=field_from_points(
                cur["body_pos"], cur["root_quat"], cur["obj_pos"], cur["obj_quat"], near
            ),
        )
        return frames.map(lambda v: v.reshape(*shape, *v.shape[1:]))


def _order(have: tuple[str, ...], want: tuple[str, ...], what: str, where: str) -> list[int]:
    if set(have) != set(want):
        missing, extra = sorted(set(want) - set(have)), sorted(set(have) - set(want))
        raise DataMismatchError(f"{where}: its {what} do not match the simulated robot's (missing {missing[:4]}, "
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


def pack_robot_clip(clip: RobotClip, object_points: torch.Tensor | None, embodiment, device,
                    where: str = "robot clip") -> PackedFrames:  # fmt: skip
    """:class:`PackedFrames` of a robot clip in ``embodiment``'s body and joint order, matched by
    name. A robot clip labels contacts only on the embodiment's contact bodies; every other body
    takes the label of the contact body the embodiment names for it
    (:attr:`~intermimic.assets.embodiment_spec.Embodiment.contact_label_sources`), so the reward's
    penalised-contact factor covers the whole robot as it covers the whole SMPL-X body."""
    joints = _order(clip.joint_names, embodiment.joint_names, "joints", where)
    bodies = _order(clip.body_names, embodiment.body_names, "bodies", where)

    def t(x):
        return torch.as_tensor(np.ascontiguousarray(x), dtype=torch.float32, device=device)

    body_pos = t(clip.body_pos[:, bodies])
    obj_pos, obj_quat = t(clip.object_pos), rot.normalize(t(clip.object_quat))
    return PackedFrames(
        root_pos=t(clip.root_pos), root_quat=rot.normalize(t(clip.root_quat)), dof_pos=t(clip.dof_pos[:, joints]),
        body_pos=body_pos, body_quat=rot.normalize(t(clip.body_quat[:, bodies])), obj_pos=obj_pos, obj_quat=obj_quat,
        contact=t(body_contact_labels(clip, embodiment)).round().to(torch.int8),
        obj_manipulated=t(clip.object_contact).round().to(torch.int8),
        nearest_point=nearest_point_indices(body_pos, obj_pos, obj_quat, object_points),
    )  # fmt: skip


def frames_from_clip(clip: torch.Tensor, object_points: torch.Tensor | None, fps: float = cf.CLIP_FPS) -> ReferenceFrames:
    """Derive all per-frame reference quantities of one ``[T, 591]`` clip.

    Quaternions are normalised and joint exp maps become hinge angles. Velocities are finite
    differences of consecutive frames times ``fps`` (frame 0: zero); joint rates take the short
    way across the +-pi seam. Without object points the interaction field is zero. This is
    exactly what a packed :class:`~intermimic.motion.library.MotionLibrary` returns for the
    clip's frames (both go through :class:`~intermimic.motion.packed.PackedFrames`).
    """
    packed = PackedFrames.from_clip(clip, object_points)
    T = packed.num_frames
    idx = torch.arange(T, device=packed.device)
    points = (object_points if object_points is not None else clip.new_zeros(1, 3)).to(packed.device, torch.float32)
    frames = packed.gather(idx, (idx - 1).clamp_min(0), torch.zeros_like(idx), points[None], fps)
    if object_points is None:
        frames.interaction_field = torch.zeros_like(frames.interaction_field)
    return frames

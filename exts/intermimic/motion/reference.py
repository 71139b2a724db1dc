"""Per-frame reference quantities derived from clips, in the simulator's conventions.

:class:`ReferenceFrames` is a bundle of tensors sharing leading dimensions: ``[T]`` for one
clip, ``[N]`` for a packed library, ``[E]`` or ``[E, K]`` after a query. Joint values are in
the *hinge* convention (directly comparable with simulated joint positions).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch

from ..utils import rotations as rot
from . import clip_format as cf
from .kinematics import exp_map_to_hinge


@dataclass
class ReferenceFrames:
    root_pos: torch.Tensor  # [..., 3]
    root_quat: torch.Tensor  # [..., 4] xyzw
    root_lin_vel: torch.Tensor  # [..., 3]
    root_ang_vel: torch.Tensor  # [..., 3]
    dof_pos: torch.Tensor  # [..., 153] hinge angles
    dof_vel: torch.Tensor  # [..., 153]
    body_pos: torch.Tensor  # [..., 52, 3]
    body_quat: torch.Tensor  # [..., 52, 4]
    body_lin_vel: torch.Tensor  # [..., 52, 3]
    body_ang_vel: torch.Tensor  # [..., 52, 3]
    obj_pos: torch.Tensor  # [..., 3]
    obj_quat: torch.Tensor  # [..., 4]
    obj_lin_vel: torch.Tensor  # [..., 3]
    obj_ang_vel: torch.Tensor  # [..., 3]
    contact: torch.Tensor  # [..., 52] labels {-1, 0, 1}
    obj_manipulated: torch.Tensor  # [...]
    interaction_field: torch.Tensor  # [..., 52, 3] nearest object point -> body, root-heading frame

    # ----------------------------------------------------------------------------------
    def fields(self) -> dict[str, torch.Tensor]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def map(self, fn) -> ReferenceFrames:
        return ReferenceFrames(**{k: fn(v) for k, v in self.fields().items()})

    def __getitem__(self, index) -> ReferenceFrames:
        return self.map(lambda v: v[index])

    def to(self, device) -> ReferenceFrames:
        return self.map(lambda v: v.to(device))

    @staticmethod
    def cat(items: list[ReferenceFrames]) -> ReferenceFrames:
        names = [f.name for f in dataclasses.fields(ReferenceFrames)]
        return ReferenceFrames(**{n: torch.cat([getattr(i, n) for i in items], dim=0) for n in names})

    @property
    def num_frames(self) -> int:
        return self.root_pos.shape[0]

    def nbytes(self) -> int:
        return sum(v.element_size() * v.numel() for v in self.fields().values())


QUATERNION_FIELDS = ("root_quat", "body_quat", "obj_quat")


def _finite_difference(x: torch.Tensor, fps: float) -> torch.Tensor:
    v = torch.zeros_like(x)
    v[1:] = (x[1:] - x[:-1]) * fps
    return v


def _angular_fd(q: torch.Tensor, fps: float) -> torch.Tensor:
    w = torch.zeros(*q.shape[:-1], 3, dtype=q.dtype, device=q.device)
    w[1:] = rot.angular_velocity(q[:-1], q[1:], 1.0 / fps)
    return w


def _unwrap(angles: torch.Tensor) -> torch.Tensor:
    """Remove 2*pi jumps along the time axis (dim 0) so differences are continuous."""
    d = angles[1:] - angles[:-1]
    jumps = torch.round(d / (2 * torch.pi)) * (2 * torch.pi)
    correction = torch.zeros_like(angles)
    correction[1:] = torch.cumsum(jumps, dim=0)
    return angles - correction


def interaction_field(
    body_pos: torch.Tensor, root_quat: torch.Tensor, obj_pos: torch.Tensor, obj_quat: torch.Tensor, points: torch.Tensor
) -> torch.Tensor:
    """For each body, the vector from the nearest object surface point to the body, heading frame.

    Args:
        body_pos: ``[T, B, 3]`` world positions; root_quat ``[T, 4]``; obj pose ``[T, 3]``/``[T, 4]``.
        points: ``[P, 3]`` surface points in the object frame.
    """
    world_pts = obj_pos[:, None, :] + rot.rotate(obj_quat[:, None, :], points[None].expand(obj_pos.shape[0], -1, -1))
    d = torch.cdist(body_pos, world_pts)  # [T, B, P]
    nearest = d.argmin(dim=-1)  # [T, B]
    near_pts = torch.gather(world_pts, 1, nearest[..., None].expand(-1, -1, 3))
    vec = body_pos - near_pts
    heading = rot.heading_inverse(root_quat)[:, None, :].expand(-1, body_pos.shape[1], -1)
    return rot.rotate(heading, vec)


def frames_from_clip(
    clip: torch.Tensor, object_points: torch.Tensor | None, fps: float = cf.CLIP_FPS, chunk: int = 512
) -> ReferenceFrames:
    """Derive all per-frame reference quantities of one ``[T, 591]`` clip.

    Velocities are finite differences times ``fps`` with frame 0 set to zero. Without object
    points the interaction field is zero.
    """
    clip = clip.to(torch.float32)
    root_pos = cf.field(clip, "root_pos")
    root_quat = rot.normalize(cf.field(clip, "root_quat"))
    body_pos = cf.field(clip, "body_pos")
    body_quat = rot.normalize(cf.field(clip, "body_quat"))
    obj_pos = cf.field(clip, "obj_pos")
    obj_quat = rot.normalize(cf.field(clip, "obj_quat"))
    dof_pos = exp_map_to_hinge(cf.field(clip, "dof_pos"))
    if object_points is None:
        field = torch.zeros_like(body_pos)
    else:
        pts = object_points.to(clip)
        field = torch.cat(
            [
                interaction_field(body_pos[s : s + chunk], root_quat[s : s + chunk], obj_pos[s : s + chunk],
                                  obj_quat[s : s + chunk], pts)
                for s in range(0, clip.shape[0], chunk)
            ]
        )  # fmt: skip
    return ReferenceFrames(
        root_pos=root_pos,
        root_quat=root_quat,
        root_lin_vel=_finite_difference(root_pos, fps),
        root_ang_vel=_angular_fd(root_quat, fps),
        dof_pos=dof_pos,
        dof_vel=_finite_difference(_unwrap(dof_pos), fps),
        body_pos=body_pos,
        body_quat=body_quat,
        body_lin_vel=_finite_difference(body_pos, fps),
        body_ang_vel=_angular_fd(body_quat, fps),
        obj_pos=obj_pos,
        obj_quat=obj_quat,
        obj_lin_vel=_finite_difference(obj_pos, fps),
        obj_ang_vel=_angular_fd(obj_quat, fps),
        contact=cf.field(clip, "contact").clone(),
        obj_manipulated=cf.field(clip, "obj_manipulated").clone(),
        interaction_field=field,
    )


def interpolate(a: ReferenceFrames, b: ReferenceFrames, alpha: torch.Tensor) -> ReferenceFrames:
    """Blend two frame bundles: slerp for quaternions, lerp for the rest.

    ``alpha`` has the bundles' leading shape. Contact labels and the manipulation flag take
    the nearer frame (they are categorical).
    """
    out = {}
    for name, va in a.fields().items():
        vb = getattr(b, name)
        w = alpha.reshape(*alpha.shape, *([1] * (va.dim() - alpha.dim())))
        if name in QUATERNION_FIELDS:
            t = alpha.reshape(*alpha.shape, *([1] * (va.dim() - alpha.dim() - 1)))
            out[name] = rot.slerp(va, vb, t.expand(va.shape[:-1]))
        elif name in ("contact", "obj_manipulated"):
            out[name] = torch.where(w < 0.5, va, vb)
        else:
            out[name] = va + (vb - va) * w
    return ReferenceFrames(**out)

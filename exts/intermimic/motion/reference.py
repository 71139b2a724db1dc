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


def interaction_field(
    body_pos: torch.Tensor, root_quat: torch.Tensor, obj_pos: torch.Tensor, obj_quat: torch.Tensor, points: torch.Tensor
) -> torch.Tensor:
    """For each body, the vector from the nearest object surface point to the body, heading frame.

    Args:
        body_pos: ``[T, B, 3]`` world positions; root_quat ``[T, 4]``; obj pose ``[T, 3]``/``[T, 4]``.
        points: ``[P, 3]`` surface points in the object frame.
    """
    from .packed import field_from_points, nearest_surface_point

    nearest = nearest_surface_point(body_pos, obj_pos, obj_quat, points)
    return field_from_points(body_pos, root_quat, obj_pos, obj_quat, points.to(body_pos)[nearest])


def frames_from_clip(clip: torch.Tensor, object_points: torch.Tensor | None, fps: float = cf.CLIP_FPS) -> ReferenceFrames:
    """Derive all per-frame reference quantities of one ``[T, 591]`` clip.

    Quaternions are normalised and joint exp maps become hinge angles. Velocities are finite
    differences of consecutive frames times ``fps`` (frame 0: zero); joint rates take the short
    way across the +-pi seam. Without object points the interaction field is zero. This is
    exactly what a packed :class:`~intermimic.motion.library.MotionLibrary` returns for the
    clip's frames (both go through :class:`~intermimic.motion.packed.PackedFrames`).
    """
    from .packed import PackedFrames

    packed = PackedFrames.from_clip(clip, object_points)
    T = packed.num_frames
    idx = torch.arange(T, device=packed.device)
    points = (object_points if object_points is not None else clip.new_zeros(1, 3)).to(packed.device, torch.float32)
    frames = packed.gather(idx, (idx - 1).clamp_min(0), torch.zeros_like(idx), points[None], fps)
    if object_points is None:
        frames.interaction_field = torch.zeros_like(frames.interaction_field)
    return frames


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
        if name not in ("contact", "obj_manipulated"):  # exactly frame a where alpha is 0
            out[name] = torch.where(w == 0, va, out[name])
    return ReferenceFrames(**out)

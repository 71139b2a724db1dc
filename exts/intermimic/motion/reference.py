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

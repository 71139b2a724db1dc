"""Synthetic clips in the clip format, for benchmarks and tests (not for training).

Joint angles are smooth random curves (a few sinusoids per DOF), the root drifts and turns,
the object moves along its own smooth path, and body positions/rotations come from forward
kinematics, so a synthetic clip is internally consistent like a real one.
"""

from __future__ import annotations

import math

import torch

from ...assets import humanoid_spec as spec
from ...utils import rotations as rot
from .. import clip_format as cf
from ..kinematics import forward_kinematics, hinge_to_exp_map
from ..library import ClipInfo, LoadedClip


def _smooth(gen: torch.Generator, t: torch.Tensor, dims: int, amplitude: float, waves: int = 3) -> torch.Tensor:
    """``[T, dims]`` sums of sinusoids with random frequencies (0.1-1 Hz) and phases."""
    freq = 0.1 + 0.9 * torch.rand(waves, dims, generator=gen)
    phase = 2 * math.pi * torch.rand(waves, dims, generator=gen)
    amp = amplitude * torch.rand(waves, dims, generator=gen) / waves
    return (amp * torch.sin(2 * math.pi * freq * t[:, None, None] + phase)).sum(dim=1)


def synthetic_clip(num_frames: int, seed: int = 0, fps: float = cf.CLIP_FPS) -> torch.Tensor:
    """One ``[num_frames, 591]`` clip, reproducible for a seed."""
    gen = torch.Generator().manual_seed(seed)
    t = torch.arange(num_frames, dtype=torch.float32) / fps
    dof = _smooth(gen, t, spec.NUM_DOFS, 0.6)
    heading = _smooth(gen, t, 1, 1.5)[:, 0]
    xy = _smooth(gen, t, 2, 1.0)
    root_pos = torch.cat([xy, 0.9 + _smooth(gen, t, 1, 0.05)], dim=-1)
    root_quat = rot.multiply(rot.yaw_quat(heading), rot.from_exp_map(_smooth(gen, t, 3, 0.1)))
    body_pos, body_quat = forward_kinematics(root_pos, root_quat, dof, "hinge")
    obj_pos = torch.cat([xy + 0.5, 0.6 + _smooth(gen, t, 1, 0.2)], dim=-1)
    obj_quat = rot.from_exp_map(_smooth(gen, t, 3, 1.0))
    contact = torch.randint(-1, 2, (num_frames, spec.NUM_BODIES), generator=gen).float()
    manipulated = (torch.rand(num_frames, generator=gen) < 0.5).float()
    return cf.assemble(
        root_pos=root_pos, root_quat=root_quat, dof_pos=hinge_to_exp_map(dof), body_pos=body_pos,
        obj_pos=obj_pos, obj_quat=obj_quat, obj_manipulated=manipulated[:, None], contact=contact,
        body_quat=body_quat,
    )  # fmt: skip


def synthetic_clips(
    lengths, object_name: str = "demobox", subject: int = 1, seed: int = 0, corrected: bool = False
) -> list[LoadedClip]:
    """Loaded clips of the given lengths (the corrected source, if asked, is a perturbed copy)."""
    out = []
    for i, n in enumerate(lengths):
        raw = synthetic_clip(int(n), seed=seed + i)
        corr = None
        if corrected:
            corr = raw.clone()
            corr[:, cf.COLUMNS["root_pos"].slice] += 0.01
            corr[:, cf.COLUMNS["body_pos"].slice] += 0.01
        info = ClipInfo(name=f"sub{subject}_{object_name}_{i:03d}", subject=subject, object=object_name, num_frames=int(n))
        out.append(LoadedClip(info=info, raw=raw, corrected=corr))
    return out

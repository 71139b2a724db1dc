"""Policy/value models: rsl_rl's MLP with observation normalisation clipped to +-clip.

InterMimic normalises observations with running mean and standard deviation and clips the
result to +-5; rsl_rl's normaliser does not clip. The clipping lives in the normaliser module
itself, so TorchScript/ONNX exports (which copy the normaliser) clip too.
"""

from __future__ import annotations

import torch
from rsl_rl.models import MLPModel
from torch import nn


class ClippedNormalizer(nn.Module):
    """Wraps a running normaliser; its output is clamped to ``[-clip, clip]``."""

    def __init__(self, normalizer: nn.Module, clip: float):
        super().__init__()
        self.normalizer = normalizer
        self.clip = float(clip)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.clamp(self.normalizer(x), -self.clip, self.clip)

    @torch.jit.unused
    def update(self, x: torch.Tensor) -> None:
        self.normalizer.update(x)


class ClippedMLPModel(MLPModel):
    """rsl_rl ``MLPModel`` whose normalised observations are clipped to ``+-obs_clip``."""

    def __init__(self, *args, obs_clip: float = 5.0, **kwargs):
        super().__init__(*args, **kwargs)
        if self.obs_normalization:
            self.obs_normalizer = ClippedNormalizer(self.obs_normalizer, obs_clip)

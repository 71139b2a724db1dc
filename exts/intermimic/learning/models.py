"""Policy/value models: rsl_rl's MLP with observation normalisation clipped to +-clip.

InterMimic normalises observations with running mean and standard deviation and clips the
result to +-5; rsl_rl's normaliser does not clip. The clipping lives in the normaliser module
itself, so TorchScript/ONNX exports (which copy the normaliser) clip too.

``normalizer`` picks the formula: ``rsl_rl`` (default) ``(x - mean) / (std + 0.01)``, or
``release``, rl_games' ``(x - mean) / sqrt(var + 1e-5)`` (:class:`ReleaseNormalization`). When the
statistics are updated is the algorithm's ``normalizer_update`` (:mod:`.ppo`).
"""

from __future__ import annotations

import torch
from rsl_rl.models import MLPModel
from rsl_rl.modules import EmpiricalNormalization
from torch import nn

RELEASE_VAR_EPS = 1.0e-5
"""rl_games' RunningMeanStd: ``(x - mean) / sqrt(var + 1e-5)``."""
NORMALIZERS = ("rsl_rl", "release")


class ReleaseNormalization(EmpiricalNormalization):
    """rsl_rl's running statistics with rl_games' formula ``(x - mean) / sqrt(var + 1e-5)``:
    features whose spread is below ~0.01 are not shrunk (rsl_rl's ``std + 0.01`` shrinks them up
    to several times)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self._mean) / torch.sqrt(self._var + RELEASE_VAR_EPS)


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

    def __init__(self, *args, obs_clip: float = 5.0, normalizer: str = "rsl_rl", **kwargs):
        super().__init__(*args, **kwargs)
        if normalizer not in NORMALIZERS:
            raise ValueError(f"agent.actor/critic.normalizer: unknown '{normalizer}', expected one of {list(NORMALIZERS)}")
        if self.obs_normalization:
            inner = ReleaseNormalization(self.obs_dim) if normalizer == "release" else self.obs_normalizer
            self.obs_normalizer = ClippedNormalizer(inner, obs_clip)

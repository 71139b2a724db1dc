"""An object's triangle mesh as read from its file (or built in), centred on its vertex mean."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .primitives import sample_surface


@dataclass(frozen=True)
class ObjectMesh:
    name: str
    vertices: np.ndarray  # [V, 3], centred
    faces: np.ndarray  # [F, 3]
    source: str  # file path, or "builtin"

    def surface_points(self) -> torch.Tensor:
        return sample_surface(self.vertices, self.faces)

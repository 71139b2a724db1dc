"""Build a :class:`MotionLibrary` from a motion data config (built-in demo or clip files)."""

from __future__ import annotations

import torch

from ..assets.object_registry import ObjectRegistry
from .library import MotionLibrary, pack_clips


def load_library(cfg, device: str | torch.device = "cpu") -> MotionLibrary:
    """Load the clips a :class:`~intermimic.motion.config.MotionDataCfg` names onto ``device``."""
    from .demo import demo_clips

    if not cfg.files:
        entries = demo_clips()
    else:
        from .reader import read_dataset

        entries = read_dataset(cfg)
    if cfg.subjects:
        keep = set(cfg.subjects)
        entries = [e for e in entries if e.info.subject in keep]
        if not entries:
            raise ValueError(f"no clips of subjects {sorted(keep)} in {cfg.files or 'the built-in demo'}")
    registry = ObjectRegistry(cfg.objects_dir)
    points = {name: registry.surface_points(name) for name in sorted({e.info.object for e in entries})}
    return pack_clips(entries, points, device=device)

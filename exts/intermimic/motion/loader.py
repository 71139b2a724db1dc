"""Build a :class:`MotionLibrary` from a motion data config (built-in demo or clip files)."""

from __future__ import annotations

import dataclasses

import torch

from .library import MotionLibrary, pack_clips


def load_library(cfg, device: str | torch.device = "cpu", verbose: bool = True) -> MotionLibrary:
    """Load the clips a :class:`~intermimic.motion.config.MotionDataCfg` names onto ``device``.

    Prints a summary (clips, frames, subjects, objects, rejected files with reasons) when
    ``verbose``.
    """
    from .reader import object_points_for

    rejected = []
    objects_dir = cfg.objects_dir
    if not cfg.files:
        from .demo import demo_clips

        entries = demo_clips()
        if not getattr(cfg, "load_corrected", True):
            entries = [dataclasses.replace(e, corrected=None) for e in entries]
    else:
        from .reader import read_dataset_report

        report = read_dataset_report(cfg, progress=verbose)
        entries, rejected, objects_dir = report.clips, report.rejected, report.objects_dir
        if not entries:
            detail = "\n".join(f"  {r.path}: {r.reason}" for r in rejected) or "  (no clip files found)"
            raise ValueError(f"no usable clips in {list(cfg.files)}:\n{detail}")
    if cfg.subjects:
        keep = set(cfg.subjects)
        entries = [e for e in entries if e.info.subject in keep]
        if not entries:
            raise ValueError(f"no clips of subjects {sorted(keep)} in {cfg.files or 'the built-in demo'}")
    points = object_points_for((e.info.object for e in entries), objects_dir)
    library = pack_clips(entries, points, device=device, rejected=rejected, progress=verbose and len(entries) > 1)
    library.objects_dir = str(objects_dir) if objects_dir else None
    if verbose:
        print(library.summary_text())
    return library

"""Build a :class:`MotionLibrary` from a motion data config (built-in demo or clip files).

Reading and packing are two steps: :func:`select_clips` reads and validates what the config
names (on the CPU), :func:`load_library` packs the selection onto the simulation device. The
command-line scripts select the clips before the simulation starts (a bad data set then stops
them at once, and the start-up banner can say what is loaded); the selection is kept until
the environment packs it, so the files are read once.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import torch

from .clip_format import CLIP_FPS
from .library import LoadedClip, MotionLibrary, Rejection, pack_clips

DEMO_DESCRIPTION = "built-in demo clips"


@dataclass
class ClipSelection:
    """The clips a motion data config selects, read and validated, before packing."""

    clips: list[LoadedClip]
    rejected: list[Rejection] = field(default_factory=list)
    objects_dir: str | None = None
    source: str = DEMO_DESCRIPTION
    """Where the clips come from, in words (the files/folders named, or the built-in demo)."""
    repaired: list = field(default_factory=list)
    """Files whose body positions were recomputed from the joint rotations (``repair_positions``):
    ``(path, faults, row_offset)``."""

    @property
    def subjects(self) -> list[int]:
        return sorted({c.info.subject for c in self.clips})

    @property
    def objects(self) -> list[str]:
        return sorted({c.info.object for c in self.clips})

    @property
    def has_corrected(self) -> bool:
        return all(c.corrected is not None for c in self.clips)

    def describe(self) -> str:
        """One line: clips, duration, subjects, objects, sources, origin, rejected count."""
        seconds = sum(c.info.num_frames for c in self.clips) / CLIP_FPS
        sources = "raw + corrected" if self.has_corrected else "raw"
        text = (f"{len(self.clips)} clips ({seconds:.1f} s), subjects {self.subjects}, objects {self.objects}, "
                f"{sources}; {self.source}")  # fmt: skip
        return text + (f"; {len(self.rejected)} file(s) rejected" if self.rejected else "")


def _data_key(cfg) -> tuple:
    return (tuple(cfg.files), tuple(cfg.corrected), tuple(cfg.subjects), cfg.objects_dir, bool(cfg.strict),
            int(cfg.future_horizon), bool(getattr(cfg, "load_corrected", True)), getattr(cfg, "embodiment", "smplx"),
            bool(getattr(cfg, "repair_positions", False)))  # fmt: skip


_selected: dict[tuple, ClipSelection] = {}
"""At most one selection read ahead by :func:`select_clips` (``keep=True``), taken by the next
:func:`load_library` of the same config."""


def select_clips(cfg, verbose: bool = True, keep: bool = False) -> ClipSelection:
    """Read and validate the clips a :class:`~intermimic.motion.config.MotionDataCfg` names.

    Raises FileNotFoundError for a missing path, ValueError when nothing usable remains (the
    message names the files and the first reason) or when an object's mesh cannot be read
    (:class:`~intermimic.assets.object_registry.ObjectMeshError`, naming the file). Rejected files are listed in the selection;
    ``verbose`` shows reading progress. With ``keep`` the selection is held for the next
    :func:`load_library` of the same config, which then does not read the files again.
    """
    key = _data_key(cfg)
    if key in _selected:
        return _selected[key] if keep else _selected.pop(key)
    if not cfg.files:
        embodiment = getattr(cfg, "embodiment", "smplx")
        if embodiment != "smplx":
            raise ValueError(f"no motion data given: a {embodiment} task needs robot clips (.npz from retarget-robot); "
                             "pass their folder with --motion DIR (docs/g1.md)")  # fmt: skip
        from .demo import demo_clips

        clips = demo_clips()
        if not getattr(cfg, "load_corrected", True):
            clips = [dataclasses.replace(e, corrected=None) for e in clips]
        selection = ClipSelection(clips, objects_dir=cfg.objects_dir)
    else:
        from .reader import read_dataset_report

        report = read_dataset_report(cfg, progress=verbose)
        if report.mesh_problems:  # the scene needs every object's mesh: a broken objects folder stops the command
            from ..assets.object_registry import describe_mesh_problems

            raise ValueError(describe_mesh_problems(report.mesh_problems))
        selection = ClipSelection(report.clips, report.rejected, report.objects_dir, source=", ".join(cfg.files),
                                  repaired=report.repaired)  # fmt: skip
        if not selection.clips:
            first = f"; first: {report.rejected[0].path}: {report.rejected[0].reason}" if report.rejected else ""
            raise ValueError(f"no usable clips in {list(cfg.files)}: {len(report.rejected)} file(s) rejected{first}"
                             + ("" if report.rejected else " (no clip files found)"))  # fmt: skip
    if cfg.subjects:
        keep_subjects = set(cfg.subjects)
        selection.clips = [e for e in selection.clips if e.info.subject in keep_subjects]
        if not selection.clips:
            raise ValueError(f"no clips of subjects {sorted(keep_subjects)} in {cfg.files or 'the built-in demo'}")
    _selected.clear()
    if keep:
        _selected[key] = selection
    return selection


def load_library(cfg, device: str | torch.device = "cpu", verbose: bool = True, embodiment=None) -> MotionLibrary:
    """Load the clips a :class:`~intermimic.motion.config.MotionDataCfg` names onto ``device``
    (robot clips in the body and joint order of ``embodiment``, an
    :class:`~intermimic.assets.embodiment_spec.Embodiment`).

    Prints a summary (clips, frames, subjects, objects, rejected files with reasons) when
    ``verbose`` and the clips were not selected (and reported) ahead.
    """
    from .reader import object_points_for

    read_ahead = _data_key(cfg) in _selected
    selection = select_clips(cfg, verbose=verbose)
    points = object_points_for(selection.objects, selection.objects_dir)
    library = pack_clips(selection.clips, points, device=device, rejected=selection.rejected,
                         progress=verbose and len(selection.clips) > 1, embodiment=embodiment)  # fmt: skip
    library.objects_dir = str(selection.objects_dir) if selection.objects_dir else None
    if verbose and not read_ahead:
        print(library.summary_text())
    return library

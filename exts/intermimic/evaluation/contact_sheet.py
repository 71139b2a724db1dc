"""Contact sheets: one PNG per evaluated clip with the first, middle and last frame of its kept
attempt side by side, each frame with its caption and a success (green) / failure (red) badge.

Only those three frames are rendered. Sheets go to ``<report folder>/contact_sheets/<clip>.png``,
each written under a temporary name and renamed (complete or absent).
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np

from .grid_video import badge_of
from .video_files import write_png

SHEETS_FOLDER = "contact_sheets"
SHEET_FRAMES = 3
"""Frames per sheet: first, middle, last."""


def sheet_file_name(clip: str) -> str:
    """A file name for ``clip``'s sheet (characters outside ``[A-Za-z0-9._-]`` become ``_``)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", clip) + ".png"


def contact_sheet(renderer, attempt) -> np.ndarray:
    """The sheet picture of a :class:`~intermimic.evaluation.kept_attempts.KeptAttempt`:
    ``SHEET_FRAMES`` tiles of the renderer's size side by side."""
    picks = attempt.frames.picks()
    renderer.start_clip(picks[0])
    badge = badge_of(attempt.success)
    return np.concatenate([renderer.render(dataclasses.replace(f, badge=badge)) for f in picks], axis=1)


def write_contact_sheets(folder: str | Path, kept: dict, clip_names: list[str], renderer) -> list[Path]:
    """Write the sheet of each kept attempt (``{clip id: KeptAttempt}``, ``clip_names`` by clip id)
    into ``folder/contact_sheets/``; returns the files in clip id order."""
    out = Path(folder) / SHEETS_FOLDER
    out.mkdir(parents=True, exist_ok=True)
    return [write_png(out / sheet_file_name(clip_names[c]), contact_sheet(renderer, kept[c])) for c in sorted(kept)]

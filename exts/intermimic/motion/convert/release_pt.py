"""Clips written the way the authors' release stores them (``--format-out release_pt``).

The release's ``.pt`` files hold the same ``[T, 591]`` float32 tensor as the package's clips,
saved as a leaf tensor with ``requires_grad=True`` (its converters build the clip from tensors
that track gradients) in a ``torch.save`` archive whose records are named after the clip
(``<name>/data.pkl``, ``<name>/data/0``, ...). Written this way, a clip read from the release and
written back has the release's records byte for byte (only the archive's random serialization
id differs, and a newer torch adds its format-version records), so tools that read the
release's files (the authors' code, and others built on it) read converted data unchanged.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import torch

from ...utils.atomic_write import atomic_write
from .. import clip_format as cf

FORMATS = ("clip", "release_pt")
"""``--format-out`` choices: the package's clip files, or the release's ``.pt`` layout."""


def release_tensor(clip: torch.Tensor) -> torch.Tensor:
    """The tensor the release stores for ``clip``: float32, contiguous, on the CPU, a leaf that requires grad."""
    if clip.dim() != 2 or clip.shape[1] != cf.CLIP_WIDTH:
        raise ValueError(f"expected a [T, {cf.CLIP_WIDTH}] clip, got shape {tuple(clip.shape)}")
    return clip.detach().to("cpu", torch.float32).contiguous().clone().requires_grad_(True)


def save_release_pt(path: str | os.PathLike, clip: torch.Tensor, overwrite: bool = False) -> Path:
    """Write ``clip`` to ``path`` in the release's layout; complete or absent (atomic), an existing
    file kept (:class:`FileExistsError`) unless ``overwrite``."""
    path = Path(path)
    data = release_tensor(clip)

    def write(tmp: Path) -> None:
        # torch names the archive's records after the file it writes: save under the final name in a
        # private folder beside the target, then move it onto the temporary file atomic_write publishes
        with tempfile.TemporaryDirectory(dir=tmp.parent, prefix=f".{path.stem}.") as folder:
            staged = Path(folder) / path.name
            torch.save(data, staged)
            os.replace(staged, tmp)

    return atomic_write(path, write, overwrite=overwrite)


def save_clip(path: str | os.PathLike, clip: torch.Tensor, out_format: str = "clip", overwrite: bool = False) -> Path:
    """Write a clip as the package's clip file (``clip``) or in the release's layout (``release_pt``)."""
    if out_format == "release_pt":
        return save_release_pt(path, clip, overwrite=overwrite)
    if out_format == "clip":
        from ..clip_io import save_clip_file

        return save_clip_file(path, clip, overwrite=overwrite)
    raise ValueError(f"unknown output format '{out_format}' (expected one of {', '.join(FORMATS)})")

"""Reading and writing single clip files (``torch.save``-d ``[T, 591]`` float tensors)."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from ..utils.atomic_write import atomic_write
from .validation import ClipError


def load_clip_file(path: str | os.PathLike) -> torch.Tensor:
    """The tensor stored in a clip file, detached, on the CPU, in its stored dtype.

    Only tensors are accepted (``weights_only`` loading): a file holding anything else is
    reported as a :class:`ClipError` naming the file.
    """
    path = Path(path)
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as exc:  # corrupt file, pickle of arbitrary objects, ...
        raise ClipError(path, f"cannot read it as a torch tensor file: {exc}") from exc
    if not isinstance(data, torch.Tensor):
        raise ClipError(path, f"holds a {type(data).__name__}, expected a [T, 591] float tensor")
    return data.detach()


def save_clip_file(path: str | os.PathLike, clip: torch.Tensor, overwrite: bool = False) -> Path:
    """Write a ``[T, 591]`` clip the way InterMimic stores them (a plain float32 CPU tensor).

    The file appears complete or not at all (written to a temporary file, then renamed); an
    existing file is kept and :class:`FileExistsError` raised unless ``overwrite``."""
    data = clip.detach().to("cpu", torch.float32).contiguous().clone()
    return atomic_write(path, lambda tmp: torch.save(data, tmp), overwrite=overwrite)

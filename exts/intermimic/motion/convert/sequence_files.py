"""Reading a file of motion sequences (``.npz``, ``.pt``, ``.pkl``/``.p``) into a mapping: either
one sequence (names -> arrays) or several (sequence name -> such a mapping). Each converter
decides which of the two it holds."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import torch

SUFFIXES = (".npz", ".pt", ".pkl", ".p", ".pickle")


def read_sequence_file(path: str | os.PathLike, npz_objects: bool = False) -> dict:
    """The mapping stored in ``path`` (``npz_objects``: an ``.npz`` may hold pickled objects, such
    as a dictionary per sequence). ValueError naming the file when it holds no mapping."""
    path = Path(path)
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=npz_objects) as f:
            data = {k: f[k] for k in f.files}
    elif path.suffix == ".pt":
        data = torch.load(path, map_location="cpu", weights_only=True)
    elif path.suffix in (".pkl", ".p", ".pickle"):
        try:
            with open(path, "rb") as f:
                data = pickle.load(f)
        except Exception:  # files written by joblib (e.g. OMOMO's)
            import joblib

            data = joblib.load(path)
    else:
        raise ValueError(f"{path}: unsupported input (expected .npz, .pt, .pkl or .p)")
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of arrays or of sequences, got {type(data).__name__}")
    return data

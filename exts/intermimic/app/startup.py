"""Quiet start-up of a command: two known harmless messages on CPU machines are kept out,
nothing else."""

from __future__ import annotations

import os
import sys
import tempfile
import warnings
from contextlib import contextmanager

_WARP_NO_DRIVER = "Could not find or load the NVIDIA CUDA driver"


@contextmanager
def _stderr_without(fragment: str):
    """Run the block with file descriptor 2 captured, then pass on every captured line that
    does not contain ``fragment`` (for messages native code prints directly)."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = [line for line in captured.read().decode(errors="replace").splitlines(True) if fragment not in line]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


def quiet_startup() -> None:
    """Keep out Warp's 'no CUDA driver' warning (on machines without an NVIDIA driver, where
    the CPU is used anyway) and Newton's FutureWarning about its shape-colour workaround."""
    warnings.filterwarnings("ignore", message=r".*Newton shape color replacement.*", category=FutureWarning)
    import torch

    if torch.cuda.is_available():
        return
    import warp as wp

    wp.config.quiet = True  # as Isaac Lab initialises it
    with _stderr_without(_WARP_NO_DRIVER):
        wp.init()

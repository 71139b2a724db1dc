"""Where the package and the repository live on disk."""

from __future__ import annotations

import os
from pathlib import Path

EXT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
"""Folder of the ``intermimic`` package."""
REPO_ROOT = Path(EXT_DIR).resolve().parents[1]
"""The repository: the package sits in ``<repo>/exts/intermimic``."""

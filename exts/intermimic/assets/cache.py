"""Content-addressed cache for generated assets (MJCF, USD, convex decompositions).

The cache root is ``$INTERMIMIC_CACHE`` or ``~/.cache/intermimic``. Every entry lives in a
folder named after a hash of everything that determines its content, so a changed input
never reuses a stale file, and an interrupted build never leaves a half-written entry in
place (entries are built in a temporary folder and renamed into place).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path


def cache_root() -> Path:
    root = os.environ.get("INTERMIMIC_CACHE")
    return Path(root).expanduser() if root else Path.home() / ".cache" / "intermimic"


def content_hash(*parts: str | bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()[:16]


def cached_dir(kind: str, key: str, build: Callable[[Path], None]) -> Path:
    """Return ``<root>/<kind>/<key>``, calling ``build(tmp_dir)`` to create it when missing."""
    final = cache_root() / kind / key
    if final.is_dir():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=final.parent))
    try:
        build(tmp)
        try:
            tmp.rename(final)
        except OSError:  # another process finished first
            if not final.is_dir():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return final

"""Writing files so that a reader never sees a half-written one.

The content goes to a hidden temporary file in the target's folder (same file system), is
flushed to disk, and is then renamed onto the target in one step. A process killed at any
moment leaves either the old file (or none) or the complete new one, plus at worst a stray
``.<name>.<pid>.tmp`` that no reader picks up.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

TEMP_SUFFIX = ".tmp"


def temporary_path(path: Path) -> Path:
    """The hidden temporary file next to ``path`` that this process writes first."""
    return path.with_name(f".{path.name}.{os.getpid()}{TEMP_SUFFIX}")


def stale_temporaries(folder: str | os.PathLike, name_glob: str = "*") -> list[Path]:
    """Temporary files left in ``folder`` by writes that were killed (targets matching ``name_glob``)."""
    return sorted(Path(folder).glob(f".{name_glob}.*{TEMP_SUFFIX}"))


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # some platforms cannot open folders
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: str | os.PathLike, write: Callable[[Path], object], overwrite: bool = True) -> Path:
    """Create ``path`` by calling ``write(temporary_path)`` and renaming the result onto ``path``.

    With ``overwrite=False`` an existing ``path`` is left untouched and :class:`FileExistsError`
    is raised (also when another process creates it meanwhile). The temporary file is removed
    when ``write`` fails.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not overwrite and path.exists():
        raise FileExistsError(f"{path} already exists (not overwritten)")
    tmp = temporary_path(path)
    try:
        write(tmp)
        _fsync_file(tmp)
        if overwrite:
            os.replace(tmp, path)
        else:
            _publish_without_overwrite(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    _fsync_folder(path.parent)
    return path


def _publish_without_overwrite(tmp: Path, path: Path) -> None:
    """Give ``tmp`` the name ``path`` only if that name is free (a hard link fails on an existing name)."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise FileExistsError(f"{path} already exists (not overwritten)") from None
    except OSError:  # file systems without hard links: check, then rename
        if path.exists():
            raise FileExistsError(f"{path} already exists (not overwritten)") from None
        os.replace(tmp, path)


def atomic_write_text(path: str | os.PathLike, text: str, overwrite: bool = True) -> Path:
    """:func:`atomic_write` of a UTF-8 text."""
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"), overwrite=overwrite)

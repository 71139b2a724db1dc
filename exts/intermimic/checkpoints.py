"""Locating training runs and their checkpoints (``logs/rsl_rl/<experiment>/<run>/model_<it>.pt``),
or a checkpoint of the authors' release named ``release:FILE`` (rl_games format, loaded by
:mod:`intermimic.learning.release_checkpoint`)."""

from __future__ import annotations

import re
from pathlib import Path

_MODEL = re.compile(r"^model_(\d+)\.pt$")
RELEASE_PREFIX = "release:"
"""``--checkpoint release:FILE``: a checkpoint of the authors' release."""
LATEST_POINTER = "latest.txt"
"""File in a run folder naming (one line) the newest complete checkpoint of the run."""


def checkpoint_iteration(path: Path) -> int:
    """The iteration in a ``model_<it>.pt`` name (-1 for other names)."""
    m = _MODEL.match(Path(path).name)
    return int(m.group(1)) if m else -1


def checkpoints_in(run_dir: Path) -> list[Path]:
    """``model_<it>.pt`` files of a run, by increasing iteration."""
    return sorted((p for p in Path(run_dir).glob("model_*.pt") if _MODEL.match(p.name)), key=checkpoint_iteration)


def latest_checkpoint(run_dir: Path) -> Path | None:
    """The run's newest checkpoint: the one ``latest.txt`` names when that file exists, else the
    highest iteration; None when the run has none."""
    run_dir = Path(run_dir)
    pointer = run_dir / LATEST_POINTER
    if pointer.is_file():
        named = run_dir / pointer.read_text(encoding="utf-8").strip()
        if named.is_file() and named.parent == run_dir:
            return named
    models = checkpoints_in(run_dir)
    return models[-1] if models else None


def names_release_checkpoint(path: str | Path | None) -> bool:
    """Whether a ``--checkpoint`` argument names a checkpoint of the authors' release."""
    return path is not None and str(path).startswith(RELEASE_PREFIX)


def resolve_checkpoint(path: str | Path | None, experiment_dir: str | Path) -> Path:
    """A checkpoint file from ``path``: a file, a run folder (its latest model), an experiment
    folder (its latest run's latest model), None (the latest run under ``experiment_dir``) or
    ``release:FILE`` (a checkpoint file of the authors' release)."""
    if names_release_checkpoint(path):
        release = Path(str(path)[len(RELEASE_PREFIX) :]).expanduser()
        if not release.is_file():
            raise FileNotFoundError(f"release checkpoint not found: {release}")
        return release
    target = Path(path).expanduser() if path else Path(experiment_dir)
    if target.is_file():
        return target
    if not target.is_dir():
        raise FileNotFoundError(f"checkpoint not found: {target}")
    latest = latest_checkpoint(target)
    if latest is not None:
        return latest
    runs = sorted((d for d in target.iterdir() if d.is_dir() and checkpoints_in(d)), key=lambda d: d.name)
    if not runs:
        raise FileNotFoundError(f"no model_<iteration>.pt checkpoints in {target} or its run folders")
    return latest_checkpoint(runs[-1])

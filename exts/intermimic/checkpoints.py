"""Locating training runs and their checkpoints (``logs/rsl_rl/<experiment>/<run>/model_<it>.pt``),
and loading a checkpoint into a runner: ours (rsl_rl) or, named ``release:FILE``, one of the
authors' release (rl_games, see :mod:`intermimic.learning.release_checkpoint`)."""

from __future__ import annotations

import re
from pathlib import Path

_MODEL = re.compile(r"^model_(\d+)\.pt$")
RELEASE_PREFIX = "release:"
"""``--checkpoint release:FILE``: a checkpoint of the authors' release."""


def _iteration(path: Path) -> int:
    m = _MODEL.match(path.name)
    return int(m.group(1)) if m else -1


def checkpoints_in(run_dir: Path) -> list[Path]:
    """``model_<it>.pt`` files of a run, by increasing iteration."""
    return sorted((p for p in run_dir.glob("model_*.pt") if _MODEL.match(p.name)), key=_iteration)


def resolve_checkpoint(path: str | Path | None, experiment_dir: str | Path, env_cfg=None) -> Path:
    """A checkpoint file from ``path``: a file, a run folder (its latest model), an experiment
    folder (its latest run's latest model) or None (the latest run under ``experiment_dir``).

    ``release:FILE`` names a checkpoint of the authors' release; with ``env_cfg`` the env is
    switched to the conventions that checkpoint was trained with (printed in one line)."""
    if path is not None and str(path).startswith(RELEASE_PREFIX):
        return _release_checkpoint(Path(str(path)[len(RELEASE_PREFIX) :]).expanduser(), env_cfg)
    target = Path(path).expanduser() if path else Path(experiment_dir)
    if target.is_file():
        return target
    if not target.is_dir():
        raise FileNotFoundError(f"checkpoint not found: {target}")
    models = checkpoints_in(target)
    if models:
        return models[-1]
    runs = sorted((d for d in target.iterdir() if d.is_dir() and checkpoints_in(d)), key=lambda d: d.name)
    if not runs:
        raise FileNotFoundError(f"no model_<iteration>.pt checkpoints in {target} or its run folders")
    return checkpoints_in(runs[-1])[-1]


def _release_checkpoint(path: Path, env_cfg) -> Path:
    if not path.is_file():
        raise FileNotFoundError(f"release checkpoint not found: {path}")
    if env_cfg is not None:
        from .learning.release_checkpoint import use_release_conventions

        switched = use_release_conventions(env_cfg)
        print(f"[intermimic] {path}: checkpoint of the authors' release (rl_games); running it with the release's "
              f"conventions: {', '.join(switched)}", flush=True)  # fmt: skip
    return path


def load_checkpoint(runner, path: str | Path, map_location: str | None = None) -> None:
    """Load ``path`` into ``runner``: an rsl_rl checkpoint of this project, or a release checkpoint
    (told apart by its contents)."""
    import torch

    from .learning.release_checkpoint import is_release_checkpoint, load_into_runner

    if is_release_checkpoint(torch.load(path, map_location="cpu", weights_only=False)):
        load_into_runner(runner, path, map_location or "cpu")
    else:
        runner.load(str(path), map_location=map_location)

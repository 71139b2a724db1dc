"""Training checkpoints: finding them, and writing and reading them so they survive crashes
(docs/reliability.md).

* A run's checkpoints are ``logs/rsl_rl/<experiment>/<run>/model_<it>.pt``;
  :func:`resolve_checkpoint` finds the one a ``--checkpoint`` argument names (a file, a run or
  experiment folder, or ``release:FILE``, a checkpoint of the authors' release in rl_games format,
  loaded by :mod:`intermimic.learning.release_checkpoint`).
* :func:`save_checkpoint` writes ``model_<it>.pt`` atomically (a killed run never leaves a
  half-written checkpoint) and then points the run's ``latest.txt`` at it.
* :func:`read_checkpoint` turns an unreadable file into one clear :class:`CheckpointError`
  naming it; :func:`newest_readable_checkpoint` picks a run's newest checkpoint that loads,
  skipping (with a note) truncated or corrupt ones.
* :func:`training_state` / :func:`restore_training_state`: what shapes learning besides the
  networks and the optimiser, saved in every checkpoint: the environment's curriculum (every
  command term with ``state_dict()``, e.g. the HOI command's start-frame statistics and PSI
  buffer) and the random number generators (Python, NumPy, torch, CUDA).
"""

from __future__ import annotations

import os
import random
import re
from pathlib import Path

import numpy as np
import torch

from ..utils.atomic_write import atomic_write, atomic_write_text

# -------------------------------------------------------------------------------------------------
# Locating checkpoints
# -------------------------------------------------------------------------------------------------
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


# -------------------------------------------------------------------------------------------------
# Writing and reading checkpoints
# -------------------------------------------------------------------------------------------------
REQUIRED_KEYS = ("actor_state_dict",)


class CheckpointError(ValueError):
    """A checkpoint that cannot be used; the message is one line naming the file."""


def save_checkpoint(state: dict, path: str | os.PathLike) -> Path:
    """Write ``state`` to ``path`` atomically, then name it in the folder's ``latest.txt``."""
    path = Path(path)
    atomic_write(path, lambda tmp: torch.save(state, tmp))
    atomic_write_text(path.parent / LATEST_POINTER, path.name + "\n")
    return path


def one_line(exc: BaseException) -> str:
    """The exception as one line: its type and first informative line (not a heading ending in ':')."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    detail = next((line for line in lines if not line.endswith(":")), lines[0] if lines else "")
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


def read_checkpoint(path: str | os.PathLike, map_location=None, required=REQUIRED_KEYS) -> dict:
    """The dict stored in a checkpoint; :class:`CheckpointError` when the file is missing,
    truncated, corrupt or not a training checkpoint."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        data = torch.load(path, map_location=map_location, weights_only=False)
    except Exception as exc:  # truncated zip, garbage bytes, unpickling errors, ...
        raise CheckpointError(f"checkpoint {path} cannot be read, it is truncated or corrupt "
                              f"({one_line(exc)})") from exc  # fmt: skip
    if not isinstance(data, dict) or any(k not in data for k in required):
        have = sorted(data)[:6] if isinstance(data, dict) else type(data).__name__
        raise CheckpointError(f"checkpoint {path} is not a training checkpoint (expected keys {list(required)}, "
                              f"found {have})")  # fmt: skip
    return data


def newest_readable_checkpoint(run_dir: str | os.PathLike, map_location="cpu") -> Path:
    """The highest-iteration ``model_<it>.pt`` of ``run_dir`` that reads; unreadable newer ones
    are skipped with a printed note. :class:`CheckpointError` when none reads."""
    run_dir = Path(run_dir)
    candidates = checkpoints_in(run_dir)
    for path in reversed(candidates):
        try:
            read_checkpoint(path, map_location=map_location)
        except CheckpointError as exc:
            print(f"[intermimic] note: skipping {exc}", flush=True)
            continue
        return path
    found = f"{len(candidates)} unreadable model_<it>.pt file(s)" if candidates else "no model_<it>.pt files"
    raise CheckpointError(f"run folder {run_dir} has no readable checkpoint ({found})")


# ---------------------------------------------------------------------------------------------
# Training state beyond networks and optimiser
# ---------------------------------------------------------------------------------------------
def rng_state() -> dict:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"].cpu())
    cuda = state.get("cuda")
    if cuda is not None and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all([s.cpu() for s in cuda])


def _command_terms(env) -> dict:
    """Command terms of the (unwrapped) environment that keep a curriculum (have ``state_dict``)."""
    manager = getattr(getattr(env, "unwrapped", env), "command_manager", None)
    if manager is None:
        return {}
    terms = {name: manager.get_term(name) for name in manager.active_terms}
    return {name: t for name, t in terms.items() if hasattr(t, "state_dict") and hasattr(t, "load_state_dict")}


def training_state(env) -> dict:
    """The curriculum of the environment's command terms and the RNG states."""
    return {"commands": {name: term.state_dict() for name, term in _command_terms(env).items()}, "rng": rng_state()}


def restore_training_state(env, state: dict | None, source: str | os.PathLike) -> list[str]:
    """Restore :func:`training_state` into ``env`` and the RNGs. Returns notes on what could
    not be restored; :class:`CheckpointError` when the curriculum was made for other data."""
    if not state:
        return [f"{source} holds no curriculum or random-generator state (not written by this project's "
                "runners): the curriculum starts afresh"]  # fmt: skip
    notes = []
    terms = _command_terms(env)
    for name, term_state in state.get("commands", {}).items():
        if name not in terms:
            notes.append(f"the curriculum of command '{name}' in {source} has no counterpart in this task: ignored")
            continue
        try:
            terms[name].load_state_dict(term_state)
        except ValueError as exc:
            raise CheckpointError(f"checkpoint {source} does not fit this run: command '{name}': {exc}") from exc
    if "rng" in state:
        restore_rng(state["rng"])
    return notes

"""``--resume``: which checkpoint a run continues from and which folder it logs into.

``--resume`` takes a checkpoint file or a run folder (its newest readable checkpoint). The run
continues in that checkpoint's folder (new checkpoints and TensorBoard events join the old
ones, iteration numbers continue); with ``--run_name`` it continues into a new folder instead.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .checkpointing import checkpoint_iteration
from ..utils.atomic_write import stale_temporaries
from .checkpointing import CheckpointError, newest_readable_checkpoint, read_checkpoint


@dataclass
class ResumePlan:
    checkpoint: Path
    """The checkpoint to load."""
    log_dir: str
    """Folder the resumed run writes to."""
    in_place: bool
    """Whether that is the checkpoint's own run folder."""
    iteration: int
    """Iteration stored in the checkpoint (the last one it completed)."""


def plan_resume(resume: str | None, fresh_log_dir: str, new_folder: bool = False) -> ResumePlan | None:
    """Check ``--resume`` before anything is built; None without it. :class:`CheckpointError`
    (one line) for a missing path, an unreadable checkpoint or a folder without one."""
    if not resume:
        return None
    target = Path(resume).expanduser()
    if target.is_dir():
        checkpoint = newest_readable_checkpoint(target)
    elif target.is_file():
        checkpoint = target
    else:
        raise CheckpointError(f"--resume {resume}: no such checkpoint file or run folder")
    data = read_checkpoint(checkpoint, map_location="cpu")
    iteration = int(data.get("iter", checkpoint_iteration(checkpoint)))
    log_dir = fresh_log_dir if new_folder else str(checkpoint.parent.resolve())
    plan = ResumePlan(checkpoint=checkpoint, log_dir=log_dir, in_place=not new_folder, iteration=iteration)
    where = "in its run folder" if plan.in_place else f"into the new run folder {log_dir}"
    print(f"[intermimic] resuming from {checkpoint} (iteration {iteration}) {where}", flush=True)
    if plan.in_place:
        for stale in stale_temporaries(checkpoint.parent):
            print(f"[intermimic] note: removing {stale.name}, left by a write that was interrupted", flush=True)
            stale.unlink()
    return plan


def dump_run_configs(log_dir: str, env_cfg, agent_cfg, plan: ResumePlan | None = None) -> None:
    """``params/env.yaml`` and ``params/agent.yaml`` of the run; a run resumed in its own folder
    keeps the first ones and writes ``params/resume_<it>/{env,agent}.yaml`` beside them."""
    from isaaclab.utils.io import dump_yaml

    params = os.path.join(log_dir, "params")
    if plan is not None and plan.in_place and os.path.isdir(params):
        params = os.path.join(params, f"resume_{plan.iteration}")
    dump_yaml(os.path.join(params, "env.yaml"), env_cfg)
    dump_yaml(os.path.join(params, "agent.yaml"), agent_cfg)

"""Evaluation rollouts (docs/method.md §10): every clip from frame 0, all terminations on, whole
clip; per clip the longest of ``attempts`` attempts is kept (see :mod:`.metrics`)."""

from __future__ import annotations

import torch

from ..tasks.evaluation_cfg import RECORDING_TERMS
from ..tasks.step_probe import PROBE_TERM, step_probe
from .attempt_log import AttemptLog, cause_index, cause_names
from .metrics import ClipTable


def clip_queues(library, clip_ids: list[int]) -> dict[int, list[int]]:
    """``{object id: [clip ids]}`` of the given clips (the format of the command's clip schedule)."""
    queues: dict[int, list[int]] = {}
    for c in clip_ids:
        queues.setdefault(int(library.clip_object[c]), []).append(int(c))
    return queues


def termination_causes(base_env, env_ids: list[int]) -> list[str]:
    """Per env, the termination term that ended its episode on the last step: the first failure
    term that fired, else the first time-out term that fired ("" when none did)."""
    names = cause_names(base_env.termination_manager, (*RECORDING_TERMS, PROBE_TERM))
    index = cause_index(base_env.termination_manager, names)[env_ids].tolist()
    return [names[i] if i >= 0 else "" for i in index]


READ_INTERVAL = 30
"""Steps between the host's reads of ended attempts when no observer needs each attempt at once
(one host sync per read instead of one per step)."""


def evaluate_policy(env, policy, attempts: int = 1, max_steps: int | None = None, progress: bool = True,
                    observers=(), clip_ids: list[int] | None = None) -> ClipTable:  # fmt: skip
    """Roll ``policy`` on a wrapped env configured by :func:`configure_for_evaluation` over every
    clip (or ``clip_ids``).

    ``observers`` may define ``on_step(env)`` (called every step after the physics step and the
    termination checks, before resets) and ``on_attempt(env_id, clip_id, steps, success, kept)``
    (called when a scheduled attempt ends; ``kept``: it is now the clip's kept attempt).
    """
    base = env.unwrapped
    cmd = base.command_manager.get_term("motion")
    lib = cmd.library
    wanted = list(range(lib.num_clips)) if clip_ids is None else list(clip_ids)
    table = ClipTable(lib.clips, wanted)
    cmd.set_clip_schedule({obj: clips * attempts for obj, clips in clip_queues(lib, wanted).items()})
    probe = step_probe(env)
    step_observers = [o.on_step for o in observers if hasattr(o, "on_step")]
    if step_observers and probe is None:
        raise RuntimeError("observers need the step probe: configure the env cfg with configure_for_evaluation")
    if probe is not None:
        probe.listeners[:] = step_observers
    obs, _ = env.reset()
    names = cause_names(base.termination_manager, (*RECORDING_TERMS, PROBE_TERM))
    attempt_observers = [o.on_attempt for o in observers if hasattr(o, "on_attempt")]
    log = AttemptLog(base.num_envs, base.device, int(lib.clip_length.max()) + 1,
                     interval=1 if attempt_observers else READ_INTERVAL)  # fmt: skip
    budget = max_steps or int(lib.clip_length.max()) * (attempts * len(wanted) // max(1, base.num_envs) + 2)
    bar = _progress(len(wanted) * attempts, progress)
    try:
        for step in range(budget):
            clips = cmd.clip_ids.clone()
            scheduled = cmd.scheduled.clone()
            with torch.inference_mode():
                obs, _, dones, _ = env.step(policy(obs))
            manager = base.termination_manager
            log.add(cmd.step_metrics, dones > 0, clips, manager.terminated, cause_index(manager, names), scheduled)
            if not (log.due or step == budget - 1):
                continue
            for a in log.read():
                if not a.scheduled:
                    continue
                kept = table.offer(a.clip, a.steps, not a.failed, a.values, names[a.cause] if a.cause >= 0 else "",
                                   a.trace)  # fmt: skip
                for on_attempt in attempt_observers:
                    on_attempt(a.env, a.clip, a.steps, not a.failed, kept)
                bar.update(1)
            if table.done(attempts):
                break
    finally:
        bar.close()
        if probe is not None:
            probe.listeners.clear()
        cmd.set_clip_schedule(None)
    return table


def _progress(total: int, enabled: bool):
    from ..utils.progress import progress

    return progress(total=total, desc="evaluating clips", unit="clip", enabled=enabled, leave=True)

"""Evaluation rollouts (docs/method.md §10): every clip from frame 0, all terminations on, whole
clip; per clip the longest of ``attempts`` attempts is kept (see :mod:`.metrics`)."""

from __future__ import annotations

import torch

from ..tasks.evaluation_cfg import RECORDING_TERMS
from ..tasks.step_probe import PROBE_TERM, step_probe
from .metrics import ClipTable, EpisodeAccumulator


def clip_queues(library, clip_ids: list[int]) -> dict[int, list[int]]:
    """``{object id: [clip ids]}`` of the given clips (the format of the command's clip schedule)."""
    queues: dict[int, list[int]] = {}
    for c in clip_ids:
        queues.setdefault(int(library.clip_object[c]), []).append(int(c))
    return queues


def termination_causes(base_env, env_ids: list[int]) -> list[str]:
    """Per env, the termination term that ended its episode on the last step: the first failure
    term that fired, else the first time-out term that fired ("" when none did)."""
    manager = base_env.termination_manager
    names = [n for n in manager.active_terms if n not in (*RECORDING_TERMS, PROBE_TERM)]
    fired = {n: manager.get_term(n) for n in names}
    failures = [n for n in names if not manager.get_term_cfg(n).time_out]
    time_outs = [n for n in names if manager.get_term_cfg(n).time_out]
    causes = []
    for e in env_ids:
        cause = next((n for n in failures if bool(fired[n][e])), None)
        causes.append(cause or next((n for n in time_outs if bool(fired[n][e])), ""))
    return causes


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
    acc = EpisodeAccumulator(base.num_envs, base.device)
    budget = max_steps or int(lib.clip_length.max()) * (attempts * len(wanted) // max(1, base.num_envs) + 2)
    bar = _progress(len(wanted) * attempts, progress)
    try:
        for _ in range(budget):
            clips = cmd.clip_ids.clone()
            scheduled = cmd.scheduled.clone()
            with torch.inference_mode():
                obs, _, dones, _ = env.step(policy(obs))
            e_h, e_o = cmd.step_errors
            acc.add(e_h, e_o)
            finished = torch.nonzero(dones > 0).flatten()
            if len(finished):
                ids = finished.tolist()
                steps, mean_h, mean_o, traces = acc.take(finished)
                failed = base.termination_manager.terminated[finished]
                causes = termination_causes(base, ids)
                for i, e in enumerate(ids):
                    if not scheduled[e]:
                        continue
                    success = not bool(failed[i])
                    kept = table.offer(int(clips[e]), int(steps[i]), success, float(mean_h[i]), float(mean_o[i]),
                                       causes[i], traces[i])  # fmt: skip
                    for o in observers:
                        if hasattr(o, "on_attempt"):
                            o.on_attempt(e, int(clips[e]), int(steps[i]), success, kept)
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

"""Evaluation rollouts (METHOD section 10): every clip from frame 0, all terminations on, whole
clip; per clip the longest of ``attempts`` attempts is kept (equally long: the lower E_h + E_o),
its errors averaged over its steps except the one that ended it, as in the release."""

from __future__ import annotations

import torch

from .metrics import ClipTable, EpisodeAccumulator

EVAL_EPISODE_S = 1.0e5
"""Episode length during evaluation: effectively unlimited, the clip end stops each attempt."""


def configure_for_evaluation(env_cfg) -> None:
    """Switch an HOI env cfg to evaluation: starts at frame 0 from the reference, no PSI, no
    curriculum statistics, no episode-length time-out, per-step tracking errors recorded."""
    from isaaclab.managers import TerminationTermCfg

    from ..tasks import mdp
    from ..tasks.hoi_env_cfg import start_at_clip_beginnings

    env_cfg.episode_length_s = EVAL_EPISODE_S
    start_at_clip_beginnings(env_cfg)
    env_cfg.terminations.time_out = None
    env_cfg.terminations.tracking_metrics = TerminationTermCfg(func=mdp.record_tracking_errors)


def evaluate_policy(env, policy, attempts: int = 1, max_steps: int | None = None, progress: bool = True) -> ClipTable:
    """Roll ``policy`` on a wrapped env configured by :func:`configure_for_evaluation`."""
    base = env.unwrapped
    cmd = base.command_manager.get_term("motion")
    lib = cmd.library
    table = ClipTable(lib.clips)
    schedule = {}
    for obj in range(len(lib.object_names)):
        clips = torch.nonzero(lib.clip_object == obj).flatten().tolist()
        schedule[obj] = [c for _ in range(attempts) for c in clips]
    cmd.set_clip_schedule(schedule)
    obs, _ = env.reset()
    acc = EpisodeAccumulator(base.num_envs, base.device)
    budget = max_steps or int(lib.clip_length.max()) * (attempts * lib.num_clips // max(1, base.num_envs) + 2)
    bar = _progress(lib.num_clips * attempts, progress)
    for _ in range(budget):
        clips = cmd.clip_ids.clone()
        scheduled = cmd.scheduled.clone()
        with torch.inference_mode():
            obs, _, dones, extras = env.step(policy(obs))
        e_h, e_o = cmd.step_errors
        acc.add(e_h, e_o)
        finished = torch.nonzero(dones > 0).flatten()
        if len(finished):
            steps, mean_h, mean_o = acc.take(finished)
            success = extras["time_outs"][finished] > 0
            for i, e in enumerate(finished.tolist()):
                if scheduled[e]:
                    table.offer(int(clips[e]), int(steps[i]), bool(success[i]), float(mean_h[i]), float(mean_o[i]))
                    bar.update(1)
        if table.done(attempts):
            break
    bar.close()
    cmd.set_clip_schedule(None)
    return table


def _progress(total: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc="evaluating clips", unit="clip", disable=not enabled)

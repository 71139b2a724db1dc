"""Per-episode results while a policy plays: clip, steps, E_h, E_o and what ended the episode.

Needs the per-step tracking errors the evaluation configuration records
(:func:`~intermimic.tasks.evaluation_cfg.record_tracking_errors_each_step`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .evaluator import termination_causes
from .metrics import METRICS, EpisodeAccumulator


@dataclass
class EpisodeResult:
    env: int
    clip: str
    steps: int
    seconds: float
    e_h_cm: float
    e_o_cm: float
    ended_by: str
    """The termination term that ended the episode (``clip_end``, ``fall``, ...)."""

    def line(self) -> str:
        return (f"env {self.env} | clip {self.clip} | {self.steps} steps ({self.seconds:.1f} s) | "
                f"E_h {self.e_h_cm:.1f} cm | E_o {self.e_o_cm:.1f} cm | ended by {self.ended_by}")  # fmt: skip


class EpisodeLog:
    """Call :meth:`before_step` and :meth:`after_step` around each ``env.step`` of a wrapped env;
    ``after_step`` returns the episodes that ended in that step."""

    def __init__(self, env):
        self.base = env.unwrapped
        self.cmd = self.base.command_manager.get_term("motion")
        self.acc = EpisodeAccumulator(self.base.num_envs, self.base.device)
        self._clips = None
        self.episodes = 0

    def before_step(self) -> None:
        self._clips = self.cmd.clip_ids.clone()

    def after_step(self, dones: torch.Tensor) -> list[EpisodeResult]:
        self.acc.add(self.cmd.step_metrics)
        finished = torch.nonzero(dones > 0).flatten()
        if not len(finished):
            return []
        ids = finished.tolist()
        steps, values, _ = self.acc.take(finished)
        mean_h, mean_o = values[:, METRICS["E_h"]], values[:, METRICS["E_o"]]
        causes = termination_causes(self.base, ids)
        clips = self.cmd.library.clips
        results = []
        for i, env_id in enumerate(ids):
            results.append(EpisodeResult(
                env_id, clips[int(self._clips[env_id])].name, int(steps[i]), int(steps[i]) * self.base.step_dt,
                100.0 * float(mean_h[i]), 100.0 * float(mean_o[i]), causes[i] or "reset",
            ))  # fmt: skip
        self.episodes += len(results)
        return results

"""Evaluation metrics (METHOD section 10): success rate, duration, E_h and E_o per clip."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import torch


@dataclass
class ClipResult:
    clip: str
    subject: int
    object: str
    frames: int
    steps: int  # policy steps survived in the kept attempt
    success: bool
    e_h_cm: float
    e_o_cm: float
    attempts: int


class EpisodeAccumulator:
    """Sums per-step errors of each env's running episode.

    An episode's errors are averaged over its steps ``1..n-1``: the step that ends it (a failure
    or the clip's last frame) is left out, as in the release's evaluation. An episode of one step
    keeps that step.
    """

    def __init__(self, num_envs: int, device):
        self.steps = torch.zeros(num_envs, dtype=torch.long, device=device)
        self.sum_h = torch.zeros(num_envs, device=device)
        self.sum_o = torch.zeros(num_envs, device=device)
        self.last_h = torch.zeros(num_envs, device=device)
        self.last_o = torch.zeros(num_envs, device=device)

    def add(self, e_h: torch.Tensor, e_o: torch.Tensor) -> None:
        self.steps += 1
        self.sum_h += e_h
        self.sum_o += e_o
        self.last_h.copy_(e_h)
        self.last_o.copy_(e_o)

    def take(self, env_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(steps, mean E_h, mean E_o) of the finished episodes of ``env_ids``, then cleared."""
        steps = self.steps[env_ids].clone()
        single = steps <= 1
        n = (steps - 1).clamp_min(1).float()
        mean_h = torch.where(single, self.sum_h[env_ids], (self.sum_h[env_ids] - self.last_h[env_ids]) / n)
        mean_o = torch.where(single, self.sum_o[env_ids], (self.sum_o[env_ids] - self.last_o[env_ids]) / n)
        for buf in (self.steps, self.sum_h, self.sum_o, self.last_h, self.last_o):
            buf[env_ids] = 0
        return steps, mean_h, mean_o


class ClipTable:
    """Per clip, the longest attempt; among equally long ones the one with the lower E_h + E_o
    (as the release's evaluation keeps them)."""

    def __init__(self, clips):
        self.clips = clips  # list of ClipInfo
        self.results: dict[int, ClipResult] = {}

    def offer(self, clip_id: int, steps: int, success: bool, e_h_m: float, e_o_m: float) -> None:
        info = self.clips[clip_id]
        prev = self.results.get(clip_id)
        attempts = 1 + (prev.attempts if prev else 0)
        if prev is None or steps > prev.steps or (
            steps == prev.steps and 100.0 * (e_h_m + e_o_m) < prev.e_h_cm + prev.e_o_cm
        ):
            self.results[clip_id] = ClipResult(info.name, info.subject, info.object, info.num_frames, steps,
                                               success, 100.0 * e_h_m, 100.0 * e_o_m, attempts)  # fmt: skip
        else:
            prev.attempts = attempts

    def done(self, attempts: int) -> bool:
        return len(self.results) == len(self.clips) and all(r.attempts >= attempts for r in self.results.values())

    def summary(self, fps: float) -> dict:
        rows = [self.results[i] for i in sorted(self.results)]
        n = max(len(rows), 1)
        return {
            "clips": len(rows),
            "success_rate": sum(r.success for r in rows) / n,
            "successes": sum(r.success for r in rows),
            "duration_steps": sum(r.steps for r in rows) / n,
            "duration_s": sum(r.steps for r in rows) / n / fps,
            "E_h_cm": sum(r.e_h_cm for r in rows) / n,
            "E_o_cm": sum(r.e_o_cm for r in rows) / n,
        }

    def write(self, folder: Path, fps: float, meta: dict) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        rows = [self.results[i] for i in sorted(self.results)]
        report = {"summary": self.summary(fps), "meta": meta, "clips": [asdict(r) for r in rows]}
        path = folder / "evaluation.json"
        path.write_text(json.dumps(report, indent=2))
        with open(folder / "evaluation.csv", "w") as fh:
            fh.write("clip,subject,object,frames,steps,success,E_h_cm,E_o_cm,attempts\n")
            for r in rows:
                fh.write(f"{r.clip},{r.subject},{r.object},{r.frames},{r.steps},{int(r.success)},"
                         f"{r.e_h_cm:.3f},{r.e_o_cm:.3f},{r.attempts}\n")  # fmt: skip
        return path

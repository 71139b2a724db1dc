"""Evaluation metrics (docs/method.md §10): success rate, duration, E_h and E_o per clip.

An attempt's E_h/E_o are the means of the per-step errors over its steps 1..n-1: the step on
which it terminated is left out (a failure step measures the failure, not the tracking). Per
clip the longest attempt is kept; among equally long attempts, the one with the lower error.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
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
    cause: str = ""
    """Termination term that ended the kept attempt (a failure, else the time-out that fired)."""


@dataclass
class StepTrace:
    """Per-step errors of one attempt, in cm (step 1 first, the terminating step last)."""

    e_h_cm: list[float] = field(default_factory=list)
    e_o_cm: list[float] = field(default_factory=list)


def attempt_means(e_h: torch.Tensor, e_o: torch.Tensor, steps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean E_h/E_o of attempts from their per-step errors ``[N, L]`` (step ``i`` in column ``i``)
    over steps 1..n-1 (all n steps for a one-step attempt)."""
    used = torch.where(steps > 1, steps - 1, steps).clamp_min(1)
    cols = torch.arange(e_h.shape[1], device=e_h.device)[None, :]
    mask = (cols < used[:, None]).to(e_h.dtype)
    return (e_h * mask).sum(-1) / used, (e_o * mask).sum(-1) / used


class EpisodeAccumulator:
    """Per-step errors of each env's running episode (grows as episodes get longer)."""

    def __init__(self, num_envs: int, device, capacity: int = 256):
        self.steps = torch.zeros(num_envs, dtype=torch.long, device=device)
        self.e_h = torch.zeros(num_envs, capacity, device=device)
        self.e_o = torch.zeros(num_envs, capacity, device=device)

    def add(self, e_h: torch.Tensor, e_o: torch.Tensor) -> None:
        if int(self.steps.max()) >= self.e_h.shape[1]:
            self.e_h = torch.cat([self.e_h, torch.zeros_like(self.e_h)], dim=1)
            self.e_o = torch.cat([self.e_o, torch.zeros_like(self.e_o)], dim=1)
        rows = torch.arange(len(self.steps), device=self.steps.device)
        self.e_h[rows, self.steps] = e_h
        self.e_o[rows, self.steps] = e_o
        self.steps += 1

    def take(self, env_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, list[StepTrace]]:
        """(steps, mean E_h, mean E_o, per-step traces in cm) of the finished episodes of
        ``env_ids`` (means in metres, see :func:`attempt_means`), then cleared."""
        steps = self.steps[env_ids].clone()
        e_h, e_o = self.e_h[env_ids], self.e_o[env_ids]
        mean_h, mean_o = attempt_means(e_h, e_o, steps)
        traces = [
            StepTrace((100.0 * e_h[i, :n]).tolist(), (100.0 * e_o[i, :n]).tolist())
            for i, n in enumerate(steps.tolist())
        ]
        self.steps[env_ids] = 0
        self.e_h[env_ids] = 0.0
        self.e_o[env_ids] = 0.0
        return steps, mean_h, mean_o, traces


class ClipTable:
    """Per clip, the longest attempt (equal lengths: the lower E_h + E_o; then the later one)."""

    def __init__(self, clips, expected: list[int] | None = None):
        self.clips = clips  # list of ClipInfo
        self.expected = set(range(len(clips)) if expected is None else expected)
        """Clip ids the evaluation covers."""
        self.results: dict[int, ClipResult] = {}
        self.traces: dict[int, StepTrace] = {}
        self.attempt_causes: Counter[str] = Counter()
        """Termination causes over every attempt (not only the kept ones)."""

    def offer(self, clip_id: int, steps: int, success: bool, e_h_m: float, e_o_m: float, cause: str = "",
              trace: StepTrace | None = None) -> bool:  # fmt: skip
        """Record an attempt; returns whether it is now the clip's kept attempt."""
        info = self.clips[clip_id]
        prev = self.results.get(clip_id)
        attempts = 1 + (prev.attempts if prev else 0)
        self.attempt_causes[cause] += 1
        e_h_cm, e_o_cm = 100.0 * e_h_m, 100.0 * e_o_m
        keep = prev is None or steps > prev.steps or (
            steps == prev.steps and e_h_cm + e_o_cm <= prev.e_h_cm + prev.e_o_cm
        )  # fmt: skip
        if keep:
            self.results[clip_id] = ClipResult(info.name, info.subject, info.object, info.num_frames, steps,
                                               success, e_h_cm, e_o_cm, attempts, cause)  # fmt: skip
            self.traces[clip_id] = trace or StepTrace()
        else:
            prev.attempts = attempts
        return keep

    def done(self, attempts: int) -> bool:
        return self.expected <= set(self.results) and all(r.attempts >= attempts for r in self.results.values())

    def rows(self) -> list[ClipResult]:
        return [self.results[i] for i in sorted(self.results)]

    def summary(self, fps: float) -> dict:
        rows = self.rows()
        n = max(len(rows), 1)
        return {
            "clips": len(rows),
            "success_rate": sum(r.success for r in rows) / n,
            "successes": sum(r.success for r in rows),
            "duration_steps": sum(r.steps for r in rows) / n,
            "duration_s": sum(r.steps for r in rows) / n / fps,
            "E_h_cm": sum(r.e_h_cm for r in rows) / n,
            "E_o_cm": sum(r.e_o_cm for r in rows) / n,
            "causes": dict(sorted(Counter(r.cause for r in rows).items())),
            "attempt_causes": dict(sorted(self.attempt_causes.items())),
        }

    def report(self, fps: float, meta: dict) -> dict:
        """Everything written to ``evaluation.json``: summary, meta, per-clip rows and traces."""
        clips = []
        for i in sorted(self.results):
            row = asdict(self.results[i])
            trace = self.traces.get(i, StepTrace())
            row["per_step"] = {"E_h_cm": [round(v, 3) for v in trace.e_h_cm],
                               "E_o_cm": [round(v, 3) for v in trace.e_o_cm]}  # fmt: skip
            clips.append(row)
        return {"summary": self.summary(fps), "meta": {**meta, "fps": fps}, "clips": clips}

    def write(self, folder: Path, fps: float, meta: dict, plots: bool = True, name: str = "evaluation") -> Path:
        """Write ``<name>.json``, ``<name>.csv`` and (with ``plots``) the PNG plots into ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        report = self.report(fps, meta)
        path = folder / f"{name}.json"
        path.write_text(json.dumps(report, indent=2))
        with open(folder / f"{name}.csv", "w") as fh:
            fh.write("clip,subject,object,frames,steps,success,E_h_cm,E_o_cm,attempts,cause\n")
            for r in self.rows():
                fh.write(f"{r.clip},{r.subject},{r.object},{r.frames},{r.steps},{int(r.success)},"
                         f"{r.e_h_cm:.3f},{r.e_o_cm:.3f},{r.attempts},{r.cause}\n")  # fmt: skip
        if plots:
            from .plots import plot_report

            plot_report(report, folder)
        return path

"""Evaluation metrics (docs/method.md §10, docs/evaluation.md): success rate, duration, E_h and
E_o per clip, and the hands' numbers (E_hand per hand, finger joint error, hand-contact precision
and recall; :mod:`intermimic.tasks.mdp.step_metrics`).

An attempt's errors are the means of the per-step errors over its steps 1..n-1 (its contact
counts their sums): the step on which it terminated is left out (a failure step measures the
failure, not the tracking). Per clip the longest attempt is kept; among equally long attempts,
the one with the lower error.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import math

import torch

from ..tasks.mdp.step_metrics import COUNTS, STEP_METRICS


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
    e_hand_cm: float = 0.0
    e_hand_l_cm: float = 0.0
    e_hand_r_cm: float = 0.0
    finger_error_deg: float = 0.0
    hand_contact_tp: int = 0
    hand_contact_fp: int = 0
    hand_contact_fn: int = 0
    hand_contact_tn: int = 0

    @property
    def hand_contact_precision(self) -> float | None:
        return ratio(self.hand_contact_tp, self.hand_contact_tp + self.hand_contact_fp)

    @property
    def hand_contact_recall(self) -> float | None:
        return ratio(self.hand_contact_tp, self.hand_contact_tp + self.hand_contact_fn)


def ratio(part: float, whole: float) -> float | None:
    """``part / whole``, None when ``whole`` is 0 (nothing to measure)."""
    return part / whole if whole else None


@dataclass
class StepTrace:
    """Per-step errors of one attempt, in cm (step 1 first, the terminating step last)."""

    e_h_cm: list[float] = field(default_factory=list)
    e_o_cm: list[float] = field(default_factory=list)
    e_hand_cm: list[float] = field(default_factory=list)


METRICS = {name: i for i, name in enumerate(STEP_METRICS)}
"""Column of each per-step number (:data:`~intermimic.tasks.mdp.step_metrics.STEP_METRICS`)."""
_COUNT_COLUMNS = [METRICS[name] for name in COUNTS]


def values_of(**named: float) -> torch.Tensor:
    """A row of numbers by :data:`METRICS` column from named entries (the others 0), e.g.
    ``values_of(E_h=0.1, E_o=0.2)``."""
    row = torch.zeros(len(METRICS))
    for name, value in named.items():
        row[METRICS[name]] = float(value)
    return row


def attempt_values(values: torch.Tensor, steps: torch.Tensor) -> torch.Tensor:
    """An attempt's numbers from its per-step ones ``[N, L, M]`` (step ``i`` in row ``i``) over
    steps 1..n-1 (all n steps for a one-step attempt): the mean of each column, the sum of the
    count columns; ``[N, M]``."""
    used = torch.where(steps > 1, steps - 1, steps).clamp_min(1)
    rows = torch.arange(values.shape[1], device=values.device)[None, :]
    mask = (rows < used[:, None]).to(values.dtype)[..., None]
    total = (values * mask).sum(dim=1)
    means = total / used[:, None]
    means[:, _COUNT_COLUMNS] = total[:, _COUNT_COLUMNS]
    return means


def attempt_means(e_h: torch.Tensor, e_o: torch.Tensor, steps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean E_h/E_o of attempts from their per-step errors ``[N, L]`` over steps 1..n-1 (as
    :func:`attempt_values`)."""
    used = torch.where(steps > 1, steps - 1, steps).clamp_min(1)
    cols = torch.arange(e_h.shape[1], device=e_h.device)[None, :]
    mask = (cols < used[:, None]).to(e_h.dtype)
    return (e_h * mask).sum(-1) / used, (e_o * mask).sum(-1) / used


def trace_of(values: torch.Tensor) -> StepTrace:
    """The per-step trace (cm) of one attempt's numbers ``[n, M]`` (on the host)."""
    return StepTrace(*((100.0 * values[:, METRICS[k]]).tolist() for k in ("E_h", "E_o", "E_hand")))


class EpisodeAccumulator:
    """Per-step numbers (:data:`METRICS`) of each env's running episode (grows as episodes get longer)."""

    def __init__(self, num_envs: int, device, capacity: int = 256):
        self.steps = torch.zeros(num_envs, dtype=torch.long, device=device)
        self.values = torch.zeros(num_envs, capacity, len(METRICS), device=device)

    def add(self, values: torch.Tensor) -> None:
        """One step's numbers of every env, ``[E, M]``."""
        if int(self.steps.max()) >= self.values.shape[1]:
            self.values = torch.cat([self.values, torch.zeros_like(self.values)], dim=1)
        rows = torch.arange(len(self.steps), device=self.steps.device)
        self.values[rows, self.steps] = values
        self.steps += 1

    def take(self, env_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, list[StepTrace]]:
        """(steps, attempt values ``[n, M]`` (:func:`attempt_values`, metres and radians), per-step
        traces in cm) of the finished episodes of ``env_ids``, then cleared."""
        steps = self.steps[env_ids].clone()
        values = self.values[env_ids]
        result = attempt_values(values, steps)
        host = values.cpu()
        traces = [trace_of(host[i, :n]) for i, n in enumerate(steps.tolist())]
        self.steps[env_ids] = 0
        self.values[env_ids] = 0.0
        return steps, result, traces


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

    def offer(self, clip_id: int, steps: int, success: bool, values, cause: str = "",
              trace: StepTrace | None = None) -> bool:  # fmt: skip
        """Record an attempt (``values``: its numbers by :data:`METRICS` column, :func:`attempt_values`);
        returns whether it is now the clip's kept attempt."""
        info = self.clips[clip_id]
        prev = self.results.get(clip_id)
        attempts = 1 + (prev.attempts if prev else 0)
        self.attempt_causes[cause] += 1
        v = {name: float(values[i]) for name, i in METRICS.items()}
        e_h_cm, e_o_cm = 100.0 * v["E_h"], 100.0 * v["E_o"]
        keep = prev is None or steps > prev.steps or (
            steps == prev.steps and e_h_cm + e_o_cm <= prev.e_h_cm + prev.e_o_cm
        )  # fmt: skip
        if keep:
            self.results[clip_id] = ClipResult(
                info.name, info.subject, info.object, info.num_frames, steps, success, e_h_cm, e_o_cm, attempts, cause,
                e_hand_cm=100.0 * v["E_hand"], e_hand_l_cm=100.0 * v["E_hand_L"], e_hand_r_cm=100.0 * v["E_hand_R"],
                finger_error_deg=math.degrees(v["E_finger"]), hand_contact_tp=round(v["hand_contact_tp"]),
                hand_contact_fp=round(v["hand_contact_fp"]), hand_contact_fn=round(v["hand_contact_fn"]),
                hand_contact_tn=round(v["hand_contact_tn"]),
            )  # fmt: skip
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
        tp, fp, fn, tn = (sum(getattr(r, f"hand_contact_{k}") for r in rows) for k in ("tp", "fp", "fn", "tn"))
        return {
            "clips": len(rows),
            "success_rate": sum(r.success for r in rows) / n,
            "successes": sum(r.success for r in rows),
            "duration_steps": sum(r.steps for r in rows) / n,
            "duration_s": sum(r.steps for r in rows) / n / fps,
            "E_h_cm": sum(r.e_h_cm for r in rows) / n,
            "E_o_cm": sum(r.e_o_cm for r in rows) / n,
            "E_hand_cm": sum(r.e_hand_cm for r in rows) / n,
            "E_hand_L_cm": sum(r.e_hand_l_cm for r in rows) / n,
            "E_hand_R_cm": sum(r.e_hand_r_cm for r in rows) / n,
            "finger_error_deg": sum(r.finger_error_deg for r in rows) / n,
            "hand_contact_precision": ratio(tp, tp + fp),
            "hand_contact_recall": ratio(tp, tp + fn),
            "hand_contact_labelled": tp + fp + fn + tn,
            "causes": dict(sorted(Counter(r.cause for r in rows).items())),
            "attempt_causes": dict(sorted(self.attempt_causes.items())),
        }

    def report(self, fps: float, meta: dict) -> dict:
        """Everything written to ``evaluation.json``: summary, meta, per-clip rows and traces."""
        clips = []
        for i in sorted(self.results):
            result = self.results[i]
            row = asdict(result)
            row["hand_contact_precision"] = result.hand_contact_precision
            row["hand_contact_recall"] = result.hand_contact_recall
            trace = self.traces.get(i, StepTrace())
            row["per_step"] = {"E_h_cm": [round(v, 3) for v in trace.e_h_cm],
                               "E_o_cm": [round(v, 3) for v in trace.e_o_cm],
                               "E_hand_cm": [round(v, 3) for v in trace.e_hand_cm]}  # fmt: skip
            clips.append(row)
        return {"summary": self.summary(fps), "meta": {**meta, "fps": fps}, "clips": clips}

    def write(self, folder: Path, fps: float, meta: dict, plots: bool = True, name: str = "evaluation") -> Path:
        """Write ``<name>.json``, ``<name>.csv`` and (with ``plots``) the PNG plots into ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        report = self.report(fps, meta)
        path = folder / f"{name}.json"
        path.write_text(json.dumps(report, indent=2))
        with open(folder / f"{name}.csv", "w") as fh:
            fh.write("clip,subject,object,frames,steps,success,E_h_cm,E_o_cm,attempts,cause,E_hand_cm,E_hand_L_cm,"
                     "E_hand_R_cm,finger_error_deg,hand_contact_precision,hand_contact_recall\n")  # fmt: skip
            for r in self.rows():
                fh.write(f"{r.clip},{r.subject},{r.object},{r.frames},{r.steps},{int(r.success)},"
                         f"{r.e_h_cm:.3f},{r.e_o_cm:.3f},{r.attempts},{r.cause},{r.e_hand_cm:.3f},{r.e_hand_l_cm:.3f},"
                         f"{r.e_hand_r_cm:.3f},{r.finger_error_deg:.3f},{_csv(r.hand_contact_precision)},"
                         f"{_csv(r.hand_contact_recall)}\n")  # fmt: skip
        if plots:
            from .plots import plot_report

            plot_report(report, folder)
        return path


def _csv(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"

"""The attempts of an evaluation, recorded on the device and read by the host in batches.

Each step, every environment's numbers (E_h, E_o and the hands', :data:`~.metrics.METRICS`) go
into a per-env history, and the attempts that ended (clip, steps, failed, cause, whether
scheduled, where their numbers are) into a list on the device; nothing is read back. Every
``interval`` steps :meth:`AttemptLog.read` copies the ended attempts to the host at once (one host
sync per read) and moves each environment's running attempt to the start of its history. An
ended attempt's numbers are :func:`~.metrics.attempt_values` of its per-step ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .metrics import METRICS, StepTrace, attempt_values, trace_of


@dataclass
class EndedAttempt:
    env: int
    clip: int
    steps: int
    failed: bool
    cause: int
    """Index of the termination term that ended it (:func:`cause_index`), -1 for none."""
    scheduled: bool
    values: torch.Tensor
    """The attempt's numbers by :data:`~.metrics.METRICS` column (:func:`~.metrics.attempt_values`)."""
    trace: StepTrace


_FIELDS = ("env", "clip", "failed", "cause", "scheduled", "start", "end")


class AttemptLog:
    def __init__(self, num_envs: int, device, longest_attempt: int, interval: int = 1):
        self.interval = max(1, int(interval))
        self.columns = int(longest_attempt) + self.interval + 2
        self.values = torch.zeros(num_envs, self.columns, len(METRICS), device=device)
        self.cursor = torch.zeros(num_envs, dtype=torch.long, device=device)
        """Per env, the history column the next step's errors go to."""
        self.start = torch.zeros(num_envs, dtype=torch.long, device=device)
        """Per env, the column where its running attempt began."""
        self._envs = torch.arange(num_envs, device=device)
        self._capacity = num_envs * self.interval
        self._records = {name: torch.zeros(self._capacity + 1, dtype=torch.long, device=device) for name in _FIELDS}
        self._count = torch.zeros((), dtype=torch.long, device=device)
        self._steps_since_read = 0

    def add(self, values: torch.Tensor, ended: torch.Tensor, clips: torch.Tensor,
            failed: torch.Tensor, cause: torch.Tensor, scheduled: torch.Tensor) -> None:  # fmt: skip
        """One step: every env's numbers ``[E, M]``, and ``ended`` marking the envs whose attempt ended on it."""
        column = self.cursor.clamp_max(self.columns - 1)
        self.values[self._envs, column] = values
        self.cursor += 1
        slot = self._count + ended.long().cumsum(0) - 1
        slot = torch.where(ended, slot.clamp_max(self._capacity - 1), self._capacity)  # the rest: a spare slot
        values = {"env": self._envs, "clip": clips, "failed": failed, "cause": cause, "scheduled": scheduled,
                  "start": self.start, "end": self.cursor}  # fmt: skip
        for name, value in values.items():
            self._records[name][slot] = value.long()
        self._count += ended.sum()
        self.start = torch.where(ended, self.cursor, self.start)
        self._steps_since_read += 1

    @property
    def due(self) -> bool:
        """Whether ``interval`` steps were added since the last read."""
        return self._steps_since_read >= self.interval

    def read(self) -> list[EndedAttempt]:
        """The attempts ended since the last read, in the order they ended (by step, then env)."""
        count = int(self._count)  # the read's one wait for the device
        out = []
        if count:
            records = {name: values[:count].cpu() for name, values in self._records.items()}
            envs = torch.unique(records["env"])
            rows = {int(e): i for i, e in enumerate(envs.tolist())}
            values = self.values[envs.to(self.values.device)].cpu()
            for i in range(count):
                env, start, end = int(records["env"][i]), int(records["start"][i]), int(records["end"][i])
                per_step = values[rows[env], start:end]
                result = attempt_values(per_step[None], torch.tensor([end - start]))[0]
                out.append(EndedAttempt(env, int(records["clip"][i]), end - start, bool(records["failed"][i]),
                                        int(records["cause"][i]), bool(records["scheduled"][i]), result,
                                        trace_of(per_step)))  # fmt: skip
        self._compact()
        return out

    def _compact(self) -> None:
        """Move each env's running attempt to column 0 of its history (on the device)."""
        columns = (self.start[:, None] + torch.arange(self.columns, device=self.start.device)[None, :]).clamp_max(
            self.columns - 1
        )
        self.values = torch.gather(self.values, 1, columns[..., None].expand(-1, -1, self.values.shape[2]))
        self.cursor -= self.start
        self.start.zero_()
        self._count.zero_()
        self._steps_since_read = 0


def cause_index(termination_manager, names: list[str]) -> torch.Tensor:
    """Per env, the index in ``names`` of the first term of ``names`` that fired this step, -1
    when none did (``names``: failure terms first, then time-outs; see :func:`cause_names`)."""
    env_count = termination_manager.terminated.shape[0]
    if not names:
        return torch.full((env_count,), -1, dtype=torch.long, device=termination_manager.terminated.device)
    fired = torch.stack([termination_manager.get_term(n) for n in names], dim=1)
    return torch.where(fired.any(dim=1), fired.int().argmax(dim=1), -1)


def cause_names(termination_manager, ignore: tuple[str, ...]) -> list[str]:
    """The termination terms that can end an attempt, failures first, then time-outs (the order
    in which a cause is chosen), leaving out ``ignore`` (terms that only record)."""
    names = [n for n in termination_manager.active_terms if n not in ignore]
    failures = [n for n in names if not termination_manager.get_term_cfg(n).time_out]
    return failures + [n for n in names if termination_manager.get_term_cfg(n).time_out]

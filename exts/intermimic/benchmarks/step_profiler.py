"""Where an environment step spends its time: physics and each manager.

:class:`StepProfiler` wraps methods of one environment *instance* (the managers' ``compute``,
``apply``, ``reset``, ..., the scene's physics calls) with timers, and removes the wrappers
again on :meth:`StepProfiler.close`; classes and other environments are untouched. Times are
exclusive: a section called inside another (the reset event inside the reset) is charged to
itself only. On CUDA every section boundary synchronises the device, so the kernels a section
launched are charged to it (this adds a little time to the step; read whole-step throughput
from an unprofiled run).
"""

from __future__ import annotations

import functools
import time
from collections import defaultdict

import torch
from torch.profiler import record_function

SECTIONS = ("physics", "actions", "observations", "rewards", "terminations", "commands", "events", "curriculum", "reset")
"""Sections of a step, in report order; time outside them is ``other``."""

_ABSENT = object()
_WRAPPED_METHODS = {
    "physics": (("sim", "step"), ("scene", "write_data_to_sim"), ("scene", "update")),
    "actions": (("action_manager", "process_action"), ("action_manager", "apply_action"), ("action_manager", "reset")),
    "observations": (("observation_manager", "compute"), ("observation_manager", "reset")),
    "rewards": (("reward_manager", "compute"), ("reward_manager", "reset")),
    "terminations": (("termination_manager", "compute"), ("termination_manager", "reset")),
    "commands": (("command_manager", "compute"), ("command_manager", "reset")),
    "events": (("event_manager", "apply"), ("event_manager", "reset")),
    "curriculum": (("curriculum_manager", "compute"), ("curriculum_manager", "reset")),
    "reset": ((None, "_reset_idx"),),
}


class StepProfiler:
    """Exclusive wall time per section of ``env.step`` (a manager-based RL env).

    ``with StepProfiler(env) as prof: env.step(a)`` then ``prof.per_step_ms()``.
    """

    def __init__(self, env, sync: bool | None = None, clock=time.perf_counter):
        self.env = env
        self.sync = torch.device(env.device).type == "cuda" if sync is None else sync
        self.clock = clock
        self.totals: dict[str, float] = defaultdict(float)
        self.steps = 0
        self.step_seconds: list[float] = []
        self._stack: list[list] = []  # [section, start of its current uncharged interval]
        self._wrapped: list[tuple[object, str, object]] = []  # owner, method, its own attribute before
        for section, methods in _WRAPPED_METHODS.items():
            for owner_name, method in methods:
                owner = env if owner_name is None else getattr(env, owner_name, None)
                if owner is not None and hasattr(owner, method):
                    self._wrap(owner, method, section)
        self._wrap(env, "step", "step")

    # ----------------------------------------------------------------------------------
    def _now(self) -> float:
        if self.sync:
            torch.cuda.synchronize()
        return self.clock()

    def _enter(self, section: str) -> None:
        now = self._now()
        if self._stack:
            parent = self._stack[-1]
            self.totals[parent[0]] += now - parent[1]
        self._stack.append([section, now])

    def _exit(self) -> None:
        now = self._now()
        section, start = self._stack.pop()
        self.totals[section] += now - start
        if self._stack:
            self._stack[-1][1] = now

    def _wrap(self, owner, method: str, section: str) -> None:
        original = getattr(owner, method)
        own = vars(owner).get(method, _ABSENT) if hasattr(owner, "__dict__") else _ABSENT

        @functools.wraps(original)
        def timed(*args, **kwargs):
            start = self.clock() if section == "step" else None
            self._enter(section)
            try:
                with record_function(section):  # a named range in torch profiler traces
                    return original(*args, **kwargs)
            finally:
                self._exit()
                if start is not None:
                    self.steps += 1
                    self.step_seconds.append(self.clock() - start)

        setattr(owner, method, timed)  # an instance attribute: shadows the class's method
        self._wrapped.append((owner, method, own))

    # ----------------------------------------------------------------------------------
    def per_step_ms(self) -> dict[str, float]:
        """Mean milliseconds per env step of each section, ``other`` and ``total``."""
        n = max(self.steps, 1)
        out = {s: 1e3 * self.totals.get(s, 0.0) / n for s in SECTIONS}
        out["other"] = 1e3 * self.totals.get("step", 0.0) / n
        out["total"] = 1e3 * sum(self.step_seconds) / n
        return out

    def close(self) -> None:
        """Remove every wrapper (the instances' methods are what they were before)."""
        for owner, method, own in reversed(self._wrapped):
            if own is _ABSENT:
                delattr(owner, method)
            else:
                setattr(owner, method, own)
        self._wrapped.clear()

    def __enter__(self) -> StepProfiler:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

"""A termination term that never terminates: it lets evaluation code look at every env after the
physics step and the termination checks, before terminated envs are reset (the moment an
attempt's last state still exists)."""

from __future__ import annotations

import torch

from isaaclab.managers import ManagerTermBase

PROBE_TERM = "step_probe"


class StepProbe(ManagerTermBase):
    """Calls each of :attr:`listeners` with the env once per step, then answers "no termination"."""

    def __init__(self, cfg, env):
        super().__init__(cfg, env)
        self.listeners: list = []

    def __call__(self, env) -> torch.Tensor:
        for listener in self.listeners:
            listener(env)
        return torch.zeros(env.num_envs, dtype=torch.bool, device=env.device)


def add_step_probe(env_cfg) -> None:
    """Add the probe as the last termination term of an env cfg."""
    from isaaclab.managers import TerminationTermCfg

    setattr(env_cfg.terminations, PROBE_TERM, TerminationTermCfg(func=StepProbe))


def step_probe(env) -> StepProbe | None:
    """The env's probe instance (None when the cfg has none)."""
    manager = env.unwrapped.termination_manager
    if PROBE_TERM not in manager.active_terms:
        return None
    return manager.get_term_cfg(PROBE_TERM).func

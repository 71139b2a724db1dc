"""Keeping NaN and infinity out of what an environment step returns, without a host sync.

Two layers (docs/reliability.md):

* the termination term ``non_finite_state`` ends (as a failure) every episode whose simulated
  state became non-finite, so Isaac Lab's own reset writes a fresh start before the
  observations are computed; it also ends the episodes whose previous step returned a
  non-finite observation;
* :func:`guard_step`, run at the end of each step, replaces non-finite observation values and
  rewards by 0 in place (nothing non-finite leaves the step), marks the environments whose
  observation was non-finite (a finite state can give a non-finite observation) so that
  ``non_finite_state`` ends their episode at the next step, and zeroes non-finite entries of the
  step's log. The counts go to the log under ``Guard/`` as device tensors, read when the log
  is written (once per learning iteration), never within the step.
"""

from __future__ import annotations

import math

import torch

NON_FINITE_OBSERVATION = "non_finite_observation"
"""Env attribute: per env, whether its last returned observation held a non-finite value."""


def _non_finite_rows(obs: dict) -> torch.Tensor | None:
    """Per env whether some observation group holds a non-finite value (None without groups)."""
    bad = None
    for value in obs.values():
        if torch.is_tensor(value):
            rows = ~torch.isfinite(value.reshape(value.shape[0], -1)).all(dim=-1)
            bad = rows if bad is None else bad | rows
    return bad


def _finite_log(log: dict) -> dict:
    """The log with non-finite numbers dropped and non-finite tensor entries set to 0."""
    out = {}
    for key, value in log.items():
        if torch.is_tensor(value):
            out[key] = torch.nan_to_num(value.float(), nan=0.0, posinf=0.0, neginf=0.0)
        elif not isinstance(value, float) or math.isfinite(value):
            out[key] = value
    return out


def observation_was_non_finite(env) -> torch.Tensor:
    """Per env whether the observation its last step returned held NaN or infinity."""
    flags = getattr(env, NON_FINITE_OBSERVATION, None)
    return flags if flags is not None else torch.zeros(env.num_envs, dtype=torch.bool, device=env.device)


def guard_step(env, obs: dict, reward: torch.Tensor, terminated: torch.Tensor, truncated: torch.Tensor,
               extras: dict) -> None:  # fmt: skip
    """Make a finished step's outputs finite, in place (see the module docstring). No host sync."""
    bad_reward = ~torch.isfinite(reward)
    torch.nan_to_num_(reward, nan=0.0, posinf=0.0, neginf=0.0)
    bad_obs = _non_finite_rows(obs)
    counts = {"Guard/non_finite_rewards": bad_reward.sum().float()}
    if bad_obs is not None:
        for value in obs.values():
            if torch.is_tensor(value):
                torch.nan_to_num_(value, nan=0.0, posinf=0.0, neginf=0.0)
        setattr(env, NON_FINITE_OBSERVATION, bad_obs)
        counts["Guard/non_finite_observation_resets"] = bad_obs.sum().float()
    extras["log"] = _finite_log(extras.get("log", {}))
    extras["log"].update(counts)

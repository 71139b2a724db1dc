"""Keeping NaN and infinity out of what an environment step returns.

Two layers (docs/reliability.md):

* the termination term ``non_finite_state`` ends (as a failure) every episode whose simulated
  state became non-finite, so Isaac Lab's own reset writes a fresh start before the
  observations are computed;
* :func:`guard_step`, run at the end of each step, resets the environments whose observation is
  still non-finite (a finite state can give a non-finite observation), zeroes non-finite
  rewards (an env's last step before that reset) and drops non-finite entries from the step's
  log. The counts go to the log under ``Guard/``.
"""

from __future__ import annotations

import math

import torch


def _non_finite_rows(obs: dict) -> torch.Tensor | None:
    """Per env whether some observation group holds a non-finite value (None without groups)."""
    bad = None
    for value in obs.values():
        if torch.is_tensor(value):
            rows = ~torch.isfinite(value.reshape(value.shape[0], -1)).all(dim=-1)
            bad = rows if bad is None else bad | rows
    return bad


def _finite_log(log: dict) -> dict:
    def finite(v) -> bool:
        if torch.is_tensor(v):
            return bool(torch.isfinite(v).all())
        return not isinstance(v, float) or math.isfinite(v)

    return {k: v for k, v in log.items() if finite(v)}


def guard_step(env, obs: dict, reward: torch.Tensor, terminated: torch.Tensor, truncated: torch.Tensor,
               extras: dict) -> None:  # fmt: skip
    """Make a finished step's outputs finite, in place (see the module docstring). Costs one
    device synchronisation per step when everything is finite."""
    bad_reward = ~torch.isfinite(reward)
    bad_obs = _non_finite_rows(obs)
    bad = bad_reward if bad_obs is None else bad_reward | bad_obs
    counts = {"Guard/non_finite_observation_resets": 0.0, "Guard/non_finite_rewards": 0.0}
    if bool(bad.any()):
        counts["Guard/non_finite_rewards"] = float(bad_reward.sum())
        reward[bad_reward] = 0.0
        ids = torch.nonzero(bad_obs).flatten() if bad_obs is not None else bad_obs
        if ids is not None and len(ids):
            counts["Guard/non_finite_observation_resets"] = float(len(ids))
            terminated[ids] = True
            truncated[ids] = False
            log = dict(extras.get("log", {}))
            env._reset_idx(ids)  # Isaac Lab's reset path, as its own manual resets use it
            extras["log"] = {**log, **extras.get("log", {})}
            fresh = env.observation_manager.compute()
            for group, value in obs.items():
                if torch.is_tensor(value):
                    value[ids] = torch.nan_to_num(fresh[group][ids], nan=0.0, posinf=0.0, neginf=0.0)
        extras["log"] = _finite_log(extras.get("log", {}))
    extras.setdefault("log", {}).update(counts)

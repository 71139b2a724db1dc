"""Timing the student's extra work (printed by ``./intermimic.sh benchmark student``).

* the batched teachers: one :meth:`TeacherBank.act` call for all environments with 1, 4, 15
  teachers of the teacher's size, environments spread evenly over the teachers;
* one learning iteration of the student runner against one of the teacher's PPO runner, on the
  same environment count (rollout and update timed separately).
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass

import torch
from tensordict import TensorDict

from .models import ClippedMLPModel
from .teacher_bank import TeacherBank

TEACHER_HIDDEN = (1024, 1024, 512)


def _sync(device) -> None:
    if str(device).startswith("cuda"):
        torch.cuda.synchronize(device)


def _random_teacher(obs_dim: int, num_actions: int, device) -> ClippedMLPModel:
    obs = TensorDict({"teacher": torch.zeros(1, obs_dim)}, batch_size=[1])
    model = ClippedMLPModel(obs, {"actor": ["teacher"]}, "actor", num_actions, hidden_dims=list(TEACHER_HIDDEN),
                            activation="relu", obs_normalization=True,
                            distribution_cfg={"class_name": "GaussianDistribution", "init_std": math.exp(-2.9),
                                              "learn_std": False})  # fmt: skip
    return model.eval().requires_grad_(False).to(device)


@dataclass
class BankTiming:
    teachers: int
    envs: int
    ms_per_call: float
    ms_per_1k_envs: float


def time_teacher_bank(num_envs: int, counts=(1, 4, 15), obs_dim: int = 3198, num_actions: int = 153,
                      device: str = "cpu", repeats: int = 10) -> list[BankTiming]:  # fmt: skip
    """Median time of one batched teacher call for each teacher count."""
    rows = []
    obs = torch.randn(num_envs, obs_dim, device=device)
    for n in counts:
        bank = TeacherBank({s: _random_teacher(obs_dim, num_actions, device) for s in range(n)})
        ids = torch.arange(num_envs, device=device) % n
        bank.act(obs, ids)  # warm-up
        times = []
        for _ in range(repeats):
            _sync(device)
            start = time.perf_counter()
            bank.act(obs, ids)
            _sync(device)
            times.append(time.perf_counter() - start)
        ms = 1000.0 * sorted(times)[len(times) // 2]
        rows.append(BankTiming(n, num_envs, ms, ms * 1000.0 / num_envs))
    return rows


def bank_table(rows: list[BankTiming]) -> str:
    lines = ["batched teachers (one call for all environments, median):", "teachers  envs  ms/call  ms per 1k envs"]
    lines += [f"{r.teachers:>8}  {r.envs:>4}  {r.ms_per_call:>7.2f}  {r.ms_per_1k_envs:>14.2f}" for r in rows]
    return "\n".join(lines)


def as_dicts(rows) -> list[dict]:
    return [asdict(r) for r in rows]

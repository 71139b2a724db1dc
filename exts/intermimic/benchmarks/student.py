"""Timing the student's extra work (printed by ``./intermimic.sh benchmark student``).

* the batched teachers: one :meth:`TeacherBank.act` call for all environments with 1, 4, 15
  teachers of the teacher's size, environments spread evenly over the teachers;
* one learning iteration of the student runner against one of the teacher's PPO runner, on the
  same environment count (rollout and update timed separately).
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from tensordict import TensorDict

from ..learning.models import ClippedMLPModel
from ..learning.teacher_bank import TeacherBank
from ..tasks import STUDENT_TASK, STUDENT_TRANSFORMER_TASK, TEACHER_TASK
from .env import add_args as add_env_args
from .env import run_in_fresh_process
from .measure import sync

HELP = "batched teachers' cost; student vs teacher iteration time"
"""One line for ``benchmark --help``."""

TEACHER_HIDDEN = (1024, 1024, 512)


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
            sync(device)
            start = time.perf_counter()
            bank.act(obs, ids)
            sync(device)
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


def add_args(p: argparse.ArgumentParser) -> None:
    add_env_args(p)
    p.set_defaults(task=None, steps=None)
    p.add_argument("--teachers", type=int, nargs="+", default=[1, 4, 15],
                   help="teacher counts of the batched-teacher timing (default: 1 4 15)")  # fmt: skip


def _random_teachers(subjects: list[int], folder: Path) -> list[str]:
    """``teachers.paths.<s>=`` overrides naming untrained teachers of the teacher's size."""
    out = []
    for s in subjects:
        path = folder / f"teacher_sub{s}.pt"
        torch.save({"actor_state_dict": _random_teacher(3198, 153, "cpu").state_dict()}, path)
        out.append(f"teachers.paths.{s}={path}")
    return out


def run(args, overrides: list[str]) -> int:
    """The batched teachers' cost, then one learning iteration of the teacher and of the students
    at one env count (env steps, acting, update), each task in a fresh process."""
    from ..app.command_line import pick_device
    from ..app.configure import data_subjects

    args.device = pick_device(args.device)
    cuda = args.device.startswith("cuda")
    num_envs = (args.num_envs or [4096 if cuda else 16])[0]
    if num_envs < 1 or min(args.teachers) < 1:
        raise SystemExit("benchmark student: --num_envs and --teachers must be positive")
    print(f"student benchmark: device {args.device}, {num_envs} envs", flush=True)
    print(bank_table(time_teacher_bank(num_envs, tuple(args.teachers), device=args.device)) + "\n", flush=True)

    logs = Path(tempfile.mkdtemp(prefix="intermimic-benchmark-"))
    teachers = _random_teachers(data_subjects(args.motion, overrides), logs)
    args.num_envs = None
    args.steps = args.steps or (50 if cuda else 5)
    args.warmup = args.warmup if args.warmup is not None else (10 if cuda else 2)
    rows = []
    for task in (TEACHER_TASK, STUDENT_TASK, STUDENT_TRANSFORMER_TASK):
        task_args = argparse.Namespace(**{**vars(args), "task": task})
        extra = teachers if task != TEACHER_TASK else []
        log_path = None if args.show_log else str(logs / f"{task}.log")
        print(f"  {task} ...", flush=True)
        r = run_in_fresh_process(task_args, overrides + extra, num_envs, log_path)
        if "error" in r:
            print(f"  {task} failed: {r['error']}" + (f" (log: {log_path})" if log_path else ""), flush=True)
            return 1
        rows.append((task, r))
    print(f"\none learning iteration at {num_envs} envs (ms; medians of {args.steps} env steps):\n")
    print(f"{'task':<40}{'steps/env':>10}{'env step':>10}{'act':>10}{'update':>10}{'iteration':>11}{'ms/1k env-steps':>17}")
    for task, r in rows:
        steps = round(r["ppo_update_ms"] / r["ppo_update_per_env_step_ms"])
        iteration = steps * (r["env_step_ms"] + r["policy_act_ms"]) + r["ppo_update_ms"]
        per_k = iteration / (steps * num_envs) * 1000.0
        print(f"{task:<40}{steps:>10d}{r['env_step_ms']:>10.1f}{r['policy_act_ms']:>10.1f}{r['ppo_update_ms']:>10.0f}"
              f"{iteration:>11.0f}{per_k:>17.1f}")  # fmt: skip
    print("\n'act': the teacher's PPO acting, or the student's acting with its critic and the batched teachers "
          "(untrained, of the teacher's size); 'update': one learning update over the iteration's samples.")
    return 0

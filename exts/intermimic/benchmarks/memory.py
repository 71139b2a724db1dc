"""Device memory per component of a training run (``benchmark memory``), computed from the code's
shapes, not measured: each task is built once with a few environments on the CPU, and the sizes
per environment, per frame of motion data and per network are read off the objects the code
makes (observation groups, rollout storage, motion library, PSI buffer, episode recorder, models,
optimiser states, the autograd tensors a mini-batch keeps). They are then scaled to the env counts
and hours of data asked for. The physics engine's own memory (the simulated state and contact
buffers of Newton or PhysX) is not among them: ``benchmark env --device cuda:0`` measures the
whole process.
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
from pathlib import Path

from ..utils.arguments import float_above, int_at_least
from .env import run_in_fresh_process

HELP = "device memory per component at 4096 and 8192 envs (teacher, MLP and Transformer students), from the shapes"
"""One line for ``benchmark --help``."""

GB = 1e9
BUDGETS_GB = (24.0, 80.0)
NORMALISER_CHUNK_BYTES = 256 * 2**20
"""What the normaliser update concatenates at most (learning/ppo.py)."""


def add_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--num_envs", type=int_at_least(1), nargs="+", default=[4096, 8192], help="env counts (default: 4096 8192)")
    p.add_argument("--hours", type=float_above(0), default=1.0, help="hours of motion data (default: %(default)s)")
    p.add_argument("--teachers", type=int_at_least(1), default=15, help="teachers of the students (default: %(default)s)")
    p.add_argument("--longest_clip_s", type=float_above(0), default=30.0,
                   help="longest clip, seconds (sizes the in-training evaluation's buffer; default: %(default)s)")  # fmt: skip
    p.add_argument("--json", default=None, metavar="FILE", help="also write the numbers to FILE (JSON)")
    p.add_argument("--show_log", action="store_true", help="print the simulator's output")


def _fill_storage(env, alg, steps: int) -> None:
    """One rollout of the policy into the algorithm's storage, with its returns."""
    import torch

    obs = env.get_observations().to(alg.device)
    with torch.inference_mode():
        for _ in range(steps):
            actions = alg.act(obs)
            obs, rewards, dones, extras = env.step(actions)
            alg.process_env_step(obs, rewards, dones, extras)
        alg.compute_returns(obs)


def _saved_bytes_per_sample(alg, storage) -> float:
    """Bytes autograd keeps for the backward pass of one mini-batch loss, per sample (measured on a
    batch drawn from the rollout in the storage)."""
    import torch

    batch = next(iter(storage.mini_batch_generator(1, 1)))
    samples = batch.observations.batch_size[0]
    saved = []

    def pack(t):
        saved.append(t.numel() * t.element_size())
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        loss, _ = alg.mini_batch_loss(batch)
    loss.backward()
    alg.optimizer.zero_grad()
    return sum(saved) / samples


def measure_shapes(args: argparse.Namespace, overrides: list[str], num_envs: int) -> dict:
    """The per-unit sizes of ``args.task`` (built with ``num_envs`` envs on the CPU)."""
    import torch

    from isaaclab_rl.rsl_rl import check_rsl_rl_version, handle_deprecated_rsl_rl_cfg

    from ..app.configure import resolve_configs
    from ..app.session import env_and_runner

    args = argparse.Namespace(**{**vars(args), "num_envs": num_envs, "device": "cpu"})
    env_cfg, agent_cfg = resolve_configs(args, overrides)
    agent_cfg = handle_deprecated_rsl_rl_cfg(agent_cfg, check_rsl_rl_version())
    with tempfile.TemporaryDirectory() as log_dir, env_and_runner(args, env_cfg, agent_cfg, log_dir=log_dir) as (env, runner):
        base = env.unwrapped
        cmd = base.command_manager.get_term("motion")
        lib = cmd.library
        frames = int(lib.clip_length.sum())
        storage = runner.alg.storage
        steps = agent_cfg.num_steps_per_env
        stored = [v for v in vars(storage).values() if torch.is_tensor(v)]
        stored += list(storage.observations.values()) if hasattr(storage.observations, "values") else []
        params = sum(p.numel() for m in (runner.alg.actor, runner.alg.critic) for p in m.parameters())
        obs = env.get_observations()
        teachers = getattr(runner, "teachers", None)
        runner.alg.train_mode()
        _fill_storage(env, runner.alg, steps)
        return {
            "task": args.task,
            "num_steps_per_env": steps,
            "num_mini_batches": agent_cfg.algorithm.num_mini_batches,
            "observation_groups": {k: int(v.shape[-1]) for k, v in obs.items()},
            "stored_groups": sorted(storage.observations.keys()),
            "observation_bytes_per_env": sum(v[0].numel() * v.element_size() for v in obs.values()),
            "storage_bytes_per_env_step": sum(t.nbytes for t in stored) / (steps * num_envs),
            "library_bytes_per_frame": lib.nbytes() / frames,
            "library_sources": sorted(lib.sources),
            "start_frame_bytes_per_frame": sum(t.nbytes for t in (cmd.start_sampler.failures, cmd.start_sampler._clip_of_frame,
                                                                  cmd.start_sampler._frame_in_clip)) / frames,  # fmt: skip
            "psi_bytes_per_frame": (cmd.psi.states.nbytes + cmd.psi.scores.nbytes) / frames if cmd.psi else 0.0,
            "recorder_bytes_per_env": (cmd.recorder._buffer.nbytes + cmd.recorder._finite.nbytes) / num_envs if cmd.recorder else 0.0,
            "parameters": params,
            "teacher_parameters": sum(p.numel() for p in teachers.models[0].parameters()) if teachers else 0,
            "saved_bytes_per_sample": _saved_bytes_per_sample(runner.alg, storage),
        }  # fmt: skip


def component_bytes(shapes: dict, num_envs: int, hours: float, teachers: int, longest_clip_s: float) -> dict[str, float]:
    """Bytes of each component at ``num_envs`` envs and ``hours`` of data (see the module docstring)."""
    frames = hours * 3600 * 30
    steps = shapes["num_steps_per_env"]
    params = shapes["parameters"] * 4
    mini_batch = steps * num_envs / shapes["num_mini_batches"]
    student = shapes["teacher_parameters"] > 0
    return {
        "motion library": shapes["library_bytes_per_frame"] * frames,
        "start-frame statistics": shapes["start_frame_bytes_per_frame"] * frames,
        "PSI buffer": shapes["psi_bytes_per_frame"] * frames,
        "episode recorder (PSI)": shapes["recorder_bytes_per_env"] * num_envs,
        "observation buffers": shapes["observation_bytes_per_env"] * num_envs,
        "rollout storage": shapes["storage_bytes_per_env_step"] * steps * num_envs,
        "networks, gradients, Adam": params * 4,
        "teacher bank": shapes["teacher_parameters"] * 4 * teachers if student else 0.0,
        "mini-batch autograd (transient)": shapes["saved_bytes_per_sample"] * mini_batch,
        "skipped-step copies (transient)": params * 3,
        "normaliser update (transient)": min(NORMALISER_CHUNK_BYTES, shapes["observation_bytes_per_env"] * num_envs * steps),
        "interaction graph (transient)": 7 * (1 << 24) * 4,  # about seven 64 MB temporaries (docs/performance.md)
        "fixed-start evaluation (AttemptLog)": num_envs * (longest_clip_s * 30 + 32) * 2 * 4,
    }


def format_table(columns: list[tuple[str, dict[str, float]]]) -> str:
    rows = list(columns[0][1])
    width = max(len(r) for r in rows) + 2
    head = "component".ljust(width) + "".join(f"{name:>22s}" for name, _ in columns)
    lines = [head]
    for row in rows:
        lines.append(row.ljust(width) + "".join(f"{values[row] / GB:>19.2f} GB" for _, values in columns))
    totals = [sum(v.values()) for _, v in columns]
    lines.append("total (without physics)".ljust(width) + "".join(f"{t / GB:>19.2f} GB" for t in totals))
    for budget in BUDGETS_GB:
        lines.append(f"  fits {budget:g} GB".ljust(width) + "".join(f"{'yes' if t / GB < budget else 'NO':>22s}" for t in totals))
    return "\n".join(lines)


def run(args, overrides: list[str]) -> int:
    from ..tasks import STUDENT_TASK, STUDENT_TRANSFORMER_TASK, TEACHER_TASK
    from .student import _random_teachers

    print(f"memory benchmark: shapes read off each task built with 2 envs on the CPU; scaled to {args.num_envs} envs, "
          f"{args.hours:g} h of data, {args.teachers} teachers per student", flush=True)  # fmt: skip
    logs = Path(tempfile.mkdtemp(prefix="intermimic-memory-"))
    from ..app.configure import data_subjects

    teachers = _random_teachers(data_subjects(getattr(args, "motion", None), overrides), logs)
    shapes = {}
    for task in (TEACHER_TASK, STUDENT_TASK, STUDENT_TRANSFORMER_TASK):
        task_args = argparse.Namespace(task=task, motion=getattr(args, "motion", None), seed=0, num_envs=None,
                                       device="cpu", visualizer=None, headless=True)  # fmt: skip
        extra = teachers if task != TEACHER_TASK else []
        print(f"  {task} ...", flush=True)
        result = run_in_fresh_process(task_args, overrides + extra, 2, None if args.show_log else str(logs / f"{task}.log"),
                                      target=measure_shapes)  # fmt: skip
        if "error" in result:
            print(f"  {task} failed: {result['error']} (log: {logs / f'{task}.log'})", flush=True)
            return 1
        shapes[task] = result
    columns = []
    for task, s in shapes.items():
        short = {TEACHER_TASK: "teacher", STUDENT_TASK: "MLP student", STUDENT_TRANSFORMER_TASK: "Transformer"}[task]
        for n in args.num_envs:
            columns.append((f"{short} {n}", component_bytes(s, n, args.hours, args.teachers, args.longest_clip_s)))
    print()
    for task, s in shapes.items():
        print(f"{task}: observation groups {s['observation_groups']} (stored: {', '.join(s['stored_groups'])}); "
              f"{s['parameters'] / 1e6:.1f} M parameters (actor + critic); {s['num_steps_per_env']} steps per env "
              f"and iteration; motion sources {', '.join(s['library_sources'])}")  # fmt: skip
    print("\n" + format_table(columns))
    if args.json:
        out = Path(args.json)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"shapes": shapes, "columns": {n: v for n, v in columns},
                                   "hours": args.hours, "teachers": args.teachers}, indent=1))  # fmt: skip
        print(f"\nwrote {out}")
    return 0 if all(math.isfinite(sum(v.values())) for _, v in columns) else 1

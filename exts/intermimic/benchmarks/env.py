"""Environment benchmark at one env count: throughput, where a step's time goes, PPO update,
memory and scene build time. Used by ``source/benchmark.py env``, which runs
:func:`measure_env` in a fresh process per env count and prints the table.

Phases, after ``warmup`` steps:

1. ``steps`` plain env steps, each timed alone and followed by a physics-only step (the env's
   physics calls for one policy step, no manager): env step and physics-only step times
   (medians), env-steps/s, and ``env_vs_physics_ratio``, the median of the per-pair ratios
   (pairs a second apart see the same machine load);
2. ``steps`` env steps under :class:`~intermimic.benchmarks.step_profiler.StepProfiler`: mean
   milliseconds per step of physics and of each manager, and their ratio
   ``profiled_vs_physics_ratio`` (profiled step over its physics part);
3. one PPO update of the task's runner on a rollout storage filled at this env count (the
   policy acts on the env's observations; rewards are synthetic), timed alone.

Actions put the PD targets on the reference pose (a stand-in for a trained policy, so
episodes run as in training rather than ending at once).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import statistics
import tempfile
import time
import traceback
from contextlib import contextmanager
from pathlib import Path

import torch

from ..utils.arguments import int_at_least
from .measure import GpuMemory, output_into, peak_rss_mb, sync
from .step_profiler import StepProfiler

HELP = "environment step time per manager, PPO update, memory, build time"
"""One line for ``benchmark --help``."""
CPU_ENV_COUNTS = (4, 16, 64)
CUDA_ENV_COUNTS = (256, 1024, 4096, 8192)


def reference_actions(env) -> torch.Tensor:
    """Actions whose PD targets are the current reference joint positions."""
    cmd = env.command_manager.get_term("motion")
    term = env.action_manager.get_term("joint_pos")
    return term.actions_for_targets(cmd.reference().dof_pos)


def _actions(env, kind: str) -> torch.Tensor:
    if kind == "zero":
        return torch.zeros(env.num_envs, env.action_manager.total_action_dim, device=env.device)
    return reference_actions(env)


def time_env_step(env, actions: str) -> float:
    """Seconds of one env step."""
    a = _actions(env, actions)
    sync(env.device)
    start = time.perf_counter()
    env.step(a)
    sync(env.device)
    return time.perf_counter() - start


def time_physics_step(env) -> float:
    """Seconds of one physics-only policy step: the same physics calls as an env step (write,
    ``decimation`` solver steps, read back) with the last actions' targets, no manager."""
    per_call = env.cfg.decimation if getattr(env, "_physics_handles_decimation", False) else 1
    sync(env.device)
    start = time.perf_counter()
    for _ in range(env.cfg.decimation // per_call):
        env.scene.write_data_to_sim()
        env.sim.step(render=False)
        env.scene.update(dt=env.physics_dt * per_call)
    sync(env.device)
    return time.perf_counter() - start


def time_paired_steps(env, steps: int, actions: str) -> tuple[list[float], list[float]]:
    """``steps`` env steps, each followed by a physics-only step: (env seconds, physics seconds).
    Alternating keeps a shared machine's changing load out of their ratio."""
    env_s, physics_s = [], []
    for _ in range(steps):
        env_s.append(time_env_step(env, actions))
        physics_s.append(time_physics_step(env))
    return env_s, physics_s


def profile_env_steps(env, steps: int, actions: str) -> tuple[dict[str, float], float]:
    """Mean ms per env step of each section, and the fraction of envs reset per step."""
    resets = 0
    with StepProfiler(env) as prof:
        for _ in range(steps):
            env.step(_actions(env, actions))
            resets += int(env.reset_buf.sum())
        return prof.per_step_ms(), resets / (steps * env.num_envs)


@contextmanager
def traced(stem: Path, device: str):
    """Record what runs inside: ``<stem>_trace.json`` (torch profiler, chrome://tracing or
    Perfetto; manager sections appear as named ranges), ``<stem>_ops.txt`` (torch ops by self
    time) and ``<stem>.pstats`` (Python functions; ``python -m pstats FILE``)."""
    from torch.profiler import ProfilerActivity, profile

    stem.parent.mkdir(parents=True, exist_ok=True)
    cuda = torch.device(device).type == "cuda"
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    python = cProfile.Profile()
    with profile(activities=activities) as prof:
        python.enable()
        try:
            yield
        finally:
            python.disable()
    python.dump_stats(str(stem) + ".pstats")
    prof.export_chrome_trace(str(stem) + "_trace.json")
    sort = "self_cuda_time_total" if cuda else "self_cpu_time_total"
    Path(str(stem) + "_ops.txt").write_text(prof.key_averages().table(sort_by=sort, row_limit=50))


def time_ppo_update(wrapped_env, agent_cfg) -> dict[str, float]:
    """One PPO update of the task's runner at this env count: the storage is filled with
    ``num_steps_per_env`` transitions (the policy acting on the env's current observations,
    synthetic rewards), then ``alg.update()`` is timed alone."""
    from ..learning.runners import create_runner

    runner = create_runner(wrapped_env, agent_cfg, log_dir=None)
    alg = runner.alg
    device = agent_cfg.device
    obs = wrapped_env.get_observations().to(device)
    num_envs = wrapped_env.num_envs
    g = torch.Generator(device=device).manual_seed(0)
    alg.train_mode()
    act_seconds = []
    with torch.inference_mode():
        for _ in range(agent_cfg.num_steps_per_env):
            sync(device)
            start = time.perf_counter()
            alg.act(obs)
            sync(device)
            act_seconds.append(time.perf_counter() - start)
            rewards = torch.rand(num_envs, device=device, generator=g)
            dones = torch.rand(num_envs, device=device, generator=g) < 0.01
            alg.process_env_step(obs, rewards, dones, {"time_outs": torch.zeros_like(dones)})
        alg.compute_returns(obs)
    sync(device)
    start = time.perf_counter()
    alg.update()
    sync(device)
    update_s = time.perf_counter() - start
    return {
        "ppo_update_ms": 1e3 * update_s,
        "ppo_update_per_env_step_ms": 1e3 * update_s / agent_cfg.num_steps_per_env,
        "policy_act_ms": 1e3 * statistics.median(act_seconds),
    }


def _median_ms(seconds: list[float]) -> float:
    return 1e3 * statistics.median(seconds)


def measure_env(args: argparse.Namespace, overrides: list[str], num_envs: int) -> dict:
    """Every benchmark number at ``num_envs`` envs (see the module docstring).

    ``args``: ``task``, ``device``, ``motion``, ``seed``, ``steps``, ``warmup``, ``threads``,
    ``actions``, ``ppo``, ``build_only`` (build and reset only), ``trace`` (a folder: profile the
    profiled phase with :func:`traced`) and Isaac Lab's launcher
    arguments; ``overrides`` as for training."""
    import gymnasium as gym
    from isaaclab.app import launch_simulation

    from isaaclab_rl.rsl_rl import RslRlVecEnvWrapper, check_rsl_rl_version, handle_deprecated_rsl_rl_cfg

    from ..app.configure import resolve_configs

    if args.threads:
        torch.set_num_threads(args.threads)
    args = argparse.Namespace(**{**vars(args), "num_envs": num_envs})
    env_cfg, agent_cfg = resolve_configs(args, overrides)
    agent_cfg = handle_deprecated_rsl_rl_cfg(agent_cfg, check_rsl_rl_version())
    device = env_cfg.sim.device
    gpu = GpuMemory(device)
    result: dict = {"num_envs": num_envs, "device": device, "torch_threads": torch.get_num_threads(),
                    "steps": args.steps, "actions": args.actions}  # fmt: skip
    with launch_simulation(env_cfg, args):
        start = time.perf_counter()
        gym_env = gym.make(args.task, cfg=env_cfg)
        result["build_s"] = time.perf_counter() - start
        env = gym_env.unwrapped
        try:
            result["step_threads"] = getattr(env, "step_threads", None) or result["torch_threads"]
            for key, seconds in getattr(env, "build_seconds", {}).items():
                result[f"build_{key}_s"] = seconds
            env.reset()
            if args.build_only:
                result["peak_rss_mb"] = peak_rss_mb()
                result.update(gpu.report())
                return result
            for _ in range(args.warmup):
                time_env_step(env, args.actions)
            gpu.sample()

            env_s, physics_s = time_paired_steps(env, args.steps, args.actions)
            result["env_step_ms"] = _median_ms(env_s)
            result["env_steps_per_s"] = num_envs / statistics.median(env_s)
            result["physics_only_ms"] = _median_ms(physics_s)
            result["env_vs_physics_ratio"] = statistics.median(e / p for e, p in zip(env_s, physics_s))
            if args.trace:
                with traced(Path(args.trace) / f"env_{num_envs}", device):
                    sections, result["reset_fraction"] = profile_env_steps(env, args.steps, args.actions)
            else:
                sections, result["reset_fraction"] = profile_env_steps(env, args.steps, args.actions)
            result["sections_ms"] = sections
            result["profiled_vs_physics_ratio"] = sections["total"] / sections["physics"]
            result["peak_rss_env_mb"] = peak_rss_mb()
            gpu.sample()
            if args.ppo:
                wrapped = RslRlVecEnvWrapper(gym_env, clip_actions=agent_cfg.clip_actions)
                result.update(time_ppo_update(wrapped, agent_cfg))
            result["peak_rss_mb"] = peak_rss_mb()
            result.update(gpu.report())
        finally:
            gym_env.close()
    return result


def add_args(p: argparse.ArgumentParser) -> None:
    from isaaclab.app import add_launcher_args

    from ..tasks import TEACHER_TASK

    p.add_argument("--task", default=TEACHER_TASK, help="gym task ID (default: %(default)s)")
    p.add_argument("--num_envs", type=int_at_least(1), nargs="+", default=None,
                   help=f"env counts (default: {' '.join(map(str, CPU_ENV_COUNTS))} on the CPU, "
                        f"{' '.join(map(str, CUDA_ENV_COUNTS))} on CUDA)")  # fmt: skip
    p.add_argument("--steps", type=int_at_least(1), default=None, help="timed env steps per phase (default: 20 on the CPU, 200 on CUDA)")
    p.add_argument("--warmup", type=int_at_least(0), default=None, help="untimed steps first (default: 3 on the CPU, 20 on CUDA)")
    p.add_argument("--runs", type=int_at_least(1), default=1, help="measure each env count K times (fresh process each) and report medians")
    p.add_argument("--json", default=None, metavar="FILE", help="also write the numbers to FILE (JSON), after each env count")
    p.add_argument("--threads", type=int_at_least(1), default=None, help="torch CPU threads (default: torch's default)")
    p.add_argument("--actions", choices=("reference", "zero"), default="reference",
                   help="reference: PD targets on the reference pose (default); zero: all-zero actions")  # fmt: skip
    p.add_argument("--no-ppo", dest="ppo", action="store_false", help="skip the PPO update")
    p.add_argument("--build_only", action="store_true", help="only build the scene and reset (build time and memory)")
    p.add_argument("--trace", default=None, metavar="DIR",
                   help="profile the profiled phase: torch profiler trace, op table and Python profile per env count "
                        "in DIR (slows the step down: read where time goes, not how much)")  # fmt: skip
    p.add_argument("--seed", type=int, default=None, help="seed of env and agent")
    p.add_argument("--motion", nargs="+", default=None, metavar="PATH", help="clip files, folders or data set YAML files")
    p.add_argument("--show_log", action="store_true", help="print the simulator's output (default: written to a log file)")
    add_launcher_args(p)
    p.set_defaults(device=None)


ENV_ROWS = (
    ("env-steps/s", "env_steps_per_s", "{:.1f}"),
    ("env step (median ms)", "env_step_ms", "{:.1f}"),
    ("physics-only step (median ms)", "physics_only_ms", "{:.1f}"),
    ("env / physics-only", "env_vs_physics_ratio", "{:.3f}"),
    ("profiled step (mean ms)", "sections_ms.total", "{:.1f}"),
    ("  profiled / its physics", "profiled_vs_physics_ratio", "{:.3f}"),
    ("  physics", "sections_ms.physics", "{:.2f}"),
    ("  actions", "sections_ms.actions", "{:.2f}"),
    ("  observations", "sections_ms.observations", "{:.2f}"),
    ("  rewards", "sections_ms.rewards", "{:.2f}"),
    ("  terminations", "sections_ms.terminations", "{:.2f}"),
    ("  commands", "sections_ms.commands", "{:.2f}"),
    ("  events", "sections_ms.events", "{:.2f}"),
    ("  curriculum", "sections_ms.curriculum", "{:.2f}"),
    ("  reset (scene, rest)", "sections_ms.reset", "{:.2f}"),
    ("  other", "sections_ms.other", "{:.2f}"),
    ("envs reset per step", "reset_fraction", "{:.3f}"),
    ("torch threads: env step", "step_threads", "{:d}"),
    ("torch threads: PPO", "torch_threads", "{:d}"),
    ("policy act (median ms)", "policy_act_ms", "{:.1f}"),
    ("PPO update (ms)", "ppo_update_ms", "{:.0f}"),
    ("  per env step (ms)", "ppo_update_per_env_step_ms", "{:.1f}"),
    ("peak host RSS, env steps (MB)", "peak_rss_env_mb", "{:.0f}"),
    ("peak host RSS, whole run (MB)", "peak_rss_mb", "{:.0f}"),
    ("peak GPU torch alloc (MB)", "gpu_peak_allocated_mb", "{:.0f}"),
    ("GPU device used (MB)", "gpu_device_used_mb", "{:.0f}"),
    ("scene build (s)", "build_s", "{:.1f}"),
    ("  data + objects (s)", "build_data_s", "{:.1f}"),
    ("  scene, sim, managers (s)", "build_scene_s", "{:.1f}"),
)


def _lookup(result: dict, path: str):
    value = result
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return value


def format_env_table(results: list[dict]) -> str:
    """Rows: the measured quantities (those measured at some env count); columns: the env counts."""
    width = max(len(r[0]) for r in ENV_ROWS) + 2
    head = "".join(f"{r['num_envs']:>12d}" for r in results)
    lines = ["num_envs".ljust(width) + head]
    for label, path, fmt in ENV_ROWS:
        values = [_lookup(r, path) for r in results]
        if all(v is None for v in values):
            continue
        lines.append(label.ljust(width) + "".join(f"{'-' if v is None else fmt.format(v):>12s}" for v in values))
    return "\n".join(lines)


def median_of_runs(runs: list[dict]) -> dict:
    """Per number, the median over runs (nested dicts per key; other values from the first run)."""
    out = {}
    for key, first in runs[0].items():
        values = [r.get(key) for r in runs]
        if isinstance(first, dict):
            out[key] = median_of_runs(values)
        elif isinstance(first, float) and all(isinstance(v, (int, float)) for v in values):
            out[key] = statistics.median(values)
        else:
            out[key] = first
    return out


def _measure_in_child(args, overrides: list[str], num_envs: int, log_path: str | None, target=None) -> dict:
    """Runs in a fresh process: the simulator's output goes to ``log_path`` unless verbose."""
    if log_path is not None:
        output_into(log_path)
    try:
        return (target or measure_env)(args, overrides, num_envs)
    except Exception:
        traceback.print_exc()  # into the log; the parent reports the error in one line
        raise


def run_in_fresh_process(args, overrides: list[str], num_envs: int, log_path: str | None, target=None) -> dict:
    """``target(args, overrides, num_envs)`` (default :func:`measure_env`) in a fresh process; its
    result, or ``{"num_envs", "error"}`` when it failed or the process died."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        try:
            return pool.submit(_measure_in_child, args, overrides, num_envs, log_path, target).result()
        except BrokenProcessPool:
            return {"num_envs": num_envs, "error": "the process died (out of memory?)"}
        except Exception as exc:  # noqa: BLE001  (a failure at one env count must not lose the others)
            return {"num_envs": num_envs, "error": f"{type(exc).__name__}: {exc}"}


def run(args, overrides: list[str]) -> int:
    import torch

    from ..app.command_line import pick_device
    from ..app.overrides import physics_preset

    physics = physics_preset(overrides)
    args.device = pick_device(args.device)
    cuda = args.device.startswith("cuda")
    counts = args.num_envs or list(CUDA_ENV_COUNTS if cuda else CPU_ENV_COUNTS)
    args.num_envs = None
    args.steps = args.steps or (200 if cuda else 20)
    args.warmup = args.warmup if args.warmup is not None else (20 if cuda else 3)
    logs = Path(tempfile.mkdtemp(prefix="intermimic-benchmark-"))
    print(f"env benchmark: task {args.task}, physics {physics}, device {args.device}, torch {torch.__version__}, "
          f"{os.cpu_count()} CPUs, "
          f"{args.steps} steps per phase after {args.warmup} warm-up steps, {args.runs} run(s) per env count"
          + ("" if args.show_log else f"; simulator output in {logs}/"), flush=True)  # fmt: skip
    results: list[dict] = []
    for n in counts:
        runs = []
        for k in range(args.runs):
            log_path = None if args.show_log else str(logs / f"env_{n}_run{k}.log")
            print(f"  {n} envs, run {k + 1}/{args.runs} ...", flush=True)
            r = run_in_fresh_process(args, overrides, n, log_path)
            if "error" in r:
                print(f"  {n} envs failed: {r['error']}" + (f" (log: {log_path})" if log_path else ""), flush=True)
                break
            runs.append(r)
        if not runs:
            results.append({"num_envs": n, "error": r["error"]})
        else:
            results.append(median_of_runs(runs) | {"runs": len(runs)})
        if args.json:
            write_env_json(args.json, args, overrides, results)
    measured = [r for r in results if "error" not in r]
    if measured:
        note = f" (medians of {args.runs} runs)" if args.runs > 1 else ""
        print(f"\nenv benchmark{note}: ms per env step, profiled sections are means over {args.steps} steps\n")
        print(format_env_table(measured))
    if args.json:
        print(f"\nwrote {args.json}")
    return 0 if len(measured) == len(results) else 1


def write_env_json(path: str, args, overrides: list[str], results: list[dict]) -> None:
    import platform

    import torch

    meta = {"task": args.task, "device": args.device, "steps": args.steps, "warmup": args.warmup, "runs": args.runs,
            "actions": args.actions, "overrides": overrides, "torch": torch.__version__, "cpus": os.cpu_count(),
            "machine": platform.platform(), "date": time.strftime("%Y-%m-%d %H:%M:%S")}  # fmt: skip
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(json.dumps({"meta": meta, "results": results}, indent=1))
    tmp.replace(out)

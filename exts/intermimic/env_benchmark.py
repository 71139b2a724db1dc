"""Environment benchmark at one env count: throughput, where a step's time goes, PPO update,
memory and scene build time. Used by ``source/benchmark.py env``, which runs
:func:`measure_env` in a fresh process per env count and prints the table.

Phases, after ``warmup`` steps:

1. ``steps`` plain env steps, each timed alone and followed by a physics-only step (the env's
   physics calls for one policy step, no manager): env step and physics-only step times
   (medians), env-steps/s, and ``env_vs_physics_ratio``, the median of the per-pair ratios
   (pairs a second apart see the same machine load);
2. ``steps`` env steps under :class:`~intermimic.tasks.step_profiler.StepProfiler`: mean
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
import resource
import statistics
import time
from contextlib import contextmanager
from pathlib import Path

import torch

from .tasks.step_profiler import StepProfiler

BYTES_PER_MB = 1024.0 * 1024.0


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


class GpuMemory:
    """Peak torch-allocated CUDA memory and the most device memory seen in use (which also
    counts Warp's and the CUDA context's memory), sampled at phase ends."""

    def __init__(self, device: str):
        self.enabled = torch.device(device).type == "cuda"
        self.device_used_mb = 0.0
        if self.enabled:
            torch.cuda.reset_peak_memory_stats()

    def sample(self) -> None:
        if self.enabled:
            torch.cuda.synchronize()
            free, total = torch.cuda.mem_get_info()
            self.device_used_mb = max(self.device_used_mb, (total - free) / BYTES_PER_MB)

    def report(self) -> dict[str, float | None]:
        self.sample()
        if not self.enabled:
            return {"gpu_peak_allocated_mb": None, "gpu_device_used_mb": None}
        return {"gpu_peak_allocated_mb": torch.cuda.max_memory_allocated() / BYTES_PER_MB,
                "gpu_device_used_mb": self.device_used_mb}  # fmt: skip


def _sync(device) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


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
    _sync(env.device)
    start = time.perf_counter()
    env.step(a)
    _sync(env.device)
    return time.perf_counter() - start


def time_physics_step(env) -> float:
    """Seconds of one physics-only policy step: the same physics calls as an env step (write,
    ``decimation`` solver steps, read back) with the last actions' targets, no manager."""
    per_call = env.cfg.decimation if getattr(env, "_physics_handles_decimation", False) else 1
    _sync(env.device)
    start = time.perf_counter()
    for _ in range(env.cfg.decimation // per_call):
        env.scene.write_data_to_sim()
        env.sim.step(render=False)
        env.scene.update(dt=env.physics_dt * per_call)
    _sync(env.device)
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
    from .learning.runners import create_runner

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
            _sync(device)
            start = time.perf_counter()
            alg.act(obs)
            _sync(device)
            act_seconds.append(time.perf_counter() - start)
            rewards = torch.rand(num_envs, device=device, generator=g)
            dones = torch.rand(num_envs, device=device, generator=g) < 0.01
            alg.process_env_step(obs, rewards, dones, {"time_outs": torch.zeros_like(dones)})
        alg.compute_returns(obs)
    _sync(device)
    start = time.perf_counter()
    alg.update()
    _sync(device)
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

    from .launch import resolve_configs

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


"""The learning check (``./intermimic.sh benchmark learning``): does a bounded training run learn?

Three things are measured on the same task, data and start-frame mechanism:

* the **policy**: a training run (``train.py``) with the fixed-start evaluation switched on
  (``agent.eval_interval``), read back from its TensorBoard events;
* two **baselines** that do not learn, rolled in one env before the run: ``zero`` (all-zero
  actions: PD targets at the middle of each joint's range) and ``reference_pd`` (PD targets on
  the reference pose of the current frame). They start like training does (start-frame sampler,
  PSI off as it is empty at first) with the curriculum paused, so their starts stay those of a
  fresh run; each is also evaluated on fixed starts (every clip from frame 0).

Results: ``learning_check.json`` (every curve and baseline number) and ``learning_check.png``.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import torch

from .env_benchmark import reference_actions

TRAIN_TAGS = {
    "return": "Train/mean_reward",
    "episode_length": "Train/mean_episode_length",
    "kl": "Loss/kl",
    "learning_rate": "Loss/learning_rate",
    "value_loss": "Loss/value",
    "explained_variance": "Loss/explained_variance",
    "grad_norm_actor": "Loss/grad_norm/actor",
    "grad_norm_critic": "Loss/grad_norm/critic",
}
"""Curve name -> TensorBoard tag of the training run (besides the prefixed groups below)."""
TAG_GROUPS = {
    "reward": "Reward/",
    "termination": "Episode_Termination/",
    "starts": "Curriculum/state_init_statistics/",
    "eval": "Eval/",
}
"""Curve group -> TensorBoard tag prefix (every tag with it is read)."""
BASELINES = ("zero", "reference_pd")


# ---------------------------------------------------------------------------------------------
# Baselines


def baseline_actions(env, kind: str) -> torch.Tensor:
    if kind == "zero":
        return torch.zeros(env.num_envs, env.action_manager.total_action_dim, device=env.device)
    if kind == "reference_pd":
        return reference_actions(env)
    raise ValueError(f"unknown baseline '{kind}', expected one of {list(BASELINES)}")


def roll_baseline(wrapped, kind: str, steps: int) -> dict:
    """Roll a baseline for ``steps`` env steps on training starts (curriculum paused): mean
    episode return and length of the episodes that ended, each reward factor and termination
    share as the training log averages them."""
    base = wrapped.unwrapped
    cmd = base.command_manager.get_term("motion")
    cmd.curriculum_paused = True
    try:
        wrapped.reset()
        ret = torch.zeros(base.num_envs, device=base.device)
        length = torch.zeros(base.num_envs, device=base.device)
        returns, lengths, logged = [], [], {}
        for _ in range(steps):
            with torch.inference_mode():
                _, reward, dones, extras = wrapped.step(baseline_actions(base, kind))
            ret += reward
            length += 1
            done = dones > 0
            returns += ret[done].tolist()
            lengths += length[done].tolist()
            ret[done], length[done] = 0.0, 0.0
            for key, value in extras.get("log", {}).items():
                if key.startswith(("Reward/", "Episode_Termination/")):
                    logged.setdefault(key, []).append(float(value))
    finally:
        cmd.curriculum_paused = False
    out = {"episodes": len(returns), "steps": steps,
           "return": _mean(returns), "episode_length": _mean(lengths)}  # fmt: skip
    out.update({key: _mean(values) for key, values in sorted(logged.items())})
    return out


def evaluate_baseline(wrapped, kind: str) -> dict:
    """The baseline on fixed starts (every clip from frame 0, as ``evaluate``): its summary."""
    from .learning.fixed_start_eval import evaluate_in_training

    table = evaluate_in_training(wrapped, lambda obs: baseline_actions(wrapped.unwrapped, kind))
    summary = table.summary(1.0 / wrapped.unwrapped.step_dt)
    return {k: v for k, v in summary.items() if not isinstance(v, dict)}


def measure_baselines(args: argparse.Namespace, overrides: list[str], iterations: int) -> tuple[dict, int]:
    """Both baselines in one env built like the training run's (task, data, envs, seed), each
    rolled as many env steps as ``iterations`` learning iterations take; returns the results and
    that step count."""
    import gymnasium as gym
    from isaaclab.app import launch_simulation

    from isaaclab_rl.rsl_rl import RslRlVecEnvWrapper

    from .launch import resolve_configs
    from .learning.fixed_start_eval import prepare_training_env

    env_cfg, agent_cfg = resolve_configs(args, overrides)
    prepare_training_env(env_cfg)
    steps = iterations * agent_cfg.num_steps_per_env
    results = {}
    with launch_simulation(env_cfg, args):
        gym_env = gym.make(args.task, cfg=env_cfg)
        wrapped = RslRlVecEnvWrapper(gym_env, clip_actions=agent_cfg.clip_actions)
        try:
            for kind in BASELINES:
                print(f"[intermimic] baseline {kind}: {steps} steps on training starts, then fixed starts", flush=True)
                results[kind] = {"training_starts": roll_baseline(wrapped, kind, steps),
                                 "fixed_starts": evaluate_baseline(wrapped, kind)}  # fmt: skip
        finally:
            gym_env.close()
    return results, steps


# ---------------------------------------------------------------------------------------------
# Reading the run


def read_run_curves(run: Path) -> dict[str, dict[str, list[list[float]]]]:
    """``{group: {name: [[iteration, value], ...]}}`` of the run's TensorBoard events."""
    from .learning.curves import read_scalars

    scalars = read_scalars(run)

    def points(tag):
        steps, values = scalars[tag]
        return [[s, v] for s, v in zip(steps, values)]

    curves: dict[str, dict[str, list[list[float]]]] = {"train": {}}
    for name, tag in TRAIN_TAGS.items():
        if tag in scalars:
            curves["train"][name] = points(tag)
    for group, prefix in TAG_GROUPS.items():
        curves[group] = {t[len(prefix) :]: points(t) for t in scalars if t.startswith(prefix)}
    return curves


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def first_move(curve: list[list[float]], window: int = 3, share: float = 0.25) -> int | None:
    """The first iteration after which ``curve``'s running mean (over ``window`` points) left
    the band of its first ``window`` points by more than ``share`` of the whole curve's range."""
    values = [v for _, v in curve]
    if len(values) < 2 * window:
        return None
    span = max(values) - min(values)
    if span <= 0:
        return None
    start = sum(values[:window]) / window
    for i in range(window, len(values) - window + 1):
        if abs(sum(values[i : i + window]) / window - start) > share * span:
            return int(curve[i][0])
    return None


def peak_and_fall(curve: list[list[float]]) -> dict:
    """Where ``curve`` peaks and how far it is below the peak at the end (share of the peak)."""
    if not curve:
        return {}
    best = max(curve, key=lambda p: p[1])
    last = sum(v for _, v in curve[-5:]) / len(curve[-5:])
    return {"peak_iteration": int(best[0]), "peak": best[1], "final_mean_last5": last,
            "fall_from_peak": (best[1] - last) / best[1] if best[1] else None}  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Plot


def plot_learning_check(report: dict, path: Path) -> Path:
    """A 3 x 3 grid: return and length with the baselines, fixed-start evaluation, start
    frames, terminations, reward factors, KL and learning rate, value loss and explained
    variance, gradient norms."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves, baselines = report["curves"], report["baselines"]
    fig, axes = plt.subplots(3, 3, figsize=(15, 11))
    colours = {"zero": "tab:gray", "reference_pd": "tab:orange"}

    def line(ax, curve, label, **kw):
        if curve:
            ax.plot([p[0] for p in curve], [p[1] for p in curve], label=label, **kw)

    def baseline_lines(ax, where, key):
        for kind, result in baselines.items():
            value = result[where].get(key)
            if value is not None and math.isfinite(value):
                ax.axhline(value, color=colours.get(kind), linestyle="--", label=f"{kind} ({where.replace('_', ' ')})")

    ax = axes[0, 0]
    line(ax, curves["train"].get("return"), "policy (training starts)")
    baseline_lines(ax, "training_starts", "return")
    ax.set_title("mean episode return")
    ax = axes[0, 1]
    line(ax, curves["train"].get("episode_length"), "policy (training starts)")
    baseline_lines(ax, "training_starts", "episode_length")
    ax.set_title("mean episode length (steps)")
    ax = axes[0, 2]
    line(ax, curves["eval"].get("duration_s"), "policy", marker="o")
    baseline_lines(ax, "fixed_starts", "duration_s")
    twin = ax.twinx()
    line(twin, curves["eval"].get("success_rate"), "success rate", marker="s", color="tab:green")
    twin.set_ylim(-0.05, 1.05)
    twin.set_ylabel("success rate", color="tab:green")
    ax.set_title("fixed starts (frame 0): seconds survived per clip")
    ax = axes[1, 0]
    for name, curve in curves["starts"].items():
        if "share" in name or "fraction" in name:
            line(ax, curve, name)
    ax.set_title("start frames")
    ax = axes[1, 1]
    for name, curve in curves["termination"].items():
        if curve and max(v for _, v in curve) > 0:
            line(ax, curve, name)
    ax.set_title("episodes ended by (per step, mean)")
    ax = axes[1, 2]
    for name in ("r", "r_h", "r_o", "r_ig_total", "r_cg"):
        line(ax, curves["reward"].get(name), name)
    ax.set_title("reward factors (episode means)")
    ax = axes[2, 0]
    line(ax, curves["train"].get("kl"), "KL")
    twin = ax.twinx()
    line(twin, curves["train"].get("learning_rate"), "learning rate", color="tab:red")
    twin.set_yscale("log")
    twin.set_ylabel("learning rate", color="tab:red")
    ax.set_title("KL and learning rate")
    ax = axes[2, 1]
    line(ax, curves["train"].get("value_loss"), "value loss")
    twin = ax.twinx()
    line(twin, curves["train"].get("explained_variance"), "explained variance", color="tab:purple")
    twin.set_ylabel("explained variance", color="tab:purple")
    ax.set_title("critic")
    ax = axes[2, 2]
    line(ax, curves["train"].get("grad_norm_actor"), "actor")
    line(ax, curves["train"].get("grad_norm_critic"), "critic")
    ax.set_yscale("log")
    ax.set_title("gradient norm (before any clipping)")
    for ax in axes.flat:
        ax.set_xlabel("iteration")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    meta = report["meta"]
    fig.suptitle(f"learning check: {meta['task']}, {meta['num_envs']} envs on {meta['device']}, "
                 f"{meta['iterations']} iterations, seed {meta['seed']} ({meta['commit']})")  # fmt: skip
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def write_report(report: dict, out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    path = out / "learning_check.json"
    path.write_text(json.dumps(report, indent=1))
    return path, plot_learning_check(report, out / "learning_check.png")

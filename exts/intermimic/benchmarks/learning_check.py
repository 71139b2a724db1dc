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
import os
import subprocess
import sys
from pathlib import Path

import torch

from ..utils.arguments import int_at_least
from ..utils.errors import UserError
from ..utils.paths import REPO_ROOT
from .env import reference_actions

HELP = "a bounded training run with baselines: does it learn? (JSON + PNG)"
"""One line for ``benchmark --help``."""

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
    from ..learning.fixed_start_eval import evaluate_in_training

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

    from ..app.configure import resolve_configs
    from ..learning.fixed_start_eval import prepare_training_env

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
    from ..learning.curves import read_scalars

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


LEARNING_DEFAULTS = {"cpu": {"num_envs": 16, "iterations": 80, "eval_interval": 10},
                     "cuda": {"num_envs": 4096, "iterations": 1000, "eval_interval": 50}}  # fmt: skip


def add_args(p: argparse.ArgumentParser) -> None:
    from isaaclab.app import add_launcher_args

    p.add_argument("--task", default="InterMimic-Teacher-v0")
    p.add_argument("--num_envs", type=int_at_least(1), default=None, help="Envs (default: 16 on the CPU, 4096 on CUDA).")
    p.add_argument("--iterations", type=int_at_least(2), default=None, help="Learning iterations (default: 80 CPU, 1000 CUDA).")
    p.add_argument("--eval_interval", type=int_at_least(1), default=None,
                   help="Fixed-start evaluation every K iterations (default: 10 CPU, 50 CUDA).")  # fmt: skip
    p.add_argument("--baseline_iterations", type=int_at_least(1), default=10,
                   help="Baseline rollouts as long as this many iterations' env steps (default: 10).")  # fmt: skip
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", default="logs/learning_check", help="Folder of the report and the run (default: %(default)s).")
    p.add_argument("--motion", nargs="+", default=None, metavar="PATH", help="clip files, folders or data set YAML files")
    add_launcher_args(p)
    p.set_defaults(device=None)


def _git_commit() -> str:
    proc = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                          cwd=REPO_ROOT)  # fmt: skip
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True,
                           cwd=REPO_ROOT).stdout.strip()  # fmt: skip
    return (proc.stdout.strip() or "unknown") + ("+changes" if dirty else "")


def _train_with_progress(cmd: list[str], log_file: Path, iterations: int) -> int:
    """Run the training command, its output into ``log_file``; print the project's lines and
    one progress line per iteration."""
    import re

    with open(log_file, "w") as log_fh, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                                         text=True) as proc:  # fmt: skip
        for line in proc.stdout:
            log_fh.write(line)
            found = re.search(r"Learning iteration (\d+)/", line)
            if found:
                print(f"[intermimic] iteration {int(found.group(1)) + 1}/{iterations}", flush=True)
            elif line.startswith("[intermimic]"):
                print(line, end="", flush=True)
        return proc.wait()


def run(args, overrides: list[str]) -> int:
    import platform

    from ..app.command_line import pick_device

    device = pick_device(args.device)
    kind = "cuda" if device.startswith("cuda") else "cpu"
    defaults = LEARNING_DEFAULTS[kind]
    args.num_envs = args.num_envs or defaults["num_envs"]
    iterations = args.iterations or defaults["iterations"]
    eval_interval = args.eval_interval or defaults["eval_interval"]
    args.device = device
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    train = [sys.executable, str(REPO_ROOT / "source" / "train.py"), "--task", args.task, "--device", device,
             "--num_envs", str(args.num_envs), "--max_iterations", str(iterations), "--seed", str(args.seed),
             "--log_root", str(out / "logs"), *(["--motion", *args.motion] if args.motion else []),
             f"agent.eval_interval={eval_interval}", *overrides]  # fmt: skip
    baselines, steps = measure_baselines(args, overrides, args.baseline_iterations)
    print(f"[intermimic] training: {args.num_envs} envs, {iterations} iterations, fixed-start evaluation every "
          f"{eval_interval} (log: {out / 'train.log'})", flush=True)  # fmt: skip
    if _train_with_progress(train, out / "train.log", iterations) != 0:
        raise UserError(f"the training run failed; its output is in {out / 'train.log'}")
    run = max((out / "logs" / "rsl_rl").glob("*/*"), key=lambda p: p.stat().st_mtime)
    curves = read_run_curves(run)
    command = "./intermimic.sh benchmark learning " + " ".join(sys.argv[sys.argv.index("learning") + 1 :]) \
        if "learning" in sys.argv else "benchmark learning"  # fmt: skip
    report = {
        "meta": {"task": args.task, "device": device, "num_envs": args.num_envs, "iterations": iterations,
                 "eval_interval": eval_interval, "seed": args.seed, "commit": _git_commit(), "command": command.strip(),
                 "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores, {platform.system()}",
                 "run": str(run), "baseline_steps": steps},
        "baselines": baselines, "curves": curves,
        "summary": {"return": peak_and_fall(curves["train"].get("return", [])),
                    "first_moves": {name: first_move(curve) for group in ("train", "starts", "eval")
                                    for name, curve in curves[group].items()}},
    }  # fmt: skip
    json_path, png_path = write_report(report, out)
    _print_learning_table(report)
    print(f"\n[intermimic] report: {json_path}\n[intermimic] curves: {png_path}")
    return 0


def _print_learning_table(report: dict) -> None:
    curves, baselines = report["curves"], report["baselines"]

    def last(group, name):
        curve = curves[group].get(name) or []
        return curve[-1][1] if curve else None

    rows = [("mean episode return (training starts)", last("train", "return"),
             *(b["training_starts"]["return"] for b in baselines.values())),
            ("mean episode length, steps (training starts)", last("train", "episode_length"),
             *(b["training_starts"]["episode_length"] for b in baselines.values())),
            ("fixed starts: success rate", last("eval", "success_rate"),
             *(b["fixed_starts"]["success_rate"] for b in baselines.values())),
            ("fixed starts: seconds per clip", last("eval", "duration_s"),
             *(b["fixed_starts"]["duration_s"] for b in baselines.values())),
            ("fixed starts: E_h (cm)", last("eval", "E_h_cm"), *(b["fixed_starts"]["E_h_cm"] for b in baselines.values()))]  # fmt: skip
    for key, label in (("E_hand_cm", "E_hand (cm)"), ("finger_error_deg", "finger joint error (deg)"),
                       ("hand_contact_precision", "hand contact precision"), ("hand_contact_recall", "hand contact recall")):
        rows.append((f"fixed starts: {label}", last("eval", key), *(b["fixed_starts"].get(key) for b in baselines.values())))
    names = ["policy (last)", *baselines]
    width = max(len(r[0]) for r in rows) + 2
    print("\n" + "".ljust(width) + "".join(f"{n:>16s}" for n in names))
    for label, *values in rows:
        print(label.ljust(width) + "".join(f"{'-' if v is None else f'{v:.3f}':>16s}" for v in values))
    peak = report["summary"]["return"]
    if peak:
        print(f"\nreturn peaked at iteration {peak['peak_iteration']} ({peak['peak']:.2f}); "
              f"mean of the last 5: {peak['final_mean_last5']:.2f}")

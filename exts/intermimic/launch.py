"""Command-line plumbing shared by ``source/train.py``, ``play.py`` and ``evaluate.py``.

Arguments: Isaac Lab's launcher flags (``--device``, ``--viz``, ...), the usual ``--task``,
``--num_envs``, ``--seed``, ``--motion PATH...``, then ``key=value`` overrides: ours
(``dataset=``, ``dataset.<field>=``, ``experiment=``) and Isaac Lab's (``physics=``,
``env.<path>=``, ``agent.<path>=``).
"""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import contextmanager

import torch

CPU_DEFAULT_NUM_ENVS = 8
CPU_DEFAULT_ITERATIONS = 20
AGENT_ENTRY_POINT = "rsl_rl_cfg_entry_point"


def make_parser(description: str, default_task: str) -> argparse.ArgumentParser:
    from isaaclab.app import add_launcher_args

    parser = argparse.ArgumentParser(
        description=description,
        epilog=(
            "Overrides (key=value): dataset=<name> (config/datasets), dataset.<field>=<value>, "
            "experiment=<name> (config/experiments), teachers=<name> (config/teachers, student tasks), "
            "teachers.paths.<subject>=<checkpoint>, physics=newton|isaacsim_physx, env.<path>=<value>, "
            "agent.<path>=<value>."
        ),
    )
    parser.add_argument("--task", default=default_task, help=f"Gym task ID (default: {default_task}).")
    parser.add_argument("--num_envs", type=int, default=None, help="Number of parallel environments.")
    parser.add_argument("--seed", type=int, default=None, help="Random seed of env and agent.")
    parser.add_argument(
        "--motion",
        nargs="+",
        default=None,
        metavar="PATH",
        help="Clip files (.pt), folders of clips or data set YAML files; default: the built-in demo clips.",
    )
    add_launcher_args(parser)
    parser.set_defaults(device=None)
    return parser


def parse(parser: argparse.ArgumentParser, argv: list[str] | None = None):
    args, rest = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    if getattr(args, "motion", None):
        # ``--motion a.pt b.pt key=value``: the greedy list swallows overrides that follow it
        overrides = [m for m in args.motion if "=" in m and not os.path.exists(m)]
        args.motion = [m for m in args.motion if m not in overrides] or None
        rest = overrides + rest
    unknown_flags = [t for t in rest if t.startswith("-")]
    if unknown_flags:
        parser.error(f"unrecognized arguments: {' '.join(unknown_flags)}")
    bad = [t for t in rest if "=" not in t]
    if bad:
        parser.error(f"expected key=value overrides, got: {' '.join(bad)}")
    return args, rest


def pick_device(requested: str | None) -> str:
    """``--device`` as given; by default CUDA when available, else the CPU."""
    if requested:
        if requested.startswith("cuda") and not torch.cuda.is_available():
            raise SystemExit(f"--device {requested}: CUDA is not available on this machine; use --device cpu")
        return requested
    from .tasks.agents.rsl_rl_ppo_cfg import default_device

    return default_device()


def resolve_configs(args, overrides: list[str]):
    """(env_cfg, agent_cfg) of ``args.task`` with presets, overrides, data and device applied."""
    from isaaclab_tasks.utils import resolve_task_config

    from . import tasks  # noqa: F401  (registers the gym IDs)
    from .presets import apply_experiment, dataset_overrides, split_overrides, teacher_paths

    named, dotlists, isaaclab_tokens = split_overrides(overrides)
    env_cfg, agent_cfg = resolve_task_config(args.task, AGENT_ENTRY_POINT, overrides=isaaclab_tokens)
    if named["experiment"]:
        apply_experiment(named["experiment"], env_cfg, agent_cfg)
    if named["teachers"] or dotlists["teachers"]:
        if not hasattr(agent_cfg, "teachers"):
            raise SystemExit(f"teachers=...: task {args.task} has no teachers (only student tasks do)")
        paths = teacher_paths(named["teachers"], dotlists["teachers"])
        agent_cfg.teachers = {**agent_cfg.teachers, **{str(s): p for s, p in paths.items()}}

    motion_cfg = env_cfg.commands.motion.motion
    for key, value in dataset_overrides(named["dataset"], dotlists["dataset"]).items():
        setattr(motion_cfg, key, value)
    if args.motion:
        motion_cfg.files = list(args.motion)

    device = pick_device(args.device)
    env_cfg.sim.device = device
    if agent_cfg is not None and hasattr(agent_cfg, "device"):
        agent_cfg.device = device
    if args.num_envs is not None:
        env_cfg.scene.num_envs = args.num_envs
    if args.seed is not None:
        env_cfg.seed = args.seed
        if agent_cfg is not None:
            agent_cfg.seed = args.seed
    elif agent_cfg is not None:
        env_cfg.seed = agent_cfg.seed
    return env_cfg, agent_cfg


def apply_cpu_defaults(args, env_cfg, agent_cfg, explicit_iterations: bool) -> None:
    """On the CPU, default to a short demonstration run unless sizes were given."""
    if env_cfg.sim.device != "cpu":
        return
    notes = []
    if args.num_envs is None:
        env_cfg.scene.num_envs = CPU_DEFAULT_NUM_ENVS
        notes.append(f"--num_envs {CPU_DEFAULT_NUM_ENVS}")
    if not explicit_iterations and agent_cfg is not None:
        agent_cfg.max_iterations = CPU_DEFAULT_ITERATIONS
        notes.append(f"--max_iterations {CPU_DEFAULT_ITERATIONS}")
    if notes:
        print(
            f"[intermimic] Running on the CPU: using {' '.join(notes)} (a short demonstration run). "
            "Real training needs a GPU; pass these flags to change the sizes.",
            flush=True,
        )


@contextmanager
def wrapped_env(args, env_cfg, clip_actions: float | None = 1.0):
    """Launch the simulation and create the task's env wrapped for rsl_rl; closed on exit."""
    import gymnasium as gym
    from isaaclab.app import launch_simulation

    from isaaclab_rl.rsl_rl import RslRlVecEnvWrapper

    with launch_simulation(env_cfg, args):
        env = gym.make(args.task, cfg=env_cfg)
        try:
            env = RslRlVecEnvWrapper(env, clip_actions=clip_actions)
            yield env
        finally:
            env.close()


@contextmanager
def env_and_runner(args, env_cfg, agent_cfg, log_dir: str | None = None, checkpoint=None):
    """Launch the simulation, create the task's env wrapped for rsl_rl and the runner named by
    ``agent_cfg`` (loading ``checkpoint`` when given: this project's or the release's format);
    the env is closed on exit."""
    from .learning.release_checkpoint import load_checkpoint
    from .learning.runners import create_runner

    with wrapped_env(args, env_cfg, clip_actions=agent_cfg.clip_actions) as env:
        runner = create_runner(env, agent_cfg, log_dir)
        if checkpoint is not None:
            load_checkpoint(runner, checkpoint, map_location=agent_cfg.device)
        yield env, runner


def data_subjects(motion_files: list[str] | None, overrides: list[str]) -> list[int]:
    """Subjects of the data that ``--motion`` files and ``dataset=...`` overrides select (the
    clips are read and checked, nothing is simulated)."""
    from .motion.config import MotionDataCfg
    from .motion.loader import load_library
    from .presets import dataset_overrides, split_overrides

    named, dotlists, _ = split_overrides(overrides)
    cfg = MotionDataCfg()
    for key, value in dataset_overrides(named["dataset"], dotlists["dataset"]).items():
        setattr(cfg, key, value)
    if motion_files:
        cfg.files = list(motion_files)
    return list(load_library(cfg, verbose=False).subjects)

"""Command-line plumbing shared by ``source/train.py``, ``play.py`` and ``evaluate.py``.

Arguments: Isaac Lab's launcher flags (``--device``, ``--viz``, ...), the usual ``--task``,
``--num_envs``, ``--seed``, ``--motion PATH...``, then ``key=value`` overrides: ours
(``dataset=``, ``dataset.<field>=``, ``experiment=``) and Isaac Lab's (``physics=``,
``env.<path>=``, ``agent.<path>=``).

Everything a user can get wrong is checked here before the simulation is built (numbers,
paths, task, presets, override keys and value types, the data set), and reported as a
:class:`~intermimic.cli.UserError` (one line, exit status 2).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from contextlib import contextmanager

import torch

from .cli import ArgumentParser, UserError, as_user_error, int_at_least, log, require_path

CPU_DEFAULT_NUM_ENVS = 8
AGENT_ENTRY_POINT = "rsl_rl_cfg_entry_point"

ISAAC_SIM_ONLY_OPTIONS = (
    "--livestream", "--xr", "--verbose", "--info", "--experience", "--deterministic", "--kit_args",
    "--anim_recording_enabled", "--anim_recording_start_time", "--anim_recording_stop_time",
)  # fmt: skip
"""Launcher options that only Isaac Sim (Kit) reads; the kit-less Newton physics ignores them."""

VIEWER_PACKAGES = {"viser": "viser", "rerun": "rerun"}
"""``--viz`` choices that need the ``viz`` install extra, and the module each one imports."""
VIZ_INSTALL_HINT = 'install the viewers with: .venv/bin/pip install -e ".[viz]"'

OVERRIDE_HELP = (
    "Overrides (key=value): dataset=<name> (config/datasets), dataset.<field>=<value>, "
    "experiment=<name> (config/experiments), teachers=<name> (config/teachers, student tasks), "
    "teachers.paths.<subject>=<checkpoint>, physics=newton|isaacsim_physx, env.<path>=<value>, "
    "agent.<path>=<value>."
)
_OWN_KEYS = ("dataset", "experiment", "teachers")
_OWN_FIELD_KEYS = ("dataset", "teachers")
"""Keys also taking ``key.<field>=`` overrides (checked where the preset is read)."""
_ISAACLAB_SELECTORS = ("physics", "renderer", "presets")


# -------------------------------------------------------------------------------------------------
# Parsing
# -------------------------------------------------------------------------------------------------
def make_parser(description: str, default_task: str) -> argparse.ArgumentParser:
    from isaaclab.app import add_launcher_args

    parser = ArgumentParser(description=description, epilog=OVERRIDE_HELP)
    parser.add_argument("--task", default=default_task, help=f"Gym task ID (default: {default_task}).")
    parser.add_argument("--num_envs", type=int_at_least(1), default=None, help="Number of parallel environments (>= 1).")
    parser.add_argument("--seed", type=int, default=None, help="Random seed of env and agent.")
    parser.add_argument(
        "--motion",
        nargs="+",
        default=None,
        metavar="PATH",
        help="Clip files (.pt), folders of clips or data set YAML files; default: the built-in demo clips.",
    )
    add_launcher_args(parser)
    _group_isaac_sim_options(parser)
    parser.set_defaults(device=None)
    return parser


def _group_isaac_sim_options(parser: argparse.ArgumentParser) -> None:
    """Move the launcher options only Isaac Sim reads into their own titled help section."""
    sim_only = parser.add_argument_group(
        "Isaac Sim only", "Read only when Isaac Sim is installed (physics=isaacsim_physx, --viz kit);\n"
        "the default kit-less Newton physics ignores them."
    )  # fmt: skip
    for group in parser._action_groups:
        if group is sim_only:
            continue
        moved = [a for a in group._group_actions if set(a.option_strings) & set(ISAAC_SIM_ONLY_OPTIONS)]
        for action in moved:
            group._group_actions.remove(action)
            sim_only._group_actions.append(action)
        if group.title == "launcher arguments":
            group.title, group.description = "simulation", "Device and viewers."
    for action in parser._actions:
        if "--viz" in action.option_strings:
            action.help = (
                "Viewer(s), comma-separated: viser (web page, port 8080), rerun (web viewer, port 9090), "
                f"newton_gl (a window; needs a display), kit (Isaac Sim). viser and rerun: {VIZ_INSTALL_HINT}."
            )


def split_arguments(parser: argparse.ArgumentParser, argv: list[str]):
    """``(args, overrides)`` from the command line: flags parsed, the rest must be key=value."""
    args, rest = parser.parse_known_args(argv)
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


def parse(parser: argparse.ArgumentParser, argv: list[str] | None = None):
    """:func:`split_arguments`, then: paths after ``--motion`` must exist, viewers named by
    ``--viz`` must be installed."""
    args, overrides = split_arguments(parser, sys.argv[1:] if argv is None else argv)
    for path in args.motion or ():
        require_path(path, "--motion")
    check_viewers(getattr(args, "visualizer", None))
    return args, overrides


def check_viewers(names: list[str] | None) -> None:
    """UserError when ``--viz`` names a viewer whose package is not installed."""
    for name in names or ():
        module = VIEWER_PACKAGES.get(name)
        if module and importlib.util.find_spec(module) is None:
            raise UserError(f"--viz {name}: the '{module}' package is not installed; {VIZ_INSTALL_HINT}")


def pick_device(requested: str | None) -> str:
    """``--device`` as given; by default CUDA when available, else the CPU."""
    if requested:
        if requested.startswith("cuda") and not torch.cuda.is_available():
            raise UserError(f"--device {requested}: CUDA is not available on this machine; use --device cpu")
        if not (requested == "cpu" or requested.startswith("cuda")):
            raise UserError(f"--device {requested}: expected cpu, cuda or cuda:N")
        return requested
    from .tasks.agents.rsl_rl_ppo_cfg import default_device

    return default_device()


# -------------------------------------------------------------------------------------------------
# Overrides
# -------------------------------------------------------------------------------------------------
def check_task(task: str) -> None:
    import gymnasium as gym

    from . import tasks  # noqa: F401  (registers the gym IDs)

    if task not in gym.registry:
        ours = sorted(name for name in gym.registry if name.startswith("InterMimic-"))
        raise UserError(f"--task {task}: unknown task; expected one of {', '.join(ours)}")


def _parse_value(text: str):
    """An override value as Hydra reads it: integer, number, true/false, null, [list], {mapping},
    else the text itself."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("null", "none"):
        return None
    if text.strip().startswith(("[", "{")):
        import yaml

        try:
            return yaml.safe_load(text)
        except yaml.YAMLError:
            return text
    return text


def _child(node, key: str):
    if isinstance(node, dict):
        return node[key] if key in node else AttributeError
    return getattr(node, key, AttributeError)


def _type_problem(current, value) -> str | None:
    """What is wrong with replacing ``current`` by ``value``, or None."""
    if value is None or current is None:
        return None
    if isinstance(current, bool):
        return None if isinstance(value, bool) else "expected true or false"
    if isinstance(current, int):
        return None if isinstance(value, int) and not isinstance(value, bool) else "expected an integer"
    if isinstance(current, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return None if ok else "expected a number"
    if isinstance(current, (list, tuple)):
        return None if isinstance(value, (list, tuple)) else "expected a list like [a,b]"
    if isinstance(current, dict):
        return None if isinstance(value, dict) else "expected a mapping like {a: 1}"
    if isinstance(current, str):
        return None if isinstance(value, str) else "expected text"
    return None  # a config object: a preset name or null


def physics_presets() -> list[str]:
    """Names accepted by ``physics=`` (the fields of the tasks' physics preset config)."""
    from .tasks.physics import HOIPhysicsCfg

    return sorted(name for name in vars(HOIPhysicsCfg()) if name != "default")


def check_overrides(tokens: list[str], env_cfg, agent_cfg) -> None:
    """UserError for an override whose key is unknown or whose value has the wrong type, checked
    against the task's default configs (Isaac Lab's Hydra would accept and keep both)."""
    for token in tokens:
        key, _, text = token.partition("=")
        if key.startswith(("+", "~")):
            continue  # Hydra's explicit add/delete syntax
        root, _, path = key.partition(".")
        if root == "physics" and not path and text not in physics_presets():
            raise UserError(f"{token}: unknown physics preset; expected one of {', '.join(physics_presets())}")
        if root in _OWN_KEYS or root in _ISAACLAB_SELECTORS:
            if path:
                if root in _OWN_FIELD_KEYS:
                    continue  # dataset.<field>, teachers.<field>: checked where the preset is read
                raise UserError(f"{token}: '{root}' takes a preset name ({root}=NAME), not a field")
            continue
        if root not in ("env", "agent") or not path:
            raise UserError(
                f"{token}: unknown override key '{key}'; expected dataset=, dataset.<field>=, experiment=, "
                "teachers=, teachers.<field>=, physics=, env.<path>= or agent.<path>="
            )
        node = env_cfg if root == "env" else agent_cfg
        walked = root
        for part in path.split("."):
            child = _child(node, part)
            if child is AttributeError:
                raise UserError(f"{token}: {walked} has no field '{part}'")
            node, walked = child, f"{walked}.{part}"
        problem = _type_problem(node, _parse_value(text))
        if problem:
            raise UserError(f"{token}: {problem} (current value: {node!r})")


def resolve_configs(args, overrides: list[str]):
    """(env_cfg, agent_cfg) of ``args.task`` with presets, overrides, data and device applied."""
    from isaaclab_tasks.utils import resolve_task_config

    from .presets import apply_experiment, dataset_overrides, split_overrides, teacher_paths

    check_task(args.task)
    named, dotlists, isaaclab_tokens = split_overrides(overrides)
    with as_user_error(ValueError, KeyError, context="overrides: "):
        selectors = [t for t in isaaclab_tokens if t.partition("=")[0] in _ISAACLAB_SELECTORS]
        check_overrides(selectors, None, None)
        env_cfg, agent_cfg = resolve_task_config(args.task, AGENT_ENTRY_POINT, overrides=selectors)
        paths = [t for t in isaaclab_tokens if t not in selectors]
        if paths:
            check_overrides(paths, env_cfg, agent_cfg)
            env_cfg, agent_cfg = resolve_task_config(args.task, AGENT_ENTRY_POINT, overrides=isaaclab_tokens)
    with as_user_error(FileNotFoundError, KeyError, ValueError):
        if named["experiment"]:
            apply_experiment(named["experiment"], env_cfg, agent_cfg)
        dataset_fields = dataset_overrides(named["dataset"], dotlists["dataset"])
        if named["teachers"] or dotlists["teachers"]:
            if not hasattr(agent_cfg, "teachers"):
                raise UserError(f"teachers=...: task {args.task} has no teachers (only student tasks do)")
            paths = teacher_paths(named["teachers"], dotlists["teachers"])
            agent_cfg.teachers = {**agent_cfg.teachers, **{str(s): p for s, p in paths.items()}}
    _follow_teachers_and_policy(args, overrides, env_cfg, agent_cfg)

    motion_cfg = env_cfg.commands.motion.motion
    for key, value in dataset_fields.items():
        setattr(motion_cfg, key, value)
    if args.motion:
        motion_cfg.files = [os.path.abspath(os.path.expanduser(m)) for m in args.motion]
    with as_user_error(ValueError):
        env_cfg.apply_timing()
    if getattr(env_cfg, "embodiment", "smplx") != "smplx" and getattr(env_cfg, "humanoid_mjcf", None):
        raise UserError(f"env.humanoid_mjcf: names an SMPL-X humanoid, but task {args.task} simulates "
                        f"{env_cfg.embodiment} (its body comes from env.robot_urdf)")  # fmt: skip
    if getattr(env_cfg, "humanoid_mjcf", None):
        require_path(env_cfg.humanoid_mjcf, "env.humanoid_mjcf")
    if getattr(env_cfg, "robot_urdf", None):  # a run's recorded URDF is restored later (play, evaluate)
        require_path(env_cfg.robot_urdf, "env.robot_urdf")
        env_cfg.robot_urdf = os.path.abspath(os.path.expanduser(env_cfg.robot_urdf))

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


def _follow_teachers_and_policy(args, overrides: list[str], env_cfg, agent_cfg) -> None:
    """Release teachers make the student env use the release's conventions where the teachers
    need them; the critic group follows the policy group (fields set on the command line stay)."""
    from .learning.release_checkpoint import use_release_teacher_conventions
    from .tasks.student_env_cfg import critic_follows_policy

    keep = explicit_env_paths(args, overrides)
    teachers = getattr(agent_cfg, "teachers", None)
    if teachers and getattr(getattr(env_cfg, "observations", None), "teacher", None) is not None:
        with as_user_error(ValueError):
            use_release_teacher_conventions(teachers.values(), env_cfg, keep)
    critic_follows_policy(env_cfg, keep)


def apply_cpu_defaults(args, overrides: list[str], env_cfg, agent_cfg) -> list[str]:
    """On the CPU, default to a short demonstration run unless sizes were given (as flags or
    ``env.scene.num_envs=``/``agent.max_iterations=``); returns the sizes chosen this way."""
    from .tasks.agents.rsl_rl_ppo_cfg import CPU_DEMO_ITERATIONS

    if env_cfg.sim.device != "cpu":
        return []
    keys = {t.partition("=")[0] for t in overrides}
    notes = []
    if args.num_envs is None and "env.scene.num_envs" not in keys:
        env_cfg.scene.num_envs = CPU_DEFAULT_NUM_ENVS
        notes.append(f"--num_envs {CPU_DEFAULT_NUM_ENVS}")
    explicit_iterations = getattr(args, "max_iterations", None) is not None or "agent.max_iterations" in keys
    if not explicit_iterations and agent_cfg is not None:
        agent_cfg.max_iterations = CPU_DEMO_ITERATIONS
        notes.append(f"--max_iterations {CPU_DEMO_ITERATIONS}")
    return notes


# -------------------------------------------------------------------------------------------------
# Data and checkpoints, checked before the simulation starts
# -------------------------------------------------------------------------------------------------
def check_data(env_cfg):
    """Read and validate the clips the env will load (kept for the env, so they are read once);
    UserError when the data set is unusable. Lists rejected files. Returns the ClipSelection."""
    from .motion.loader import select_clips
    from .motion.validation import ClipError
    from .tasks.hoi_env import task_motion_data

    with as_user_error(FileNotFoundError, ValueError, KeyError, ClipError, context="data: "):
        selection = select_clips(task_motion_data(env_cfg), verbose=True, keep=True)
    for rejection in selection.rejected:
        log(f"rejected {rejection.path}: {rejection.reason}")
    return selection


def check_checkpoint_file(path) -> None:
    """UserError unless ``path`` reads as a training checkpoint of this project or of the
    authors' release (checked before the simulation starts)."""
    from .learning.checkpointing import CheckpointError, read_checkpoint
    from .learning.release_checkpoint import is_release_checkpoint

    with as_user_error(CheckpointError, context="--checkpoint: "):
        try:
            read_checkpoint(path, map_location="cpu")
        except CheckpointError:
            try:
                data = torch.load(str(path), map_location="cpu", weights_only=False)
            except Exception:  # unreadable: the error above says so
                data = None
            if not is_release_checkpoint(data):
                raise


def _load_checkpoint(runner, checkpoint, agent_cfg, task: str) -> None:
    from .learning.checkpointing import CheckpointError
    from .learning.release_checkpoint import load_checkpoint

    try:
        load_checkpoint(runner, checkpoint, map_location=agent_cfg.device)
    except CheckpointError as exc:  # already one line naming the file
        raise UserError(str(exc)) from exc
    except (RuntimeError, KeyError, ValueError) as exc:  # ValueError: ReleaseCheckpointError
        first = str(exc.args[0] if isinstance(exc, KeyError) and exc.args else exc).strip().splitlines()
        detail = "; ".join(line.strip() for line in first[:2])
        raise UserError(f"--checkpoint {checkpoint}: does not fit task {task} as configured ({detail})") from exc


@contextmanager
def wrapped_env(args, env_cfg, clip_actions: float | None = 1.0):
    """Launch the simulation and create the task's env wrapped for rsl_rl; closed on exit. A
    UserError raised inside is re-raised after the simulation block (Isaac Lab prints a traceback
    for any exception in it)."""
    import gymnasium as gym
    from isaaclab.app import launch_simulation

    from isaaclab_rl.rsl_rl import RslRlVecEnvWrapper

    from .assets.embodiment import require_robot_urdf

    with as_user_error(ValueError):
        require_robot_urdf(getattr(env_cfg, "embodiment", "smplx"), getattr(env_cfg, "robot_urdf", None),
                           f"task {args.task}")  # fmt: skip
    from .motion.validation import DataMismatchError

    user_error = None
    with launch_simulation(env_cfg, args):
        env = None
        try:
            env = gym.make(args.task, cfg=env_cfg)
        except DataMismatchError as exc:  # the data do not fit the simulated body
            user_error = UserError(f"data: {exc}")
        if env is not None:
            try:
                env = RslRlVecEnvWrapper(env, clip_actions=clip_actions)
                try:
                    yield env
                except UserError as exc:
                    user_error = exc
            finally:
                env.close()
    if user_error is not None:
        raise user_error


@contextmanager
def env_and_runner(args, env_cfg, agent_cfg, log_dir: str | None = None, checkpoint=None):
    """Launch the simulation, create the task's env wrapped for rsl_rl and the runner named by
    ``agent_cfg`` (loading ``checkpoint`` when given: this project's or the release's format);
    the env is closed on exit."""
    from .learning.runners import create_runner

    with wrapped_env(args, env_cfg, clip_actions=agent_cfg.clip_actions) as env:
        runner = create_runner(env, agent_cfg, log_dir)
        if checkpoint is not None:
            _load_checkpoint(runner, checkpoint, agent_cfg, args.task)
        yield env, runner


# -------------------------------------------------------------------------------------------------
# Playing and evaluating a checkpoint with the settings of its training run
# -------------------------------------------------------------------------------------------------
def add_run_settings_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--task_defaults", action="store_true",
        help="Ignore the data and env settings recorded with the checkpoint's run (<run>/params/env.yaml); "
        "use the task's defaults and the command line.",
    )  # fmt: skip


def find_checkpoint(path: str | None, experiment_dir: str):
    """The checkpoint file ``--checkpoint`` names (file, run folder, experiment folder or None:
    the latest run), checked to be readable."""
    from .checkpoints import resolve_checkpoint

    with as_user_error(FileNotFoundError, context="--checkpoint: "):
        checkpoint = resolve_checkpoint(path, experiment_dir)
    check_checkpoint_file(checkpoint)
    return checkpoint


def _flatten(tree: dict, prefix: str = "") -> set[str]:
    out = set()
    for key, value in tree.items():
        path = f"{prefix}{key}"
        out |= _flatten(value, path + ".") if isinstance(value, dict) and value else {path}
    return out


def resolve_policy_configs(args, overrides: list[str]):
    """For a command that runs a trained policy (play, evaluate): ``(env_cfg, agent_cfg,
    checkpoint, settings)``: the task's configs, the checkpoint ``--checkpoint`` names (default:
    the latest run of the task's experiment under ``--log_root``), the settings recorded with its
    run applied (``settings``: the banner's description) and, for a checkpoint of the authors'
    release, the release's conventions."""
    from isaaclab_rl.rsl_rl import check_rsl_rl_version, handle_deprecated_rsl_rl_cfg

    from .learning.release_checkpoint import apply_release_conventions

    env_cfg, agent_cfg = resolve_configs(args, overrides)
    agent_cfg = handle_deprecated_rsl_rl_cfg(agent_cfg, check_rsl_rl_version())
    checkpoint = find_checkpoint(args.checkpoint, os.path.join(args.log_root, "rsl_rl", agent_cfg.experiment_name))
    settings = use_run_settings(args, overrides, env_cfg, checkpoint)
    apply_release_conventions(args.checkpoint, env_cfg, keep=explicit_env_paths(args, overrides))
    return env_cfg, agent_cfg, checkpoint, settings


def explicit_env_paths(args, overrides: list[str]) -> set[str]:
    """Dotted env paths the command line sets (env.<path>=, experiment preset, data)."""
    from omegaconf import OmegaConf

    from .presets import load_preset, split_overrides
    from .run_settings import DATA_PATH

    named, dotlists, isaaclab_tokens = split_overrides(overrides)
    paths = {t.partition("=")[0].lstrip("+~")[len("env."):] for t in isaaclab_tokens if t.lstrip("+~").startswith("env.")}
    if named["dataset"] or getattr(args, "motion", None):
        paths.add(DATA_PATH)
    paths |= {f"{DATA_PATH}.{t.partition('=')[0]}" for t in dotlists["dataset"]}
    if named["experiment"]:
        env_section = OmegaConf.to_container(load_preset("experiments", named["experiment"])).get("env") or {}
        paths |= _flatten(env_section)
    return paths


def check_same_embodiment(task: str, env_cfg, recorded: str, checkpoint) -> None:
    """UserError when the checkpoint's run simulated another body than ``task`` does (naming the
    task that fits, when one is registered)."""
    from .tasks import TASKS

    simulated = getattr(env_cfg, "embodiment", "smplx")
    if recorded == simulated:
        return
    fitting = [t for t in TASKS if t.replace("-G1-", "-") == task.replace("-G1-", "-") and t != task]
    hint = f"; pass --task {fitting[0]}" if fitting else ""
    raise UserError(f"--checkpoint {checkpoint}: its run simulated {recorded}, task {task} simulates {simulated}{hint}")


def use_run_settings(args, overrides: list[str], env_cfg, checkpoint) -> str:
    """Apply the settings recorded with ``checkpoint``'s run unless ``--task_defaults``; says
    (log lines) which data is used and whether it differs from the training data. Returns the
    banner's description of where the settings came from."""
    from .run_settings import apply_run_settings, describe_data, find_run_settings, same_data

    if getattr(args, "task_defaults", False):
        return "task defaults and command line (--task_defaults)"
    with as_user_error(OSError, ValueError, context=f"settings of the run of {checkpoint}: "):
        settings = find_run_settings(checkpoint)
    if settings is None:
        return f"task defaults and command line (no {checkpoint.parent.name}/params/env.yaml next to the checkpoint)"
    check_same_embodiment(args.task, env_cfg, settings.get("embodiment", "smplx"), checkpoint)
    with as_user_error(KeyError, ValueError, AttributeError, context=f"{settings.path}: "):
        changed = apply_run_settings(env_cfg, settings, explicit_env_paths(args, overrides))
    motion_cfg = env_cfg.commands.motion.motion
    if not same_data(settings.data, motion_cfg):
        log(f"note: using data {describe_data(motion_cfg)}, which differs from the run's training data "
            f"{describe_data(settings.data)}")  # fmt: skip
    text = f"{settings.path}"
    return text + (f" ({', '.join(changed)})" if changed else " (same as the task defaults)")


def data_subjects(motion_files: list[str] | None, overrides: list[str]) -> list[int]:
    """Subjects of the data that ``--motion`` files and ``dataset=...`` overrides select (the
    clips are read and checked, nothing is simulated)."""
    from .motion.config import MotionDataCfg
    from .motion.loader import load_library
    from .presets import dataset_overrides, split_overrides

    named, dotlists, _ = split_overrides(overrides)
    cfg = MotionDataCfg()
    with as_user_error(FileNotFoundError, KeyError, ValueError):
        fields = dataset_overrides(named["dataset"], dotlists["dataset"])
    for key, value in fields.items():
        setattr(cfg, key, value)
    if motion_files:
        cfg.files = list(motion_files)
    with as_user_error(FileNotFoundError, KeyError, ValueError, context="data: "):
        return list(load_library(cfg, verbose=False).subjects)

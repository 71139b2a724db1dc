"""Resolving a run's configuration, in one place: what ``train``, ``play``, ``evaluate`` and the
other commands that build an environment run, as a sequence of steps.

:func:`resolve_configs` (every command):

1. the task's env and agent configs with Isaac Lab's overrides (``physics=``, ``env.<path>=``,
   ``agent.<path>=``), every key and value type checked (:mod:`.overrides`);
2. our presets: ``experiment=``, ``dataset=``, ``teachers=`` (:mod:`.presets`);
3. the student env follows its teachers (the release's conventions for release teachers) and the
   critic group follows the policy group;
4. the data (``dataset=`` fields, ``--motion``), the simulation timing, the body's files;
5. device, env count and seed.

:func:`resolve_policy_configs` (commands that run a trained policy) then adds:

6. the checkpoint ``--checkpoint`` names, checked to be readable;
7. the settings recorded with its run (:mod:`.run_settings`), unless ``--task_defaults``;
8. for a checkpoint of the authors' release, the release's conventions.

Every step raises :class:`~intermimic.utils.errors.UserError` (one line, exit status 2) for a
mistake in the command line or the files it names, before the simulation is built.
"""

from __future__ import annotations

import os

import torch

from ..learning.checkpointing import CheckpointError, read_checkpoint, resolve_checkpoint
from ..learning.release_checkpoint import (
    apply_release_conventions,
    is_release_checkpoint,
    use_release_teacher_conventions,
)
from ..tasks import TASKS
from ..utils.arguments import require_path
from ..utils.errors import UserError, as_user_error, log
from .command_line import pick_device
from .overrides import explicit_env_paths, task_configs
from .presets import apply_experiment, dataset_overrides, split_overrides, teacher_paths
from .run_settings import apply_run_settings, describe_data, find_run_settings, restore_physics, same_data

CPU_DEFAULT_NUM_ENVS = 8


# -------------------------------------------------------------------------------------------------
# Every command: task, presets, data, device
# -------------------------------------------------------------------------------------------------
def resolve_configs(args, overrides: list[str]):
    """(env_cfg, agent_cfg) of ``args.task`` with overrides, presets, data and device applied."""
    named, dotlists, isaaclab_tokens = split_overrides(overrides)
    env_cfg, agent_cfg = task_configs(args.task, isaaclab_tokens)
    dataset_fields = apply_presets(args.task, named, dotlists, env_cfg, agent_cfg)
    follow_teachers_and_policy(env_cfg, agent_cfg, explicit_env_paths(args, overrides))
    apply_data(env_cfg, dataset_fields, args.motion)
    check_body_files(args.task, env_cfg)
    apply_device_and_sizes(args, env_cfg, agent_cfg)
    return env_cfg, agent_cfg


def apply_presets(task: str, named: dict, dotlists: dict, env_cfg, agent_cfg) -> dict:
    """Apply ``experiment=`` and ``teachers=``/``teachers.<field>=``; returns the motion data
    fields that ``dataset=``/``dataset.<field>=`` select."""
    with as_user_error(FileNotFoundError, KeyError, ValueError):
        if named["experiment"]:
            apply_experiment(named["experiment"], env_cfg, agent_cfg)
        dataset_fields = dataset_overrides(named["dataset"], dotlists["dataset"])
        if named["teachers"] or dotlists["teachers"]:
            if not hasattr(agent_cfg, "teachers"):
                raise UserError(f"teachers=...: task {task} has no teachers (only student tasks do)")
            paths = teacher_paths(named["teachers"], dotlists["teachers"])
            agent_cfg.teachers = {**agent_cfg.teachers, **{str(s): p for s, p in paths.items()}}
    return dataset_fields


def follow_teachers_and_policy(env_cfg, agent_cfg, keep: set[str]) -> None:
    """Release teachers make the student env use the release's conventions where the teachers
    need them; the critic group follows the policy group (the env paths in ``keep``, set on the
    command line, stay)."""
    from ..tasks.student_env_cfg import critic_follows_policy

    teachers = getattr(agent_cfg, "teachers", None)
    if teachers and getattr(getattr(env_cfg, "observations", None), "teacher", None) is not None:
        with as_user_error(ValueError):
            use_release_teacher_conventions(teachers.values(), env_cfg, keep)
    critic_follows_policy(env_cfg, keep)


def apply_data(env_cfg, dataset_fields: dict, motion: list[str] | None) -> None:
    """The motion data (preset fields, then ``--motion`` files) and the simulation timing."""
    motion_cfg = env_cfg.commands.motion.motion
    for key, value in dataset_fields.items():
        setattr(motion_cfg, key, value)
    if motion:
        motion_cfg.files = [os.path.abspath(os.path.expanduser(m)) for m in motion]
    with as_user_error(ValueError):
        env_cfg.apply_timing()


def check_body_files(task: str, env_cfg) -> None:
    """The simulated body's files exist and fit the task (a humanoid MJCF only for SMPL-X, a robot
    URDF made absolute so a run's record stays valid from any folder)."""
    if getattr(env_cfg, "embodiment", "smplx") != "smplx" and getattr(env_cfg, "humanoid_mjcf", None):
        raise UserError(f"env.humanoid_mjcf: names an SMPL-X humanoid, but task {task} simulates "
                        f"{env_cfg.embodiment} (its body comes from env.robot_urdf)")  # fmt: skip
    if getattr(env_cfg, "humanoid_mjcf", None):
        require_path(env_cfg.humanoid_mjcf, "env.humanoid_mjcf")
    if getattr(env_cfg, "robot_urdf", None):  # a run's recorded URDF is restored later (play, evaluate)
        require_path(env_cfg.robot_urdf, "env.robot_urdf")
        env_cfg.robot_urdf = os.path.abspath(os.path.expanduser(env_cfg.robot_urdf))


def apply_device_and_sizes(args, env_cfg, agent_cfg) -> None:
    """``--device`` (default: CUDA when available), ``--num_envs`` and ``--seed`` (default: the
    agent's seed) on both configs."""
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


def apply_cpu_defaults(args, overrides: list[str], env_cfg, agent_cfg) -> list[str]:
    """On the CPU, default to a short demonstration run unless sizes were given (as flags or
    ``env.scene.num_envs=``/``agent.max_iterations=``); returns the sizes chosen this way."""
    from ..tasks.agents.rsl_rl_ppo_cfg import CPU_DEMO_ITERATIONS

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
    from ..motion.loader import select_clips
    from ..motion.validation import ClipError
    from ..tasks.motion_data import task_motion_data

    with as_user_error(FileNotFoundError, ValueError, KeyError, ClipError, context="data: "):
        selection = select_clips(task_motion_data(env_cfg), verbose=True, keep=True)
    for rejection in selection.rejected:
        log(f"rejected {rejection.path}: {rejection.reason}")
    if selection.repaired:
        files = [f"{os.path.basename(path)} ({', '.join(f.body for f in faults)})" for path, faults, _ in selection.repaired]
        more = f", ... ({len(files) - 5} more)" if len(files) > 5 else ""
        log(f"repaired body positions (dataset.repair_positions) in {len(files)} file(s): {', '.join(files[:5])}{more}")
    return selection


def check_checkpoint_file(path) -> None:
    """UserError unless ``path`` reads as a training checkpoint of this project or of the
    authors' release (checked before the simulation starts)."""
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


# -------------------------------------------------------------------------------------------------
# Playing and evaluating a checkpoint with the settings of its training run
# -------------------------------------------------------------------------------------------------
def find_checkpoint(path: str | None, experiment_dir: str):
    """The checkpoint file ``--checkpoint`` names (file, run folder, experiment folder or None:
    the latest run), checked to be readable."""
    with as_user_error(FileNotFoundError, context="--checkpoint: "):
        checkpoint = resolve_checkpoint(path, experiment_dir)
    check_checkpoint_file(checkpoint)
    return checkpoint


def resolve_policy_configs(args, overrides: list[str]):
    """For a command that runs a trained policy (play, evaluate): ``(env_cfg, agent_cfg,
    checkpoint, settings)``: the task's configs, the checkpoint ``--checkpoint`` names (default:
    the latest run of the task's experiment under ``--log_root``), the settings recorded with its
    run applied (``settings``: the banner's description) and, for a checkpoint of the authors'
    release, the release's conventions."""
    from isaaclab_rl.rsl_rl import check_rsl_rl_version, handle_deprecated_rsl_rl_cfg

    env_cfg, agent_cfg = resolve_configs(args, overrides)  # steps 1-5
    agent_cfg = handle_deprecated_rsl_rl_cfg(agent_cfg, check_rsl_rl_version())
    checkpoint = find_checkpoint(args.checkpoint, os.path.join(args.log_root, "rsl_rl", agent_cfg.experiment_name))
    settings = use_run_settings(args, overrides, env_cfg, checkpoint)
    apply_release_conventions(args.checkpoint, env_cfg, keep=explicit_env_paths(args, overrides))
    return env_cfg, agent_cfg, checkpoint, settings


def check_same_embodiment(task: str, env_cfg, recorded: str, checkpoint) -> None:
    """UserError when the checkpoint's run simulated another body than ``task`` does (naming the
    task that fits, when one is registered)."""
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
    if getattr(args, "task_defaults", False):
        return "task defaults and command line (--task_defaults)"
    with as_user_error(OSError, ValueError, context=f"settings of the run of {checkpoint}: "):
        settings = find_run_settings(checkpoint)
    if settings is None:
        return f"task defaults and command line (no {checkpoint.parent.name}/params/env.yaml next to the checkpoint)"
    check_same_embodiment(args.task, env_cfg, settings.get("embodiment", "smplx"), checkpoint)
    with as_user_error(KeyError, ValueError, AttributeError, context=f"{settings.path}: "):
        changed = apply_run_settings(env_cfg, settings, explicit_env_paths(args, overrides))
    physics = restore_physics(env_cfg, settings, overrides)
    if physics:
        changed.insert(0, f"physics={physics}")
    motion_cfg = env_cfg.commands.motion.motion
    if not same_data(settings.data, motion_cfg):
        log(f"note: using data {describe_data(motion_cfg)}, which differs from the run's training data "
            f"{describe_data(settings.data)}")  # fmt: skip
    text = f"{settings.path}"
    return text + (f" ({', '.join(changed)})" if changed else " (same as the task defaults)")


def data_subjects(motion_files: list[str] | None, overrides: list[str]) -> list[int]:
    """Subjects of the data that ``--motion`` files and ``dataset=...`` overrides select (the
    clips are read and checked, nothing is simulated)."""
    from ..motion.config import MotionDataCfg
    from ..motion.loader import load_library

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

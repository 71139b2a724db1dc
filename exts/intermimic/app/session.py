"""Launching the simulation for a resolved configuration: the task's env wrapped for rsl_rl, and
the runner its agent config names (with a checkpoint loaded when given)."""

from __future__ import annotations

from contextlib import contextmanager

from ..assets.embodiment import require_robot_urdf
from ..learning.checkpointing import CheckpointError
from ..learning.release_checkpoint import load_checkpoint
from ..learning.runners import create_runner
from ..motion.validation import DataMismatchError
from ..tasks.student_env_cfg import share_identical_critic
from ..utils.errors import UserError, as_user_error


def _load_checkpoint(runner, checkpoint, agent_cfg, task: str) -> None:
    try:
        load_checkpoint(runner, checkpoint, map_location=agent_cfg.device)
    except CheckpointError as exc:  # already one line naming the file
        raise UserError(str(exc)) from exc
    except (RuntimeError, KeyError, ValueError) as exc:  # ValueError: ReleaseCheckpointError
        first = str(exc.args[0] if isinstance(exc, KeyError) and exc.args else exc).strip().splitlines()
        detail = "; ".join(line.strip() for line in first[:2])
        raise UserError(f"--checkpoint {checkpoint}: does not fit task {task} as configured ({detail})") from exc


def physx_start_failure(env_cfg, exc: Exception) -> UserError | None:
    """The one line for kit-less PhysX failing to build the simulation on a GPU (the other backend
    is the way on), or None for any other failure (the traceback then says what happened)."""
    from ..tasks.physics import physics_name
    from ..utils.errors import one_line

    if physics_name(env_cfg.sim.physics) != "ovphysx" or not str(env_cfg.sim.device).startswith("cuda"):
        return None
    return UserError(f"kit-less PhysX (physics=ovphysx) failed to start on {env_cfg.sim.device}: "
                     f"{type(exc).__name__}: {one_line(str(exc))}; run with physics=newton_mjwarp "
                     "(./intermimic.sh benchmark gpu checks both backends)")  # fmt: skip


@contextmanager
def wrapped_env(args, env_cfg, clip_actions: float | None = 1.0):
    """Launch the simulation and create the task's env wrapped for rsl_rl; closed on exit. A
    UserError raised inside is re-raised after the simulation block (Isaac Lab prints a traceback
    for any exception in it)."""
    import gymnasium as gym
    from isaaclab.app import launch_simulation

    from isaaclab_rl.rsl_rl import RslRlVecEnvWrapper

    with as_user_error(ValueError):
        require_robot_urdf(getattr(env_cfg, "embodiment", "smplx"), getattr(env_cfg, "robot_urdf", None),
                           f"task {args.task}")  # fmt: skip
    user_error = None
    with launch_simulation(env_cfg, args):
        env = None
        try:
            env = gym.make(args.task, cfg=env_cfg)
        except DataMismatchError as exc:  # the data do not fit the simulated body
            user_error = UserError(f"data: {exc}")
        except Exception as exc:
            user_error = physx_start_failure(env_cfg, exc)
            if user_error is None:
                raise
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
    share_identical_critic(env_cfg, agent_cfg)
    with wrapped_env(args, env_cfg, clip_actions=agent_cfg.clip_actions) as env:
        runner = create_runner(env, agent_cfg, log_dir)
        if checkpoint is not None:
            _load_checkpoint(runner, checkpoint, agent_cfg, args.task)
        yield env, runner

"""Train an InterMimic policy.

    python source/train.py --task InterMimic-Teacher-v0 [--num_envs N] [--device cpu|cuda:0]
        [--max_iterations N] [--seed S] [--motion PATH ...] [--resume CHECKPOINT|RUN_DIR]
        [dataset=<name>] [physics=newton|ovphysx|isaacsim_physx] [env.<path>=v] [agent.<path>=v]
    torchrun --nproc_per_node=N source/train.py --distributed ...    (N ranks; --num_envs per rank)

Also runs as ``isaaclab -p source/train.py ...``. Logs and checkpoints go to
``logs/rsl_rl/<experiment_name>/<timestamp>/``.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import datetime

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "exts"))

from intermimic.utils.errors import UserError, debug_requested, as_user_error, command, log, one_line  # noqa: E402
from intermimic.utils.arguments import int_at_least  # noqa: E402
from intermimic.app.startup import quiet_startup  # noqa: E402
from intermimic.tasks import TEACHER_TASK  # noqa: E402


def build_parser():
    from intermimic.app.command_line import make_parser

    parser = make_parser("Train an InterMimic policy with rsl_rl.", TEACHER_TASK)
    parser.add_argument("--max_iterations", type=int_at_least(1), default=None, help="Learning iterations (>= 1).")
    parser.add_argument("--resume", default=None, metavar="CHECKPOINT|RUN_DIR",
                        help="Continue from a model_*.pt file or a run folder (its newest readable checkpoint), "
                             "logging into that run folder (into a new one with --run_name).")  # fmt: skip
    parser.add_argument("--run_name", default="", help="Suffix of the run folder name.")
    parser.add_argument("--log_root", default="logs", help="Root folder of the logs (default: ./logs).")
    parser.add_argument("--distributed", dest="train_distributed", action="store_true",
                        help="One rank of a job started by torchrun: envs, simulation and networks on cuda:<LOCAL_RANK> "
                             "(gloo on the CPU with --device cpu); gradients and statistics reduced over the ranks; "
                             "--num_envs is per rank; rank 0 writes the logs.")  # fmt: skip
    return parser


def _join_job(args):
    """Under --distributed: this rank's device and process group; ranks > 0 print only errors.
    Returns the job's ranks (world size 1 without --distributed)."""
    from intermimic.utils import errors
    from intermimic.app.command_line import pick_device
    from intermimic.learning import distributed

    if not args.train_distributed:
        return distributed.Ranks()
    job = distributed.torchrun_ranks()
    args.device = distributed.rank_device(pick_device(args.device), job)
    distributed.start(args.device, job)
    if not job.is_main:
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - for the life of the process
        errors.SILENT_USER_ERRORS = True  # rank 0 meets the same input and says it once
    return job


@command
def main(argv: list[str] | None = None) -> str:
    quiet_startup()
    from intermimic.app.command_line import parse

    from intermimic.learning import distributed

    args, overrides = parse(build_parser(), argv)
    job = _join_job(args)
    try:
        return _train(args, overrides, job)
    except Exception as exc:
        if job.world_size == 1 or isinstance(exc, UserError) or debug_requested(argv):
            raise
        # one line naming the rank; torchrun then ends the other ranks (checkpoints are atomic)
        log(f"error: rank {job.rank} of {job.world_size} failed: {type(exc).__name__}: {one_line(str(exc))}",
            file=sys.stderr)  # fmt: skip
        raise SystemExit(1) from None
    finally:
        distributed.stop()


def resumed_physics(checkpoint, env_cfg, overrides) -> list[str]:
    """A resumed run keeps the physics its run recorded unless ``physics=`` names another; a note
    for the banner when that changed the task's default."""
    from intermimic.app.run_settings import find_run_settings, restore_physics

    with as_user_error(OSError, ValueError, context=f"settings of the run of {checkpoint}: "):
        settings = find_run_settings(checkpoint)
    physics = restore_physics(env_cfg, settings, overrides) if settings is not None else None
    return [f"physics={physics}, as the resumed run recorded"] if physics else []


def _train(args, overrides, job) -> str:
    from isaaclab_rl.rsl_rl import check_rsl_rl_version, handle_deprecated_rsl_rl_cfg

    from intermimic.app.banner import startup_banner
    from intermimic.app.configure import apply_cpu_defaults, check_data, resolve_configs
    from intermimic.app.session import env_and_runner
    from intermimic.learning import distributed
    from intermimic.learning.checkpointing import CheckpointError
    from intermimic.learning.resume import dump_run_configs, plan_resume

    env_cfg, agent_cfg = resolve_configs(args, overrides)
    if args.max_iterations is not None:
        agent_cfg.max_iterations = args.max_iterations
    notes = apply_cpu_defaults(args, overrides, env_cfg, agent_cfg)
    if notes:
        notes = [f"CPU demonstration sizes {' '.join(notes)} (a GPU trains at full size)"]
    if job.world_size > 1:
        env_cfg.seed = agent_cfg.seed = agent_cfg.seed + job.rank  # each rank samples its own clips and starts
        n = env_cfg.scene.num_envs
        notes.append(f"distributed: {job.world_size} ranks x {n} envs = {job.world_size * n} envs "
                     f"(seed {agent_cfg.seed - job.rank} + rank, {torch_backend(args.device)})")  # fmt: skip
    if getattr(agent_cfg, "eval_interval", 0) > 0:
        from intermimic.learning.fixed_start_eval import prepare_training_env

        prepare_training_env(env_cfg)
        notes.append(f"fixed-start evaluation every {agent_cfg.eval_interval} iterations (Eval/* in TensorBoard)")
    selection = check_data(env_cfg)
    if hasattr(agent_cfg, "teachers"):  # a student task: its teachers load and cover the data's subjects
        from intermimic.learning.teacher_bank import check_teachers

        check_teachers(agent_cfg.teachers, selection.subjects)

    agent_cfg = handle_deprecated_rsl_rl_cfg(agent_cfg, check_rsl_rl_version())
    run = datetime.now().strftime("%Y-%m-%d_%H-%M-%S") + (f"_{args.run_name}" if args.run_name else "")
    log_dir = os.path.abspath(os.path.join(args.log_root, "rsl_rl", agent_cfg.experiment_name, run))
    with as_user_error(CheckpointError):
        resume = plan_resume(args.resume, log_dir, new_folder=bool(args.run_name))
    log_dir = resume.log_dir if resume else log_dir
    if resume:
        notes += resumed_physics(resume.checkpoint, env_cfg, overrides)
    log_dir = distributed.broadcast_object(log_dir)  # rank 0's folder for the whole job
    env_cfg.log_dir = log_dir
    print(startup_banner("train", args, env_cfg, agent_cfg, selection, overrides, notes,
                         iterations=f"{agent_cfg.max_iterations} x {agent_cfg.num_steps_per_env} steps per env",
                         resume=f"{resume.checkpoint} (iteration {resume.iteration})" if resume else "",
                         logs=log_dir), flush=True)  # fmt: skip
    del selection  # the env packs the clips read here; their host copies go once it has

    checkpoint = resume.checkpoint if resume else None
    with env_and_runner(args, env_cfg, agent_cfg, log_dir=log_dir, checkpoint=checkpoint) as (_, runner):
        if job.is_main:
            dump_run_configs(log_dir, env_cfg, agent_cfg, resume)
        start = time.time()
        runner.learn(num_learning_iterations=agent_cfg.max_iterations, init_at_random_ep_len=False)
        log(f"training finished in {time.time() - start:.1f} s; checkpoints in {log_dir}")
        shown = os.path.relpath(log_dir)
        shown = os.path.abspath(log_dir) if shown.startswith("..") else shown
        log(f"curves: ./intermimic.sh plot {shown}   (PNG files in <run>/plots/)")
    return log_dir


def torch_backend(device: str) -> str:
    return "NCCL" if device.startswith("cuda") else "gloo"


if __name__ == "__main__":
    main()

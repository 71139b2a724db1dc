"""Train an InterMimic policy.

    python source/train.py --task InterMimic-Teacher-v0 [--num_envs N] [--device cpu|cuda:0]
        [--max_iterations N] [--seed S] [--motion PATH ...] [--resume CHECKPOINT|RUN_DIR]
        [dataset=<name>] [physics=newton|isaacsim_physx] [env.<path>=v] [agent.<path>=v]

Also runs as ``isaaclab -p source/train.py ...``. Logs and checkpoints go to
``logs/rsl_rl/<experiment_name>/<timestamp>/``.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import datetime

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "exts"))

from intermimic.cli import as_user_error, command, int_at_least, log, quiet_startup  # noqa: E402
from intermimic.tasks import TEACHER_TASK  # noqa: E402


def build_parser():
    from intermimic.launch import make_parser

    parser = make_parser("Train an InterMimic policy with rsl_rl.", TEACHER_TASK)
    parser.add_argument("--max_iterations", type=int_at_least(1), default=None, help="Learning iterations (>= 1).")
    parser.add_argument("--resume", default=None, metavar="CHECKPOINT|RUN_DIR",
                        help="Continue from a model_*.pt file or a run folder (its newest readable checkpoint), "
                             "logging into that run folder (into a new one with --run_name).")  # fmt: skip
    parser.add_argument("--run_name", default="", help="Suffix of the run folder name.")
    parser.add_argument("--log_root", default="logs", help="Root folder of the logs (default: ./logs).")
    return parser


@command
def main(argv: list[str] | None = None) -> str:
    quiet_startup()
    from intermimic.launch import (
        apply_cpu_defaults, check_data, env_and_runner, parse, resolve_configs,
    )  # fmt: skip

    args, overrides = parse(build_parser(), argv)

    from isaaclab_rl.rsl_rl import check_rsl_rl_version, handle_deprecated_rsl_rl_cfg

    from intermimic.banner import startup_banner
    from intermimic.learning.checkpointing import CheckpointError
    from intermimic.learning.resume import dump_run_configs, plan_resume

    env_cfg, agent_cfg = resolve_configs(args, overrides)
    if args.max_iterations is not None:
        agent_cfg.max_iterations = args.max_iterations
    notes = apply_cpu_defaults(args, overrides, env_cfg, agent_cfg)
    if notes:
        notes = [f"CPU demonstration sizes {' '.join(notes)} (a GPU trains at full size)"]
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
    env_cfg.log_dir = log_dir
    print(startup_banner("train", args, env_cfg, agent_cfg, selection, overrides, notes,
                         iterations=f"{agent_cfg.max_iterations} x {agent_cfg.num_steps_per_env} steps per env",
                         resume=f"{resume.checkpoint} (iteration {resume.iteration})" if resume else "",
                         logs=log_dir), flush=True)  # fmt: skip

    checkpoint = resume.checkpoint if resume else None
    with env_and_runner(args, env_cfg, agent_cfg, log_dir=log_dir, checkpoint=checkpoint) as (_, runner):
        dump_run_configs(log_dir, env_cfg, agent_cfg, resume)
        start = time.time()
        runner.learn(num_learning_iterations=agent_cfg.max_iterations, init_at_random_ep_len=False)
        log(f"training finished in {time.time() - start:.1f} s; checkpoints in {log_dir}")
        log(f"curves: ./intermimic.sh plot {os.path.relpath(log_dir)}   (PNG files in <run>/plots/)")
    return log_dir


if __name__ == "__main__":
    main()

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

from intermimic.launch import apply_cpu_defaults, env_and_runner, make_parser, parse, resolve_configs  # noqa: E402
from intermimic.tasks import TEACHER_TASK  # noqa: E402


def main(argv: list[str] | None = None) -> str:
    parser = make_parser("Train an InterMimic policy with rsl_rl.", TEACHER_TASK)
    parser.add_argument("--max_iterations", type=int, default=None, help="Learning iterations.")
    parser.add_argument("--resume", default=None, metavar="CHECKPOINT|RUN_DIR",
                        help="Continue from a model_*.pt file or a run folder (its newest readable checkpoint), "
                             "logging into that run folder (into a new one with --run_name).")  # fmt: skip
    parser.add_argument("--run_name", default="", help="Suffix of the run folder name.")
    parser.add_argument("--log_root", default="logs", help="Root folder of the logs (default: ./logs).")
    args, overrides = parse(parser, argv)

    from isaaclab_rl.rsl_rl import check_rsl_rl_version, handle_deprecated_rsl_rl_cfg

    from intermimic.learning.resume import dump_run_configs, plan_resume

    env_cfg, agent_cfg = resolve_configs(args, overrides)
    if args.max_iterations is not None:
        agent_cfg.max_iterations = args.max_iterations
    apply_cpu_defaults(args, env_cfg, agent_cfg, explicit_iterations=args.max_iterations is not None)

    agent_cfg = handle_deprecated_rsl_rl_cfg(agent_cfg, check_rsl_rl_version())
    run = datetime.now().strftime("%Y-%m-%d_%H-%M-%S") + (f"_{args.run_name}" if args.run_name else "")
    log_dir = os.path.abspath(os.path.join(args.log_root, "rsl_rl", agent_cfg.experiment_name, run))
    resume = plan_resume(args.resume, log_dir, new_folder=bool(args.run_name))
    log_dir = resume.log_dir if resume else log_dir
    env_cfg.log_dir = log_dir
    print(f"[intermimic] task {args.task} | device {env_cfg.sim.device} | {env_cfg.scene.num_envs} envs | "
          f"{agent_cfg.max_iterations} iterations | logs: {log_dir}", flush=True)  # fmt: skip

    checkpoint = resume.checkpoint if resume else None
    with env_and_runner(args, env_cfg, agent_cfg, log_dir=log_dir, checkpoint=checkpoint) as (_, runner):
        dump_run_configs(log_dir, env_cfg, agent_cfg, resume)
        start = time.time()
        runner.learn(num_learning_iterations=agent_cfg.max_iterations, init_at_random_ep_len=False)
        print(f"[intermimic] training finished in {time.time() - start:.1f} s; checkpoints in {log_dir}")
    return log_dir


if __name__ == "__main__":
    main()

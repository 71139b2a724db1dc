"""Train an InterMimic policy.

    python source/train.py --task InterMimic-Teacher-v0 [--num_envs N] [--device cpu|cuda:0]
        [--max_iterations N] [--seed S] [--motion PATH ...] [--resume CHECKPOINT]
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
    parser.add_argument("--resume", default=None, metavar="CHECKPOINT", help="Continue from a model_*.pt file.")
    parser.add_argument("--run_name", default="", help="Suffix of the run folder name.")
    parser.add_argument("--log_root", default="logs", help="Root folder of the logs (default: ./logs).")
    args, overrides = parse(parser, argv)

    from isaaclab_rl.entrypoints.common import dump_train_configs
    from isaaclab_rl.rsl_rl import check_rsl_rl_version, handle_deprecated_rsl_rl_cfg

    env_cfg, agent_cfg = resolve_configs(args, overrides)
    if args.max_iterations is not None:
        agent_cfg.max_iterations = args.max_iterations
    apply_cpu_defaults(args, env_cfg, agent_cfg, explicit_iterations=args.max_iterations is not None)
    if args.resume and not os.path.isfile(args.resume):
        raise SystemExit(f"--resume: checkpoint not found: {args.resume}")

    agent_cfg = handle_deprecated_rsl_rl_cfg(agent_cfg, check_rsl_rl_version())
    run = datetime.now().strftime("%Y-%m-%d_%H-%M-%S") + (f"_{args.run_name}" if args.run_name else "")
    log_dir = os.path.abspath(os.path.join(args.log_root, "rsl_rl", agent_cfg.experiment_name, run))
    env_cfg.log_dir = log_dir
    print(f"[intermimic] task {args.task} | device {env_cfg.sim.device} | {env_cfg.scene.num_envs} envs | "
          f"{agent_cfg.max_iterations} iterations | logs: {log_dir}", flush=True)  # fmt: skip

    if args.resume:
        print(f"[intermimic] resuming from {args.resume}", flush=True)
    with env_and_runner(args, env_cfg, agent_cfg, log_dir=log_dir, checkpoint=args.resume) as (_, runner):
        dump_train_configs(log_dir, env_cfg, agent_cfg)
        start = time.time()
        runner.learn(num_learning_iterations=agent_cfg.max_iterations, init_at_random_ep_len=False)
        print(f"[intermimic] training finished in {time.time() - start:.1f} s; checkpoints in {log_dir}")
    return log_dir


if __name__ == "__main__":
    main()

"""Evaluate a trained InterMimic policy on every clip of a data set (METHOD section 10).

    python source/evaluate.py --checkpoint FILE|RUN_DIR [--task InterMimic-Teacher-v0]
        [--num_envs N] [--attempts K] [--video PATH.mp4 [--video_clips CLIP ...]] [dataset=<name>] ...

Each clip is played from frame 0 with all terminations on; per clip the longest attempt is
kept. Prints success rate, duration, E_h and E_o (cm) and writes evaluation.json / .csv to
``<run>/eval/<timestamp>/`` (or --out).
"""

from __future__ import annotations

import os
import sys
from datetime import datetime
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "exts"))

from intermimic.launch import env_and_runner, make_parser, parse, resolve_configs  # noqa: E402
from intermimic.tasks import TEACHER_TASK  # noqa: E402


def main(argv: list[str] | None = None) -> dict:
    parser = make_parser("Evaluate a trained InterMimic policy.", TEACHER_TASK)
    parser.add_argument(
        "--checkpoint", default=None,
        help="model_<it>.pt, a run folder, an experiment folder, or release:FILE (the authors' release).",
    )  # fmt: skip
    parser.add_argument("--attempts", type=int, default=1, help="Attempts per clip; the longest is kept.")
    parser.add_argument("--out", default=None, help="Output folder (default: <run>/eval/<timestamp>).")
    parser.add_argument("--log_root", default="logs", help="Root folder of the logs (default: ./logs).")
    from intermimic.evaluation.video import add_video_args

    add_video_args(parser)
    args, overrides = parse(parser, argv)

    from isaaclab_rl.rsl_rl import check_rsl_rl_version, handle_deprecated_rsl_rl_cfg

    from intermimic.checkpoints import resolve_checkpoint
    from intermimic.learning.release_checkpoint import apply_release_conventions
    from intermimic.evaluation.evaluator import configure_for_evaluation, evaluate_policy
    from intermimic.evaluation.report import format_report
    from intermimic.evaluation.video import video_for

    env_cfg, agent_cfg = resolve_configs(args, overrides)
    if args.num_envs is None and env_cfg.sim.device == "cpu":
        env_cfg.scene.num_envs = 8
    configure_for_evaluation(env_cfg)
    agent_cfg = handle_deprecated_rsl_rl_cfg(agent_cfg, check_rsl_rl_version())
    experiment_dir = os.path.join(args.log_root, "rsl_rl", agent_cfg.experiment_name)
    checkpoint = resolve_checkpoint(args.checkpoint, experiment_dir)
    apply_release_conventions(args.checkpoint, env_cfg)
    out = Path(args.out) if args.out else checkpoint.parent / "eval" / datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    print(f"[intermimic] evaluating {checkpoint} on {args.task} ({env_cfg.scene.num_envs} envs, {env_cfg.sim.device})")

    with env_and_runner(args, env_cfg, agent_cfg, checkpoint=checkpoint) as (env, runner):
        policy = runner.get_inference_policy(device=env.unwrapped.device)
        video = video_for(args, env)
        table = evaluate_policy(env, policy, attempts=args.attempts, observers=[video] if video else [])
        fps = 1.0 / env.unwrapped.step_dt
        meta = {"checkpoint": str(checkpoint), "task": args.task, "attempts": args.attempts}
        path = table.write(out, fps, meta)
        if video is not None:
            print(f"[intermimic] video: {video.close()}")
    report = table.report(fps, meta)
    print(format_report(report))
    print(f"[intermimic] report: {path} (+ .csv, clips.png, errors.png)")
    return report["summary"]


if __name__ == "__main__":
    main()

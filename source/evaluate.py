"""Evaluate a trained InterMimic policy on every clip of a data set (docs/method.md §10).

    python source/evaluate.py --checkpoint FILE|RUN_DIR|release:FILE [--task InterMimic-Teacher-v0]
        [--num_envs N] [--attempts K] [--video PATH.mp4 [--video_clips CLIP ...] [--video_grid K]]
        [--contact_sheets on|off] [dataset=<name>] ...

Each clip is played from frame 0 with all terminations on; per clip the longest attempt is
kept. The data and env settings recorded with the checkpoint's run are used unless the command
line sets them (``--task_defaults`` ignores them). Prints success rate, duration, E_h and E_o
(cm) and writes evaluation.json / .csv to ``<run>/eval/<timestamp>/`` (or --out), with a contact
sheet per clip (first, middle, last frame of its kept attempt) in ``contact_sheets/``. With
``--video_grid K`` the video shows K clips' kept attempts side by side.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "exts"))

from intermimic.utils.errors import command, log  # noqa: E402
from intermimic.utils.arguments import int_at_least  # noqa: E402
from intermimic.app.startup import quiet_startup  # noqa: E402
from intermimic.tasks import TEACHER_TASK  # noqa: E402


def build_parser():
    from intermimic.evaluation.evaluation_pictures import add_evaluation_picture_args
    from intermimic.evaluation.video import add_video_args
    from intermimic.app.command_line import add_run_settings_arg, make_parser

    parser = make_parser("Evaluate a trained InterMimic policy.", TEACHER_TASK)
    parser.add_argument(
        "--checkpoint", default=None,
        help="model_<it>.pt, a run folder, an experiment folder, or release:FILE (the authors' release).",
    )  # fmt: skip
    parser.add_argument("--attempts", type=int_at_least(1), default=1, help="Attempts per clip; the longest is kept.")
    parser.add_argument("--out", default=None, help="Output folder (default: <run>/eval/<timestamp>).")
    parser.add_argument("--log_root", default="logs", help="Root folder of the logs (default: ./logs).")
    add_run_settings_arg(parser)
    add_video_args(parser)
    add_evaluation_picture_args(parser)
    return parser


@command
def main(argv: list[str] | None = None) -> dict:
    quiet_startup()
    from intermimic.app.configure import check_data, resolve_policy_configs
    from intermimic.app.session import env_and_runner
    from intermimic.app.command_line import parse

    args, overrides = parse(build_parser(), argv)

    from intermimic.app.banner import startup_banner
    from intermimic.evaluation.evaluation_pictures import grid_clip_names, pictures_for
    from intermimic.tasks.evaluation_cfg import configure_for_evaluation
    from intermimic.evaluation.evaluator import evaluate_policy
    from intermimic.evaluation.report import format_report
    from intermimic.evaluation.reward_factors import FILE_NAME as FACTORS_FILE, RewardFactorMeans, format_factors
    from intermimic.evaluation.video import check_video_args, video_for

    check_video_args(args)
    env_cfg, agent_cfg, checkpoint, settings = resolve_policy_configs(args, overrides)
    if args.num_envs is None and env_cfg.sim.device == "cpu":
        env_cfg.scene.num_envs = 8
    configure_for_evaluation(env_cfg)
    selection = check_data(env_cfg)
    grid_clip_names(args, [c.info.name for c in selection.clips])
    out = Path(args.out) if args.out else checkpoint.parent / "eval" / datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    print(startup_banner("evaluate", args, env_cfg, agent_cfg, selection, overrides, checkpoint=str(checkpoint),
                         settings=settings, attempts=str(args.attempts), report=str(out)), flush=True)  # fmt: skip

    with env_and_runner(args, env_cfg, agent_cfg, checkpoint=checkpoint) as (env, runner):
        policy = runner.get_inference_policy(device=env.unwrapped.device)
        video = None if args.video_grid else video_for(args, env)
        pictures = pictures_for(args, env)
        factors = RewardFactorMeans(env)
        observers = [factors] + ([video] if video is not None else [])
        if pictures is not None:
            observers.append(pictures.recorder)
        table = evaluate_policy(env, policy, attempts=args.attempts, observers=observers)
        fps = 1.0 / env.unwrapped.step_dt
        meta = {"checkpoint": str(checkpoint), "task": args.task, "attempts": args.attempts}
        path = table.write(out, fps, meta)
        factors.write(out, [c.name for c in env.unwrapped.command_manager.get_term("motion").library.clips])
        if video is not None:
            log(f"video: {video.close()}")
        for line in pictures.write(out) if pictures is not None else []:
            log(line)
    report = table.report(fps, meta)
    print(format_report(report))
    print(format_factors(factors.summary()))
    log(f"report: {path} (+ .csv, clips.png, errors.png, {FACTORS_FILE})")
    return report["summary"]


if __name__ == "__main__":
    main()

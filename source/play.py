"""Run a trained InterMimic policy (and optionally export it).

    python source/play.py [--task InterMimic-Teacher-Play-v0] [--checkpoint FILE|RUN_DIR|release:FILE]
        [--num_envs N] [--max_steps N] [--export] [--video PATH.mp4 [--video_clips CLIP ...]]
        [--viz viser|rerun|newton_gl] [dataset=<name>] ...

Without --checkpoint the latest run of the task's experiment under logs/rsl_rl is used. The
data and env settings recorded with the checkpoint's run are used unless the command line sets
them (``--task_defaults`` ignores them). Prints one line per finished episode; runs until
--max_steps or Ctrl-C. With Isaac Sim installed, ``physics=isaacsim_physx`` shows the Isaac Sim GUI.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "exts"))

from intermimic.utils.errors import command, log  # noqa: E402
from intermimic.utils.arguments import int_at_least  # noqa: E402
from intermimic.app.startup import quiet_startup  # noqa: E402
from intermimic.tasks import TEACHER_PLAY_TASK  # noqa: E402


def build_parser():
    from intermimic.evaluation.video import add_video_args
    from intermimic.app.command_line import add_run_settings_arg, make_parser

    parser = make_parser("Play a trained InterMimic policy.", TEACHER_PLAY_TASK)
    parser.add_argument(
        "--checkpoint", default=None,
        help="model_<it>.pt, a run folder, an experiment folder, or release:FILE (the authors' release).",
    )  # fmt: skip
    parser.add_argument("--max_steps", type=int_at_least(1), default=None, help="Stop after this many policy steps.")
    parser.add_argument("--export", action="store_true", help="Export the policy (TorchScript + ONNX) and exit.")
    parser.add_argument("--log_root", default="logs", help="Root folder of the logs (default: ./logs).")
    add_run_settings_arg(parser)
    add_video_args(parser)
    return parser


@command
def main(argv: list[str] | None = None) -> None:
    quiet_startup()
    from intermimic.app.configure import check_data, resolve_policy_configs
    from intermimic.app.session import env_and_runner
    from intermimic.app.command_line import parse

    args, overrides = parse(build_parser(), argv)

    from intermimic.app.banner import startup_banner
    from intermimic.tasks.evaluation_cfg import record_tracking_errors_each_step
    from intermimic.evaluation.video import check_video_args

    check_video_args(args)
    env_cfg, agent_cfg, checkpoint, settings = resolve_policy_configs(args, overrides)
    record_tracking_errors_each_step(env_cfg)
    selection = check_data(env_cfg)
    print(startup_banner("export" if args.export else "play", args, env_cfg, agent_cfg, selection, overrides,
                         checkpoint=str(checkpoint), settings=settings, **play_or_export_rows(args, checkpoint)),
          flush=True)  # fmt: skip

    with env_and_runner(args, env_cfg, agent_cfg, checkpoint=checkpoint) as (env, runner):
        if args.export:
            from intermimic.learning.export import export_policy, policy_metadata

            meta = policy_metadata(env, agent_cfg, args.task, checkpoint)
            files = export_policy(runner.alg.get_policy(), checkpoint.parent / "exported", meta)
            log("exported the policy: " + ", ".join(str(p) for p in files.values()))
            return
        from intermimic.evaluation.video import video_for

        video = video_for(args, env)
        play(env, runner.get_inference_policy(device=env.unwrapped.device), args.max_steps, video)


def play_or_export_rows(args, checkpoint) -> dict[str, str]:
    """The banner's last row: where an export goes, or how long play runs."""
    if args.export:
        return {"export": f"{checkpoint.parent / 'exported'} (TorchScript, ONNX, policy.json), then exit"}
    return {"steps": str(args.max_steps) if args.max_steps else "until Ctrl-C"}


def play(env, policy, max_steps: int | None, video=None) -> None:
    """Step the policy, printing each finished episode (and recording ``video``); Ctrl-C stops it
    cleanly."""
    import torch

    from intermimic.evaluation.episodes import EpisodeLog

    episodes = EpisodeLog(env)
    obs = env.get_observations() if video is None else video.start(env)
    step = 0
    try:
        while (max_steps is None or step < max_steps) and not (video and video.done):
            episodes.before_step()
            with torch.inference_mode():
                obs, _, dones, _ = env.step(policy(obs))
            step += 1
            if video is not None:
                video.after_step(dones)
            results = episodes.after_step(dones)
            for number, result in enumerate(results, start=episodes.episodes - len(results) + 1):
                log(f"episode {number}: {result.line()}")
    except KeyboardInterrupt:
        log("stopped (Ctrl-C)")
    log(f"played {step} steps; {episodes.episodes} episodes ended")
    if video is not None:
        log(f"video: {video.close()}")


if __name__ == "__main__":
    main()

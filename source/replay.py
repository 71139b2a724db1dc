"""Replay clips without a policy, to check data before training.

    python source/replay.py [--motion PATH ... | dataset=<name>] [--clips NAME ...]
        [--physics] [--source raw|corrected] [--video PATH.mp4] [--viz viser] [--loop] ...

Kinematic (default): each frame of each clip is written into the simulation (humanoid and
object) with the reference ghost; watch it with ``--viz viser`` or ``--video``. With
``--physics`` every step starts from the reference, the joint drives aim at the next frame and
one policy step of physics runs: the per-clip E_h/E_o (cm) say how far physics drifts from the
data. Printed as a table and written to ``replay.json``/``.csv`` (+ PNG plots) in ``--out``.
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
    from intermimic.evaluation.video import add_video_args
    from intermimic.app.command_line import make_parser

    parser = make_parser("Replay clips without a policy (kinematically, or through physics).", TEACHER_TASK)
    parser.add_argument("--clips", nargs="+", default=None, metavar="CLIP", help="Clip names to replay (default: all).")
    parser.add_argument("--physics", action="store_true", dest="physics_replay",  # args.physics is the launcher's
                        help="Drive the joints to the reference through physics and report the drift (E_h, E_o).")
    parser.add_argument("--source", choices=("raw", "corrected"), default=None,
                        help="Reference source to replay (default: the task's reward source).")
    parser.add_argument("--loop", action="store_true", help="Kinematic replay: start again until interrupted.")
    parser.add_argument("--out", default=None, help="Output folder of --physics (default: logs/replay/<timestamp>).")
    parser.add_argument("--viser_port", type=int_at_least(1), default=None,
                        help="Port of the --viz viser web viewer (default 8080).")  # fmt: skip
    add_video_args(parser)
    return parser


@command
def main(argv: list[str] | None = None) -> dict | None:
    quiet_startup()
    from intermimic.app.configure import check_data, resolve_configs
    from intermimic.app.command_line import parse
    from intermimic.app.session import wrapped_env

    parser = build_parser()
    args, overrides = parse(parser, argv)
    if args.loop and args.physics_replay:
        parser.error("--loop applies to kinematic replays only")

    from intermimic.evaluation.drivers import ReferenceDriver
    from intermimic.tasks.evaluation_cfg import configure_for_evaluation, disable_failures
    from intermimic.evaluation.evaluator import evaluate_policy
    from intermimic.evaluation.replay import kinematic_replay
    from intermimic.evaluation.report import format_report
    from intermimic.app.banner import startup_banner
    from intermimic.evaluation.video import check_video_args, clip_ids_from_names, video_for

    check_video_args(args)

    env_cfg, _ = resolve_configs(args, overrides)
    if args.num_envs is None:
        env_cfg.scene.num_envs = 8 if env_cfg.sim.device == "cpu" else 64
    configure_for_evaluation(env_cfg)
    disable_failures(env_cfg)
    if args.viser_port is not None and "viser" in (getattr(args, "visualizer", None) or []):
        from isaaclab_visualizers.viser import ViserVisualizerCfg

        env_cfg.sim.visualizer_cfgs = [ViserVisualizerCfg(port=args.viser_port)]
    motion = env_cfg.commands.motion
    if args.source:
        motion.reward_source = motion.init_source = args.source
    mode = "physics" if args.physics_replay else "kinematic"
    selection = check_data(env_cfg)
    print(startup_banner(f"{mode} replay", args, env_cfg, None, selection, overrides,
                         source=motion.reward_source, clips=" ".join(args.clips) if args.clips else "all"), flush=True)  # fmt: skip

    with wrapped_env(args, env_cfg) as env:
        base = env.unwrapped
        cmd = base.command_manager.get_term("motion")
        chosen = clip_ids_from_names(cmd.library, args.clips) or list(range(cmd.library.num_clips))
        video = video_for(args, env)
        if video is not None and not args.video_clips:
            video.wanted = set(chosen)  # a replay's video shows every replayed clip
        try:
            if not args.physics_replay:
                while True:
                    frames = kinematic_replay(env, chosen, video=video)
                    log(f"replayed {len(chosen)} clips ({frames} frames shown)")
                    if video is not None:
                        video = _finish(video)
                    if not args.loop:
                        return None
            driver = ReferenceDriver(env)
            table = evaluate_policy(env, driver, observers=[video] if video else [], clip_ids=chosen)
            driver.close()
            fps = 1.0 / base.step_dt
            out = Path(args.out) if args.out else Path("logs") / "replay" / datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
            path = table.write(out, fps, {"task": args.task, "mode": "physics", "source": motion.reward_source},
                               name="replay")  # fmt: skip
            report = table.report(fps, {})
        finally:
            if video is not None:
                _finish(video)
    print(format_report(report))
    log(f"report: {path}")
    return report["summary"]


def _finish(video) -> None:
    path = video.close()
    log(f"video: {path}" if path else "video: nothing was recorded")


if __name__ == "__main__":
    main()

"""Dynamics-aware retargeting: roll a teacher over every clip and write what it did as clips.

    python source/retarget.py --checkpoint TEACHER --motion CLIPS... --out DIR [--all] [--overwrite]
        [--attempts K] [--num_envs N] [dataset=<name>] ...

Each clip is played from frame 0 with all terminations on (as in evaluation), with the settings
recorded with the teacher's run (its data and, for a robot, its URDF; as evaluate); the simulated
humanoid and object states of the kept attempt become a clip in the same 591-column format
(contact labels from the source, row 0 a zero-pose placeholder, as the sample OMOMO_retarget
files), named like its source, in DIR. A robot teacher's (``--task InterMimic-G1-Teacher-v0``)
become robot clips (.npz, labels from the source robot clip) that pair with the raw robot clips. Only clips tracked to their last frame are written
unless --all (failed ones then go to DIR/failed/, cut where they ended). Existing clips are
kept unless --overwrite. A summary is printed and written to DIR/retarget.json.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "exts"))

from intermimic.utils.errors import command, log  # noqa: E402
from intermimic.utils.arguments import int_at_least  # noqa: E402
from intermimic.app.startup import quiet_startup  # noqa: E402
from intermimic.tasks import TEACHER_TASK  # noqa: E402


def build_parser():
    from intermimic.app.command_line import add_run_settings_arg, make_parser

    parser = make_parser("Write a teacher's rollouts of every clip as teacher-corrected clips.", TEACHER_TASK)
    parser.add_argument("--checkpoint", default=None, help="model_<it>.pt, a run folder or an experiment folder.")
    parser.add_argument("--out", required=True, help="Folder for the retargeted clips.")
    parser.add_argument("--all", action="store_true", help="Also write clips whose rollout failed (to OUT/failed/).")
    parser.add_argument("--overwrite", action="store_true", help="Replace clips that already exist in OUT.")
    parser.add_argument("--attempts", type=int_at_least(1), default=1, help="Attempts per clip; the longest is kept.")
    parser.add_argument("--log_root", default="logs", help="Root folder of the logs (default: ./logs).")
    add_run_settings_arg(parser)
    return parser


@command
def main(argv: list[str] | None = None) -> list:
    quiet_startup()
    from intermimic.app.configure import check_data, resolve_policy_configs
    from intermimic.app.session import env_and_runner
    from intermimic.app.command_line import parse

    args, overrides = parse(build_parser(), argv)

    from intermimic.app.banner import startup_banner
    from intermimic.tasks.evaluation_cfg import configure_for_evaluation
    from intermimic.evaluation.evaluator import evaluate_policy
    from intermimic.retarget.from_rollouts import RolloutRecorder, format_summary, write_retargeted, write_summary

    env_cfg, agent_cfg, checkpoint, settings = resolve_policy_configs(args, overrides)
    if args.num_envs is None and env_cfg.sim.device == "cpu":
        env_cfg.scene.num_envs = 8
    configure_for_evaluation(env_cfg)
    selection = check_data(env_cfg)
    print(startup_banner("retarget", args, env_cfg, agent_cfg, selection, overrides, checkpoint=str(checkpoint),
                         attempts=str(args.attempts), out=args.out, settings=settings), flush=True)  # fmt: skip

    with env_and_runner(args, env_cfg, agent_cfg, checkpoint=checkpoint) as (env, runner):
        cmd = env.unwrapped.command_manager.get_term("motion")
        recorder = RolloutRecorder(cmd)
        policy = runner.get_inference_policy(device=env.unwrapped.device)
        table = evaluate_policy(env, policy, attempts=args.attempts, observers=[recorder])
        results = write_retargeted(cmd.library, table, recorder, args.out, cmd.cfg.init_source, args.all, args.overwrite)
    path = write_summary(results, args.out, {"checkpoint": str(checkpoint), "task": args.task})
    print(format_summary(results))
    log(f"summary: {path}")
    return results


if __name__ == "__main__":
    main()

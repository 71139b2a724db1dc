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

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "exts"))

from intermimic.utils.errors import command  # noqa: E402
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
    from intermimic.app.command_line import parse
    from intermimic.app.evaluation_run import evaluate_checkpoint

    args, overrides = parse(build_parser(), argv)
    return evaluate_checkpoint(args, overrides, "evaluate", "eval")


if __name__ == "__main__":
    main()

"""Track clips a policy never saw, zero-shot: generated interactions or another data set (docs/evaluation.md).

    python source/track.py --checkpoint STUDENT_RUN CLIPS... [--task T] [--out DIR] [--attempts K]
        [--videos on|off] [--contact_sheets on|off] [--video_size WxH] [key=value ...]

CLIPS are clip files, folders of clips or data set YAML files (``convert`` writes
``dataset.yaml``). The policy (a student or a teacher; the task is read from the checkpoint's
run unless ``--task`` names it) follows each clip from frame 0 as in ``evaluate``: success
rate, duration, E_h and E_o per clip, the evaluation report (evaluation.json / .csv, plots), a
contact sheet and a video per clip, in ``<run>/track/<timestamp>/`` (or ``--out``). A policy
that observes teacher-corrected references (the student) reads each clip as that reference:
an unseen clip has no corrected version, and it is what the policy is asked to follow (its row
0 is then dropped, as for every clip read with a corrected source).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "exts"))

from intermimic.utils.errors import UserError, as_user_error, command, log  # noqa: E402
from intermimic.utils.arguments import int_at_least  # noqa: E402
from intermimic.app.startup import quiet_startup  # noqa: E402


def build_parser():
    from intermimic.evaluation.evaluation_pictures import add_evaluation_picture_args
    from intermimic.evaluation.video import add_video_args
    from intermimic.app.command_line import add_run_settings_arg, make_parser

    parser = make_parser("Track clips a trained policy never saw (zero-shot), with the evaluation report.", None)
    parser.add_argument("clips", nargs="*", metavar="CLIPS",
                        help="Clip files (.pt), folders of clips or data set YAML files (e.g. convert's dataset.yaml).")
    parser.add_argument("--checkpoint", required=True,
                        help="The policy: model_<it>.pt, a run folder or an experiment folder (student or teacher).")
    parser.add_argument("--attempts", type=int_at_least(1), default=1, help="Attempts per clip; the longest is kept.")
    parser.add_argument("--out", default=None, help="Output folder (default: <run>/track/<timestamp>).")
    parser.add_argument("--log_root", default="logs", help="Root folder of the logs (default: ./logs).")
    parser.add_argument("--objects-dir", dest="objects_dir", default=None,
                        help="Object meshes (default: the folder's objects/, as convert writes it, or an objects/ "
                             "folder beside the clips' folder; a data set YAML names its own).")
    parser.add_argument("--videos", choices=("on", "off"), default="on",
                        help="A video per clip (its kept attempt) in <out>/videos/ (default: on).")
    add_run_settings_arg(parser)
    add_video_args(parser)
    add_evaluation_picture_args(parser)
    for action in parser._actions:
        if action.dest == "task":
            action.help = "Gym task ID (default: the task the checkpoint's run trained, read from its params/agent.yaml)."
    return parser


def task_of_run(checkpoint: Path) -> str | None:
    """The training task of the run that wrote ``checkpoint`` (from ``params/agent.yaml``'s experiment name)."""
    import yaml

    from intermimic.tasks import PLAY_TASKS, TASKS

    agent_file = checkpoint.parent / "params" / "agent.yaml"
    if not agent_file.is_file():
        return None
    try:
        name = (yaml.load(agent_file.read_text(), Loader=yaml.UnsafeLoader) or {}).get("experiment_name")
    except yaml.YAMLError:
        return None
    import importlib

    for task, (_, runner) in TASKS.items():
        if task not in PLAY_TASKS:
            continue
        module, cls = runner.split(":")
        if getattr(importlib.import_module(module), cls)().experiment_name == name:
            return task
    return None


@command
def main(argv: list[str] | None = None) -> dict:
    quiet_startup()
    from intermimic.app.command_line import split_arguments
    from intermimic.learning.checkpointing import resolve_checkpoint
    from intermimic.tasks import TEACHER_TASK

    parser = build_parser()
    args, overrides = split_arguments(parser, sys.argv[1:] if argv is None else argv)
    if not args.clips:
        raise UserError("no CLIPS to track: give clip files, folders of clips or a data set YAML (e.g. convert's "
                        "dataset.yaml)")  # fmt: skip
    if args.motion:
        raise UserError("track takes its clips as CLIPS, not --motion")
    for path in args.clips:
        if not Path(path).expanduser().exists():
            raise UserError(f"CLIPS: {path}: no such file or folder")
    with as_user_error(FileNotFoundError, context="--checkpoint: "):
        checkpoint = resolve_checkpoint(args.checkpoint, "")
    if args.task is None:
        args.task = task_of_run(checkpoint) or TEACHER_TASK
        log(f"task {args.task} (from the checkpoint's run; --task sets another)")
    args.motion = [str(Path(c).expanduser()) for c in args.clips]
    args.checkpoint = str(checkpoint)

    from intermimic.app.evaluation_run import evaluate_checkpoint

    def use_the_clips(env_cfg):
        if use_clips_as_references(env_cfg, args.motion, args.objects_dir):
            log("the policy observes corrected references: each clip is its own reference (row 0 dropped)")

    return evaluate_checkpoint(args, overrides, "track", "track", meta={"zero_shot": True, "clips": args.motion},
                               prepare_env=use_the_clips)  # fmt: skip


def use_clips_as_references(env_cfg, clips: list[str], objects_dir: str | None = None) -> bool:
    """Point the env's data at ``clips`` (with their objects folder); for a task that observes
    teacher-corrected references, read each clip as its own corrected reference. Returns whether it did."""
    from intermimic.tasks.motion_data import reference_sources

    data = env_cfg.commands.motion.motion
    data.files = list(clips)
    data.objects_dir = objects_dir or data.objects_dir or objects_folder(clips)
    if "corrected" not in reference_sources(env_cfg) or data.corrected:
        return False
    data.corrected = clip_folders(clips, data.objects_dir)
    data.load_corrected = True
    return True


def objects_folder(paths: list[str]) -> str | None:
    """The object meshes of clips given as files or folders: an ``objects/`` folder in a clips
    folder (convert's output) or beside it (the release's layout); None for data set YAML files,
    which name their own."""
    for item in paths:
        path = Path(item)
        if path.suffix in (".yaml", ".yml"):
            continue
        folder = path if path.is_dir() else path.parent
        for candidate in (folder / "objects", folder.parent / "objects"):
            if candidate.is_dir():
                return str(candidate)
    return None


def clip_folders(paths: list[str], objects_dir: str | None = None) -> list[str]:
    """The folders that hold the clips ``paths`` name (files, folders, manifests), for reading
    each clip as its own corrected reference."""
    from intermimic.motion.config import MotionDataCfg
    from intermimic.motion.reader import read_dataset_report

    with as_user_error(FileNotFoundError, ValueError, KeyError, context="CLIPS: "):
        report = read_dataset_report(MotionDataCfg(files=list(paths), objects_dir=objects_dir), progress=False)
    return sorted({str(Path(c.info.path).parent) for c in report.clips})


if __name__ == "__main__":
    main()

"""The whole InterMimic pipeline in one go: a teacher per subject, the student, its evaluation.

    python source/pipeline.py [--task InterMimic-Student-v0|InterMimic-Student-Transformer-v0]
        [--subjects S ...] [--num_envs N] [--teacher_iterations N] [--student_iterations N]
        [--device cpu|cuda:0] [--log_root DIR] [--motion PATH ...] [dataset=<name>] [dataset.<field>=v] ...

Each step runs ``source/train.py`` / ``source/evaluate.py`` in its own process with the data
overrides given here; teachers are trained on one subject each (``dataset.subjects=[s]``) and
named ``pipeline_sub<s>``, the student ``pipeline``. Without ``--subjects``, every subject of
the data. On the CPU the sizes default to a short demonstration (a few minutes per step).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "exts"))

from intermimic.utils.arguments import ArgumentParser, int_at_least, require_path  # noqa: E402
from intermimic.utils.errors import command, log  # noqa: E402
from intermimic.app.startup import quiet_startup  # noqa: E402

HERE = Path(__file__).resolve().parent
CPU_SIZES = {"num_envs": 8, "teacher_iterations": 20, "student_iterations": 10}


def build_parser():
    from intermimic.tasks import STUDENT_TASK

    p = ArgumentParser(description="Train a teacher per subject, then the student, then evaluate it.",
                       epilog="Other key=value arguments (dataset=..., dataset.<field>=..., physics=...) "
                              "are passed to every step.")  # fmt: skip
    p.add_argument("--task", default=STUDENT_TASK, help=f"Student task (default {STUDENT_TASK}).")
    p.add_argument("--subjects", type=int, nargs="+", default=None, help="Subjects to train teachers for (default: all).")
    p.add_argument("--num_envs", type=int_at_least(1), default=None, help="Environments of every step (CPU default 8).")
    p.add_argument("--teacher_iterations", type=int_at_least(1), default=None, help="Iterations per teacher (CPU default 20).")
    p.add_argument("--student_iterations", type=int_at_least(1), default=None, help="Student iterations (CPU default 10).")
    p.add_argument("--device", default=None, help="cpu or cuda:0 (default: CUDA when available).")
    p.add_argument("--log_root", default="logs", help="Root folder of the logs (default: ./logs).")
    p.add_argument("--motion", nargs="+", default=None, metavar="PATH", help="Clip files, folders or data set YAML files.")
    return p


def _step(title: str, script: str, args: list[str]) -> None:
    print()
    log(f"pipeline: {title}")
    log(f"  {script} {' '.join(args)}")
    start = time.time()
    proc = subprocess.run([sys.executable, str(HERE / script), *args])
    if proc.returncode != 0:
        print(f"[intermimic] error: pipeline step '{title}' failed (exit code {proc.returncode})", file=sys.stderr)
        raise SystemExit(proc.returncode)
    log(f"pipeline: {title} done in {time.time() - start:.0f} s")


def _newest_run(root: Path, experiment: str, name: str) -> Path:
    runs = sorted((root / "rsl_rl" / experiment).glob(f"*_{name}"))
    if not runs:
        raise SystemExit(f"[intermimic] error: no run named '{name}' under {root / 'rsl_rl' / experiment}")
    return runs[-1]


@command
def main(argv: list[str] | None = None) -> dict:
    quiet_startup()
    from intermimic.app.configure import data_subjects
    from intermimic.app.command_line import pick_device, split_arguments

    args, overrides = split_arguments(build_parser(), sys.argv[1:] if argv is None else argv)
    for path in args.motion or ():
        require_path(path, "--motion")
    device = pick_device(args.device)
    sizes = {k: getattr(args, k) for k in CPU_SIZES}
    if device == "cpu":
        sizes = {k: v if v is not None else CPU_SIZES[k] for k, v in sizes.items()}
    subjects = args.subjects or data_subjects(args.motion, overrides)
    log_root = Path(args.log_root).resolve()
    data = (["--motion", *args.motion] if args.motion else []) + overrides
    common = ["--device", device, "--log_root", str(log_root)]
    if sizes["num_envs"] is not None:
        common += ["--num_envs", str(sizes["num_envs"])]
    log(f"pipeline: teachers for subjects {subjects}, then {args.task} on {device}")

    from intermimic.tasks import TEACHER_TASK

    teachers = {}
    for s in subjects:
        iters = ["--max_iterations", str(sizes["teacher_iterations"])] if sizes["teacher_iterations"] else []
        _step(f"teacher of subject {s}", "train.py",
              ["--task", TEACHER_TASK, "--run_name", f"pipeline_sub{s}", *common, *iters, *data,
               f"dataset.subjects=[{s}]"])  # fmt: skip
        teachers[s] = _newest_run(log_root, "intermimic_teacher", f"pipeline_sub{s}")
    iters = ["--max_iterations", str(sizes["student_iterations"])] if sizes["student_iterations"] else []
    teacher_args = [f"teachers.paths.{s}={run}" for s, run in teachers.items()]
    _step("student", "train.py", ["--task", args.task, "--run_name", "pipeline", *common, *iters, *data, *teacher_args])
    from intermimic.app.overrides import AGENT_ENTRY_POINT
    from isaaclab_tasks.utils.parse_cfg import load_cfg_from_registry

    experiment = load_cfg_from_registry(args.task, AGENT_ENTRY_POINT).experiment_name
    student = _newest_run(log_root, experiment, "pipeline")
    _step("student evaluation", "evaluate.py", ["--task", args.task, "--checkpoint", str(student), *common, *data])
    print(f"\n[intermimic] pipeline finished: teachers {', '.join(str(t) for t in teachers.values())}; "
          f"student {student} (evaluation under {student / 'eval'})")
    return {"teachers": teachers, "student": student}


if __name__ == "__main__":
    main()

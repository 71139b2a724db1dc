"""Benchmarks that print tables (not timed tests).

    ./intermimic.sh benchmark motion [--hours 10] [--envs 4096] [--device cuda]
    ./intermimic.sh benchmark env [--task ID] [--num_envs 4 16 64] [--steps N] [--json FILE]
        [--device cpu|cuda:0] [--runs K] [dataset=<name>] [env.<path>=v] ...
    ./intermimic.sh benchmark student [--num_envs N] [--teachers 1 4 15] [--device cpu|cuda:0] ...
    ./intermimic.sh benchmark distributed [--ranks 1 2] [--num_envs N] [--iterations K] [--device cpu|cuda]
    ./intermimic.sh benchmark learning [--num_envs N] [--iterations K] [--eval_interval K] [--out DIR] ...
    ./intermimic.sh benchmark render

Subcommands:
  motion   motion library: load time and memory for the sample clips and a synthetic library
           of N hours; per-step query time for E environments vs 1, 1000 and all clips.
  env      the task's environment per env count: env-steps/s, ms per env step split into
           physics and each manager, env step vs physics-only step, one PPO update, peak host
           and GPU memory, scene build time. Each env count runs in a fresh process.
  student  the batched teachers (1, 4, 15 teachers) per call, and one learning iteration of the
           teacher, the MLP student and the Transformer student at one env count.
  distributed  teacher training with 1, 2, ... ranks (torchrun, --num_envs per rank): iteration
           time and samples/s from each run's log (CPU ranks: a plumbing check, not a speed claim).
  render   frames/s of each video renderer (MuJoCo offscreen, skeleton) at 640x480 and 1280x720.
  learning the learning check: a bounded training run with fixed-start evaluations next to two
           baselines (zero actions, PD targets on the reference pose); JSON and PNG of the curves.

Add a subcommand by writing ``add_<name>_args(parser)`` and ``run_<name>(args) -> int`` and
listing them in SUBCOMMANDS.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "exts"))

from intermimic.cli import ArgumentParser, UserError, command, float_above, int_at_least  # noqa: E402


# -------------------------------------------------------------------------------------------------
# motion
# -------------------------------------------------------------------------------------------------
def add_motion_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--hours", type=float_above(0), default=10.0, help="synthetic library size (default: %(default)s h)")
    p.add_argument("--envs", type=int_at_least(1), default=4096, help="environments per query (default: %(default)s)")
    p.add_argument("--repeats", type=int_at_least(1), default=20, help="timed calls per query (default: %(default)s)")
    p.add_argument("--many", type=int_at_least(1), default=1000, help="clips in the mid-size comparison library (default: %(default)s)")
    p.add_argument("--device", default="cuda" if _cuda() else "cpu")
    p.add_argument("--sample", default=os.environ.get("INTERMIMIC_SAMPLE_DATA"),
                   help="InterMimic sample data folder (default: $INTERMIMIC_SAMPLE_DATA or ../shared/data/intermimic_sample)")
    p.add_argument("--no-sample", action="store_true", help="skip the sample clips")


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def _gb(n: float) -> str:
    return f"{n / 1e9:.2f} GB" if n >= 1e8 else f"{n / 1e6:.1f} MB"


def run_motion(args) -> int:
    import torch

    from intermimic.motion import benchmark as mb
    from intermimic.presets import REPO_ROOT

    device = args.device
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"--device {device}: CUDA is not available on this machine; use --device cpu")
    print(f"motion library benchmark: device {device}, torch {torch.__version__}, {torch.get_num_threads()} CPU threads")
    packed, full = mb.bytes_per_frame(), mb.full_frame_bytes()
    print(f"storage per frame and source: {packed} bytes/frame packed (poses float32, labels int8, nearest-point "
          f"index int16); {full} bytes/frame if every derived quantity were stored as float32")  # fmt: skip

    if not args.no_sample:
        sample = Path(args.sample) if args.sample else REPO_ROOT.parent / "shared" / "data" / "intermimic_sample"
        if (sample / "OMOMO_new").is_dir():
            s = mb.sample_load(sample, device)
            print(f"sample clips ({sample}): {s['clips']} clips x 2 sources, {s['frames']} frames/source; "
                  f"read+validate {s['read_s']:.2f} s, pack {s['pack_s']:.2f} s, {_gb(s['bytes_per_source'])}/source")  # fmt: skip
        else:
            print(f"sample clips: skipped (not found at {sample})")

    frames = mb.frames_for_hours(args.hours)
    rss0 = mb.peak_rss_bytes()
    big, seconds = mb.synthetic_library(frames, device, progress=sys.stderr.isatty())
    rss1 = mb.peak_rss_bytes()
    per_source = big.nbytes("raw")
    print(f"synthetic library: {args.hours:g} h = {frames:,} frames in {big.num_clips} clips; generate+pack "
          f"{seconds:.1f} s; {_gb(per_source)} per source ({per_source / frames:.0f} bytes/frame; all-float32 "
          f"would be {_gb(full * frames)}); process peak memory +{_gb(max(0, rss1 - rss0))} on the host")  # fmt: skip

    sizes = {"1 clip": mb.synthetic_library(mb.CLIP_FRAMES, device)[0],
             f"{args.many} clips": mb.synthetic_library(args.many * mb.CLIP_FRAMES, device)[0],
             f"{big.num_clips} clips ({args.hours:g} h)": big}  # fmt: skip
    results = {name: mb.time_queries(lib, args.envs, args.repeats, device) for name, lib in sizes.items()}
    names = list(sizes)
    queries = list(next(iter(results.values())))
    width = max(len(q) for q in queries) + 2
    print(f"\nquery time per call, {args.envs} environments (ms, mean of {args.repeats}):")
    print("query".ljust(width) + "".join(n.rjust(22) for n in names))
    for q in queries:
        print(q.ljust(width) + "".join(f"{results[n][q]:22.2f}" for n in names))
    return 0


# -------------------------------------------------------------------------------------------------
# env
# -------------------------------------------------------------------------------------------------
CPU_ENV_COUNTS = (4, 16, 64)
CUDA_ENV_COUNTS = (256, 1024, 4096, 8192)


def add_env_args(p: argparse.ArgumentParser) -> None:
    from isaaclab.app import add_launcher_args

    from intermimic.tasks import TEACHER_TASK

    p.add_argument("--task", default=TEACHER_TASK, help="gym task ID (default: %(default)s)")
    p.add_argument("--num_envs", type=int_at_least(1), nargs="+", default=None,
                   help=f"env counts (default: {' '.join(map(str, CPU_ENV_COUNTS))} on the CPU, "
                        f"{' '.join(map(str, CUDA_ENV_COUNTS))} on CUDA)")  # fmt: skip
    p.add_argument("--steps", type=int_at_least(1), default=None, help="timed env steps per phase (default: 20 on the CPU, 200 on CUDA)")
    p.add_argument("--warmup", type=int_at_least(0), default=None, help="untimed steps first (default: 3 on the CPU, 20 on CUDA)")
    p.add_argument("--runs", type=int_at_least(1), default=1, help="measure each env count K times (fresh process each) and report medians")
    p.add_argument("--json", default=None, metavar="FILE", help="also write the numbers to FILE (JSON), after each env count")
    p.add_argument("--threads", type=int_at_least(1), default=None, help="torch CPU threads (default: torch's default)")
    p.add_argument("--actions", choices=("reference", "zero"), default="reference",
                   help="reference: PD targets on the reference pose (default); zero: all-zero actions")  # fmt: skip
    p.add_argument("--no-ppo", dest="ppo", action="store_false", help="skip the PPO update")
    p.add_argument("--build_only", action="store_true", help="only build the scene and reset (build time and memory)")
    p.add_argument("--trace", default=None, metavar="DIR",
                   help="profile the profiled phase: torch profiler trace, op table and Python profile per env count "
                        "in DIR (slows the step down: read where time goes, not how much)")  # fmt: skip
    p.add_argument("--seed", type=int, default=None, help="seed of env and agent")
    p.add_argument("--motion", nargs="+", default=None, metavar="PATH", help="clip files, folders or data set YAML files")
    p.add_argument("--show_log", action="store_true", help="print the simulator's output (default: written to a log file)")
    add_launcher_args(p)
    p.set_defaults(device=None)


ENV_ROWS = (
    ("env-steps/s", "env_steps_per_s", "{:.1f}"),
    ("env step (median ms)", "env_step_ms", "{:.1f}"),
    ("physics-only step (median ms)", "physics_only_ms", "{:.1f}"),
    ("env / physics-only", "env_vs_physics_ratio", "{:.3f}"),
    ("profiled step (mean ms)", "sections_ms.total", "{:.1f}"),
    ("  profiled / its physics", "profiled_vs_physics_ratio", "{:.3f}"),
    ("  physics", "sections_ms.physics", "{:.2f}"),
    ("  actions", "sections_ms.actions", "{:.2f}"),
    ("  observations", "sections_ms.observations", "{:.2f}"),
    ("  rewards", "sections_ms.rewards", "{:.2f}"),
    ("  terminations", "sections_ms.terminations", "{:.2f}"),
    ("  commands", "sections_ms.commands", "{:.2f}"),
    ("  events", "sections_ms.events", "{:.2f}"),
    ("  curriculum", "sections_ms.curriculum", "{:.2f}"),
    ("  reset (scene, rest)", "sections_ms.reset", "{:.2f}"),
    ("  other", "sections_ms.other", "{:.2f}"),
    ("envs reset per step", "reset_fraction", "{:.3f}"),
    ("torch threads: env step", "step_threads", "{:d}"),
    ("torch threads: PPO", "torch_threads", "{:d}"),
    ("policy act (median ms)", "policy_act_ms", "{:.1f}"),
    ("PPO update (ms)", "ppo_update_ms", "{:.0f}"),
    ("  per env step (ms)", "ppo_update_per_env_step_ms", "{:.1f}"),
    ("peak host RSS, env steps (MB)", "peak_rss_env_mb", "{:.0f}"),
    ("peak host RSS, whole run (MB)", "peak_rss_mb", "{:.0f}"),
    ("peak GPU torch alloc (MB)", "gpu_peak_allocated_mb", "{:.0f}"),
    ("GPU device used (MB)", "gpu_device_used_mb", "{:.0f}"),
    ("scene build (s)", "build_s", "{:.1f}"),
    ("  data + objects (s)", "build_data_s", "{:.1f}"),
    ("  scene, sim, managers (s)", "build_scene_s", "{:.1f}"),
)


def _lookup(result: dict, path: str):
    value = result
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return value


def format_env_table(results: list[dict]) -> str:
    """Rows: the measured quantities (those measured at some env count); columns: the env counts."""
    width = max(len(r[0]) for r in ENV_ROWS) + 2
    head = "".join(f"{r['num_envs']:>12d}" for r in results)
    lines = ["num_envs".ljust(width) + head]
    for label, path, fmt in ENV_ROWS:
        values = [_lookup(r, path) for r in results]
        if all(v is None for v in values):
            continue
        lines.append(label.ljust(width) + "".join(f"{'-' if v is None else fmt.format(v):>12s}" for v in values))
    return "\n".join(lines)


def median_of_runs(runs: list[dict]) -> dict:
    """Per number, the median over runs (nested dicts per key; other values from the first run)."""
    out = {}
    for key, first in runs[0].items():
        values = [r.get(key) for r in runs]
        if isinstance(first, dict):
            out[key] = median_of_runs(values)
        elif isinstance(first, float) and all(isinstance(v, (int, float)) for v in values):
            out[key] = statistics.median(values)
        else:
            out[key] = first
    return out


def _measure_in_child(args, overrides: list[str], num_envs: int, log_path: str | None) -> dict:
    """Runs in a fresh process: the simulator's output goes to ``log_path`` unless verbose."""
    if log_path is not None:
        fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(fd, 1)
        os.dup2(fd, 2)
    from intermimic.env_benchmark import measure_env

    try:
        return measure_env(args, overrides, num_envs)
    except Exception:
        traceback.print_exc()  # into the log; the parent reports the error in one line
        raise


def _run_fresh_process(args, overrides: list[str], num_envs: int, log_path: str | None) -> dict:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        try:
            return pool.submit(_measure_in_child, args, overrides, num_envs, log_path).result()
        except BrokenProcessPool:
            return {"num_envs": num_envs, "error": "the process died (out of memory?)"}
        except Exception as exc:  # noqa: BLE001  (a failure at one env count must not lose the others)
            return {"num_envs": num_envs, "error": f"{type(exc).__name__}: {exc}"}


def run_env(args, overrides: list[str]) -> int:
    import torch

    from intermimic.launch import pick_device

    args.device = pick_device(args.device)
    cuda = args.device.startswith("cuda")
    counts = args.num_envs or list(CUDA_ENV_COUNTS if cuda else CPU_ENV_COUNTS)
    args.num_envs = None
    args.steps = args.steps or (200 if cuda else 20)
    args.warmup = args.warmup if args.warmup is not None else (20 if cuda else 3)
    logs = Path(tempfile.mkdtemp(prefix="intermimic-benchmark-"))
    print(f"env benchmark: task {args.task}, device {args.device}, torch {torch.__version__}, {os.cpu_count()} CPUs, "
          f"{args.steps} steps per phase after {args.warmup} warm-up steps, {args.runs} run(s) per env count"
          + ("" if args.show_log else f"; simulator output in {logs}/"), flush=True)  # fmt: skip
    results: list[dict] = []
    for n in counts:
        runs = []
        for k in range(args.runs):
            log_path = None if args.show_log else str(logs / f"env_{n}_run{k}.log")
            print(f"  {n} envs, run {k + 1}/{args.runs} ...", flush=True)
            r = _run_fresh_process(args, overrides, n, log_path)
            if "error" in r:
                print(f"  {n} envs failed: {r['error']}" + (f" (log: {log_path})" if log_path else ""), flush=True)
                break
            runs.append(r)
        if not runs:
            results.append({"num_envs": n, "error": r["error"]})
        else:
            results.append(median_of_runs(runs) | {"runs": len(runs)})
        if args.json:
            write_env_json(args.json, args, overrides, results)
    measured = [r for r in results if "error" not in r]
    if measured:
        note = f" (medians of {args.runs} runs)" if args.runs > 1 else ""
        print(f"\nenv benchmark{note}: ms per env step, profiled sections are means over {args.steps} steps\n")
        print(format_env_table(measured))
    if args.json:
        print(f"\nwrote {args.json}")
    return 0 if len(measured) == len(results) else 1


def write_env_json(path: str, args, overrides: list[str], results: list[dict]) -> None:
    import platform

    import torch

    meta = {"task": args.task, "device": args.device, "steps": args.steps, "warmup": args.warmup, "runs": args.runs,
            "actions": args.actions, "overrides": overrides, "torch": torch.__version__, "cpus": os.cpu_count(),
            "machine": platform.platform(), "date": time.strftime("%Y-%m-%d %H:%M:%S")}  # fmt: skip
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(json.dumps({"meta": meta, "results": results}, indent=1))
    tmp.replace(out)


# -------------------------------------------------------------------------------------------------
# student
# -------------------------------------------------------------------------------------------------
def add_student_args(p: argparse.ArgumentParser) -> None:
    add_env_args(p)
    p.set_defaults(task=None, steps=None)
    p.add_argument("--teachers", type=int, nargs="+", default=[1, 4, 15],
                   help="teacher counts of the batched-teacher timing (default: 1 4 15)")  # fmt: skip


def _random_teachers(subjects: list[int], folder: Path) -> list[str]:
    """``teachers.paths.<s>=`` overrides naming untrained teachers of the teacher's size."""
    import torch

    from intermimic.learning.student_benchmark import _random_teacher

    out = []
    for s in subjects:
        path = folder / f"teacher_sub{s}.pt"
        torch.save({"actor_state_dict": _random_teacher(3198, 153, "cpu").state_dict()}, path)
        out.append(f"teachers.paths.{s}={path}")
    return out


def run_student(args, overrides: list[str]) -> int:
    """The batched teachers' cost, then one learning iteration of the teacher and of the students
    at one env count (env steps, acting, update), each task in a fresh process."""
    from intermimic.launch import pick_device
    from intermimic.learning.student_benchmark import bank_table, time_teacher_bank
    from intermimic.launch import data_subjects
    from intermimic.tasks import STUDENT_TASK, STUDENT_TRANSFORMER_TASK, TEACHER_TASK

    args.device = pick_device(args.device)
    cuda = args.device.startswith("cuda")
    num_envs = (args.num_envs or [4096 if cuda else 16])[0]
    if num_envs < 1 or min(args.teachers) < 1:
        raise SystemExit("benchmark student: --num_envs and --teachers must be positive")
    print(f"student benchmark: device {args.device}, {num_envs} envs", flush=True)
    print(bank_table(time_teacher_bank(num_envs, tuple(args.teachers), device=args.device)) + "\n", flush=True)

    logs = Path(tempfile.mkdtemp(prefix="intermimic-benchmark-"))
    teachers = _random_teachers(data_subjects(args.motion, overrides), logs)
    args.num_envs = None
    args.steps = args.steps or (50 if cuda else 5)
    args.warmup = args.warmup if args.warmup is not None else (10 if cuda else 2)
    rows = []
    for task in (TEACHER_TASK, STUDENT_TASK, STUDENT_TRANSFORMER_TASK):
        task_args = argparse.Namespace(**{**vars(args), "task": task})
        extra = teachers if task != TEACHER_TASK else []
        log_path = None if args.show_log else str(logs / f"{task}.log")
        print(f"  {task} ...", flush=True)
        r = _run_fresh_process(task_args, overrides + extra, num_envs, log_path)
        if "error" in r:
            print(f"  {task} failed: {r['error']}" + (f" (log: {log_path})" if log_path else ""), flush=True)
            return 1
        rows.append((task, r))
    print(f"\none learning iteration at {num_envs} envs (ms; medians of {args.steps} env steps):\n")
    print(f"{'task':<40}{'steps/env':>10}{'env step':>10}{'act':>10}{'update':>10}{'iteration':>11}{'ms/1k env-steps':>17}")
    for task, r in rows:
        steps = round(r["ppo_update_ms"] / r["ppo_update_per_env_step_ms"])
        iteration = steps * (r["env_step_ms"] + r["policy_act_ms"]) + r["ppo_update_ms"]
        per_k = iteration / (steps * num_envs) * 1000.0
        print(f"{task:<40}{steps:>10d}{r['env_step_ms']:>10.1f}{r['policy_act_ms']:>10.1f}{r['ppo_update_ms']:>10.0f}"
              f"{iteration:>11.0f}{per_k:>17.1f}")  # fmt: skip
    print("\n'act': the teacher's PPO acting, or the student's acting with its critic and the batched teachers "
          "(untrained, of the teacher's size); 'update': one learning update over the iteration's samples.")
    return 0


# -------------------------------------------------------------------------------------------------
# distributed
# -------------------------------------------------------------------------------------------------
def add_distributed_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--task", default="InterMimic-Teacher-v0")
    p.add_argument("--ranks", type=int_at_least(1), nargs="+", default=None,
                   help="Rank counts to compare (default: 1 2 on the CPU, 1..GPUs with CUDA).")  # fmt: skip
    p.add_argument("--num_envs", type=int_at_least(1), default=None, help="Envs per rank (default 2 CPU, 4096 CUDA).")
    p.add_argument("--iterations", type=int_at_least(2), default=3, help="Learning iterations per run (the first is left out).")
    p.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available).")
    p.add_argument("--motion", nargs="+", default=None, metavar="PATH", help="clip files, folders or data set YAML files")
    p.add_argument("--seed", type=int, default=None, help="base seed (rank r uses seed + r)")


def run_distributed(args, overrides: list[str]) -> int:
    import torch

    from intermimic.learning.curves import read_scalars

    device = args.device or ("cuda" if _cuda() else "cpu")
    gpus = torch.cuda.device_count() if device.startswith("cuda") else 0
    counts = args.ranks or (list(range(1, gpus + 1)) if gpus else [1, 2])
    if gpus and max(counts) > gpus:
        raise UserError(f"--ranks {max(counts)}: this machine has {gpus} GPU(s)")
    envs = args.num_envs or (4096 if gpus else 2)
    script = str(Path(__file__).resolve().parent / "train.py")
    rows = []
    with tempfile.TemporaryDirectory() as root:
        for n in counts:
            log_root = Path(root) / f"ranks{n}"
            common = ["--task", args.task, "--device", device, "--num_envs", str(envs), "--max_iterations",
                      str(args.iterations), "--log_root", str(log_root), *overrides]  # fmt: skip
            if args.motion:
                common += ["--motion", *args.motion]
            if args.seed is not None:
                common += ["--seed", str(args.seed)]
            cmd = ([sys.executable, script, *common] if n == 1 else
                   [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={n}", script,
                    "--distributed", *common])  # fmt: skip
            print(f"[intermimic] {n} rank(s) x {envs} envs: {args.iterations} iterations ...", flush=True)
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
                raise UserError(f"the {n}-rank run failed: {' | '.join(tail)}")
            run = next(p for p in (log_root / "rsl_rl").glob("*/*") if p.is_dir())
            scalars = read_scalars(run)
            times = [c + u for c, u in zip(scalars["Perf/collection_time"][1], scalars["Perf/learning_time"][1])][1:]
            fps = scalars["Perf/total_fps"][1][1:]
            rows.append((n, envs, n * envs, statistics.median(times), statistics.median(fps)))
    print(f"\n{args.task} on {device}, {envs} envs per rank (median over iterations 2..{args.iterations})")
    print(f"{'ranks':>6}{'envs/rank':>11}{'total envs':>12}{'iteration s':>13}{'samples/s':>11}")
    for n, e, total, it_s, fps in rows:
        print(f"{n:>6d}{e:>11d}{total:>12d}{it_s:>13.2f}{fps:>11.0f}")
    if device == "cpu":
        print("\nCPU ranks share this machine's cores: the figures check the plumbing, not the speed-up.")
    return 0


# -------------------------------------------------------------------------------------------------
# learning
LEARNING_DEFAULTS = {"cpu": {"num_envs": 16, "iterations": 80, "eval_interval": 10},
                     "cuda": {"num_envs": 4096, "iterations": 1000, "eval_interval": 50}}  # fmt: skip


def add_learning_args(p: argparse.ArgumentParser) -> None:
    from isaaclab.app import add_launcher_args

    p.add_argument("--task", default="InterMimic-Teacher-v0")
    p.add_argument("--num_envs", type=int_at_least(1), default=None, help="Envs (default: 16 on the CPU, 4096 on CUDA).")
    p.add_argument("--iterations", type=int_at_least(2), default=None, help="Learning iterations (default: 80 CPU, 1000 CUDA).")
    p.add_argument("--eval_interval", type=int_at_least(1), default=None,
                   help="Fixed-start evaluation every K iterations (default: 10 CPU, 50 CUDA).")  # fmt: skip
    p.add_argument("--baseline_iterations", type=int_at_least(1), default=10,
                   help="Baseline rollouts as long as this many iterations' env steps (default: 10).")  # fmt: skip
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", default="logs/learning_check", help="Folder of the report and the run (default: %(default)s).")
    p.add_argument("--motion", nargs="+", default=None, metavar="PATH", help="clip files, folders or data set YAML files")
    add_launcher_args(p)
    p.set_defaults(device=None)


def _git_commit() -> str:
    proc = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parent)  # fmt: skip
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True,
                           cwd=Path(__file__).resolve().parent).stdout.strip()  # fmt: skip
    return (proc.stdout.strip() or "unknown") + ("+changes" if dirty else "")


def _train_with_progress(cmd: list[str], log_file: Path, iterations: int) -> int:
    """Run the training command, its output into ``log_file``; print the project's lines and
    one progress line per iteration."""
    import re

    with open(log_file, "w") as log_fh, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                                         text=True) as proc:  # fmt: skip
        for line in proc.stdout:
            log_fh.write(line)
            found = re.search(r"Learning iteration (\d+)/", line)
            if found:
                print(f"[intermimic] iteration {int(found.group(1)) + 1}/{iterations}", flush=True)
            elif line.startswith("[intermimic]"):
                print(line, end="", flush=True)
        return proc.wait()


def run_learning(args, overrides: list[str]) -> int:
    import platform

    from intermimic import learning_check as lc
    from intermimic.launch import pick_device

    device = pick_device(args.device)
    kind = "cuda" if device.startswith("cuda") else "cpu"
    defaults = LEARNING_DEFAULTS[kind]
    args.num_envs = args.num_envs or defaults["num_envs"]
    iterations = args.iterations or defaults["iterations"]
    eval_interval = args.eval_interval or defaults["eval_interval"]
    args.device = device
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    train = [sys.executable, str(Path(__file__).resolve().parent / "train.py"), "--task", args.task, "--device", device,
             "--num_envs", str(args.num_envs), "--max_iterations", str(iterations), "--seed", str(args.seed),
             "--log_root", str(out / "logs"), *([f"--motion", *args.motion] if args.motion else []),
             f"agent.eval_interval={eval_interval}", *overrides]  # fmt: skip
    baselines, steps = lc.measure_baselines(args, overrides, args.baseline_iterations)
    print(f"[intermimic] training: {args.num_envs} envs, {iterations} iterations, fixed-start evaluation every "
          f"{eval_interval} (log: {out / 'train.log'})", flush=True)  # fmt: skip
    if _train_with_progress(train, out / "train.log", iterations) != 0:
        raise UserError(f"the training run failed; its output is in {out / 'train.log'}")
    run = max((out / "logs" / "rsl_rl").glob("*/*"), key=lambda p: p.stat().st_mtime)
    curves = lc.read_run_curves(run)
    command = "./intermimic.sh benchmark learning " + " ".join(sys.argv[sys.argv.index("learning") + 1 :]) \
        if "learning" in sys.argv else "benchmark learning"  # fmt: skip
    report = {
        "meta": {"task": args.task, "device": device, "num_envs": args.num_envs, "iterations": iterations,
                 "eval_interval": eval_interval, "seed": args.seed, "commit": _git_commit(), "command": command.strip(),
                 "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores, {platform.system()}",
                 "run": str(run), "baseline_steps": steps},
        "baselines": baselines, "curves": curves,
        "summary": {"return": lc.peak_and_fall(curves["train"].get("return", [])),
                    "first_moves": {name: lc.first_move(curve) for group in ("train", "starts", "eval")
                                    for name, curve in curves[group].items()}},
    }  # fmt: skip
    json_path, png_path = lc.write_report(report, out)
    _print_learning_table(report)
    print(f"\n[intermimic] report: {json_path}\n[intermimic] curves: {png_path}")
    return 0


def _print_learning_table(report: dict) -> None:
    curves, baselines = report["curves"], report["baselines"]

    def last(group, name):
        curve = curves[group].get(name) or []
        return curve[-1][1] if curve else None

    rows = [("mean episode return (training starts)", last("train", "return"),
             *(b["training_starts"]["return"] for b in baselines.values())),
            ("mean episode length, steps (training starts)", last("train", "episode_length"),
             *(b["training_starts"]["episode_length"] for b in baselines.values())),
            ("fixed starts: success rate", last("eval", "success_rate"),
             *(b["fixed_starts"]["success_rate"] for b in baselines.values())),
            ("fixed starts: seconds per clip", last("eval", "duration_s"),
             *(b["fixed_starts"]["duration_s"] for b in baselines.values())),
            ("fixed starts: E_h (cm)", last("eval", "E_h_cm"), *(b["fixed_starts"]["E_h_cm"] for b in baselines.values()))]  # fmt: skip
    names = ["policy (last)", *baselines]
    width = max(len(r[0]) for r in rows) + 2
    print("\n" + "".ljust(width) + "".join(f"{n:>16s}" for n in names))
    for label, *values in rows:
        print(label.ljust(width) + "".join(f"{'-' if v is None else f'{v:.3f}':>16s}" for v in values))
    peak = report["summary"]["return"]
    if peak:
        print(f"\nreturn peaked at iteration {peak['peak_iteration']} ({peak['peak']:.2f}); "
              f"mean of the last 5: {peak['final_mean_last5']:.2f}")


# -------------------------------------------------------------------------------------------------
# render
# -------------------------------------------------------------------------------------------------
def add_render_args(p: argparse.ArgumentParser) -> None:
    from intermimic.evaluation import render_benchmark as rb
    from intermimic.evaluation.video import RENDERERS, video_size

    p.add_argument("--frames", type=int_at_least(1), default=rb.FRAMES, help="timed frames per size (default: %(default)s)")
    p.add_argument("--warmup", type=int_at_least(0), default=rb.WARMUP, help="untimed frames first (default: %(default)s)")
    p.add_argument("--sizes", type=video_size, nargs="+", default=list(rb.SIZES), metavar="WxH",
                   help="frame sizes (default: 640x480 1280x720)")  # fmt: skip
    p.add_argument("--renderers", choices=RENDERERS, nargs="+", default=list(RENDERERS), help="renderers (default: all)")


def run_render(args) -> int:
    from intermimic.evaluation import render_benchmark as rb

    print(f"render benchmark: humanoid, demo box and reference ghost along a demo clip, caption drawn, no encoding; "
          f"{args.frames} frames per size after {args.warmup} warm-up frames; {os.cpu_count()} CPUs", flush=True)  # fmt: skip
    rows = rb.render_benchmark(args.sizes, args.frames, args.warmup, args.renderers)
    print("\n" + rb.format_table(rows, args.sizes))
    return 0 if any(not r.problem for r in rows) else 1


# -------------------------------------------------------------------------------------------------
SUBCOMMANDS = {
    "render": (add_render_args, run_render, "video renderers' frames/s (MuJoCo OSMesa/EGL, skeleton) per frame size"),
    "motion": (add_motion_args, run_motion, "motion library load, memory and query time"),
    "env": (add_env_args, run_env, "environment step time per manager, PPO update, memory, build time"),
    "student": (add_student_args, run_student, "batched teachers' cost; student vs teacher iteration time"),
    "distributed": (add_distributed_args, run_distributed, "training with 1, 2, ... ranks: iteration time, samples/s"),
    "learning": (add_learning_args, run_learning, "a bounded training run with baselines: does it learn? (JSON + PNG)"),
}
TAKES_OVERRIDES = {"env", "student", "distributed", "learning"}


def build_parser():
    parser = ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (add_args, _, help_text) in SUBCOMMANDS.items():
        add_args(sub.add_parser(name, help=help_text))
    parser.subcommand_parsers = dict(sub.choices)
    return parser


@command
def main(argv=None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    args, rest = parser.parse_known_args(argv)
    start = time.perf_counter()
    if args.command in TAKES_OVERRIDES:
        from intermimic.launch import parse

        name = args.command
        args, overrides = parse(parser.subcommand_parsers[name], argv[argv.index(name) + 1 :])
        args.command = name
        code = SUBCOMMANDS[name][1](args, overrides)
    else:
        if rest:
            parser.subcommand_parsers[args.command].error(f"unrecognized arguments: {' '.join(rest)}")
        code = SUBCOMMANDS[args.command][1](args)
    print(f"\n({args.command} benchmark took {time.perf_counter() - start:.0f} s)")
    return code


if __name__ == "__main__":
    sys.exit(main())

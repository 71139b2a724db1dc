"""The first checks on a GPU, in order, each bounded in time, with one report (``benchmark gpu``).

1. ``tests``: simulator tests on the device (``INTERMIMIC_TEST_DEVICE``);
2. ``syncs``: host syncs per env step of the teacher, steady and when every env resets, counted
   by :mod:`.host_syncs` (this package's and all) and, on CUDA, by torch's sync debug mode;
3. ``benchmark_env``: ``benchmark env`` at 256, 4096 and 8192 envs, on PhysX and on Newton;
4. ``teacher``: a teacher trained past episode step 300 (every env times out once), then resumed;
5. ``students``: the MLP and Transformer students, one iteration each, distilling two teachers
   (the teacher of check 4 serves both demo subjects);
6. ``eval_interval``: a teacher iteration with the evaluation on fixed starts (``agent.eval_interval=1``);
7. ``play_export``: ``play --export`` of the teacher;
8. ``evaluate_video``: ``evaluate --video`` of the teacher.

On a CUDA device the sizes are those of training (4096 envs); on the CPU every check runs at toy
size (a few envs, few steps), which shows the command and its report work. Each check runs in
its own process with a time limit; a check that fails or runs out of time is reported and the
next one runs. The report is ``<out>/gpu_checks.json`` and ``<out>/gpu_checks.md`` (a Markdown
table for docs/performance.md); each check's output is in ``<out>/<check>.log``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..utils.arguments import int_at_least
from ..utils.paths import REPO_ROOT
from .env import run_in_fresh_process

HELP = "the first checks on a GPU in order (tests, syncs, benchmark, training, students, export, video): one report"
"""One line for ``benchmark gpu``."""

CHECKS = ("tests", "syncs", "benchmark_env", "teacher", "students", "eval_interval", "play_export", "evaluate_video")
TEACHER = "InterMimic-Teacher-v0"
TIMED_OUT = "timed out"


@dataclass
class Sizes:
    """How big each check runs."""

    device: str
    bench_envs: tuple[int, ...]
    train_envs: int
    teacher_iterations: int
    steps_per_env: int | None
    """``agent.num_steps_per_env`` (None: the task's)."""
    sync_envs: int
    eval_envs: int
    tests: tuple[str, ...]
    test_marker: str
    timeouts: dict[str, int] = field(default_factory=dict)


def sizes_for(device: str) -> Sizes:
    if device.startswith("cuda"):
        # past step 300: 10 iterations of 32 steps time every episode out once
        return Sizes(device, (256, 4096, 8192), 4096, 10, None, 4096, 256,
                     ("tests/test_host_syncs.py", "tests/test_teacher_env.py", "tests/test_psi_env.py"), "sim",
                     {"tests": 150, "syncs": 90, "benchmark_env": 210, "teacher": 150, "students": 120,
                      "eval_interval": 60, "play_export": 45, "evaluate_video": 75})  # fmt: skip
    return Sizes(device, (4,), 2, 2, 4, 4, 2, ("tests/test_host_syncs.py",), "unit",
                 {"tests": 300, "syncs": 600, "benchmark_env": 600, "teacher": 600, "students": 900,
                  "eval_interval": 600, "play_export": 300, "evaluate_video": 600})  # fmt: skip


@dataclass
class CheckResult:
    check: str
    status: str
    seconds: float
    details: dict = field(default_factory=dict)
    log: str = ""


def add_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", default=None, help="cuda:0 (default when CUDA is available) or cpu (toy size)")
    p.add_argument("--out", default="logs/gpu_checks", help="folder of the report and logs (default: %(default)s)")
    p.add_argument("--only", nargs="+", choices=CHECKS, default=None, help="run only these checks (in the usual order)")
    p.add_argument("--time_scale", type=int_at_least(1), default=1, help="multiply every time limit (a slow machine)")


# -------------------------------------------------------------------------------------------------
# Running one check
# -------------------------------------------------------------------------------------------------
def _script(name: str) -> str:
    return str(REPO_ROOT / "source" / f"{name}.py")


def _run(cmd: list[str], log: Path, timeout: int, env: dict | None = None) -> str:
    """Run ``cmd`` with its output in ``log``; "passed", "failed (exit N)" or :data:`TIMED_OUT`."""
    with open(log, "a") as fh:
        fh.write(f"$ {' '.join(cmd)}\n")
        fh.flush()
        try:
            proc = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, timeout=timeout, cwd=REPO_ROOT,
                                  env={**os.environ, **(env or {})})  # fmt: skip
        except subprocess.TimeoutExpired:
            return TIMED_OUT
    return "passed" if proc.returncode == 0 else f"failed (exit {proc.returncode})"


def _combine(statuses: list[str]) -> str:
    return next((s for s in statuses if s != "passed"), "passed")


def _newest_run(log_root: Path) -> Path | None:
    runs = [p for p in (log_root / "rsl_rl").glob("*/*") if p.is_dir()]
    return max(runs, key=lambda p: p.stat().st_mtime) if runs else None


def _train_args(sizes: Sizes, out: Path, *extra: str) -> list[str]:
    args = ["--device", sizes.device, "--num_envs", str(sizes.train_envs), "--log_root", str(out / "logs"), *extra]
    if sizes.steps_per_env:
        args.append(f"agent.num_steps_per_env={sizes.steps_per_env}")
    return args


def check_tests(sizes: Sizes, out: Path, log: Path, timeout: int) -> tuple[str, dict]:
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", sizes.test_marker, *sizes.tests]
    path = os.pathsep.join(p for p in (str(REPO_ROOT / "exts"), os.environ.get("PYTHONPATH", "")) if p)
    status = _run(cmd, log, timeout, env={"INTERMIMIC_TEST_DEVICE": sizes.device, "PYTHONPATH": path})
    summary = [ln for ln in log.read_text().splitlines() if " passed" in ln or " failed" in ln]
    return status, {"summary": summary[-1].strip("= ") if summary else ""}


def measure_syncs(args: argparse.Namespace, overrides: list[str], num_envs: int) -> dict:
    """Host syncs of the teacher's env step at ``num_envs`` envs: steady (every env held at its
    reference, none resets) and when every env resets; this package's and all, and on CUDA the
    syncs torch's sync debug mode reports."""
    import warnings

    import gymnasium as gym
    import torch
    from isaaclab.app import launch_simulation

    from ..app.configure import resolve_configs
    from .env import reference_actions
    from .host_syncs import HostSyncCounter

    args = argparse.Namespace(**{**vars(args), "num_envs": num_envs})
    env_cfg, _ = resolve_configs(args, overrides)
    env_cfg.commands.motion.state_init.start_at_zero_prob = 1.0
    cuda = torch.device(env_cfg.sim.device).type == "cuda"
    with launch_simulation(env_cfg, args):
        env = gym.make(args.task, cfg=env_cfg).unwrapped
        try:
            env.reset()
            cmd = env.command_manager.get_term("motion")
            ids = torch.arange(env.num_envs, device=env.device)
            result = {}
            for name, resets in (("steady", False), ("all_reset", True)):
                for _ in range(2):  # the second step is the one reported
                    env.episode_length_buf[:] = 3
                    cmd.start_frame[:] = 0
                    cmd.write_reference_state(ids, cmd.reference(cmd.cfg.init_source))
                    if resets:
                        env.episode_length_buf[:] = env.max_episode_length
                    actions = reference_actions(env)
                    with warnings.catch_warnings(record=True) as caught, HostSyncCounter() as counter:
                        warnings.simplefilter("always")
                        if cuda:
                            torch.cuda.set_sync_debug_mode("warn")
                        try:
                            env.step(actions)
                        finally:
                            if cuda:
                                torch.cuda.set_sync_debug_mode("default")
                result[name] = {"package": counter.package_total(), "all": sum(counter.counts.values()),
                                "torch_sync_debug": sum("synchroniz" in str(w.message) for w in caught) if cuda else None,
                                "resets": int(env.reset_buf.sum()), "package_calls": counter.table()}  # fmt: skip
            return result
        finally:
            env.close()


def check_syncs(sizes: Sizes, out: Path, log: Path, timeout: int) -> tuple[str, dict]:
    task_args = argparse.Namespace(task=TEACHER, device=sizes.device, motion=None, seed=0, num_envs=None,
                                   visualizer=None, headless=True)  # fmt: skip
    result = run_in_fresh_process(task_args, [], sizes.sync_envs, str(log), target=measure_syncs)
    if "error" in result:
        return f"failed ({result['error']})", {}
    steady, resets = result["steady"], result["all_reset"]
    status = "passed" if steady["package"] == 0 and resets["package"] <= 10 else "failed (package syncs)"
    return status, {"envs": sizes.sync_envs, "steady_package": steady["package"], "steady_all": steady["all"],
                    "steady_torch_sync_debug": steady["torch_sync_debug"], "reset_package": resets["package"],
                    "reset_all": resets["all"], "reset_torch_sync_debug": resets["torch_sync_debug"]}  # fmt: skip


BACKENDS = ("ovphysx", "newton_mjwarp")
"""The physics presets the env benchmark check runs on CUDA (the default first): a GPU where
kit-less PhysX does not start still shows whether Newton does. At toy size on the CPU, where the
check shows that the command works, the default alone."""


def check_benchmark_env(sizes: Sizes, out: Path, log: Path, timeout: int) -> tuple[str, dict]:
    steps = "50" if sizes.device.startswith("cuda") else "3"
    statuses, details = [], {}
    backends = BACKENDS if sizes.device.startswith("cuda") else BACKENDS[:1]
    for physics in backends:
        json_path = out / f"benchmark_env_{physics}.json"
        cmd = [sys.executable, _script("benchmark"), "env", "--device", sizes.device, "--steps", steps, "--warmup", "2",
               "--json", str(json_path), f"physics={physics}", "--num_envs", *map(str, sizes.bench_envs)]  # fmt: skip
        statuses.append(_run(cmd, log, timeout // len(backends)))
        if json_path.is_file():
            for r in json.loads(json_path.read_text())["results"]:
                details[f"{physics} {r['num_envs']}"] = {k: r.get(k) for k in (
                    "env_steps_per_s", "env_step_ms", "build_s", "gpu_peak_allocated_mb", "gpu_device_used_mb", "error")}  # fmt: skip
        else:
            details[physics] = statuses[-1]
    return _combine(statuses), details


def check_teacher(sizes: Sizes, out: Path, log: Path, timeout: int) -> tuple[str, dict]:
    first = _run([sys.executable, _script("train"), "--task", TEACHER,
                  *_train_args(sizes, out, "--max_iterations", str(sizes.teacher_iterations), "--run_name", "teacher")],
                 log, timeout)  # fmt: skip
    run = _newest_run(out / "logs")
    if first != "passed" or run is None:
        return first, {}
    resumed = _run([sys.executable, _script("train"), "--task", TEACHER,
                    *_train_args(sizes, out, "--max_iterations", "1", "--resume", str(run))], log, timeout)  # fmt: skip
    models = sorted(p.name for p in run.glob("model_*.pt"))
    return _combine([first, resumed]), {"run": str(run), "checkpoints": models}


def _teacher_run(out: Path) -> Path | None:
    runs = sorted((out / "logs" / "rsl_rl" / "intermimic_teacher").glob("*_teacher"))
    return runs[-1] if runs else None


def check_students(sizes: Sizes, out: Path, log: Path, timeout: int) -> tuple[str, dict]:
    teacher = _teacher_run(out)
    if teacher is None:
        return "skipped (no teacher run)", {}
    statuses = []
    for task in ("InterMimic-Student-v0", "InterMimic-Student-Transformer-v0"):
        statuses.append(_run([sys.executable, _script("train"), "--task", task,
                              *_train_args(sizes, out, "--max_iterations", "1", f"teachers.paths.0={teacher}",
                                           f"teachers.paths.1={teacher}")], log, timeout))  # fmt: skip
    return _combine(statuses), {"teachers": 2}


def check_eval_interval(sizes: Sizes, out: Path, log: Path, timeout: int) -> tuple[str, dict]:
    status = _run([sys.executable, _script("train"), "--task", TEACHER,
                   *_train_args(sizes, out, "--max_iterations", "1", "agent.eval_interval=1", "--run_name", "eval")],
                  log, timeout)  # fmt: skip
    report = next((out / "logs").rglob("fixed_start_eval/iteration_0/evaluation.json"), None)
    if report is None:
        return status if status != "passed" else "failed (no evaluation.json)", {}
    return status, {k: json.loads(report.read_text())["summary"].get(k) for k in ("clips", "success_rate", "E_h_cm")}


def check_play_export(sizes: Sizes, out: Path, log: Path, timeout: int) -> tuple[str, dict]:
    teacher = _teacher_run(out)
    if teacher is None:
        return "skipped (no teacher run)", {}
    status = _run([sys.executable, _script("play"), "--checkpoint", str(teacher), "--device", sizes.device,
                   "--num_envs", "1", "--export"], log, timeout)  # fmt: skip
    exported = sorted(p.name for p in teacher.rglob("*") if p.suffix in (".onnx", ".json") and "export" in str(p))
    return status, {"files": exported}


def check_evaluate_video(sizes: Sizes, out: Path, log: Path, timeout: int) -> tuple[str, dict]:
    teacher = _teacher_run(out)
    if teacher is None:
        return "skipped (no teacher run)", {}
    video = out / "evaluate.mp4"
    status = _run([sys.executable, _script("evaluate"), "--checkpoint", str(teacher), "--device", sizes.device,
                   "--num_envs", str(sizes.eval_envs), "--out", str(out / "evaluate"), "--video", str(video)],
                  log, timeout)  # fmt: skip
    report = out / "evaluate" / "evaluation.json"
    details = json.loads(report.read_text())["summary"] if report.is_file() else {}
    details = {k: details.get(k) for k in ("clips", "success_rate", "E_h_cm")}
    details["video_bytes"] = video.stat().st_size if video.is_file() else 0
    if status == "passed" and not details["video_bytes"]:
        status = "failed (no video)"
    return status, details


RUNNERS = {"tests": check_tests, "syncs": check_syncs, "benchmark_env": check_benchmark_env,
           "teacher": check_teacher, "students": check_students, "eval_interval": check_eval_interval,
           "play_export": check_play_export, "evaluate_video": check_evaluate_video}  # fmt: skip


# -------------------------------------------------------------------------------------------------
# The report
# -------------------------------------------------------------------------------------------------
def _short(details: dict) -> str:
    def text(v):
        if isinstance(v, float):
            return f"{v:.3g}" if math.isfinite(v) else str(v)
        if isinstance(v, dict):
            return "{" + ", ".join(f"{k}: {text(x)}" for k, x in v.items() if x is not None) + "}"
        if isinstance(v, list):
            return ", ".join(map(str, v[:6])) + (" ..." if len(v) > 6 else "")
        return str(v)

    return "; ".join(f"{k} {text(v)}" for k, v in details.items() if k != "package_calls")


def markdown_table(results: list[CheckResult], meta: dict) -> str:
    lines = [f"First GPU checks on {meta['device']} ({meta['machine']}), {meta['date']}, commit {meta['commit']}:", "",
             "| check | status | seconds | figures |", "|---|---|---|---|"]  # fmt: skip
    for r in results:
        lines.append(f"| {r.check} | {r.status} | {r.seconds:.0f} | {_short(r.details)} |")
    return "\n".join(lines) + "\n"


def _commit() -> str:
    proc = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO_ROOT)
    return proc.stdout.strip() or "unknown"


def run(args, overrides: list[str]) -> int:
    import torch

    from ..app.command_line import pick_device

    device = pick_device(args.device)
    sizes = sizes_for(device)
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    chosen = [c for c in CHECKS if args.only is None or c in args.only]
    gpu = torch.cuda.get_device_name(torch.device(device)) if device.startswith("cuda") else "no GPU (toy size)"
    meta = {"device": f"{device}, {gpu}", "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
            "date": time.strftime("%Y-%m-%d %H:%M"), "commit": _commit(), "torch": torch.__version__}  # fmt: skip
    print(f"[intermimic] first GPU checks on {meta['device']}: {', '.join(chosen)}; report and logs in {out}", flush=True)
    results = []
    for check in chosen:
        log = out / f"{check}.log"
        log.write_text("")
        timeout = sizes.timeouts[check] * args.time_scale
        print(f"[intermimic] {check} (at most {timeout} s) ...", flush=True)
        start = time.monotonic()
        try:
            status, details = RUNNERS[check](sizes, out, log, timeout)
        except Exception as exc:  # noqa: BLE001  (one failing check must not lose the others)
            status, details = f"failed ({type(exc).__name__}: {exc})", {}
        result = CheckResult(check, status, time.monotonic() - start, details, str(log))
        results.append(result)
        print(f"[intermimic]   {status} in {result.seconds:.0f} s" + (f": {_short(details)}" if details else ""), flush=True)
        (out / "gpu_checks.json").write_text(json.dumps({"meta": meta, "checks": [asdict(r) for r in results]}, indent=1))
    table = markdown_table(results, meta)
    (out / "gpu_checks.md").write_text(table)
    print("\n" + table)
    print(f"[intermimic] report: {out / 'gpu_checks.json'}, {out / 'gpu_checks.md'}")
    return 0 if all(r.status == "passed" for r in results) else 1

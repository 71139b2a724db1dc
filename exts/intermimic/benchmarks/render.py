"""Frames per second of the video renderers, printed as a table (``./intermimic.sh benchmark render``).

The scene is what a video shows: the humanoid, the demo box and the reference ghost, along a
built-in demo clip (:mod:`intermimic.evaluation.demo_scene`), with the caption drawn. Each row is a renderer and
OpenGL backend: MuJoCo with OSMesa (software, the CPU) and, on a machine with an NVIDIA GPU,
with EGL; the matplotlib skeleton (no OpenGL). MuJoCo reads its backend when it is imported,
so each OpenGL backend is measured in a fresh Python process (``python -m`` this module).
Encoding (H.264, GIF) is not included.
"""

from __future__ import annotations

import argparse
import ctypes.util
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..utils.arguments import int_at_least

HELP = "video renderers' frames/s (MuJoCo OSMesa/EGL, skeleton) per frame size"
"""One line for ``benchmark --help``."""

SIZES = ((640, 480), (1280, 720))
FRAMES = 60
WARMUP = 5
GL_BACKENDS = {"osmesa": "OSMesa (CPU)", "egl": "EGL (CUDA)"}


@dataclass
class Row:
    renderer: str
    backend: str
    fps: dict[str, float] = field(default_factory=dict)
    """Frames per second by size (``"640x480"``)."""
    problem: str | None = None
    """Why the row was not measured (None: measured)."""


def size_name(size: tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]}"


def frames_per_second(renderer, frames: list, count: int, warmup: int) -> float:
    """Frames per second of ``renderer.render`` over ``count`` frames of ``frames`` (after
    ``warmup`` untimed ones)."""
    renderer.start_clip(frames[0])
    for k in range(warmup):
        renderer.render(frames[k % len(frames)])
    start = time.perf_counter()
    for k in range(count):
        renderer.render(frames[(warmup + k) % len(frames)])
    return count / (time.perf_counter() - start)


def _scene():
    from ..evaluation.demo_scene import demo_object_mesh, demo_scene_frames

    return demo_scene_frames(), demo_object_mesh()


def measure_mujoco(sizes, count: int, warmup: int) -> dict:
    """In this process (its MuJoCo backend): ``{"fps": {size: frames/s}}`` or ``{"problem": why}``."""
    from ..utils.gl_backend import gl_backend_problem

    problem = gl_backend_problem()
    if problem:
        return {"problem": problem}
    from ..evaluation.mujoco_renderer import MujocoRenderer

    frames, mesh = _scene()
    fps = {}
    for size in sizes:
        renderer = MujocoRenderer([mesh], size=tuple(size), camera="side", ghost=True)
        try:
            fps[size_name(size)] = frames_per_second(renderer, frames, count, warmup)
        finally:
            renderer.close()
    return {"fps": fps}


def measure_skeleton(sizes, count: int, warmup: int) -> Row:
    from ..evaluation.video import SkeletonRenderer

    frames, _ = _scene()
    row = Row("skeleton", "matplotlib (CPU)")
    for size in sizes:
        row.fps[size_name(size)] = frames_per_second(SkeletonRenderer(tuple(size)), frames, count, warmup)
    return row


def available_backends() -> dict[str, str | None]:
    """Per OpenGL backend, None when it may work here, else why not."""
    from ..utils.gl_backend import _has_nvidia_egl

    return {"osmesa": None if ctypes.util.find_library("OSMesa") else "no OSMesa library (Debian's libosmesa6)",
            "egl": None if _has_nvidia_egl() else "no NVIDIA GPU with EGL"}  # fmt: skip


def measure_gl_backend(backend: str, sizes, count: int, warmup: int) -> Row:
    """The MuJoCo renderer with ``backend``, measured in a fresh process."""
    row = Row("mujoco", GL_BACKENDS[backend])
    env = {**os.environ, "MUJOCO_GL": backend, "PYOPENGL_PLATFORM": backend}
    package_parent = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH")) if p)
    cmd = [sys.executable, "-m", __name__, "--count", str(count), "--warmup", str(warmup),
           "--sizes", *map(size_name, sizes)]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or [f"exit status {proc.returncode}"]
        row.problem = f"the measuring process failed: {tail[0]}"
        return row
    result = json.loads(lines[-1])
    row.fps, row.problem = result.get("fps", {}), result.get("problem")
    return row


def render_benchmark(sizes=SIZES, count: int = FRAMES, warmup: int = WARMUP, renderers=("mujoco", "skeleton")) -> list[Row]:
    """One row per renderer and backend (a backend missing here: a row saying why)."""
    rows = []
    if "mujoco" in renderers:
        for backend, missing in available_backends().items():
            rows.append(Row("mujoco", GL_BACKENDS[backend], problem=missing) if missing
                        else measure_gl_backend(backend, sizes, count, warmup))  # fmt: skip
    if "skeleton" in renderers:
        rows.append(measure_skeleton(sizes, count, warmup))
    return rows


def format_table(rows: list[Row], sizes=SIZES) -> str:
    """Rows: renderer and backend; columns: frames/s per frame size."""
    names = [size_name(s) for s in sizes]
    w_renderer = max(len("renderer"), *(len(r.renderer) for r in rows)) + 2
    w_backend = max(len("backend"), *(len(r.backend) for r in rows)) + 2
    lines = ["renderer".ljust(w_renderer) + "backend".ljust(w_backend) + "".join(f"{n + ' frames/s':>20}" for n in names)]
    for r in rows:
        label = r.renderer.ljust(w_renderer) + r.backend.ljust(w_backend)
        if r.problem:
            lines.append(label + f"not measured: {r.problem}")
        else:
            lines.append(label + "".join(f"{r.fps[n]:>20.1f}" for n in names))
    return "\n".join(lines)


def _child(argv: list[str]) -> None:
    """``python -m intermimic.benchmarks.render``: the MuJoCo row of this process's backend, as JSON."""
    p = argparse.ArgumentParser()
    p.add_argument("--count", type=int, default=FRAMES)
    p.add_argument("--warmup", type=int, default=WARMUP)
    p.add_argument("--sizes", nargs="+", default=[size_name(s) for s in SIZES])
    a = p.parse_args(argv)
    sizes = [tuple(int(v) for v in s.split("x")) for s in a.sizes]
    print(json.dumps(measure_mujoco(sizes, a.count, a.warmup)), flush=True)


def add_args(p: argparse.ArgumentParser) -> None:
    from ..evaluation.video import RENDERERS, video_size

    p.add_argument("--frames", type=int_at_least(1), default=FRAMES, help="timed frames per size (default: %(default)s)")
    p.add_argument("--warmup", type=int_at_least(0), default=WARMUP, help="untimed frames first (default: %(default)s)")
    p.add_argument("--sizes", type=video_size, nargs="+", default=list(SIZES), metavar="WxH",
                   help="frame sizes (default: 640x480 1280x720)")  # fmt: skip
    p.add_argument("--renderers", choices=RENDERERS, nargs="+", default=list(RENDERERS), help="renderers (default: all)")


def run(args, overrides: list[str]) -> int:
    print(f"render benchmark: humanoid, demo box and reference ghost along a demo clip, caption drawn, no encoding; "
          f"{args.frames} frames per size after {args.warmup} warm-up frames; {os.cpu_count()} CPUs", flush=True)  # fmt: skip
    rows = render_benchmark(args.sizes, args.frames, args.warmup, args.renderers)
    print("\n" + format_table(rows, args.sizes))
    return 0 if any(not r.problem for r in rows) else 1


if __name__ == "__main__":
    _child(sys.argv[1:])

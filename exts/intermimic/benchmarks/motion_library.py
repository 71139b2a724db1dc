"""Motion library benchmark: load time and memory, and per-step query time vs clip count.

Used by ``source/benchmark.py motion``; returns plain dicts so the numbers can also be
checked or stored.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from ..assets.primitives import DEMO_OBJECT_NAME, demo_box_points
from ..motion.clip_format import CLIP_FPS
from ..motion.demo.synthetic import synthetic_clip
from ..motion.library import ClipInfo, MotionLibrary, pack_clips
from ..motion.packed import PackedFrames, frames_from_clip
from ..utils.arguments import float_above, int_at_least
from ..utils.errors import UserError
from ..utils.paths import REPO_ROOT
from .measure import cuda_available, gigabytes, peak_rss_bytes, sync

HELP = "motion library load, memory and query time"
"""One line for ``benchmark --help``."""

CLIP_FRAMES = 300
"""Frames per synthetic clip (10 s)."""
TEACHER_OFFSETS = (1, 16)
STUDENT_OFFSETS = (1, 2, 4, 16)


@dataclass
class _LazyClip:
    """A synthetic clip generated when packing reads it (keeps only one raw clip in memory)."""

    info: ClipInfo
    seed: int
    corrected: None = None

    @property
    def raw(self) -> torch.Tensor:
        return synthetic_clip(self.info.num_frames, seed=self.seed)


def synthetic_library(num_frames: int, device="cpu", clip_frames: int = CLIP_FRAMES, progress=False) -> tuple[MotionLibrary, float]:
    """A library of synthetic clips totalling ``num_frames`` frames; returns it and the seconds taken."""
    n_clips = max(1, -(-num_frames // clip_frames))
    entries = []
    left = num_frames
    for i in range(n_clips):
        n = min(clip_frames, left)
        left -= n
        entries.append(_LazyClip(ClipInfo(f"sub1_{DEMO_OBJECT_NAME}_{i:05d}", 1, DEMO_OBJECT_NAME, n), seed=i))
    start = time.perf_counter()
    lib = pack_clips(entries, {DEMO_OBJECT_NAME: demo_box_points()}, device=device, progress=progress)
    sync(device)
    return lib, time.perf_counter() - start


def time_queries(lib: MotionLibrary, envs: int, repeats: int, device="cpu", seed: int = 0) -> dict[str, float]:
    """Mean milliseconds per call of the per-step queries, for ``envs`` environments."""
    g = torch.Generator(device="cpu").manual_seed(seed)
    clip_ids = torch.randint(0, lib.num_clips, (envs,), generator=g).to(device)
    frames = (torch.rand(envs, generator=g).to(device) * lib.clip_length[clip_ids]).long()
    times = frames.double() / lib.fps + 0.5 / lib.fps
    queries = {
        "state (1 frame)": lambda: lib.state(clip_ids, frames),
        "future {1,16} (teacher)": lambda: lib.future(clip_ids, frames, TEACHER_OFFSETS),
        "future {1,2,4,16} (student)": lambda: lib.future(clip_ids, frames, STUDENT_OFFSETS),
        "state_at_time (interpolated)": lambda: lib.state_at_time(clip_ids, times),
    }
    out = {}
    for name, fn in queries.items():
        fn()  # warm-up
        sync(device)
        start = time.perf_counter()
        for _ in range(repeats):
            fn()
        sync(device)
        out[name] = (time.perf_counter() - start) / repeats * 1e3
    return out


def full_frame_bytes() -> int:
    """Bytes per frame if every derived quantity were stored as float32 (a ReferenceFrames row)."""
    return frames_from_clip(synthetic_clip(2), demo_box_points())[0:1].nbytes()


def bytes_per_frame() -> int:
    return PackedFrames.bytes_per_frame()


def sample_load(sample_dir, device="cpu") -> dict:
    """Read + pack the sample clips (raw and corrected); time and memory."""
    from types import SimpleNamespace

    from ..motion.reader import object_points_for, read_dataset_report

    cfg = SimpleNamespace(files=[str(sample_dir / "OMOMO_new")], corrected=[str(sample_dir / "OMOMO_retarget")],
                          subjects=[], objects_dir=str(sample_dir / "objects"), strict=False, future_horizon=16)  # fmt: skip
    start = time.perf_counter()
    report = read_dataset_report(cfg, progress=False)
    read_s = time.perf_counter() - start
    points = object_points_for((c.info.object for c in report.clips), report.objects_dir)
    start = time.perf_counter()
    lib = pack_clips(report.clips, points, device=device)
    sync(device)
    return {
        "clips": lib.num_clips, "frames": lib.num_frames, "read_s": read_s, "pack_s": time.perf_counter() - start,
        "bytes_per_source": lib.nbytes("raw"), "rejected": len(report.rejected), "library": lib,
    }  # fmt: skip


def frames_for_hours(hours: float) -> int:
    return int(round(hours * 3600 * CLIP_FPS))


def add_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--hours", type=float_above(0), default=10.0, help="synthetic library size (default: %(default)s h)")
    p.add_argument("--envs", type=int_at_least(1), default=4096, help="environments per query (default: %(default)s)")
    p.add_argument("--repeats", type=int_at_least(1), default=20, help="timed calls per query (default: %(default)s)")
    p.add_argument("--many", type=int_at_least(1), default=1000, help="clips in the mid-size comparison library (default: %(default)s)")
    p.add_argument("--device", default="cuda" if cuda_available() else "cpu")
    p.add_argument("--sample", default=os.environ.get("INTERMIMIC_SAMPLE_DATA"),
                   help="InterMimic sample data folder (default: $INTERMIMIC_SAMPLE_DATA or ../shared/data/intermimic_sample)")
    p.add_argument("--no-sample", action="store_true", help="skip the sample clips")


def run(args, overrides: list[str]) -> int:
    device = args.device
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"--device {device}: CUDA is not available on this machine; use --device cpu")
    print(f"motion library benchmark: device {device}, torch {torch.__version__}, {torch.get_num_threads()} CPU threads")
    packed, full = bytes_per_frame(), full_frame_bytes()
    print(f"storage per frame and source: {packed} bytes/frame packed (poses float32, labels int8, nearest-point "
          f"index int16); {full} bytes/frame if every derived quantity were stored as float32")  # fmt: skip

    if not args.no_sample:
        sample = Path(args.sample) if args.sample else REPO_ROOT.parent / "shared" / "data" / "intermimic_sample"
        if (sample / "OMOMO_new").is_dir():
            s = sample_load(sample, device)
            print(f"sample clips ({sample}): {s['clips']} clips x 2 sources, {s['frames']} frames/source; "
                  f"read+validate {s['read_s']:.2f} s, pack {s['pack_s']:.2f} s, {gigabytes(s['bytes_per_source'])}/source")  # fmt: skip
        else:
            print(f"sample clips: skipped (not found at {sample})")

    frames = frames_for_hours(args.hours)
    rss0 = peak_rss_bytes()
    big, seconds = synthetic_library(frames, device, progress=sys.stderr.isatty())
    rss1 = peak_rss_bytes()
    per_source = big.nbytes("raw")
    print(f"synthetic library: {args.hours:g} h = {frames:,} frames in {big.num_clips} clips; generate+pack "
          f"{seconds:.1f} s; {gigabytes(per_source)} per source ({per_source / frames:.0f} bytes/frame; all-float32 "
          f"would be {gigabytes(full * frames)}); process peak memory +{gigabytes(max(0, rss1 - rss0))} on the host")  # fmt: skip

    sizes = {"1 clip": synthetic_library(CLIP_FRAMES, device)[0],
             f"{args.many} clips": synthetic_library(args.many * CLIP_FRAMES, device)[0],
             f"{big.num_clips} clips ({args.hours:g} h)": big}  # fmt: skip
    results = {name: time_queries(lib, args.envs, args.repeats, device) for name, lib in sizes.items()}
    names = list(sizes)
    queries = list(next(iter(results.values())))
    width = max(len(q) for q in queries) + 2
    print(f"\nquery time per call, {args.envs} environments (ms, mean of {args.repeats}):")
    print("query".ljust(width) + "".join(n.rjust(22) for n in names))
    for q in queries:
        print(q.ljust(width) + "".join(f"{results[n][q]:22.2f}" for n in names))
    return 0

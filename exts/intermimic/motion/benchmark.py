"""Motion library benchmark: load time and memory, and per-step query time vs clip count.

Used by ``source/benchmark.py motion``; returns plain dicts so the numbers can also be
checked or stored.
"""

from __future__ import annotations

import resource
import time
from dataclasses import dataclass

import torch

from ..assets.primitives import DEMO_OBJECT_NAME, demo_box_points
from .clip_format import CLIP_FPS
from .demo.synthetic import synthetic_clip
from .library import ClipInfo, MotionLibrary, pack_clips
from .packed import PackedFrames, frames_from_clip

CLIP_FRAMES = 300
"""Frames per synthetic clip (10 s)."""
TEACHER_OFFSETS = (1, 16)
STUDENT_OFFSETS = (1, 2, 4, 16)


def peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _sync(device) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


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
    _sync(device)
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
        _sync(device)
        start = time.perf_counter()
        for _ in range(repeats):
            fn()
        _sync(device)
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

    from .reader import object_points_for, read_dataset_report

    cfg = SimpleNamespace(files=[str(sample_dir / "OMOMO_new")], corrected=[str(sample_dir / "OMOMO_retarget")],
                          subjects=[], objects_dir=str(sample_dir / "objects"), strict=False, future_horizon=16)  # fmt: skip
    start = time.perf_counter()
    report = read_dataset_report(cfg, progress=False)
    read_s = time.perf_counter() - start
    points = object_points_for((c.info.object for c in report.clips), report.objects_dir)
    start = time.perf_counter()
    lib = pack_clips(report.clips, points, device=device)
    _sync(device)
    return {
        "clips": lib.num_clips, "frames": lib.num_frames, "read_s": read_s, "pack_s": time.perf_counter() - start,
        "bytes_per_source": lib.nbytes("raw"), "rejected": len(report.rejected), "library": lib,
    }  # fmt: skip


def frames_for_hours(hours: float) -> int:
    return int(round(hours * 3600 * CLIP_FPS))

"""The packed HOI motion library: every clip's frames in flat tensors on one device.

Queries are batched gathers into the flat tensors, so their cost depends on the number of
environments queried, not on the number of clips loaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from .clip_format import CLIP_FPS
from .reference import ReferenceFrames, interpolate

SOURCES = ("raw", "corrected")
"""Reference sources: raw motion capture, teacher-corrected references."""


@dataclass
class ClipInfo:
    name: str
    subject: int
    object: str
    num_frames: int
    path: str | None = None


@dataclass
class MotionLibrary:
    """All clips of a data set, packed per reference source.

    Attributes:
        clips: metadata per clip, in library order.
        sources: packed frames per source name (``"raw"`` and, when available, ``"corrected"``).
        object_names: distinct object names, index = object id.
        object_points: ``[num_objects, P, 3]`` surface sample points per object (object frame).
        subjects: distinct subject ids, index = subject slot.
    """

    clips: list[ClipInfo]
    sources: dict[str, ReferenceFrames]
    object_names: list[str]
    object_points: torch.Tensor
    subjects: list[int]
    fps: float = CLIP_FPS
    clip_start: torch.Tensor = field(init=False)
    clip_length: torch.Tensor = field(init=False)
    clip_subject: torch.Tensor = field(init=False)
    clip_object: torch.Tensor = field(init=False)

    def __post_init__(self):
        if not self.clips:
            raise ValueError("a motion library needs at least one clip")
        device = next(iter(self.sources.values())).root_pos.device
        lengths = torch.tensor([c.num_frames for c in self.clips], dtype=torch.long, device=device)
        self.clip_length = lengths
        self.clip_start = torch.cumsum(lengths, 0) - lengths
        self.clip_subject = torch.tensor([self.subjects.index(c.subject) for c in self.clips], device=device)
        self.clip_object = torch.tensor([self.object_names.index(c.object) for c in self.clips], device=device)
        total = int(lengths.sum())
        for name, frames in self.sources.items():
            if frames.num_frames != total:
                raise ValueError(f"source '{name}' holds {frames.num_frames} frames, clips need {total}")

    # ----------------------------------------------------------------------------------
    @property
    def num_clips(self) -> int:
        return len(self.clips)

    @property
    def device(self) -> torch.device:
        return self.clip_start.device

    @property
    def dt(self) -> float:
        return 1.0 / self.fps

    def has_source(self, source: str) -> bool:
        return source in self.sources

    def _source(self, source: str) -> ReferenceFrames:
        try:
            return self.sources[source]
        except KeyError:
            raise KeyError(
                f"reference source '{source}' is not loaded (loaded: {sorted(self.sources)})"
            ) from None

    def clip_ids_for_subject(self, subject: int) -> torch.Tensor:
        return torch.nonzero(self.clip_subject == self.subjects.index(subject)).flatten()

    # ----------------------------------------------------------------------------------
    def flat_index(self, clip_ids: torch.Tensor, frames: torch.Tensor) -> torch.Tensor:
        """Flat frame index of (clip, frame), the frame clamped into ``[0, length - 1]``."""
        length = self.clip_length[clip_ids]
        while length.dim() < frames.dim():
            length = length.unsqueeze(-1)
        start = self.clip_start[clip_ids]
        while start.dim() < frames.dim():
            start = start.unsqueeze(-1)
        return start + torch.minimum(frames.clamp_min(0), length - 1)

    def state(self, clip_ids: torch.Tensor, frames: torch.Tensor, source: str = "raw") -> ReferenceFrames:
        """Reference at integer ``frames`` of ``clip_ids`` (broadcast shapes, clamped to the clip)."""
        idx = self.flat_index(clip_ids, frames)
        return self._source(source)[idx]

    def future(
        self, clip_ids: torch.Tensor, frames: torch.Tensor, offsets: Sequence[int], source: str = "raw"
    ) -> ReferenceFrames:
        """References at ``frames + k`` for each offset k: leading shape ``[E, K]``."""
        k = torch.as_tensor(list(offsets), dtype=torch.long, device=self.device)
        return self.state(clip_ids, frames[:, None] + k[None, :], source)

    def state_at_time(self, clip_ids: torch.Tensor, times: torch.Tensor, source: str = "raw") -> ReferenceFrames:
        """Reference at continuous ``times`` (seconds), interpolated between frames."""
        pos = times * self.fps
        f0 = torch.floor(pos).long()
        alpha = (pos - f0.to(pos.dtype)).clamp(0.0, 1.0)
        last = self.clip_length[clip_ids] - 1
        f0 = torch.minimum(f0.clamp_min(0), last)
        f1 = torch.minimum(f0 + 1, last)
        alpha = torch.where(f1 == f0, torch.zeros_like(alpha), alpha)
        return interpolate(self.state(clip_ids, f0, source), self.state(clip_ids, f1, source), alpha)

    # ----------------------------------------------------------------------------------
    def summary(self) -> dict:
        frames = int(self.clip_length.sum())
        return {
            "clips": self.num_clips,
            "frames": frames,
            "seconds": frames / self.fps,
            "subjects": list(self.subjects),
            "objects": list(self.object_names),
            "sources": sorted(self.sources),
            "bytes_per_source": {k: v.nbytes() for k, v in self.sources.items()},
        }


@dataclass
class LoadedClip:
    """One clip's raw tensors before packing: ``raw`` and optionally ``corrected`` ``[T, 591]``."""

    info: ClipInfo
    raw: torch.Tensor
    corrected: torch.Tensor | None = None


def pack_clips(
    entries: Sequence[LoadedClip],
    object_points: dict[str, torch.Tensor],
    device: str | torch.device = "cpu",
    fps: float = CLIP_FPS,
) -> MotionLibrary:
    """Derive every clip's reference quantities and pack them into one library on ``device``.

    The ``corrected`` source is built only when every clip has one (a library mixing
    corrected and uncorrected clips would silently feed raw capture to the student).
    """
    from .reference import frames_from_clip

    if not entries:
        raise ValueError("no clips to pack")
    missing = sorted({e.info.object for e in entries} - set(object_points))
    if missing:
        raise KeyError(f"no surface points for objects {missing}; known objects: {sorted(object_points)}")
    object_names = sorted({e.info.object for e in entries})
    subjects = sorted({e.info.subject for e in entries})
    have_corrected = all(e.corrected is not None for e in entries)
    sources: dict[str, list[ReferenceFrames]] = {"raw": []}
    if have_corrected:
        sources["corrected"] = []
    for e in entries:
        pts = object_points[e.info.object].to(device)
        sources["raw"].append(frames_from_clip(e.raw.to(device), pts, fps))
        if have_corrected:
            sources["corrected"].append(frames_from_clip(e.corrected.to(device), pts, fps))
    points = torch.stack([object_points[n].to(device, torch.float32) for n in object_names])
    return MotionLibrary(
        clips=[e.info for e in entries],
        sources={k: ReferenceFrames.cat(v) for k, v in sources.items()},
        object_names=object_names,
        object_points=points,
        subjects=subjects,
        fps=fps,
    )

"""The packed HOI motion library: every clip's frames in flat tensors on one device.

Queries are batched gathers into the flat tensors, so their cost depends on the number of
environments queried, not on the number of clips loaded. Each reference source is stored as
:class:`~intermimic.motion.packed.PackedFrames` (poses plus compact labels); velocities and the
interaction field are expanded per query.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from .clip_format import CLIP_FPS
from .packed import PackedFrames, pack_robot_clip
from .reference import ReferenceFrames, interpolate
from .robot_clip import RobotClip

SOURCES = ("raw", "corrected")
"""Reference sources: raw motion capture, teacher-corrected references."""


@dataclass
class ClipInfo:
    name: str
    subject: int
    object: str
    num_frames: int
    path: str | None = None
    corrected_path: str | None = None
    first_row: int = 0
    """File row of the clip's frame 0 (1 when row 0 is skipped to align with a corrected clip)."""


@dataclass
class Rejection:
    """A clip file that was not loaded, and why."""

    path: str
    reason: str


def format_rejections(rejected: list[Rejection]) -> list[str]:
    """Report lines for rejected files: a count, then one line per file with its reason."""
    if not rejected:
        return []
    return [f"rejected {len(rejected)} file(s):", *(f"  {r.path}: {r.reason}" for r in rejected)]


@dataclass
class MotionLibrary:
    """All clips of a data set, packed per reference source.

    Attributes:
        clips: metadata per clip, in library order.
        sources: packed frames per source name (``"raw"`` and, when available, ``"corrected"``).
        object_names: distinct object names, index = object id.
        object_points: ``[num_objects, P, 3]`` surface sample points per object (object frame).
        subjects: distinct subject ids, index = subject slot.
        rejected: files that were found but not loaded, with the reason.
        objects_dir: the objects folder the clips' object names were resolved in (None: built-in).
    """

    clips: list[ClipInfo]
    sources: dict[str, PackedFrames]
    object_names: list[str]
    object_points: torch.Tensor
    subjects: list[int]
    fps: float = CLIP_FPS
    rejected: list[Rejection] = field(default_factory=list)
    objects_dir: str | None = None
    clip_start: torch.Tensor = field(init=False)
    clip_length: torch.Tensor = field(init=False)
    clip_subject: torch.Tensor = field(init=False)
    clip_object: torch.Tensor = field(init=False)

    def __post_init__(self):
        if not self.clips:
            raise ValueError("a motion library needs at least one clip")
        device = next(iter(self.sources.values())).device
        lengths = torch.tensor([c.num_frames for c in self.clips], dtype=torch.long, device=device)
        self.clip_length = lengths
        self.clip_start = torch.cumsum(lengths, 0) - lengths
        self.clip_subject = torch.tensor([self.subjects.index(c.subject) for c in self.clips], device=device)
        self.clip_object = torch.tensor([self.object_names.index(c.object) for c in self.clips], device=device)
        self.object_points = self.object_points.to(device, torch.float32)
        total = int(lengths.sum())
        for name, frames in self.sources.items():
            if frames.num_frames != total:
                raise ValueError(f"source '{name}' holds {frames.num_frames} frames, clips need {total}")

    # ----------------------------------------------------------------------------------
    @property
    def num_clips(self) -> int:
        return len(self.clips)

    @property
    def num_frames(self) -> int:
        return next(iter(self.sources.values())).num_frames

    @property
    def device(self) -> torch.device:
        return self.clip_start.device

    @property
    def dt(self) -> float:
        return 1.0 / self.fps

    def has_source(self, source: str) -> bool:
        return source in self.sources

    def _source(self, source: str) -> PackedFrames:
        try:
            return self.sources[source]
        except KeyError:
            raise KeyError(
                f"reference source '{source}' is not loaded (loaded: {sorted(self.sources)})"
            ) from None

    def clip_ids_for_subject(self, subject: int) -> torch.Tensor:
        return torch.nonzero(self.clip_subject == self.subjects.index(subject)).flatten()

    def clip_index(self, name: str) -> int:
        for i, c in enumerate(self.clips):
            if c.name == name:
                return i
        raise KeyError(f"no clip named '{name}' in the library")

    # ----------------------------------------------------------------------------------
    def _broadcast(self, per_clip: torch.Tensor, clip_ids: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        v = per_clip[clip_ids]
        while v.dim() < like.dim():
            v = v.unsqueeze(-1)
        return v.expand_as(like) if v.shape != like.shape else v

    def flat_index(self, clip_ids: torch.Tensor, frames: torch.Tensor) -> torch.Tensor:
        """Flat frame index of (clip, frame), the frame clamped into ``[0, length - 1]``."""
        length = self._broadcast(self.clip_length, clip_ids, frames)
        start = self._broadcast(self.clip_start, clip_ids, frames)
        return start + torch.minimum(frames.clamp_min(0), length - 1)

    def state(self, clip_ids: torch.Tensor, frames: torch.Tensor, source: str = "raw") -> ReferenceFrames:
        """Reference at integer ``frames`` of ``clip_ids``.

        ``frames`` may have more trailing dimensions than ``clip_ids`` (e.g. ``[E, K]`` for
        ``[E]`` clips); frames outside a clip are clamped to its first/last frame.
        """
        frames = frames.long()
        length = self._broadcast(self.clip_length, clip_ids, frames)
        start = self._broadcast(self.clip_start, clip_ids, frames)
        local = torch.minimum(frames.clamp_min(0), length - 1)
        idx = start + local
        prev = start + (local - 1).clamp_min(0)
        obj = self._broadcast(self.clip_object, clip_ids, frames)
        return self._source(source).gather(idx, prev, obj, self.object_points, self.fps)

    def future(
        self, clip_ids: torch.Tensor, frames: torch.Tensor, offsets: Sequence[int], source: str = "raw"
    ) -> ReferenceFrames:
        """References at ``frames + k`` for each offset k: leading shape ``[E, K]``, clamped to clip ends."""
        return self.state(clip_ids, frames.long()[:, None] + self._offsets(tuple(offsets))[None, :], source)

    def _offsets(self, offsets: tuple[int, ...]) -> torch.Tensor:
        """``offsets`` as a tensor on the library's device, made once per tuple (no copy from the
        host in the step)."""
        cache = self.__dict__.setdefault("_offset_tensors", {})
        if offsets not in cache:
            cache[offsets] = torch.tensor(offsets, dtype=torch.long, device=self.device)
        return cache[offsets]

    def state_at_time(self, clip_ids: torch.Tensor, times: torch.Tensor, source: str = "raw") -> ReferenceFrames:
        """Reference at continuous ``times`` (seconds from the clip start), interpolated between frames.

        At a frame's own time the result is that frame exactly; times beyond the clip clamp.
        """
        pos = times * self.fps
        snapped = torch.round(pos)
        pos = torch.where((pos - snapped).abs() < 1.0e-4, snapped, pos)
        f0 = torch.floor(pos).long()
        alpha = (pos - f0.to(pos.dtype)).clamp(0.0, 1.0)
        last = self._broadcast(self.clip_length, clip_ids, f0) - 1
        f0 = torch.minimum(f0.clamp_min(0), last)
        f1 = torch.minimum(f0 + 1, last)
        alpha = torch.where(f1 == f0, torch.zeros_like(alpha), alpha)
        return interpolate(self.state(clip_ids, f0, source), self.state(clip_ids, f1, source), alpha)

    # ----------------------------------------------------------------------------------
    def clip_tensor(self, clip_id: int, source: str = "raw") -> torch.Tensor:
        """One clip's frames back in the ``[T, 591]`` clip format (joint columns as exp maps)."""
        start = int(self.clip_start[clip_id])
        return self._source(source).to_clip(start, start + int(self.clip_length[clip_id]))

    def nbytes(self, source: str | None = None) -> int:
        """Bytes held by one source's frames (all sources when ``None``)."""
        names = [source] if source else list(self.sources)
        return sum(self._source(n).nbytes() for n in names)

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
            "rejected": [{"path": r.path, "reason": r.reason} for r in self.rejected],
        }

    def summary_text(self) -> str:
        s = self.summary()
        lines = [
            f"motion library: {s['clips']} clips, {s['frames']} frames ({s['seconds']:.1f} s), "
            f"subjects {s['subjects']}, objects {s['objects']}, sources {s['sources']}"
        ]
        lines += format_rejections(self.rejected)
        return "\n".join(lines)


@dataclass
class LoadedClip:
    """One clip before packing: ``raw`` and optionally ``corrected``, each an SMPL-X ``[T, 591]``
    tensor or a :class:`~intermimic.motion.robot_clip.RobotClip`.

    Both hold exactly the frames that go into the library (a corrected clip's placeholder row
    0, and the raw row it stands beside, are already dropped).
    """

    info: ClipInfo
    raw: torch.Tensor | RobotClip
    corrected: torch.Tensor | RobotClip | None = None


def pack_clips(
    entries: Sequence[LoadedClip],
    object_points: dict[str, torch.Tensor],
    device: str | torch.device = "cpu",
    fps: float = CLIP_FPS,
    rejected: Sequence[Rejection] = (),
    progress: bool = False,
    embodiment=None,
) -> MotionLibrary:
    """Pack clips into one library on ``device``, clip by clip into preallocated tensors.

    The ``corrected`` source is built only when every clip has one (a library mixing
    corrected and uncorrected clips would silently feed raw capture to the student). Robot
    clips need the ``embodiment`` they are simulated on (its body and joint order).
    """
    if not entries:
        raise ValueError("no clips to pack" + (f"; rejected: {[r.path for r in rejected]}" if rejected else ""))
    missing = sorted({e.info.object for e in entries} - set(object_points))
    if missing:
        raise KeyError(f"no surface points for objects {missing}; known objects: {sorted(object_points)}")
    object_names = sorted({e.info.object for e in entries})
    subjects = sorted({e.info.subject for e in entries})
    have_corrected = all(e.corrected is not None for e in entries)
    total = sum(e.info.num_frames for e in entries)
    robot = isinstance(entries[0].raw, RobotClip)
    if any(isinstance(e.raw, RobotClip) != robot for e in entries):
        raise ValueError("a motion library holds SMPL-X clips or robot clips, not both")
    if robot and embodiment is None:
        raise ValueError("robot clips are packed for an embodiment; none given")
    sizes = (embodiment.num_bodies, embodiment.num_dofs) if robot else ()
    sources = {"raw": PackedFrames.empty(total, device, *sizes)}
    if have_corrected:
        sources["corrected"] = PackedFrames.empty(total, device, *sizes)
    points = {n: object_points[n].to(device, torch.float32) for n in object_names}
    from ..utils.progress import progress as progress_reporter

    start = 0
    for e in progress_reporter(entries, desc="packing clips", unit="clip", enabled=progress):
        n = e.info.num_frames
        tensors = {"raw": e.raw}
        if have_corrected:
            tensors["corrected"] = e.corrected
        for name, clip in tensors.items():
            frames = clip.num_frames if robot else clip.shape[0]
            if frames != n:
                raise ValueError(f"clip {e.info.name}: {name} has {frames} frames, its info says {n}")
            if robot:
                where = (e.info.corrected_path if name == "corrected" else e.info.path) or e.info.name
                packed = pack_robot_clip(clip, points[e.info.object], embodiment, device, where)
            else:
                packed = PackedFrames.from_clip(clip.to(device), points[e.info.object])
            sources[name].write(start, packed)
        start += n
    return MotionLibrary(
        clips=[e.info for e in entries],
        sources=sources,
        object_names=object_names,
        object_points=torch.stack([points[n] for n in object_names]),
        subjects=subjects,
        fps=fps,
        rejected=list(rejected),
    )

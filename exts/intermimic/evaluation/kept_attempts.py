"""Scene frames of each clip's kept attempt during an evaluation (for grid videos and contact sheets).

:class:`KeptAttempts` is an observer of :func:`~intermimic.evaluation.evaluator.evaluate_policy`:
every step it captures the scene of the environments running a scheduled attempt of a chosen
clip, and when an attempt ends it keeps its frames if the evaluation keeps the attempt. Clips
in ``full`` keep every frame (a grid video plays them); the others keep only the frames a
contact sheet shows (first, middle, last), holding at most the second half of a running attempt.
Each kept frame owns its arrays (a step's batch is not held alive by one frame of it), without
the object's surface points unless the renderer draws them (the skeleton).
"""

from __future__ import annotations

import dataclasses
from collections import deque
from dataclasses import dataclass

import numpy as np

from .scene_capture import SceneCapture, SceneFrame

NO_POINTS = np.zeros((0, 3), np.float32)


class AttemptFrames:
    """The frames of one running attempt: all of them, or the first and the latest half."""

    def __init__(self, keep_all: bool):
        self.keep_all = keep_all
        self.count = 0
        self.first: SceneFrame | None = None
        self.tail: deque[SceneFrame] | list[SceneFrame] = [] if keep_all else deque()
        self.tail_start = 0
        """Index (in the attempt) of ``tail[0]``."""

    def add(self, frame: SceneFrame) -> None:
        if self.count == 0:
            self.first = frame
        self.tail.append(frame)
        self.count += 1
        if not self.keep_all:
            while self.tail_start < middle_index(self.count):
                self.tail.popleft()
                self.tail_start += 1

    def all(self) -> list[SceneFrame]:
        if not self.keep_all:
            raise ValueError("this attempt kept only its first, middle and last frames")
        return list(self.tail)

    def picks(self) -> list[SceneFrame]:
        """First, middle and last frame (see :func:`middle_index`)."""
        if self.count == 0:
            return []
        middle = self.tail[middle_index(self.count) - self.tail_start]
        return [self.first, middle, self.tail[-1]]


def middle_index(count: int) -> int:
    """The middle frame of ``count`` frames (0-based; the earlier one of two)."""
    return (count - 1) // 2


@dataclass
class KeptAttempt:
    clip_id: int
    steps: int
    success: bool
    frames: AttemptFrames


class KeptAttempts:
    """Per chosen clip, the scene frames of its kept attempt.

    Args:
        cmd: the env's HOI reference command.
        full: clip ids whose kept attempt keeps every frame.
        sheets: clip ids whose kept attempt keeps its first, middle and last frame (``None``: every clip).
        points: keep the object's surface points in the frames (the skeleton renderer draws them).
    """

    def __init__(self, cmd, full: list[int] = (), sheets: list[int] | None = (), points: bool = True):
        self.cmd = cmd
        self.points = points
        self.full = set(full)
        self.sheets = None if sheets is None else set(sheets)
        self.running: dict[int, AttemptFrames] = {}  # env id -> its attempt's frames
        self.kept: dict[int, KeptAttempt] = {}

    def wanted(self, clip_id: int) -> bool:
        return clip_id in self.full or self.sheets is None or clip_id in self.sheets

    def on_step(self, env=None) -> None:
        """Capture the envs running a scheduled attempt of a chosen clip (after the physics step,
        before resets: an ending attempt's last state is captured)."""
        clips, scheduled = self.cmd.clip_ids.tolist(), self.cmd.scheduled.tolist()
        envs = [e for e, c in enumerate(clips) if scheduled[e] and self.wanted(c)]
        if not envs:
            return
        batch = SceneCapture(self.cmd, envs)
        for i, e in enumerate(envs):
            attempt = self.running.get(e)
            if attempt is None:
                attempt = self.running[e] = AttemptFrames(clips[e] in self.full)
            attempt.add(self._own(batch.frame(i)))

    def _own(self, frame: SceneFrame) -> SceneFrame:
        """``frame`` with copies of its arrays (and without the object's points unless kept)."""
        arrays = {f.name: np.array(getattr(frame, f.name)) for f in dataclasses.fields(frame)
                  if isinstance(getattr(frame, f.name), np.ndarray)}  # fmt: skip
        if not self.points:
            arrays["object_points"] = arrays["ref_object_points"] = NO_POINTS
        return dataclasses.replace(frame, **arrays)

    def on_attempt(self, env_id: int, clip_id: int, steps: int = 0, success: bool = False, kept: bool = False) -> None:
        attempt = self.running.pop(int(env_id), None)
        if kept and attempt is not None and attempt.count:
            self.kept[int(clip_id)] = KeptAttempt(int(clip_id), int(steps), bool(success), attempt)

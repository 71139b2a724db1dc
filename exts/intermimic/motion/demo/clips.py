"""Built-in demo clips, generated in code in the InterMimic clip format.

They let a fresh machine train without any download, teachers and a student included. All
use the built-in box ``demobox`` (40 x 30 x 30 cm). Subject 0 performs three motions:

* ``stand_squat_stand``: stand, squat with the arms forward, stand up beside the box
  (untouched).
* ``lift_and_place``: stand at the box, squat and grasp it by its sides, lift it to the
  chest, hold it, put it back where it was, let go and stand up.
* ``walk_lift_carry``: walk five steps to the box, squat and grasp it, stand up with it and
  carry it four steps.

The motions come from :mod:`motions` (footstep plans, inverse kinematics, centre of
mass over the feet in static poses): planted feet do not slide, the box moves only while the
hands hold it, and no body but the hands touches it.

Subject 1 performs the same three motions more slowly (1.25 times the duration), facing
another direction at another place (turned 90 degrees, moved 0.5 m): a second subject for a
second teacher, so a fresh machine runs the whole teacher -> student pipeline. Generation
takes about a second and is cached per process.
"""

from __future__ import annotations

from functools import lru_cache

import torch

from ...assets.primitives import DEMO_OBJECT_NAME
from ..clip_transform import retime_clip, turn_clip
from ..library import ClipInfo, LoadedClip
from ..threads import single_thread
from . import motions

DEMO_SUBJECT = 0
"""The subject of the original demo motions."""
DEMO_SUBJECT_VARIANTS = {0: (0.0, (0.0, 0.0), 1.0), 1: (0.5 * 3.141592653589793, (0.5, 0.0), 1.25)}
"""Demo subjects: id -> (turn about z in rad, shift on the ground in m, slow-down factor)."""

DEMO_CLIPS = {
    "stand_squat_stand": motions.stand_squat_stand,
    "lift_and_place": motions.lift_and_place,
    "walk_lift_carry": motions.walk_lift_carry,
}
"""Name -> generator of a :class:`~intermimic.motion.demo.motions.Motion`."""


@lru_cache(maxsize=None)
def _generated(name: str) -> torch.Tensor:
    with single_thread():
        return motions.motion_to_clip(DEMO_CLIPS[name]()).to(torch.float32)


def demo_clip(name: str, subject: int = DEMO_SUBJECT) -> torch.Tensor:
    """One demo clip ``[T, 591]`` by name, as performed by demo ``subject``."""
    if name not in DEMO_CLIPS:
        raise KeyError(f"no demo clip '{name}'; demo clips: {', '.join(DEMO_CLIPS)}")
    if subject not in DEMO_SUBJECT_VARIANTS:
        raise KeyError(f"no demo subject {subject}; demo subjects: {sorted(DEMO_SUBJECT_VARIANTS)}")
    yaw, shift, slower = DEMO_SUBJECT_VARIANTS[subject]
    clip = _generated(name)
    if slower != 1.0:
        clip = retime_clip(clip, slower)
    return turn_clip(clip, yaw, shift) if yaw or any(shift) else clip.clone()


def demo_clip_name(index: int, name: str, subject: int = DEMO_SUBJECT) -> str:
    return f"sub{subject}_{DEMO_OBJECT_NAME}_{index:03d}_{name}"


def demo_clips(names=None, subjects=None) -> list[LoadedClip]:
    """The built-in demo data set: every demo subject's clips (raw and corrected sources are
    the same generated motion)."""
    out = []
    for subject in sorted(DEMO_SUBJECT_VARIANTS):
        if subjects is not None and subject not in subjects:
            continue
        for i, name in enumerate(DEMO_CLIPS):
            if names is not None and name not in names:
                continue
            clip = demo_clip(name, subject)
            info = ClipInfo(name=demo_clip_name(i, name, subject), subject=subject, object=DEMO_OBJECT_NAME,
                            num_frames=clip.shape[0])  # fmt: skip
            out.append(LoadedClip(info=info, raw=clip, corrected=clip.clone()))
    return out

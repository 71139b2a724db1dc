"""Built-in demo clips, generated in code in the InterMimic clip format.

They let a fresh machine train without any download. All use the built-in box ``demobox``
(40 x 30 x 30 cm) and subject id 0:

* ``stand_squat_stand``: stand, squat with the arms forward, stand up beside the box
  (untouched).
* ``lift_and_place``: stand at the box, squat and grasp it by its sides, lift it to the
  chest, hold it, put it back where it was, let go and stand up.
* ``walk_lift_carry``: walk five steps to the box, squat and grasp it, stand up with it and
  carry it four steps.

The motions come from :mod:`motions` (footstep plans, inverse kinematics, centre of
mass over the feet in static poses): planted feet do not slide, the box moves only while the
hands hold it, and no body but the hands touches it. Generation takes about a second and is
cached per process.
"""

from __future__ import annotations

from functools import lru_cache

import torch

from ...assets.primitives import DEMO_OBJECT_NAME
from . import motions
from ..library import ClipInfo, LoadedClip
from ..threads import single_thread

DEMO_SUBJECT = 0

DEMO_CLIPS = {
    "stand_squat_stand": motions.stand_squat_stand,
    "lift_and_place": motions.lift_and_place,
    "walk_lift_carry": motions.walk_lift_carry,
}
"""Name -> generator of a :class:`~intermimic.motion.motions.Motion`."""


@lru_cache(maxsize=None)
def _generated(name: str) -> torch.Tensor:
    with single_thread():
        return motions.motion_to_clip(DEMO_CLIPS[name]()).to(torch.float32)


def demo_clip(name: str) -> torch.Tensor:
    """One demo clip ``[T, 591]`` by name."""
    if name not in DEMO_CLIPS:
        raise KeyError(f"no demo clip '{name}'; demo clips: {', '.join(DEMO_CLIPS)}")
    return _generated(name).clone()


def demo_clip_name(index: int, name: str) -> str:
    return f"sub{DEMO_SUBJECT}_{DEMO_OBJECT_NAME}_{index:03d}_{name}"


def demo_clips(names=None) -> list[LoadedClip]:
    """The built-in demo data set (raw and corrected sources are the same generated motion)."""
    out = []
    for i, name in enumerate(DEMO_CLIPS):
        if names is not None and name not in names:
            continue
        clip = demo_clip(name)
        info = ClipInfo(name=demo_clip_name(i, name), subject=DEMO_SUBJECT, object=DEMO_OBJECT_NAME,
                        num_frames=clip.shape[0])  # fmt: skip
        out.append(LoadedClip(info=info, raw=clip, corrected=clip.clone()))
    return out

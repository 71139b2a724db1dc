"""Generated motion: the built-in demo clips (no download needed) and synthetic clips.

* :mod:`.clips`: the demo clips with the demo box, in the clip format (``demo_clips``);
* :mod:`.motions`, :mod:`.walk`, :mod:`.rig`: how the demo motions are made (footstep plans,
  inverse kinematics, centre of mass over the feet);
* :mod:`.synthetic`: random but kinematically consistent clips for benchmarks and tests.
"""

from .clips import DEMO_CLIPS, DEMO_SUBJECT, demo_clip, demo_clip_name, demo_clips

__all__ = ["DEMO_CLIPS", "DEMO_SUBJECT", "demo_clip", "demo_clip_name", "demo_clips"]

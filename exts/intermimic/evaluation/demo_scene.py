"""Scene frames of a built-in demo clip, without a simulator (render benchmarks, picture tests).

The humanoid and the demo box follow the clip; the reference ghost is the same clip some frames
earlier, so both are visible; bodies the clip labels in contact are drawn in contact.
"""

from __future__ import annotations

import numpy as np

from ..assets.humanoid_spec import NUM_BODIES
from ..assets.primitives import DEMO_OBJECT_NAME
from .scene_capture import OBJECT_POINTS_DRAWN, SceneFrame

DEMO_SCENE_CLIP = "lift_and_place"
GHOST_LAG = 10
"""Frames the ghost (reference) lags behind the humanoid."""


def demo_object_mesh():
    from ..assets.object_registry import ObjectRegistry

    return ObjectRegistry().mesh(DEMO_OBJECT_NAME)


def _points(local: np.ndarray, pos: np.ndarray, quat_xyzw: np.ndarray) -> np.ndarray:
    x, y, z, w = quat_xyzw
    rot = np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
                    [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
                    [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)]])  # fmt: skip
    return local @ rot.T + pos


def demo_scene_frames(count: int | None = None, clip: str = DEMO_SCENE_CLIP, ghost_lag: int = GHOST_LAG,
                      caption: str = "") -> list[SceneFrame]:  # fmt: skip
    """``count`` frames (default: the whole clip) of demo clip ``clip`` of subject 0, object id 0
    (the demo box); with ``count`` larger than the clip, it plays again from the start."""
    from ..motion.clip_format import field
    from ..motion.demo import demo_clip

    data = demo_clip(clip)
    n = data.shape[0]
    body_pos = field(data, "body_pos").reshape(n, NUM_BODIES, 3).numpy()
    body_quat = field(data, "body_quat").reshape(n, NUM_BODIES, 4).numpy()
    obj_pos, obj_quat = field(data, "obj_pos").numpy(), field(data, "obj_quat").numpy()
    contact = field(data, "contact").numpy() > 0
    surface = demo_object_mesh().surface_points().numpy()
    local = surface[:: max(1, len(surface) // OBJECT_POINTS_DRAWN)]
    frames = []
    for k in range(n if count is None else count):
        t = k % n
        r = max(0, t - ghost_lag)
        frames.append(SceneFrame(
            body_pos[t], _points(local, obj_pos[t], obj_quat[t]), body_pos[r], _points(local, obj_pos[r], obj_quat[r]),
            caption or f"demo {clip}  frame {t:>4}/{n - 1}", body_quat=body_quat[t], ref_body_quat=body_quat[r],
            object_id=0, obj_pos=obj_pos[t], obj_quat=obj_quat[t], ref_obj_pos=obj_pos[r], ref_obj_quat=obj_quat[r],
            contact=contact[t], ref_contact=contact[r],
        ))  # fmt: skip
    return frames

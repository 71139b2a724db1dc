"""Built-in demo clips, generated in code in the InterMimic clip format.

They let a fresh machine train without any download. Poses are keyframed per body (hinge
angles), interpolated smoothly, turned into body positions/rotations by forward kinematics
on the canonical skeleton, and placed so the feet rest on the ground.
"""

from __future__ import annotations

import torch

from ..assets import humanoid_spec as spec
from ..assets.primitives import DEMO_BOX_HALF_SIZE, DEMO_OBJECT_NAME
from ..utils import rotations as rot
from . import clip_format as cf
from .kinematics import forward_kinematics, hinge_to_exp_map
from .library import ClipInfo, LoadedClip

DEMO_SUBJECT = 0
FOOT_BODIES = ("L_Ankle", "L_Toe", "R_Ankle", "R_Toe")
_FOOT_SOLE_Z = 0.0  # sole height above ground

Pose = dict[str, tuple[float, float, float]]
"""Hinge angles (x, y, z) per body name; bodies not named stay at zero."""


def squat_pose(depth: float) -> Pose:
    """A symmetric squat: ``depth`` 0 = standing, 1 = deep squat. Feet stay flat."""
    hip, knee = -1.25 * depth, 1.9 * depth
    ankle = -(hip + knee)  # pitch along the leg sums to zero: flat foot
    lean = 0.45 * depth
    arms = 0.9 * depth  # arms forward for balance
    return {
        "L_Hip": (0.0, hip, 0.0), "R_Hip": (0.0, hip, 0.0),
        "L_Knee": (0.0, knee, 0.0), "R_Knee": (0.0, knee, 0.0),
        "L_Ankle": (0.0, ankle, 0.0), "R_Ankle": (0.0, ankle, 0.0),
        "Torso": (0.0, lean * 0.5, 0.0), "Spine": (0.0, lean * 0.3, 0.0), "Chest": (0.0, lean * 0.2, 0.0),
        "L_Shoulder": (-1.2, 0.0, -arms), "R_Shoulder": (1.2, 0.0, arms),  # arms down, then forward
    }  # fmt: skip


def _pose_vector(pose: Pose) -> torch.Tensor:
    q = torch.zeros(spec.NUM_BODIES - 1, 3)
    for body, angles in pose.items():
        q[spec.ACTUATED_BODY_NAMES.index(body)] = torch.tensor(angles)
    return q.reshape(-1)


def _smoothstep(x: torch.Tensor) -> torch.Tensor:
    x = x.clamp(0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def keyframe_motion(keys: list[tuple[float, Pose]], fps: float = cf.CLIP_FPS) -> torch.Tensor:
    """Hinge angles ``[T, 153]`` through keyframes ``(time_s, pose)``, smooth in between."""
    times = [t for t, _ in keys]
    if times != sorted(times) or times[0] != 0.0:
        raise ValueError("keyframe times must start at 0 and increase")
    poses = [_pose_vector(p) for _, p in keys]
    num = int(round(times[-1] * fps)) + 1
    t = torch.arange(num, dtype=torch.float32) / fps
    out = torch.empty(num, spec.NUM_DOFS)
    for i in range(num):
        j = max(k for k in range(len(times)) if times[k] <= t[i]) if t[i] < times[-1] else len(times) - 2
        j = min(j, len(times) - 2)
        a = _smoothstep((t[i] - times[j]) / (times[j + 1] - times[j]))
        out[i] = poses[j] + (poses[j + 1] - poses[j]) * a
    return out


def _ground_root(
    dof: torch.Tensor, root_xy: torch.Tensor, heading: torch.Tensor, anchor_feet: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    """Root positions/rotations that keep the lowest foot point on the ground.

    With ``anchor_feet`` the given xy is where the midpoint of the ankles stays (planted
    feet); otherwise it is the pelvis xy.
    """
    quat = rot.yaw_quat(heading)
    zero = torch.zeros(dof.shape[0], 3)
    body_pos, body_quat = forward_kinematics(zero, quat, dof, "hinge")
    sole = []
    for name in FOOT_BODIES:
        i = spec.body_index(name)
        geom = spec.BODY_GEOMS[i]
        hx, hy, hz = geom.half_size
        corners = torch.tensor(
            [[sx * hx, sy * hy, sz * hz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)]
        ) + torch.tensor(geom.pos)
        world = body_pos[:, i, None, :] + rot.rotate(body_quat[:, i, None, :], corners[None].expand(dof.shape[0], -1, -1))
        sole.append(world[..., 2].min(dim=-1).values)
    lowest = torch.stack(sole, dim=-1).min(dim=-1).values
    if anchor_feet:
        ankles = body_pos[:, spec.body_indices(("L_Ankle", "R_Ankle")), :2].mean(dim=1)
        root_xy = root_xy - ankles
    root_pos = torch.cat([root_xy, (_FOOT_SOLE_Z - lowest)[:, None]], dim=-1)
    return root_pos, quat


def make_clip(
    dof_hinge: torch.Tensor,
    root_xy: torch.Tensor,
    heading: torch.Tensor,
    obj_pos: torch.Tensor,
    obj_quat: torch.Tensor,
    contact: torch.Tensor,
    obj_manipulated: torch.Tensor,
    anchor_feet: bool = False,
) -> torch.Tensor:
    """Assemble a ``[T, 591]`` clip; joint columns are written as exponential maps."""
    root_pos, root_quat = _ground_root(dof_hinge, root_xy, heading, anchor_feet)
    body_pos, body_quat = forward_kinematics(root_pos, root_quat, dof_hinge, "hinge")
    return cf.assemble(
        root_pos=root_pos,
        root_quat=root_quat,
        dof_pos=hinge_to_exp_map(dof_hinge),
        body_pos=body_pos,
        obj_pos=obj_pos,
        obj_quat=obj_quat,
        obj_manipulated=obj_manipulated[:, None],
        contact=contact,
        body_quat=body_quat,
    )


def stand_squat_stand(duration: float = 4.0) -> torch.Tensor:
    """Stand, squat down, stand up again, next to a box resting on the ground (untouched)."""
    third = duration / 4.0
    dof = keyframe_motion(
        [(0.0, squat_pose(0.0)), (third, squat_pose(0.0)), (2 * third, squat_pose(0.6)),
         (3 * third, squat_pose(0.0)), (duration, squat_pose(0.0))]
    )  # fmt: skip
    T = dof.shape[0]
    obj_pos = torch.tensor([0.8, 0.0, DEMO_BOX_HALF_SIZE[2]]).expand(T, 3)
    obj_quat = torch.tensor([0.0, 0.0, 0.0, 1.0]).expand(T, 4)
    contact = torch.full((T, spec.NUM_BODIES), -1.0)  # nothing should touch the box
    return make_clip(
        dof, torch.zeros(T, 2), torch.zeros(T), obj_pos, obj_quat, contact, torch.zeros(T), anchor_feet=True
    )


DEMO_CLIPS = {
    "stand_squat_stand": stand_squat_stand,
}


def demo_clips() -> list[LoadedClip]:
    """The built-in demo data set (raw and corrected sources are the same generated motion)."""
    out = []
    for i, (name, fn) in enumerate(DEMO_CLIPS.items()):
        clip = fn()
        info = ClipInfo(name=f"sub{DEMO_SUBJECT}_{DEMO_OBJECT_NAME}_{i:03d}_{name}", subject=DEMO_SUBJECT,
                        object=DEMO_OBJECT_NAME, num_frames=clip.shape[0])  # fmt: skip
        out.append(LoadedClip(info=info, raw=clip, corrected=clip.clone()))
    return out

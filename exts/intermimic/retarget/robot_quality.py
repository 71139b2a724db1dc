"""How well a retargeted robot clip follows its SMPL-X source: the numbers of the per-clip report.

* key-body error: distance of each of the 20 tracked points from its IK target, mean and max
  over frames and bodies (cm);
* contact distance error: on frames where the source labels a fingertip (index, middle, thumb)
  in contact, | robot fingertip's signed distance to the object - human fingertip's | (cm);
* penetration: depth of the robot hands' collision-mesh points inside the object, max over the
  clip and mean over hand-contact frames of each frame's deepest point (cm);
* joint-limit hits: share of (frame, joint) pairs within :data:`LIMIT_TOLERANCE` of a limit, body
  joints and Dex3 finger joints apart (open fingers rest on their zero limit), the body joints
  most often there, and violations (values outside the limits: 0 by construction);
* self-penetration: frames on which two of the robot's own links overlap deeper than
  :data:`~intermimic.retarget.robot_model.SELF_PENETRATION_TOLERANCE` (the pairs the simulator
  checks with self-collision on), the deepest overlap (cm) and its two links;
* foot slide: horizontal path of the robot's ankle over each span where the human's foot rests,
  mean and max over spans (cm);
* time: IK seconds per second of clip.

Distances to the object use :class:`~intermimic.assets.object_surface.ObjectSurface` (about
2 mm resolution); without an object mesh those fields are ``None``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..assets.humanoid_spec import BODY_NAMES
from .robot_model import SELF_PENETRATION_TOLERANCE, self_penetrations
from .robot_targets import HAND_TIPS, SIDES, segments

LIMIT_TOLERANCE = 1e-3
"""rad: a joint this close to a limit counts as at the limit."""
CM = 100.0


@dataclass
class ClipQuality:
    frames: int
    key_error_mean_cm: float
    key_error_max_cm: float
    worst_key_body: str
    contact_distance_error_mean_cm: float | None
    contact_distance_error_max_cm: float | None
    contact_frames: int
    penetration_max_cm: float | None
    penetration_mean_cm: float | None
    joint_limit_hits_body_pct: float
    joint_limit_hits_hand_pct: float
    joint_limit_violations: int
    most_limited_joints: list[str]
    """Up to three body joints most often at a limit, with their share of frames."""
    foot_slide_mean_cm: float
    foot_slide_max_cm: float
    foot_rest_spans: int
    self_penetration_frames: int
    self_penetration_max_cm: float
    self_penetration_links: str
    """The two links of the deepest overlap ("" when none)."""
    seconds_per_clip_second: float
    scale: float

    def as_dict(self) -> dict:
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def _mean(x: np.ndarray) -> float | None:
    return float(np.mean(x)) if x.size else None


def _max(x: np.ndarray) -> float | None:
    return float(np.max(x)) if x.size else None


def measure(robot, human, solution, kin, surface=None) -> ClipQuality:
    """Quality of one solved clip (``robot``: :class:`~intermimic.retarget.robot_ik.RobotModel`,
    ``human``: the source :class:`~intermimic.retarget.robot_targets.HumanClip`, ``solution`` and
    ``kin``: what :func:`solve` and :func:`forward_kinematics` returned)."""
    t = solution.targets
    T = solution.qpos.shape[0]
    tracked = [robot.body_names.index(b) for b in robot.tracked_bodies]
    err = np.linalg.norm(kin.body_pos[:, tracked] - t.pos[:T], axis=-1)  # [T, K]
    worst = robot.key_smplx[int(np.argmax(err.max(axis=0)))]

    dist_err, contact_frames, pen_max, pen_mean = np.zeros(0), 0, None, None
    if surface is not None:
        dist_err, contact_frames = _contact_distance_error(robot, human, t, kin, surface)
        pen_max, pen_mean = _penetration(human, t, kin, surface)

    q = solution.qpos[:, robot.joint_qpos]
    at_limit = (q - robot.joint_lower < LIMIT_TOLERANCE) | (robot.joint_upper - q < LIMIT_TOLERANCE)
    hand = np.array(["_hand_" in j for j in robot.joint_names])
    violations = int(((q < robot.joint_lower - 1e-6) | (q > robot.joint_upper + 1e-6)).sum())
    share = at_limit.mean(axis=0)
    ranked = [j for j in np.argsort(-share) if not hand[j] and share[j] > 0][:3]
    most_limited = [f"{robot.joint_names[j]} {100 * share[j]:.0f}%" for j in ranked]

    slides = []
    for k, side in enumerate(SIDES):
        ankle = robot.body_names.index(robot.tracked_bodies[robot.key_smplx.index(f"{side}_Ankle")])
        xy = kin.body_pos[:, ankle, :2]
        for start, stop in segments(t.foot_rest[:T, k]):
            slides.append(float(np.linalg.norm(np.diff(xy[start:stop], axis=0), axis=-1).sum()))
    slides = np.asarray(slides)
    duration = T / human.fps
    own = self_penetrations(robot, solution.qpos)
    deepest = int(np.argmax(own.depth))
    return ClipQuality(
        frames=T, key_error_mean_cm=float(err.mean()) * CM, key_error_max_cm=float(err.max()) * CM,
        worst_key_body=worst,
        contact_distance_error_mean_cm=None if not dist_err.size else _mean(dist_err) * CM,
        contact_distance_error_max_cm=None if not dist_err.size else _max(dist_err) * CM,
        contact_frames=contact_frames,
        penetration_max_cm=None if pen_max is None else pen_max * CM,
        penetration_mean_cm=None if pen_mean is None else pen_mean * CM,
        joint_limit_hits_body_pct=float(at_limit[:, ~hand].mean()) * 100,
        joint_limit_hits_hand_pct=float(at_limit[:, hand].mean()) * 100 if hand.any() else 0.0,
        joint_limit_violations=violations, most_limited_joints=most_limited,
        foot_slide_mean_cm=(_mean(slides) or 0.0) * CM, foot_slide_max_cm=(_max(slides) or 0.0) * CM,
        foot_rest_spans=len(slides), seconds_per_clip_second=solution.seconds / duration,
        self_penetration_frames=int((own.depth > SELF_PENETRATION_TOLERANCE).sum()),
        self_penetration_max_cm=float(own.depth[deepest]) * CM,
        self_penetration_links=" / ".join(own.pair[deepest]) if own.pair[deepest] else "",
        scale=float(t.size.scale),
    )  # fmt: skip


def _contact_distance_error(robot, human, targets, kin, surface) -> tuple[np.ndarray, int]:
    """| robot fingertip - object | - | human fingertip - object | (signed) on labelled contact frames."""
    T = kin.body_pos.shape[0]
    names = [f"{s}_{tip}" for s in SIDES for tip in HAND_TIPS]
    robot_ids = [robot.body_names.index(robot.tracked_bodies[robot.key_smplx.index(n)]) for n in names]
    human_ids = [BODY_NAMES.index(n) for n in names]
    labelled = human.contact[:T, human_ids] > 0.5  # [T, 6]
    frames = np.flatnonzero(labelled.any(axis=1))
    if not frames.size:
        return np.zeros(0), 0
    d_robot = surface.signed_distance_world(kin.body_pos[frames][:, robot_ids], targets.obj_pos[frames],
                                            targets.obj_quat[frames])  # fmt: skip
    d_human = surface.signed_distance_world(human.body_pos[frames][:, human_ids], human.obj_pos[frames],
                                            human.obj_quat[frames])  # fmt: skip
    return np.abs(d_robot - d_human)[labelled[frames]], int(frames.size)


def _penetration(human, targets, kin, surface) -> tuple[float, float | None]:
    """Deepest hand point inside the object over the clip, and the mean over hand-contact frames
    of each frame's deepest point (m)."""
    T = kin.body_pos.shape[0]
    points = np.concatenate([kin.hand_points[s] for s in SIDES], axis=1)  # [T, P, 3]
    depth = surface.depth_world(points, targets.obj_pos[:T], targets.obj_quat[:T])
    per_frame = depth.max(axis=1)
    touching = targets.hand_weight[:T].max(axis=1) >= 1.0
    return float(per_frame.max()), (float(per_frame[touching].mean()) if touching.any() else None)

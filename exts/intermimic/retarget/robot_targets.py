"""IK targets for a robot from an SMPL-X interaction clip: the human's motion in the robot's body.

Plain numpy on one clip; the robot enters only through :class:`RobotDims` (offsets and lengths
measured on its model). Frame by frame:

* **Where.** The human's mid-hip point is mapped by :class:`SizeMap`: horizontally scaled by
  ``s`` about the object's first position (a resting object keeps its place), heights scaled by
  ``s``; ``s`` = robot leg length / human leg length (per clip, or given). The object trajectory
  gets the same map (its displacements are scaled, its size is not).
* **Body.** From there the targets are built with the robot's proportions and the human's
  directions: hips at the robot's hip offsets in the human pelvis frame, torso, shoulders and
  head at the robot's offsets in the human chest frame, knees/ankles and elbows/wrists along the
  human's bone directions at the robot's bone lengths. Fingertips: the wrist target plus the
  human's wrist -> fingertip vector scaled by robot reach / human reach of that finger. A last
  vertical shift puts the human's resting ankle height onto the robot's.
* **Hands on the object.** Where the clip labels a hand in contact (blended in and out over
  :data:`CONTACT_RAMP` frames), the fingertip targets are the human's fingertips in the object's
  frame (their distances to the object kept, not scaled) and the wrist target sits behind them
  at robot hand size; targets inside the object are pushed out to its surface.
* **Feet.** A human foot rests where its ankle is slow and near its resting height; while it
  rests, the robot's ankle target is pinned to its place at the first resting frame, at the
  robot's resting ankle height, with a flat sole facing the human's heading at that frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..assets.humanoid_spec import BODY_NAMES
from ..utils import quat_np

CONTACT_RAMP = 10
"""Frames over which a hand's targets blend between free and object-relative."""
FOOT_SPEED = 0.15
"""A resting human ankle moves slower than this (m/s)..."""
FOOT_HEIGHT = 0.03
"""... and is at most this much above its resting height (m)."""
MIN_FOOT_FRAMES = 3
"""Shorter resting spans are ignored."""
SURFACE_MARGIN = 0.005
"""Hand targets end at least this far outside the object surface (m)."""
HAND_TIPS = ("Index3", "Middle3", "Thumb3")
SIDES = ("L", "R")
BONES = (("Hip", "Knee"), ("Knee", "Ankle"), ("Shoulder", "Elbow"), ("Elbow", "Wrist"))
"""Per side, the bones whose direction comes from the human and length from the robot."""


def body(name: str) -> int:
    return BODY_NAMES.index(name)


# -------------------------------------------------------------------------------------------------
# Inputs
# -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RobotDims:
    """The robot's proportions, measured on its model at the zero pose (names are the SMPL-X
    bodies the robot's tracked points stand for)."""

    hip_offset: dict[str, np.ndarray]
    """Side -> hip centre minus mid-hip point, pelvis frame."""
    torso_offset: np.ndarray
    """Torso point minus mid-hip point, pelvis frame."""
    chest_offset: dict[str, np.ndarray]
    """``L_Shoulder``, ``R_Shoulder``, ``Head`` -> point minus torso point, torso frame."""
    bone_length: dict[str, float]
    """Child body (``L_Knee``...) -> distance from its parent in :data:`BONES` (m)."""
    finger_reach: dict[str, float]
    """Fingertip (``L_Index3``...) -> distance from the wrist point in the open hand (m)."""
    ankle_height: float
    """Height of the ankle point above a flat floor under the sole (m)."""

    @property
    def leg_length(self) -> float:
        return float(np.mean([self.bone_length[f"{s}_{c}"] for s in SIDES for c in ("Knee", "Ankle")]) * 2)


@dataclass
class HumanClip:
    """The parts of an SMPL-X clip the targets use (numpy, float64)."""

    body_pos: np.ndarray  # [T, 52, 3]
    body_quat: np.ndarray  # [T, 52, 4] xyzw
    obj_pos: np.ndarray  # [T, 3]
    obj_quat: np.ndarray  # [T, 4] xyzw
    obj_contact: np.ndarray  # [T] {0, 1}
    contact: np.ndarray  # [T, 52] {-1, 0, 1}
    fps: float

    @property
    def num_frames(self) -> int:
        return self.body_pos.shape[0]

    @classmethod
    def from_clip(cls, clip, fps: float) -> HumanClip:
        """From a ``[T, 591]`` clip tensor or array."""
        from ..motion import clip_format as cf

        a = np.asarray(clip.detach().cpu().numpy() if hasattr(clip, "detach") else clip, dtype=np.float64)
        col = cf.COLUMNS
        T = a.shape[0]
        return cls(
            body_pos=a[:, col["body_pos"].slice].reshape(T, -1, 3),
            body_quat=a[:, col["body_quat"].slice].reshape(T, -1, 4),
            obj_pos=a[:, col["obj_pos"].slice],
            obj_quat=a[:, col["obj_quat"].slice],
            obj_contact=a[:, col["obj_manipulated"].start],
            contact=a[:, col["contact"].slice],
            fps=float(fps),
        )

    def take(self, frames: int) -> HumanClip:
        """The first ``frames`` frames."""
        cut = slice(0, frames)
        return HumanClip(self.body_pos[cut], self.body_quat[cut], self.obj_pos[cut], self.obj_quat[cut],
                         self.obj_contact[cut], self.contact[cut], self.fps)  # fmt: skip


# -------------------------------------------------------------------------------------------------
# Scale and the size map
# -------------------------------------------------------------------------------------------------
def human_leg_length(human: HumanClip) -> float:
    """Mean over frames and both legs of hip -> knee + knee -> ankle (m)."""
    p = human.body_pos
    total = 0.0
    for side in SIDES:
        hip, knee, ankle = (p[:, body(f"{side}_{n}")] for n in ("Hip", "Knee", "Ankle"))
        total += np.linalg.norm(knee - hip, axis=-1).mean() + np.linalg.norm(ankle - knee, axis=-1).mean()
    return total / 2.0


def resting_ankle_height(z: np.ndarray) -> float:
    """Ankle height when standing: a low percentile of ankle heights over frames and both feet."""
    return float(np.percentile(z, 5))


@dataclass(frozen=True)
class SizeMap:
    """Human and object trajectory -> robot size: x' = c + s (x - c) horizontally, z' = s z."""

    scale: float
    centre_xy: tuple[float, float]

    def points(self, p: np.ndarray) -> np.ndarray:
        out = np.empty_like(p)
        c = np.asarray(self.centre_xy)
        out[..., :2] = c + self.scale * (p[..., :2] - c)
        out[..., 2] = self.scale * p[..., 2]
        return out

    def object_positions(self, obj_pos: np.ndarray) -> np.ndarray:
        """Object positions: displacements scaled, the first position (its resting place) kept."""
        out = np.empty_like(obj_pos)
        c = np.asarray(self.centre_xy)
        out[:, :2] = c + self.scale * (obj_pos[:, :2] - c)
        out[:, 2] = obj_pos[0, 2] + self.scale * (obj_pos[:, 2] - obj_pos[0, 2])
        return out


def size_map(human: HumanClip, robot: RobotDims, scale: float | None = None) -> SizeMap:
    s = float(scale) if scale is not None else robot.leg_length / human_leg_length(human)
    return SizeMap(scale=s, centre_xy=(float(human.obj_pos[0, 0]), float(human.obj_pos[0, 1])))


# -------------------------------------------------------------------------------------------------
# Contacts
# -------------------------------------------------------------------------------------------------
def frames_to_nearest(mask: np.ndarray) -> np.ndarray:
    """Per frame, the number of frames to the nearest True entry (inf when there is none)."""
    T = mask.shape[0]
    d = np.full(T, np.inf)
    last = -np.inf
    for t in range(T):
        last = t if mask[t] else last
        d[t] = t - last
    last = np.inf
    for t in range(T - 1, -1, -1):
        last = t if mask[t] else last
        d[t] = min(d[t], last - t)
    return d


def ramp(mask: np.ndarray, frames: int) -> np.ndarray:
    """1 on ``mask`` frames, falling linearly to 0 within ``frames`` frames of them."""
    return np.clip(1.0 - frames_to_nearest(mask) / float(frames), 0.0, 1.0)


def hand_body_ids(side: str) -> list[int]:
    """The wrist and finger bodies of one SMPL-X hand."""
    fingers = ("Index", "Middle", "Ring", "Pinky", "Thumb")
    return [i for i, n in enumerate(BODY_NAMES) if n == f"{side}_Wrist" or
            (n.startswith(f"{side}_") and n[2:-1] in fingers)]  # fmt: skip


def hand_contact(human: HumanClip) -> np.ndarray:
    """``[T, 2]`` (L, R) bool: the clip labels a body of that hand in contact (+1)."""
    return np.stack([(human.contact[:, hand_body_ids(s)] > 0.5).any(axis=1) for s in SIDES], axis=1)


def segments(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) spans of consecutive True frames."""
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()))


def foot_rest(human: HumanClip) -> np.ndarray:
    """``[T, 2]`` (L, R) bool: the human's ankle rests (slow and near its resting height)."""
    T = human.num_frames
    ankles = human.body_pos[:, [body("L_Ankle"), body("R_Ankle")]]
    rest = resting_ankle_height(ankles[..., 2])
    out = np.zeros((T, 2), dtype=bool)
    for k in range(2):
        p = ankles[:, k]
        speed = np.linalg.norm(np.gradient(p, axis=0), axis=-1) * human.fps if T > 1 else np.zeros(T)
        mask = (speed < FOOT_SPEED) & (p[:, 2] < rest + FOOT_HEIGHT)
        for start, stop in segments(mask):
            if stop - start < MIN_FOOT_FRAMES:
                mask[start:stop] = False
        out[:, k] = mask
    return out


# -------------------------------------------------------------------------------------------------
# Targets
# -------------------------------------------------------------------------------------------------
@dataclass
class Targets:
    """What the IK is asked for, per frame, for the K key bodies (in ``key_smplx`` order)."""

    key_smplx: tuple[str, ...]
    pos: np.ndarray  # [T, K, 3] targets of the tracked points
    body_pos: np.ndarray  # [T, K, 3] the human's key bodies in the robot's body (before hand/foot edits)
    hand_weight: np.ndarray  # [T, 2] contact blend of the L/R hand (0 free .. 1 object-relative)
    foot_rest: np.ndarray  # [T, 2] bool
    foot_quat: np.ndarray  # [T, 2, 4] xyzw ankle orientation targets
    pelvis_quat: np.ndarray  # [T, 4] xyzw
    torso_quat: np.ndarray  # [T, 4] xyzw
    obj_pos: np.ndarray  # [T, 3] object trajectory on the robot's scale
    obj_quat: np.ndarray  # [T, 4] xyzw
    size: SizeMap
    dz: float
    """Vertical shift that puts the resting ankles at the robot's ankle height (m)."""
    finger_scale: dict[str, float]


def finger_scales(human: HumanClip, robot: RobotDims) -> dict[str, float]:
    """Per fingertip: robot reach / the human's longest wrist -> fingertip distance (95th percentile)."""
    out = {}
    for side in SIDES:
        wrist = human.body_pos[:, body(f"{side}_Wrist")]
        for tip in HAND_TIPS:
            name = f"{side}_{tip}"
            reach = np.percentile(np.linalg.norm(human.body_pos[:, body(name)] - wrist, axis=-1), 95)
            out[name] = robot.finger_reach[name] / max(float(reach), 1e-3)
    return out


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True).clip(1e-9)


def robot_body_points(human: HumanClip, robot: RobotDims, size: SizeMap,
                      fingers: dict[str, float]) -> dict[str, np.ndarray]:  # fmt: skip
    """SMPL-X key body -> ``[T, 3]``: the human's pose in the robot's proportions (no vertical shift yet)."""
    p = human.body_pos
    R_pelvis = quat_np.to_matrix(human.body_quat[:, body("Pelvis")])
    R_chest = quat_np.to_matrix(human.body_quat[:, body("Chest")])
    mid_hip = size.points(0.5 * (p[:, body("L_Hip")] + p[:, body("R_Hip")]))
    out = {"Torso": mid_hip + R_pelvis @ robot.torso_offset}
    out["Head"] = out["Torso"] + R_chest @ robot.chest_offset["Head"]
    for side in SIDES:
        out[f"{side}_Hip"] = mid_hip + R_pelvis @ robot.hip_offset[side]
        out[f"{side}_Shoulder"] = out["Torso"] + R_chest @ robot.chest_offset[f"{side}_Shoulder"]
        for parent, child in BONES:
            a, b = f"{side}_{parent}", f"{side}_{child}"
            out[b] = out[a] + robot.bone_length[b] * _unit(p[:, body(b)] - p[:, body(a)])
        wrist = f"{side}_Wrist"
        for tip in HAND_TIPS:
            name = f"{side}_{tip}"
            out[name] = out[wrist] + fingers[name] * (p[:, body(name)] - p[:, body(wrist)])
    return out


def build_targets(human: HumanClip, key_smplx: tuple[str, ...], robot: RobotDims, scale: float | None = None,
                  surface=None) -> Targets:  # fmt: skip
    """Targets of one clip. ``surface`` (an :class:`~intermimic.assets.object_surface.ObjectSurface`
    in the object frame) pushes hand targets out of the object; without it they are kept."""
    size = size_map(human, robot, scale)
    fingers = finger_scales(human, robot)
    points = robot_body_points(human, robot, size, fingers)
    missing = sorted(set(key_smplx) - set(points))
    if missing:
        raise KeyError(f"no target rule for the SMPL-X bodies {missing}")
    pos = np.stack([points[n] for n in key_smplx], axis=1)
    slot = {n: i for i, n in enumerate(key_smplx)}
    ankles = [slot[f"{s}_Ankle"] for s in SIDES]
    dz = robot.ankle_height - resting_ankle_height(pos[:, ankles, 2])
    pos[..., 2] += dz
    body_pos = pos.copy()
    obj_pos = size.object_positions(human.obj_pos)
    shift = obj_pos - human.obj_pos  # [T, 3]: what the size map does to the object
    contact = hand_contact(human)
    hand_w = np.stack([ramp(contact[:, k], CONTACT_RAMP) for k in range(2)], axis=1)
    for k, side in enumerate(SIDES):
        w = hand_w[:, k]
        if (w > 0).any():
            _hands_on_object(human, pos, slot, side, w, shift, obj_pos, fingers, surface)
    rest = foot_rest(human)
    foot_q = np.stack([human.body_quat[:, body(f"{s}_Ankle")] for s in SIDES], axis=1).copy()
    for k, side in enumerate(SIDES):
        i = slot[f"{side}_Ankle"]
        for start, stop in segments(rest[:, k]):
            pinned = pos[start, i].copy()
            pinned[2] = robot.ankle_height
            pos[start:stop, i] = pinned
            heading = quat_np.yaw(human.body_quat[start, body(f"{side}_Ankle")])
            foot_q[start:stop, k] = quat_np.from_yaw(np.full(stop - start, heading))
    return Targets(
        key_smplx=tuple(key_smplx), pos=pos, body_pos=body_pos, hand_weight=hand_w, foot_rest=rest, foot_quat=foot_q,
        pelvis_quat=human.body_quat[:, body("Pelvis")].copy(), torso_quat=human.body_quat[:, body("Chest")].copy(),
        obj_pos=obj_pos, obj_quat=human.obj_quat.copy(), size=size, dz=float(dz), finger_scale=fingers,
    )  # fmt: skip


def _hands_on_object(human, pos, slot, side, w, shift, obj_pos, fingers, surface) -> None:
    """Blend one hand's targets (in ``pos``) towards the object-relative ones by weight ``w``."""
    tips = [f"{side}_{t}" for t in HAND_TIPS]
    wrist = f"{side}_Wrist"
    tips_h = np.stack([human.body_pos[:, body(n)] for n in tips], axis=1)  # [T, 3, 3]
    centre_h = tips_h.mean(axis=1)
    hand_scale = float(np.mean([fingers[n] for n in tips]))
    on_tips = tips_h + shift[:, None]
    on_wrist = centre_h + shift + hand_scale * (human.body_pos[:, body(wrist)] - centre_h)
    active = w > 0
    if surface is not None:
        quat = human.obj_quat[active]
        on_tips[active] = push_out(surface, on_tips[active], obj_pos[active], quat)
        on_wrist[active] = push_out(surface, on_wrist[active][:, None], obj_pos[active], quat)[:, 0]
    wc = w[:, None]
    for j, name in enumerate(tips):
        pos[:, slot[name]] = (1 - wc) * pos[:, slot[name]] + wc * on_tips[:, j]
    pos[:, slot[wrist]] = (1 - wc) * pos[:, slot[wrist]] + wc * on_wrist


def push_out(surface, points: np.ndarray, obj_pos: np.ndarray, obj_quat: np.ndarray) -> np.ndarray:
    """``points`` [N, P, 3] (world) moved out along the surface normal to :data:`SURFACE_MARGIN`
    outside the object at pose (obj_pos [N, 3], obj_quat [N, 4] xyzw)."""
    R = quat_np.to_matrix(obj_quat)  # [N, 3, 3]
    local = surface.to_object_frame(points, obj_pos, obj_quat)
    flat = local.reshape(-1, 3)
    dist, normal = surface.signed_distance(flat, with_normal=True)
    flat = flat + np.clip(SURFACE_MARGIN - dist, 0.0, None)[:, None] * normal
    return np.einsum("nij,npj->npi", R, flat.reshape(local.shape)) + obj_pos[:, None]

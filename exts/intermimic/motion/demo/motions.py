"""Whole-body demo motions with the demo box: walk to it, lift it, carry it, put it down.

A motion is described by a :class:`BodyPlan` of per-frame targets: where each foot is, where the
pelvis is (and how far it pitches forward), how far the spine bends, and where each palm is
(with the hand's orientation) when the hands hold or reach for the box. :func:`solve_body`
turns a plan into joint angles with the inverse kinematics of :mod:`rig`: the legs put
the ankles exactly on their footholds with flat feet (planted feet do not slide), the arms put
the hands' contact planes exactly on the box sides. Static poses (standing, reaching the box,
taking its weight, standing with it) put the centre of mass over the feet, box included once
the hands take its weight.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import torch

from ...assets import humanoid_spec as spec
from ...assets.objects import LEGACY_DENSITY
from ...assets.primitives import DEMO_BOX_HALF_SIZE
from ...utils import rotations as rot
from .. import clip_format as cf
from .rig import (
    ankle_height, arm_ik, center_of_mass, chain_fk, foot_length_span, hand_contact_plane, local_hinges_for,
    pose_to_dof, quat_from_axes, solve_chain,
)  # fmt: skip
from .walk import Walk, keyed
from ..kinematics import continuous_hinges, forward_kinematics, hinge_to_exp_map

FPS = cf.CLIP_FPS
F64 = torch.float64
SIDES = ("L", "R")

STAND_HEIGHT = 0.92
"""Pelvis height when standing (knees very slightly bent, both soles flat)."""
WALK_HEIGHT = 0.90
"""Pelvis height while walking (leaves the legs room to reach the footholds)."""
ARM_DOWN = 1.35
"""Shoulder rotation (rad) that lowers an arm from the T-pose to hang beside the body."""
ELBOW_HANG = 0.25
"""Elbow bend of a hanging arm (rad)."""
ARM_SWING = 0.9
"""Shoulder swing (rad) per metre the opposite foot is ahead of the pelvis while walking."""
SPINE_SHARE = {"Torso": 0.4, "Spine": 0.35, "Chest": 0.25}
"""How a spine bend is shared between the three spine bodies."""
HEAD_COUNTER = 0.25
"""Fraction of the trunk's forward lean the neck undoes (the head stays up a little)."""

BOX_HALF = tuple(float(v) for v in DEMO_BOX_HALF_SIZE)
BOX_DENSITY = LEGACY_DENSITY
"""Density the motions are balanced for: 200 kg/m^3 gives a 7.2 kg box, a load a person lifts
and carries in front of the chest. (At the default object density of 1000 the solid box would
weigh 36 kg; give the demo box this density in the scene to match the references.)"""
BOX_MASS = 8.0 * BOX_HALF[0] * BOX_HALF[1] * BOX_HALF[2] * BOX_DENSITY
"""Mass (kg) of the demo box in the balance of the static poses."""
GRIP_HEIGHT = 0.12
"""Palms hold the box sides this far above the box centre."""
GRIP_SQUEEZE = 0.0
"""How far the hands' contact plane lies inside the box sides (0: touching, no penetration)."""
FINGER_PITCH = 1.2
"""Fingers point forward and this much (rad) downward while holding the box."""
GRIP_X = -0.10
"""Palms hold the box sides this far behind the box centre (forearms stay clear of the box)."""
ELBOW_POLE = {"L": (-0.3, 1.0, -0.6), "R": (-0.3, -1.0, -0.6)}
"""Direction (chest frame) the elbows point to while the hands hold the box: out, down, back."""
PREGRASP_OUT, PREGRASP_UP = 0.08, 0.06
"""Hands approach the box sides from this far outside and above the grip points."""

_OPP = {"L": "R", "R": "L"}


def _side(side: str) -> float:
    return 1.0 if side == "L" else -1.0


def foot_lanes() -> dict[str, float]:
    """Sideways ankle position of each foot when the legs hang straight (natural stance width)."""
    lanes = {}
    for side in SIDES:
        lanes[side] = sum(spec.BODY_OFFSETS[spec.body_index(f"{side}_{b}")][1] for b in ("Hip", "Knee", "Ankle"))
    return lanes


@lru_cache(maxsize=None)
def _contact(side: str) -> tuple[torch.Tensor, torch.Tensor]:
    return hand_contact_plane(side)


def palm_point(side: str) -> torch.Tensor:
    """The point of the hand's contact plane under the palm centre, hand (wrist body) frame.

    The relaxed hand is curled, so it meets a flat box side with the heel of the palm and the
    thumb and fingertips; this point is what is put on the box side.
    """
    return _contact(side)[1]


def grip_quat(side: str, box_quat: torch.Tensor) -> torch.Tensor:
    """Hand orientation holding the box: contact plane on the box side, fingers forward and down."""
    a = FINGER_PITCH
    fingers = box_quat.new_tensor([math.cos(a), 0.0, -math.sin(a)])
    x_axis = box_quat.new_tensor([math.sin(a), 0.0, math.cos(a)])
    # hand frame: fingers along +y (left) / -y (right), palm facing -z (T-pose, palms down) ...
    flat = quat_from_axes(x_axis, fingers * _side(side))
    # ... then turned about its x axis so the contact plane's normal, not -z, faces the box
    normal = _contact(side)[0]
    beta = math.atan2(float(normal[1]), float(-normal[2]))
    tilt = rot.from_hinges(box_quat.new_tensor([-beta, 0.0, 0.0]))
    return rot.multiply(box_quat, rot.multiply(flat, tilt).expand_as(box_quat))


def grip_points(side: str, box_pos: torch.Tensor, box_quat: torch.Tensor) -> torch.Tensor:
    """Palm target on the box side, world frame ``[T, 3]``."""
    local = box_pos.new_tensor([GRIP_X, _side(side) * (BOX_HALF[1] - GRIP_SQUEEZE), GRIP_HEIGHT])
    return box_pos + rot.rotate(box_quat, local.expand_as(box_pos))


# -------------------------------------------------------------------------------------------------
@dataclass
class BodyPlan:
    """Per-frame targets of a motion (all ``[T, ...]`` float64, heading along +x)."""

    t: torch.Tensor
    pelvis_pos: torch.Tensor  # [T, 3]
    pelvis_pitch: torch.Tensor  # [T] forward tilt of the pelvis (rad)
    spine_bend: torch.Tensor  # [T] forward bend of the spine on top of the pelvis tilt (rad)
    feet: dict[str, torch.Tensor]  # ankle joint positions [T, 3]
    reach: torch.Tensor  # [T] 0: arms hang and swing, 1: palms on ``palm_target``
    palm_target: dict[str, torch.Tensor] = field(default_factory=dict)  # [T, 3]
    hand_quat: dict[str, torch.Tensor] = field(default_factory=dict)  # [T, 4]
    arm_swing: dict[str, torch.Tensor] = field(default_factory=dict)  # [T] forward swing (rad)

    @property
    def num_frames(self) -> int:
        return self.t.shape[0]


@dataclass
class SolvedBody:
    dof: torch.Tensor  # [T, 153] hinge angles
    root_pos: torch.Tensor
    root_quat: torch.Tensor
    body_pos: torch.Tensor
    body_quat: torch.Tensor
    leg_error: torch.Tensor  # [T] worst ankle error (m)
    arm_error: torch.Tensor  # [T] worst wrist error (m), 0 where arms hang


def _hanging_arm(side: str, swing: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Shoulder and elbow hinges ``[T, 3]`` of a hanging arm swung forward by ``swing``."""
    s = _side(side)
    down = rot.from_hinges(torch.stack([torch.full_like(swing, -s * ARM_DOWN), 0 * swing, 0 * swing], -1))
    forward = rot.from_hinges(torch.stack([0 * swing, -swing, 0 * swing], -1))
    shoulder = rot.to_hinges(rot.multiply(forward, down))
    elbow = torch.stack([0 * swing, 0 * swing, torch.full_like(swing, -s * ELBOW_HANG)], -1)
    return shoulder, elbow


def _offset(name: str, like: torch.Tensor) -> torch.Tensor:
    return like.new_tensor(spec.BODY_OFFSETS[spec.body_index(name)])


def solve_body(plan: BodyPlan, sequence: bool = True) -> SolvedBody:
    """Joint angles for a plan; ``sequence``: the frames are consecutive (keep hinge angles continuous)."""
    T = plan.num_frames
    zeros = torch.zeros(T, dtype=F64)
    heading_quat = rot.yaw_quat(zeros)
    root_quat = rot.multiply(heading_quat, rot.from_hinges(torch.stack([zeros, plan.pelvis_pitch, zeros], -1)))
    pose: dict[str, torch.Tensor] = {}
    for body, share in SPINE_SHARE.items():
        pose[body] = torch.stack([zeros, share * plan.spine_bend, zeros], -1)
    lean = plan.pelvis_pitch + plan.spine_bend
    pose["Neck"] = torch.stack([zeros, -HEAD_COUNTER * lean, zeros], -1)

    # legs: ankle on its foothold, foot flat (global rotation = heading)
    leg_error = torch.zeros(T, dtype=F64)
    for side in SIDES:
        bodies = (f"{side}_Hip", f"{side}_Knee")
        start = torch.zeros(T, 2, 3, dtype=F64)
        start[:, 1, 1] = 0.4
        hinges, err = solve_chain(
            plan.pelvis_pos, root_quat, bodies, ((0, 0), (0, 1), (1, 1)), start, _offset(f"{side}_Ankle", zeros),
            plan.feet[side],
        )  # fmt: skip
        leg_error = torch.maximum(leg_error, err)
        _, quats = chain_fk(plan.pelvis_pos, root_quat, bodies, hinges, _offset(f"{side}_Ankle", zeros))
        pose[bodies[0]], pose[bodies[1]] = hinges[:, 0], hinges[:, 1]
        pose[f"{side}_Ankle"] = local_hinges_for(quats[:, 1], heading_quat)

    # chest frame
    spine = ("Torso", "Spine", "Chest")
    spine_hinges = torch.stack([pose[b] for b in spine], dim=1)
    joints, quats = chain_fk(plan.pelvis_pos, root_quat, spine, spine_hinges, torch.zeros(3, dtype=F64))
    chest_pos, chest_quat = joints[:, 2], quats[:, 2]

    # arms: hang (and swing), or put the palm on its target with the wanted hand orientation
    arm_error = torch.zeros(T, dtype=F64)
    for side in SIDES:
        swing = plan.arm_swing.get(side, zeros)
        shoulder, elbow = _hanging_arm(side, swing)
        wrist = torch.zeros(T, 3, dtype=F64)
        a = torch.nonzero(plan.reach > 0).flatten()
        if len(a):
            bodies = (f"{side}_Thorax", f"{side}_Shoulder", f"{side}_Elbow")
            hinges = torch.stack([torch.zeros_like(shoulder[a]), shoulder[a], elbow[a]], dim=1)
            joints_h, quats_h = chain_fk(chest_pos[a], chest_quat[a], bodies, hinges, _offset(f"{side}_Wrist", zeros))
            hang_hand = quats_h[:, 2]
            hang_palm = joints_h[:, 3] + rot.rotate(hang_hand, palm_point(side).expand(len(a), 3))
            w = plan.reach[a]
            palm = hang_palm + (plan.palm_target[side][a] - hang_palm) * w[:, None]
            hand = rot.slerp(hang_hand, plan.hand_quat[side][a], w)
            wrist_target = palm - rot.rotate(hand, palm_point(side).expand(len(a), 3))
            # the elbow turns from where it hangs towards the holding direction (out, down, back)
            shoulder_pos, thorax_quat = joints_h[:, 1], quats_h[:, 0]
            hang_dir = joints_h[:, 2] - shoulder_pos
            hang_dir = hang_dir / hang_dir.norm(dim=-1, keepdim=True)
            hold_dir = rot.rotate(chest_quat[a], chest_quat.new_tensor(ELBOW_POLE[side]).expand(len(a), 3))
            pole = hang_dir + (hold_dir - hang_dir) * w[:, None]
            s_h, e_h, err = arm_ik(side, shoulder_pos, thorax_quat, wrist_target, pole)
            shoulder[a], elbow[a] = s_h, e_h
            arm_error[a] = torch.maximum(arm_error[a], err)
            hinges = torch.stack([torch.zeros_like(s_h), s_h, e_h], dim=1)
            _, quats_s = chain_fk(chest_pos[a], chest_quat[a], bodies, hinges, _offset(f"{side}_Wrist", zeros))
            wrist[a] = local_hinges_for(quats_s[:, 2], hand)
        if sequence:
            shoulder, wrist = continuous_hinges(shoulder), continuous_hinges(wrist)
        pose[f"{side}_Shoulder"], pose[f"{side}_Elbow"], pose[f"{side}_Wrist"] = shoulder, elbow, wrist

    dof = pose_to_dof(pose, T)
    body_pos, body_quat = forward_kinematics(plan.pelvis_pos, root_quat, dof, "hinge")
    return SolvedBody(dof, plan.pelvis_pos, root_quat, body_pos, body_quat, leg_error, arm_error)


# -------------------------------------------------------------------------------------------------
# Static poses: reach the box on the ground, stand holding it
# -------------------------------------------------------------------------------------------------
BALANCE_AHEAD = 0.05
"""Static poses put the centre of mass this far ahead of the ankles (quiet human standing:
about 4-6 cm), inside the feet's support from heel to toe."""


def support_centre_x(feet_x: float) -> float:
    """Where static poses put the centre of mass, for side-by-side ankles at ``feet_x``."""
    heel, toe = foot_length_span("L")
    assert heel < BALANCE_AHEAD < toe
    return feet_x + BALANCE_AHEAD


def _pose_candidates(
    feet: dict[str, torch.Tensor], offsets_x: torch.Tensor, heights: torch.Tensor, pitch: float, bend: float,
    box_pos: torch.Tensor, box_quat: torch.Tensor, carried: bool,
) -> tuple[SolvedBody, torch.Tensor, torch.Tensor]:  # fmt: skip
    """Solve every (pelvis offset, height) combination; returns the bodies and the grid."""
    ox, oz = torch.meshgrid(offsets_x, heights, indexing="ij")
    ox, oz = ox.reshape(-1), oz.reshape(-1)
    n = ox.shape[0]
    mid = 0.5 * (feet["L"][0] + feet["R"][0])
    pelvis = torch.stack([mid[0] + ox, torch.full_like(ox, float(mid[1])), oz], -1)
    box_p = box_pos.expand(n, 3).clone()
    if carried:  # the box moves with the pelvis
        box_p = pelvis + box_pos
    bq = box_quat.expand(n, 4)
    plan = BodyPlan(
        t=torch.zeros(n, dtype=F64), pelvis_pos=pelvis, pelvis_pitch=torch.full((n,), pitch, dtype=F64),
        spine_bend=torch.full((n,), bend, dtype=F64), feet={s: feet[s].expand(n, 3) for s in SIDES},
        reach=torch.ones(n, dtype=F64), palm_target={s: grip_points(s, box_p, bq) for s in SIDES},
        hand_quat={s: grip_quat(s, bq) for s in SIDES},
    )  # fmt: skip
    return solve_body(plan, sequence=False), box_p, pelvis


def balanced_pose(
    feet: dict[str, torch.Tensor], pitch: float, bend: float, box_pos: torch.Tensor, box_quat: torch.Tensor,
    carried: bool, heights: tuple[float, float], box_mass: float = 0.0, step: float = 0.04, refine: float = 0.01,
) -> tuple[torch.Tensor, dict]:  # fmt: skip
    """Pelvis position for a static pose with both palms on the box and flat feet.

    Among the pelvis positions (offset behind/ahead of the feet, height in ``heights``) for
    which legs and arms reach their targets with bent (not locked) knees and elbows, pick the
    one whose centre of mass (with ``box_mass`` at the box, for a box held or about to be
    lifted) is closest to the middle of the feet, preferring a higher pelvis. ``box_pos`` is
    world (on the ground) or relative to the pelvis (``carried``). A coarse grid (``step``) is refined around its best point (``refine``).
    """
    target = support_centre_x(float(feet["L"][0, 0]))

    def search(offsets: torch.Tensor, zs: torch.Tensor):
        body, box_p, pelvis = _pose_candidates(feet, offsets, zs, pitch, bend, box_pos, box_quat, carried)
        com = center_of_mass(body.body_pos, body.body_quat, [(box_mass, box_p)] if box_mass > 0 else [])
        knees = torch.stack([body.dof[:, 3 * (spec.body_index(f"{s}_Knee") - 1) + 1] for s in SIDES], -1)
        elbows = torch.stack([-_side(s) * body.dof[:, 3 * (spec.body_index(f"{s}_Elbow") - 1) + 2] for s in SIDES], -1)
        ok = (body.leg_error < 1e-4) & (body.arm_error < 1e-4) & (knees.min(-1).values > 0.1) & (elbows.min(-1).values > 0.3)
        cost = (com[:, 0] - target).abs() - 0.02 * pelvis[:, 2]
        cost = torch.where(ok, cost, torch.full_like(cost, float("inf")))
        best = int(cost.argmin())
        if not ok.any():
            raise RuntimeError("no pelvis position reaches the box with bent knees and elbows; change the pose design")
        info = {"com_error": float(com[best, 0] - target), "knee": knees[best].tolist(), "elbow": elbows[best].tolist()}
        return pelvis[best], info

    lo, hi = heights
    mid_x = float(0.5 * (feet["L"][0, 0] + feet["R"][0, 0]))
    coarse_x = torch.arange(-0.4, 0.1 + 1e-9, step, dtype=F64)
    coarse_z = torch.arange(lo, hi + 1e-9, step, dtype=F64) if hi > lo else torch.tensor([lo], dtype=F64)
    pelvis, _ = search(coarse_x, coarse_z)
    fine = torch.arange(-step, step + 1e-9, refine, dtype=F64)
    fine_z = (pelvis[2] + fine).clamp(lo, hi).unique() if hi > lo else coarse_z
    return search(pelvis[0] - mid_x + fine, fine_z)


# -------------------------------------------------------------------------------------------------
# The lift: pose design and the box's path
# -------------------------------------------------------------------------------------------------
BOX_DISTANCE = 0.42
"""Box centre this far ahead of the ankles when it is picked up (clear of the shins)."""
REACH_PITCH, REACH_BEND = 0.8, 0.7
"""Pelvis tilt and spine bend (rad) when the hands reach the box on the ground."""
CARRY_BEND = -0.05
"""Slight backward lean of the spine while holding the box."""
CARRY_OFFSET = (0.34, 0.0, 0.10)
"""Box centre relative to the pelvis while it is carried (forward, left, up)."""
REACH_HEIGHTS = (0.45, 0.9)


@lru_cache(maxsize=None)
def _lift_poses() -> dict[str, tuple[float, float, float]]:
    """Pelvis positions for feet at x = 0 (cached: the poses only shift with the feet):

    * ``reach``: hands on the box on the ground, balanced without the box;
    * ``load``: the same grip with the hips further back, balanced with the box's weight, the
      pose the box leaves the ground from;
    * ``carry``: standing with the box in front of the chest, balanced with it.
    """
    lanes = foot_lanes()
    feet = {s: torch.tensor([[0.0, lanes[s], ankle_height(s)]], dtype=F64) for s in SIDES}
    box_rest = torch.tensor([[BOX_DISTANCE, 0.5 * (lanes["L"] + lanes["R"]), BOX_HALF[2]]], dtype=F64)
    level = torch.tensor([[0.0, 0.0, 0.0, 1.0]], dtype=F64)
    reach, _ = balanced_pose(feet, REACH_PITCH, REACH_BEND, box_rest, level, False, REACH_HEIGHTS)
    load, _ = balanced_pose(feet, REACH_PITCH, REACH_BEND, box_rest, level, False, REACH_HEIGHTS, BOX_MASS)
    carry, _ = balanced_pose(
        feet, 0.0, CARRY_BEND, torch.tensor([CARRY_OFFSET], dtype=F64), level, True, (STAND_HEIGHT, STAND_HEIGHT),
        BOX_MASS,
    )  # fmt: skip
    return {"reach": tuple(reach.tolist()), "load": tuple(load.tolist()), "carry": tuple(carry.tolist())}


@dataclass
class Lift:
    """Static poses of a lift from feet standing side by side at ``feet_x``."""

    feet_x: float
    lanes: dict[str, float]

    def __post_init__(self):
        mid_y = 0.5 * (self.lanes["L"] + self.lanes["R"])
        self.box_rest = torch.tensor([self.feet_x + BOX_DISTANCE, mid_y, BOX_HALF[2]], dtype=F64)
        self.box_quat = torch.tensor([0.0, 0.0, 0.0, 1.0], dtype=F64)
        shift = torch.tensor([self.feet_x, 0.0, 0.0], dtype=F64)
        self.pelvis = {k: torch.tensor(v, dtype=F64) + shift for k, v in _lift_poses().items()}

    def offset(self, pose: str) -> float:
        """Pelvis position ahead of the feet in a pose."""
        return float(self.pelvis[pose][0]) - self.feet_x

    def height(self, pose: str) -> float:
        return float(self.pelvis[pose][2])


def pregrasp_points(side: str, box_pos: torch.Tensor, box_quat: torch.Tensor) -> torch.Tensor:
    out = grip_points(side, box_pos, box_quat)
    return out + rot.rotate(box_quat, box_pos.new_tensor([0.0, _side(side) * PREGRASP_OUT, PREGRASP_UP]).expand_as(out))


# -------------------------------------------------------------------------------------------------
# Assembling a motion
# -------------------------------------------------------------------------------------------------
@dataclass
class Motion:
    """A generated motion: solved body, box path, and who touches the box when."""

    body: SolvedBody
    box_pos: torch.Tensor
    box_quat: torch.Tensor
    holding: torch.Tensor  # [T] bool: hands on the box (contact +1, object manipulated)

    @property
    def num_frames(self) -> int:
        return self.box_pos.shape[0]


def contact_labels(holding: torch.Tensor) -> torch.Tensor:
    """Per-body labels: hands +1 while holding, feet 0 (they stand on the ground, which contact
    sensing does not tell from the box), every other body -1 (should not touch the box)."""
    labels = torch.full((holding.shape[0], spec.NUM_BODIES), -1.0)
    labels[:, spec.body_indices(FOOT_CONTACT_NEUTRAL)] = 0.0
    hands = spec.HAND_BODY_IDS["L"] + spec.HAND_BODY_IDS["R"]
    labels[:, hands] = torch.where(holding[:, None], 1.0, -1.0)
    return labels


FOOT_CONTACT_NEUTRAL = ("L_Ankle", "L_Toe", "R_Ankle", "R_Toe")


def motion_to_clip(motion: Motion) -> torch.Tensor:
    body = motion.body
    return cf.assemble(
        root_pos=body.root_pos, root_quat=body.root_quat, dof_pos=hinge_to_exp_map(body.dof),
        body_pos=body.body_pos, obj_pos=motion.box_pos, obj_quat=motion.box_quat,
        obj_manipulated=motion.holding.float()[:, None], contact=contact_labels(motion.holding),
        body_quat=body.body_quat,
    )  # fmt: skip


def _frames(duration: float) -> torch.Tensor:
    return torch.arange(int(round(duration * FPS)) + 1, dtype=F64) / FPS


def _check(body: SolvedBody, name: str) -> None:
    worst_leg, worst_arm = float(body.leg_error.max()), float(body.arm_error.max())
    if worst_leg > 1e-4 or worst_arm > 1e-4:
        raise RuntimeError(f"demo motion '{name}': targets out of reach (legs {worst_leg:.4f} m, arms {worst_arm:.4f} m)")


class _Tracks:
    """Per-frame targets under construction, with the footstep plans composed additively."""

    def __init__(self, t: torch.Tensor, feet_x: float, walks: list[Walk]):
        self.t = t
        self.lanes = foot_lanes()
        self.mid_y = 0.5 * (self.lanes["L"] + self.lanes["R"])
        self.walks = walks
        self.feet = {}
        for side in SIDES:
            x = torch.full_like(t, feet_x)
            z = torch.full_like(t, ankle_height(side))
            for w in walks:
                wx, wz = w.foot_x_and_lift(t, side)
                x, z = x + wx - w.feet_x[side], z + wz
            self.feet[side] = torch.stack([x, torch.full_like(t, self.lanes[side]), z], -1)
        x = torch.full_like(t, feet_x)
        y = torch.full_like(t, self.mid_y)
        for w in walks:
            x = x + w.pelvis_x(t) - 0.5 * (w.feet_x["L"] + w.feet_x["R"])
            y = y + w.pelvis_sway(t, self.lanes) - self.mid_y
        self.pelvis_base_x, self.pelvis_y = x, y

    def standing_offset_keys(self) -> list[tuple[float, float]]:
        """Pelvis offset ahead of the footstep base: the standing balance offset, eased to zero
        for each walk (whose pelvis path already balances the steps)."""
        stand = stand_offset()
        keys = [(0.0, stand)]
        for w in self.walks:
            keys += [(w.start - 0.35, stand), (w.start - 0.05, 0.0), (w.end, 0.0), (w.end + 0.3, stand)]
        return keys

    def arm_swing(self, pelvis_x: torch.Tensor) -> dict[str, torch.Tensor]:
        return {s: ARM_SWING * (self.feet[_OPP[s]][:, 0] - pelvis_x) for s in SIDES}

    def walk_height_keys(self) -> list[tuple[float, float]]:
        keys = [(0.0, STAND_HEIGHT)]
        for w in self.walks:
            keys += [(w.start - 0.2, STAND_HEIGHT), (w.plan[0].land, WALK_HEIGHT), (w.plan[-1].lift, WALK_HEIGHT),
                     (w.end + 0.2, STAND_HEIGHT)]  # fmt: skip
        return keys


def chest_frame(pelvis_pos: torch.Tensor, pitch: torch.Tensor, bend: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """World pose of the chest body for a pelvis position, pelvis tilt and spine bend."""
    zeros = torch.zeros_like(pitch)
    root = rot.from_hinges(torch.stack([zeros, pitch, zeros], -1))
    hinges = torch.stack([torch.stack([zeros, SPINE_SHARE[b] * bend, zeros], -1) for b in ("Torso", "Spine", "Chest")], 1)
    joints, quats = chain_fk(pelvis_pos, root, ("Torso", "Spine", "Chest"), hinges, torch.zeros(3, dtype=F64))
    return joints[:, 2], quats[:, 2]


def _to_frame(frame_pos, frame_quat, pos, quat=None):
    rel_pos = rot.rotate_inverse(frame_quat, pos - frame_pos)
    return rel_pos, None if quat is None else rot.multiply(rot.conjugate(frame_quat), quat)


def _from_frame(frame_pos, frame_quat, rel_pos, rel_quat=None):
    pos = frame_pos + rot.rotate(frame_quat, rel_pos.expand_as(frame_pos))
    return pos, None if rel_quat is None else rot.multiply(frame_quat, rel_quat.expand_as(frame_quat))


@dataclass
class Handling:
    """Times (s, start and end) of the phases of one pick-up and, optionally, the put-down.

    approach: the body bends down and the hands go from hanging to just outside the box sides;
    insert: the hands move onto the sides (contact from its end); load: the hips move back
    to balance the box's weight; lift: the box rises to the carry place in front of the chest.
    The put-down mirrors it: lower (onto the ground), unload, withdraw (hands off), retreat
    (stand up, arms down).
    """

    approach: tuple[float, float]
    insert: tuple[float, float]
    load: tuple[float, float]
    lift: tuple[float, float]
    lower: tuple[float, float] | None = None
    unload: tuple[float, float] | None = None
    withdraw: tuple[float, float] | None = None
    retreat: tuple[float, float] | None = None

    @property
    def holding_span(self) -> tuple[float, float]:
        return self.insert[1], (self.withdraw[0] if self.withdraw else float("inf"))


def handle_box(
    t, lift: Lift, base_x, pelvis_y, walk_heights, handling: Handling, feet, arm_swing, offset_keys
) -> Motion:
    """Body and box over time for a pick-up (and put-down) at ``lift``'s place.

    ``offset_keys``: pelvis offset ahead of ``base_x`` before the handling starts.
    """
    h = handling
    bend_pose = {"reach": (REACH_PITCH, REACH_BEND), "load": (REACH_PITCH, REACH_BEND), "carry": (0.0, CARRY_BEND)}

    stand = stand_offset()

    def key(time: float, pose: str | None):
        if pose is None:
            return (time, stand, STAND_HEIGHT, 0.0, 0.0)
        return (time, lift.offset(pose), lift.height(pose), *bend_pose[pose])

    # body keys: (time, pelvis offset x, pelvis height, pitch, bend)
    keys = [key(h.approach[0], None), key(h.approach[1], "reach"), key(h.load[0], "reach"), key(h.load[1], "load"),
            key(h.lift[1], "carry")]  # fmt: skip
    if h.lower:
        keys += [key(h.lower[0], "carry"), key(h.lower[1], "load"), key(h.unload[1], "reach"),
                 key(h.retreat[0], "reach"), key(h.retreat[1], None)]  # fmt: skip
    track = {i: keyed(t, [(k[0], k[i]) for k in keys]) for i in range(2, 5)}
    track[1] = keyed(t, [k for k in offset_keys if k[0] < keys[0][0]] + [(k[0], k[1]) for k in keys])
    # the walks own the height outside the handling span
    end = keys[-1][0]
    inside = (t >= keys[0][0]) & (t <= end)
    height = torch.where(inside, track[2], walk_heights)
    pelvis = torch.stack([base_x + track[1], pelvis_y, height], -1)
    pitch, bend = track[3], track[4]
    chest_pos, chest_quat = chest_frame(pelvis, pitch, bend)

    def at(time: float) -> int:
        return int(torch.argmin((t - time).abs()))

    # box: at rest; then moving with the chest from its grasp place to its carry place; then carried
    rest_pos = lift.box_rest.expand(t.shape[0], 3).clone()
    box_quat = lift.box_quat.expand(t.shape[0], 4).clone()
    carried = pelvis + pelvis.new_tensor(CARRY_OFFSET)
    i0, i1 = at(h.lift[0]), at(h.lift[1])
    rel_grasp, _ = _to_frame(chest_pos[i0], chest_quat[i0], rest_pos[i0])
    rel_carry, _ = _to_frame(chest_pos[i1], chest_quat[i1], carried[i1])
    s = keyed(t, [(h.lift[0], 0.0), (h.lift[1], 1.0)])[:, None]
    moving, _ = _from_frame(chest_pos, chest_quat, rel_grasp + (rel_carry - rel_grasp) * s)
    box_pos = torch.where((t < h.lift[0])[:, None], rest_pos, torch.where((t < h.lift[1])[:, None], moving, carried))
    if h.lower:
        j0, j1 = at(h.lower[0]), at(h.lower[1])
        rel_top, _ = _to_frame(chest_pos[j0], chest_quat[j0], carried[j0])
        rel_bottom, _ = _to_frame(chest_pos[j1], chest_quat[j1], rest_pos[j1])
        s = keyed(t, [(h.lower[0], 0.0), (h.lower[1], 1.0)])[:, None]
        down, _ = _from_frame(chest_pos, chest_quat, rel_top + (rel_bottom - rel_top) * s)
        box_pos = torch.where((t >= h.lower[0])[:, None], torch.where((t < h.lower[1])[:, None], down, rest_pos), box_pos)

    # hands: chest-relative approach to the pre-grasp points, straight onto the box, then on the box
    palm, hand = {}, {}
    reach_keys = [(h.approach[0], 0.0), (h.approach[1], 1.0)]
    insert_keys = [(h.insert[0], 0.0), (h.insert[1], 1.0)]
    if h.lower:
        reach_keys += [(h.withdraw[1], 1.0), (h.retreat[1] - 0.2, 0.0)]
        insert_keys += [(h.withdraw[0], 1.0), (h.withdraw[1], 0.0)]
    reach = keyed(t, reach_keys)
    on_box = keyed(t, insert_keys)[:, None]
    for side in SIDES:
        grip = grip_points(side, box_pos, box_quat)
        pre = pregrasp_points(side, box_pos, box_quat)
        quat = grip_quat(side, box_quat)
        k = at(h.approach[1])
        rel_pre, rel_q = _to_frame(chest_pos[k], chest_quat[k], pre[k], quat[k])
        pre_c, quat_c = _from_frame(chest_pos, chest_quat, rel_pre, rel_q)
        before = t < h.approach[1]
        if h.lower:
            k = at(h.withdraw[1])
            rel_pre2, rel_q2 = _to_frame(chest_pos[k], chest_quat[k], pre[k], quat[k])
            pre_c2, quat_c2 = _from_frame(chest_pos, chest_quat, rel_pre2, rel_q2)
            after = t > h.withdraw[1]
            pre_c = torch.where(after[:, None], pre_c2, pre_c)
            quat_c = torch.where(after[:, None], quat_c2, quat_c)
            before = before | after
        near = pre + (grip - pre) * on_box
        palm[side] = torch.where(before[:, None], pre_c, near)
        hand[side] = torch.where(before[:, None], quat_c, quat)

    plan = BodyPlan(t, pelvis, pitch, bend, feet, reach, palm, hand, arm_swing(pelvis[:, 0]))
    body = solve_body(plan)
    start, stop = handling.holding_span
    holding = (t >= start - 1e-9) & (t < stop - 1e-9)
    return Motion(body, box_pos, box_quat, holding)


def walk_lift_carry() -> Motion:
    """Walk five steps to the box, squat and grasp it, stand up with it, carry it four steps."""
    walk_to = Walk(start=0.5, feet_x={"L": 0.0, "R": 0.0}, steps=5, step_length=0.3)
    lift = Lift(feet_x=walk_to.final_x["L"], lanes=foot_lanes())
    t0 = walk_to.end + 0.4
    h = Handling(approach=(t0, t0 + 1.5), insert=(t0 + 1.5, t0 + 1.9), load=(t0 + 1.9, t0 + 2.5),
                 lift=(t0 + 2.5, t0 + 4.1))  # fmt: skip
    carry = Walk(start=h.lift[1] + 0.4, feet_x=dict(walk_to.final_x), steps=4, step_length=0.25, step_time=0.6,
                 clearance=0.05)  # fmt: skip
    t = _frames(carry.end + 0.7)
    tr = _Tracks(t, 0.0, [walk_to, carry])
    heights = keyed(t, tr.walk_height_keys())
    motion = handle_box(t, lift, tr.pelvis_base_x, tr.pelvis_y, heights, h, tr.feet, tr.arm_swing,
                        tr.standing_offset_keys())  # fmt: skip
    _check(motion.body, "walk_lift_carry")
    return motion


def lift_and_place() -> Motion:
    """Stand at the box, squat and grasp it, lift it to the chest, hold it, put it back, stand up."""
    lift = Lift(feet_x=0.0, lanes=foot_lanes())
    t0 = 0.5
    h = Handling(approach=(t0, t0 + 1.5), insert=(t0 + 1.5, t0 + 1.9), load=(t0 + 1.9, t0 + 2.5),
                 lift=(t0 + 2.5, t0 + 4.1), lower=(t0 + 4.9, t0 + 6.5), unload=(t0 + 6.5, t0 + 7.1),
                 withdraw=(t0 + 7.1, t0 + 7.5), retreat=(t0 + 7.5, t0 + 9.0))  # fmt: skip
    t = _frames(h.retreat[1] + 0.5)
    tr = _Tracks(t, 0.0, [])
    motion = handle_box(t, lift, tr.pelvis_base_x, tr.pelvis_y, torch.full_like(t, STAND_HEIGHT), h, tr.feet,
                        tr.arm_swing, tr.standing_offset_keys())  # fmt: skip
    _check(motion.body, "lift_and_place")
    return motion


SQUAT_HEIGHT, SQUAT_PITCH, SQUAT_BEND, SQUAT_ARMS = 0.70, 0.3, 0.2, 1.0
"""Pelvis height, pelvis tilt, spine bend and forward arm raise (rad) at the bottom of the squat."""


@lru_cache(maxsize=None)
def balanced_offset(height: float, pitch: float, bend: float, arms: float) -> float:
    """Pelvis position ahead of side-by-side feet that puts the centre of mass over the feet,
    for a pose without the box (pelvis height and tilt, spine bend, arms raised forward)."""
    lanes = foot_lanes()
    offsets = torch.arange(-0.3, 0.15 + 1e-9, 0.005, dtype=F64)
    n = offsets.shape[0]
    feet = {s: torch.tensor([[0.0, lanes[s], ankle_height(s)]], dtype=F64).expand(n, 3) for s in SIDES}
    pelvis = torch.stack([offsets, torch.full_like(offsets, 0.5 * (lanes["L"] + lanes["R"])),
                          torch.full_like(offsets, height)], -1)  # fmt: skip
    full = lambda v: torch.full((n,), v, dtype=F64)  # noqa: E731
    plan = BodyPlan(full(0.0), pelvis, full(pitch), full(bend), feet, full(0.0), arm_swing={s: full(arms) for s in SIDES})
    body = solve_body(plan, sequence=False)
    com = center_of_mass(body.body_pos, body.body_quat)
    cost = (com[:, 0] - support_centre_x(0.0)).abs()
    cost = torch.where(body.leg_error < 1e-4, cost, torch.full_like(cost, float("inf")))
    return float(offsets[int(cost.argmin())])


def stand_offset() -> float:
    """Pelvis position ahead of the feet when standing upright with the arms down."""
    return balanced_offset(STAND_HEIGHT, 0.0, 0.0, 0.0)


def stand_squat_stand(duration: float = 4.0) -> Motion:
    """Stand, squat down with the arms forward, stand up again, beside the box (untouched)."""
    q = duration / 4.0
    t = _frames(duration)
    tr = _Tracks(t, 0.0, [])
    down = [(q, 0.0), (2 * q, 1.0), (3 * q, 0.0)]
    s = keyed(t, down)
    stand, squat = stand_offset(), balanced_offset(SQUAT_HEIGHT, SQUAT_PITCH, SQUAT_BEND, SQUAT_ARMS)
    pelvis = torch.stack([tr.pelvis_base_x + stand + (squat - stand) * s, tr.pelvis_y,
                          STAND_HEIGHT + (SQUAT_HEIGHT - STAND_HEIGHT) * s], -1)  # fmt: skip
    plan = BodyPlan(t, pelvis, SQUAT_PITCH * s, SQUAT_BEND * s, tr.feet, torch.zeros_like(t),
                    arm_swing={side: SQUAT_ARMS * s for side in SIDES})  # fmt: skip
    body = solve_body(plan)
    _check(body, "stand_squat_stand")
    lanes = foot_lanes()
    box_pos = torch.tensor([0.8, 0.5 * (lanes["L"] + lanes["R"]), BOX_HALF[2]], dtype=F64).expand(t.shape[0], 3)
    box_quat = torch.tensor([0.0, 0.0, 0.0, 1.0], dtype=F64).expand(t.shape[0], 4)
    return Motion(body, box_pos.clone(), box_quat.clone(), torch.zeros(t.shape[0], dtype=torch.bool))

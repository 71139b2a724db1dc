"""The robot the retargeting solves for: the Unitree G1 + Dex3 compiled by MuJoCo from the user's
URDF (:mod:`~intermimic.assets.g1_dex3`), what is measured on it, and forward kinematics.

At the zero pose every G1 body frame is aligned with the world, as the SMPL-X bodies' rest
frames are (x forward, y left, z up), so offsets measured here apply in the human's frames.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..assets import g1_dex3
from ..utils import quat_np
from .robot_targets import BONES, HAND_TIPS, SIDES, RobotDims

TRACKED_BODY = {
    "left_hip_yaw_link": "left_hip_roll_link",
    "right_hip_yaw_link": "right_hip_roll_link",
    "left_shoulder_yaw_link": "left_shoulder_roll_link",
    "right_shoulder_yaw_link": "right_shoulder_roll_link",
}
"""Key body -> the body whose origin the IK tracks for it (the joint centre); others: itself."""

HAND_POINTS_PER_GEOM = 48
"""Collision-mesh vertices kept per hand geom (for penetration)."""


@dataclass
class RobotModel:
    """The compiled robot and what the retargeting reads from it."""

    model: object
    joint_names: tuple[str, ...]
    joint_qpos: np.ndarray  # [43] qpos address of each joint, in joint_names order
    joint_lower: np.ndarray
    joint_upper: np.ndarray
    body_names: tuple[str, ...]  # every body but the world, model order
    key_bodies: tuple[str, ...]
    key_smplx: tuple[str, ...]
    tracked_bodies: tuple[str, ...]
    contact_bodies: tuple[str, ...]
    contact_smplx: tuple[str, ...]  # the SMPL-X body whose contact label each contact body takes
    default_qpos: np.ndarray
    dims: RobotDims | None
    hand_points: dict[str, list[tuple[int, np.ndarray]]] = field(default_factory=dict)
    """Side -> [(geom id, [P, 3] points in the geom frame)] of the hand's collision meshes."""
    source: str = ""

    def body_id(self, name: str) -> int:
        import mujoco

        return mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_BODY, name)


def load_robot(urdf: str | Path) -> RobotModel:
    """The G1 + Dex3 from ``urdf``: joints, key bodies, measured lengths and hand surface points."""
    import mujoco

    emb = g1_dex3.load_embodiment(urdf)
    model = g1_dex3.load_mujoco_model(urdf)
    joint_ids = [mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, j) for j in emb.joint_names]
    default = model.qpos0.copy()
    qadr = np.array([model.jnt_qposadr[j] for j in joint_ids])
    default[qadr] = emb.default_joint_pos
    key_bodies = tuple(r for r, _ in g1_dex3.KEY_BODY_MAP)
    key_smplx = tuple(h for _, h in g1_dex3.KEY_BODY_MAP)
    tracked = tuple(TRACKED_BODY.get(b, b) for b in key_bodies)
    robot = RobotModel(
        model=model, joint_names=emb.joint_names, joint_qpos=qadr, joint_lower=np.array(emb.joint_lower),
        joint_upper=np.array(emb.joint_upper), body_names=emb.body_names, key_bodies=key_bodies, key_smplx=key_smplx,
        tracked_bodies=tracked, contact_bodies=emb.contact_body_names,
        contact_smplx=tuple(emb.contact_reference_bodies[b] for b in emb.contact_body_names), default_qpos=default, dims=None,
        source=emb.source,
    )  # fmt: skip
    robot.dims = _measure(robot)
    robot.hand_points = _hand_points(robot)
    return robot


def _zero_pose_data(robot: RobotModel):
    import mujoco

    data = mujoco.MjData(robot.model)
    data.qpos[:] = robot.model.qpos0
    mujoco.mj_kinematics(robot.model, data)
    return data


def _measure(robot: RobotModel) -> RobotDims:
    """Offsets, bone lengths, resting ankle height and fingertip reach at the zero pose (straight
    legs, open hands, every body frame aligned with the world, as the SMPL-X rest frames)."""
    m = robot.model
    data = _zero_pose_data(robot)
    track = dict(zip(robot.key_smplx, robot.tracked_bodies))

    def at(smplx_or_body: str) -> np.ndarray:
        return data.xpos[robot.body_id(track.get(smplx_or_body, smplx_or_body))].copy()

    def frame(body_name: str) -> np.ndarray:
        return data.xmat[robot.body_id(body_name)].reshape(3, 3).copy()

    mid_hip = 0.5 * (at("L_Hip") + at("R_Hip"))
    R_pelvis, R_torso = frame(g1_dex3.ROOT_BODY), frame(track["Torso"])
    torso = at("Torso")
    bones = {}
    for side in SIDES:
        for parent, child in BONES:
            bones[f"{side}_{child}"] = float(np.linalg.norm(at(f"{side}_{child}") - at(f"{side}_{parent}")))
    soles = []
    for side in SIDES:
        bid = robot.body_id(track[f"{side}_Ankle"])
        lowest = min(np.min(_geom_world_points(m, data, g)[:, 2]) for g in _collision_geoms(m, bid))
        soles.append(at(f"{side}_Ankle")[2] - lowest)
    reach = {f"{s}_{tip}": float(np.linalg.norm(at(f"{s}_{tip}") - at(f"{s}_Wrist")))
             for s in SIDES for tip in HAND_TIPS}  # fmt: skip
    return RobotDims(
        hip_offset={s: R_pelvis.T @ (at(f"{s}_Hip") - mid_hip) for s in SIDES},
        torso_offset=R_pelvis.T @ (torso - mid_hip),
        chest_offset={n: R_torso.T @ (at(n) - torso) for n in ("L_Shoulder", "R_Shoulder", "Head")},
        bone_length=bones, finger_reach=reach, ankle_height=float(np.mean(soles)),
    )  # fmt: skip


def _collision_geoms(model, body_id: int) -> list[int]:
    return [g for g in range(model.ngeom) if model.geom_bodyid[g] == body_id and model.geom_contype[g] != 0]


def _geom_local_points(model, geom: int) -> np.ndarray:
    """Points on a geom in its own frame: a mesh's vertices, a primitive's bounding-box corners."""
    import mujoco

    if model.geom_type[geom] == mujoco.mjtGeom.mjGEOM_MESH:
        mesh = model.geom_dataid[geom]
        start, count = model.mesh_vertadr[mesh], model.mesh_vertnum[mesh]
        return np.asarray(model.mesh_vert[start : start + count], dtype=np.float64)
    half = np.asarray(model.geom_size[geom], dtype=np.float64)
    half = np.array([half[0], half[0], half[0]]) if model.geom_type[geom] == mujoco.mjtGeom.mjGEOM_SPHERE else half
    corners = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], dtype=np.float64)
    return corners * half


def _geom_world_points(model, data, geom: int) -> np.ndarray:
    local = _geom_local_points(model, geom)
    return data.geom_xpos[geom] + local @ data.geom_xmat[geom].reshape(3, 3).T


def _hand_points(robot: RobotModel) -> dict[str, list[tuple[int, np.ndarray]]]:
    m = robot.model
    rng = np.random.default_rng(0)
    out = {}
    for side in SIDES:
        items = []
        for name in g1_dex3.HAND_BODY_NAMES[side]:
            for g in _collision_geoms(m, robot.body_id(name)):
                pts = _geom_local_points(m, g)
                if len(pts) > HAND_POINTS_PER_GEOM:
                    pts = pts[rng.choice(len(pts), HAND_POINTS_PER_GEOM, replace=False)]
                items.append((g, pts))
        out[side] = items
    return out


@dataclass
class Kinematics:
    body_pos: np.ndarray  # [T, B, 3]
    body_quat: np.ndarray  # [T, B, 4] xyzw
    hand_points: dict[str, np.ndarray]  # side -> [T, P, 3] points on the hand's collision meshes


def forward_kinematics(robot: RobotModel, qpos: np.ndarray) -> Kinematics:
    """Body poses (every body in ``robot.body_names`` order) and hand surface points per frame."""
    import mujoco

    m = robot.model
    data = mujoco.MjData(m)
    ids = [robot.body_id(n) for n in robot.body_names]
    T = qpos.shape[0]
    body_pos = np.zeros((T, len(ids), 3))
    body_quat = np.zeros((T, len(ids), 4))
    hands = {s: [] for s in SIDES}
    for t in range(T):
        data.qpos[:] = qpos[t]
        mujoco.mj_kinematics(m, data)
        body_pos[t] = data.xpos[ids]
        body_quat[t] = quat_np.from_wxyz(data.xquat[ids])
        for side, items in robot.hand_points.items():
            hands[side].append(np.concatenate(
                [data.geom_xpos[g] + pts @ data.geom_xmat[g].reshape(3, 3).T for g, pts in items], axis=0
            ))  # fmt: skip
    return Kinematics(body_pos, body_quat, {s: np.stack(v) for s, v in hands.items()})


# -------------------------------------------------------------------------------------------------
# The robot's own links against each other
# -------------------------------------------------------------------------------------------------
SELF_PENETRATION_TOLERANCE = 0.002
"""Depth (m) up to which two of the robot's links touching count as touching, not as penetrating
(the simulators' contact offsets keep links a few millimetres apart anyway)."""


def self_collision_pairs(model) -> list[tuple[int, int]]:
    """Pairs of the robot's collision geoms the simulator checks against each other: geoms of two
    bodies that are neither welded together nor parent and child (the weld's parent), and whose
    bodies the model does not exclude (the embodiment's filtered pairs, written into the model)."""
    excluded = {frozenset((int(s >> 16), int(s & 0xFFFF))) for s in model.exclude_signature}
    weld, parent = model.body_weldid, model.body_parentid
    geoms = [g for g in range(model.ngeom) if model.geom_contype[g] or model.geom_conaffinity[g]]
    pairs = []
    for i, a in enumerate(geoms):
        for b in geoms[i + 1 :]:
            ba, bb = int(model.geom_bodyid[a]), int(model.geom_bodyid[b])
            wa, wb = int(weld[ba]), int(weld[bb])
            if wa == wb or int(weld[parent[wa]]) == wb or int(weld[parent[wb]]) == wa:
                continue
            if frozenset((ba, bb)) in excluded:
                continue
            pairs.append((a, b))
    return pairs


@dataclass
class SelfPenetration:
    depth: np.ndarray  # [T] the deepest overlap of two of the robot's links (m; 0: none)
    pair: list[tuple[str, str] | None]  # [T] the two bodies of that overlap


def self_penetrations(robot: RobotModel, qpos: np.ndarray, pairs: list[tuple[int, int]] | None = None) -> SelfPenetration:
    """Per frame, how deep two of the robot's links overlap (signed geom distances of the pairs the
    simulator checks, :func:`self_collision_pairs`)."""
    import mujoco

    m = robot.model
    pairs = self_collision_pairs(m) if pairs is None else pairs
    data = mujoco.MjData(m)
    fromto = np.zeros(6)
    depth, worst = np.zeros(qpos.shape[0]), []
    for t in range(qpos.shape[0]):
        data.qpos[:] = qpos[t]
        mujoco.mj_kinematics(m, data)
        mujoco.mj_collision(m, data)  # the broad phase: which pairs are close at all
        near = {frozenset((int(c.geom1), int(c.geom2))) for c in data.contact[: data.ncon]}
        best, best_pair = 0.0, None
        for a, b in pairs:
            if frozenset((a, b)) not in near:
                continue
            d = mujoco.mj_geomDistance(m, data, a, b, 0.0, fromto)
            if -d > best:
                best, best_pair = -d, (m.body(m.geom_bodyid[a]).name, m.body(m.geom_bodyid[b]).name)
        depth[t] = best
        worst.append(best_pair)
    return SelfPenetration(depth, worst)

"""Joint angles of the humanoid from body positions, by inverse kinematics (``mink``).

Each frame is solved with differential IK (a quadratic program on MuJoCo's Jacobians, the
library the robot retargeting uses) on the humanoid's own joints: the MJCF of
:mod:`~intermimic.assets.humanoid_mjcf` at the given skeleton, a free root and each body's three
hinges in the simulator's order (x, y, z) with the humanoid's limits as hard constraints
(``mink.ConfigurationLimit``), so no solved joint value lies beyond its limit.

Positions leave some rotations open: a body's twist about the bone to its one child, and all
three angles of a body without children. Each frame therefore first gets a natural pose
(:func:`swing_pose`): every bone turned by the smallest rotation that points it where the
positions say, the elbow bending forward about its own axis as a hinge does (the upper arm takes
half the turn that needs, the elbow's own twist the other half), the hand's turn about the
forearm shared between elbow and wrist, and the
bodies without children (head, toes, finger tips) following their parent. The solve then has:

* the position of every body that has a target (cost 1 per metre);
* a prior towards that natural pose and a stronger one towards the previous frame's solution
  (continuity: no flips between frames); the hand's tight twist and side-bend limits keep the
  fingers bending as fingers do;
* the feet pulled level (ankle and toe: their rest rotation turned to the foot's heading), so a
  foot on the ground rests on its sole and the converter's floor rule puts it on the ground.

A second stage of smallest steps (the priors off) then brings every body onto its target
exactly. Frame 0 starts from its natural pose; every later frame from the previous solution.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ...assets import humanoid_spec as spec

POSITION_COST = 1.0
PREVIOUS_FRAME_COST = 3e-2
"""Posture cost (per rad) towards the previous frame's joint angles."""
NATURAL_COST = 1e-2
"""Posture cost (per rad) towards the frame's natural pose (:func:`swing_pose`)."""
DAMPING = 1e-4
FIRST_FRAME_ITERATIONS = 150
FRAME_ITERATIONS = 20
REFINE_ITERATIONS = 30
"""Steps that then bring the bodies onto their targets from the natural pose (the priors off)."""
STEP_TOLERANCE = 1e-3
"""The natural pose of a frame is found when no coordinate moves by more than this (rad or m) in an iteration."""
REFINE_TOLERANCE = 1e-4
"""... and its bodies are on their targets when no coordinate moves by more than this."""
LIMIT_TOLERANCE = 1e-6
"""Margin (rad) below which a joint value counts as at its limit."""
QP_SOLVER = "daqp"
FOOT_LEVEL_COST = 0.05
"""Orientation cost (per rad) pulling each ankle and toe towards a level foot: its rest rotation
turned about the vertical to the foot's heading (the ankle-to-toe direction)."""


@dataclass
class IKResult:
    root_pos: np.ndarray  # [T, 3]
    root_quat: np.ndarray  # [T, 4] xyzw
    hinges: np.ndarray  # [T, 153] the joints' hinge angles, canonical DOF order
    local_quat: np.ndarray  # [T, 51, 4] xyzw, body order from body 1 (the rotation of its three hinges)
    residual: np.ndarray  # [T, B] distance (m) of each targeted body from its target
    at_limit: np.ndarray  # [T, 153] whether the joint rests at one of its limits
    iterations: np.ndarray  # [T]
    seconds: float


def humanoid_model(body_offsets: np.ndarray):
    """The humanoid's MuJoCo model at skeleton ``body_offsets``: free root, three limited hinges per body."""
    import mujoco

    from ...assets.humanoid_mjcf import build_mjcf

    return mujoco.MjModel.from_xml_string(build_mjcf(np.asarray(body_offsets, dtype=np.float64), root_height=0.0))


def hinge_addresses(model) -> np.ndarray:
    """qpos address of each canonical DOF (``spec.JOINT_NAMES``) in ``model``."""
    import mujoco

    return np.array([model.jnt_qposadr[mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, j)] for j in spec.JOINT_NAMES])


def solve_positions(targets: np.ndarray, body_offsets: np.ndarray, mask: np.ndarray | None = None) -> IKResult:
    """Root pose and joint angles of the humanoid whose bodies reach ``targets``.

    Args:
        targets: ``[T, 52, 3]`` body positions (z-up world), humanoid body order.
        body_offsets: ``[52, 3]`` the skeleton to solve on.
        mask: ``[52]`` bodies that have a target (default: all); the pelvis, hips and torso must.
    """
    import mink

    from ...utils import quat_np

    start = time.perf_counter()
    targets = np.asarray(targets, dtype=np.float64)
    T = targets.shape[0]
    mask = np.ones(spec.NUM_BODIES, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    if not np.all(np.isfinite(targets[:, mask])):
        raise ValueError("inverse kinematics: the target positions are not all finite")
    for name in ("Pelvis", "L_Hip", "R_Hip", "Torso"):
        if not mask[spec.body_index(name)]:
            raise ValueError(f"inverse kinematics needs a target for {name}")
    model = humanoid_model(body_offsets)
    adr = hinge_addresses(model)
    lower, upper = model.jnt_range[1:, 0], model.jnt_range[1:, 1]  # joints after the free root, in MJCF order
    tracked = [i for i in range(spec.NUM_BODIES) if mask[i]]
    body_ids = [model.body(spec.BODY_NAMES[i]).id for i in tracked]
    positions = body_positions_task(model, body_ids, POSITION_COST)
    tasks = [positions]
    # (ankle, toe, the body kept level): both bodies of each foot
    feet = [(spec.body_index(f"{s}_Ankle"), spec.body_index(f"{s}_Toe"), spec.body_index(f"{s}_{b}"))
            for s in "LR" for b in ("Ankle", "Toe")]  # fmt: skip
    foot_tasks = [mink.FrameTask(spec.BODY_NAMES[b], "body", position_cost=0.0, orientation_cost=FOOT_LEVEL_COST)
                  for _, _, b in feet]  # fmt: skip
    rest_yaw = [np.arctan2(body_offsets[t][1], body_offsets[t][0]) for _, t, _ in feet]
    previous = mink.PostureTask(model, cost=PREVIOUS_FRAME_COST)
    natural_task = mink.PostureTask(model, cost=NATURAL_COST)
    limits = [mink.ConfigurationLimit(model)]
    step_cost = mink.PostureTask(model, cost=PREVIOUS_FRAME_COST)
    config = mink.Configuration(model, model.qpos0.copy())
    root_pos, root_quat = np.zeros((T, 3)), np.zeros((T, 4))
    hinges = np.zeros((T, spec.NUM_DOFS))
    residual = np.zeros((T, len(tracked)))
    iterations = np.zeros(T, dtype=np.int64)
    for t in range(T):
        root, guess = swing_pose(targets[t], body_offsets, mask)
        natural = config.q.copy()
        natural[0:3] = targets[t, 0]
        natural[3:7] = quat_np.to_wxyz(_matrix_to_xyzw(root))
        natural[adr] = np.clip(guess, lower, upper)
        natural_task.set_target(natural)
        q = natural.copy() if t == 0 else config.q.copy()
        q[0:3] = targets[t, 0]
        config.update(q)
        previous.set_target(config.q)
        positions.targets = targets[t, tracked]
        for task, (ankle, toe, _), yaw0 in zip(foot_tasks, feet, rest_yaw):
            d = targets[t, toe] - targets[t, ankle]
            level = mink.SO3.from_rpy_radians(0.0, 0.0, np.arctan2(d[1], d[0]) - yaw0)
            task.set_target(mink.SE3.from_rotation_and_translation(level, targets[t, ankle]))
        budget = FIRST_FRAME_ITERATIONS if t == 0 else FRAME_ITERATIONS
        iterations[t] = _iterate(config, [*tasks, *foot_tasks, previous, natural_task], limits, budget, t)
        # then the positions exactly: the smallest steps from the natural pose (a cost on each step only)
        refine = FIRST_FRAME_ITERATIONS if t == 0 else REFINE_ITERATIONS
        iterations[t] += _iterate(config, [*tasks, step_cost], limits, refine, t, step_cost, REFINE_TOLERANCE)
        q = np.clip(config.q[7:], lower, upper)  # the QP keeps them inside up to its tolerance
        full = config.q.copy()
        full[7:] = q
        config.update(full)
        root_pos[t] = full[0:3]
        root_quat[t] = quat_np.from_wxyz(full[3:7])
        hinges[t] = full[adr]
        residual[t] = np.linalg.norm(config.data.xpos[body_ids] - targets[t, tracked], axis=-1)
    lo, hi = np.asarray([spec.joint_limits_rad(j) for j in spec.JOINT_NAMES]).T
    at_limit = (hinges <= lo + LIMIT_TOLERANCE) | (hinges >= hi - LIMIT_TOLERANCE)
    root_quat /= np.linalg.norm(root_quat, axis=-1, keepdims=True)
    return IKResult(root_pos, root_quat, hinges, local_rotations(hinges), residual, at_limit, iterations,
                    time.perf_counter() - start)  # fmt: skip


def _swing(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The smallest rotation (matrix) turning direction ``a`` onto direction ``b``."""
    a, b = a / np.linalg.norm(a), b / np.linalg.norm(b)
    axis, cos = np.cross(a, b), float(a @ b)
    sin = float(np.linalg.norm(axis))
    if sin < 1e-9:
        if cos > 0:
            return np.eye(3)
        other = np.array([1.0, 0.0, 0.0]) if abs(a[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
        axis = np.cross(a, other)
        axis /= np.linalg.norm(axis)
        return 2.0 * np.outer(axis, axis) - np.eye(3)  # half a turn about an axis normal to a
    k = axis / sin
    K = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + sin * K + (1 - cos) * (K @ K)


def _twist(rotation: np.ndarray, axis: np.ndarray, share: float = 1.0) -> np.ndarray:
    """The part of ``rotation`` (matrix) that turns about ``axis`` (swing-twist decomposition),
    ``share`` of it."""
    a = axis / np.linalg.norm(axis)
    w = np.sqrt(max(0.0, 1.0 + np.trace(rotation))) / 2.0  # the quaternion's scalar part
    vee = np.array([rotation[2, 1] - rotation[1, 2], rotation[0, 2] - rotation[2, 0], rotation[1, 0] - rotation[0, 1]])
    along = (vee @ a) / 2.0  # the vector part's component along the axis, times 2w / 2w
    angle = share * (2.0 * np.arctan2(along, w) if w > 1e-9 else np.pi)
    c, s = np.cos(angle), np.sin(angle)
    K = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    return np.eye(3) + s * K + (1 - c) * (K @ K)


ELBOW_PLANE_SHARE = 0.5
"""Share of the turn that would make the elbow a pure hinge which the upper arm takes (the
elbow's own twist the rest: the humanoid's elbow turns about three axes)."""
FOREARM_TURN_AT_ELBOW = 0.5
"""Share of the hand's turn about the forearm that the elbow takes (the wrist keeps the rest)."""
ELBOW_BEND_DEG = 15.0
"""Below this bend the forearm's plane is left to the priors (a straight arm has none)."""
_TURNS = np.radians(np.arange(360.0))


def _elbow_plane_twist(shoulder: np.ndarray, upper_arm: np.ndarray, forearm_rest: np.ndarray,
                       forearm: np.ndarray) -> np.ndarray:  # fmt: skip
    """The turn of the upper arm about itself (matrix, in the shoulder's frame) that puts the
    forearm where an elbow bending forward about its own z axis puts it, as an elbow does; the
    identity for a nearly straight arm. ``shoulder``: the shoulder's world rotation; ``upper_arm``,
    ``forearm_rest``: the elbow's and wrist's rest offsets; ``forearm``: the forearm now (world)."""
    d = shoulder.T @ forearm
    d /= np.linalg.norm(d)
    r = forearm_rest / np.linalg.norm(forearm_rest)
    if np.degrees(np.arccos(np.clip(d @ r, -1.0, 1.0))) < ELBOW_BEND_DEG:
        return np.eye(3)
    a = upper_arm / np.linalg.norm(upper_arm)
    K = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    turns = np.eye(3)[None] + np.sin(_TURNS)[:, None, None] * K + (1 - np.cos(_TURNS))[:, None, None] * (K @ K)
    seen = np.einsum("nji,j->ni", turns, d)  # the forearm in each turned frame
    off_plane = np.abs(seen[:, 2] - r[2]) + 10.0 * (seen[:, 0] < 0)  # flexion about z, towards the front
    return turns[int(np.argmin(off_plane))]


def _fit_rotation(rest: np.ndarray, now: np.ndarray) -> np.ndarray:
    """The rotation that best turns the rest vectors ``[N, 3]`` onto ``now`` (Kabsch)."""
    u, _, vt = np.linalg.svd(now.T @ rest)
    d = np.sign(np.linalg.det(u @ vt))
    return u @ np.diag([1.0, 1.0, d]) @ vt


def swing_pose(targets: np.ndarray, body_offsets: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A natural pose for the positions of one frame: each body turned by the smallest rotation
    that points its bone where its one targeted child is (no twist), by the best fit to its
    children with several (pelvis, chest, wrists), not at all without a targeted child.
    Returns the root rotation (matrix) and the ``[153]`` hinge angles of the local rotations."""
    import torch

    from ...utils import rotations as rot
    from ..kinematics import matrix_to_quat

    world = [np.eye(3)] * spec.NUM_BODIES
    local = np.tile(np.eye(3), (spec.NUM_BODIES, 1, 1))
    for b in range(spec.NUM_BODIES):
        parent = spec.PARENT_INDICES[b]
        above = world[parent] if parent >= 0 else np.eye(3)
        kids = [c for c, p in enumerate(spec.PARENT_INDICES) if p == b and mask[c]]
        if not mask[b] or not kids:
            world[b] = above
        elif len(kids) == 1:
            c = kids[0]
            world[b] = _swing(above @ body_offsets[c], targets[c] - targets[b]) @ above
            wrist = spec.body_index(spec.BODY_NAMES[b].replace("Shoulder", "Wrist"))
            if spec.BODY_NAMES[b].endswith("_Shoulder") and mask[wrist]:  # the elbow bends as a hinge
                turn = _elbow_plane_twist(world[b], body_offsets[c], body_offsets[wrist], targets[wrist] - targets[c])
                world[b] = world[b] @ _twist(turn, body_offsets[c], ELBOW_PLANE_SHARE)
        else:
            rest = np.stack([body_offsets[c] for c in kids])
            now = np.stack([targets[c] - targets[b] for c in kids])
            world[b] = _fit_rotation(rest, now)
        local[b] = above.T @ world[b]
    for side in "LR":  # the forearm turns along its length (pronation): half at the elbow, half at the wrist
        elbow, wrist = spec.body_index(f"{side}_Elbow"), spec.body_index(f"{side}_Wrist")
        if mask[wrist]:
            turn = _twist(local[wrist], body_offsets[wrist], FOREARM_TURN_AT_ELBOW)
            local[elbow] = local[elbow] @ turn
            local[wrist] = turn.T @ local[wrist]
    quats = matrix_to_quat(torch.as_tensor(local[1:]))
    hinges = rot.to_hinges(quats).reshape(-1).numpy()
    return world[0], hinges


def body_positions_task(model, body_ids: list[int], cost: float):
    """A ``mink`` task on the world positions of several bodies at once (their frame origins; one
    stacked residual, cheaper than a frame task per body): set ``targets`` ``[B, 3]`` before solving."""
    import mink
    import mujoco

    class BodyPositions(mink.Task):
        def __init__(self):
            super().__init__(cost=np.full(3 * len(body_ids), float(cost)), gain=1.0)
            self.targets = np.zeros((len(body_ids), 3))
            self._jac = np.zeros((3 * len(body_ids), model.nv))

        def compute_error(self, configuration) -> np.ndarray:
            return (configuration.data.xpos[body_ids] - self.targets).reshape(-1)

        def compute_jacobian(self, configuration) -> np.ndarray:
            for k, b in enumerate(body_ids):
                mujoco.mj_jacBody(model, configuration.data, self._jac[3 * k : 3 * k + 3], None, b)
            return self._jac.copy()

    return BodyPositions()


def _iterate(config, tasks, limits, budget: int, t: int, step_cost=None, tolerance: float = STEP_TOLERANCE) -> int:
    """Up to ``budget`` IK steps towards ``tasks`` (``step_cost``: a posture task re-aimed at the
    current pose before each step); returns the steps taken."""
    import mink

    for it in range(budget):
        if step_cost is not None:
            step_cost.set_target(config.q)
        try:
            v = mink.solve_ik(config, tasks, 1.0, QP_SOLVER, damping=DAMPING, limits=limits)
        except mink.NoSolutionFound as exc:
            raise ValueError(f"frame {t}: the inverse kinematics found no solution ({exc})") from None
        if not np.all(np.isfinite(v)):
            raise ValueError(f"frame {t}: the inverse kinematics step is not finite")
        config.integrate_inplace(v, 1.0)
        if np.max(np.abs(v)) < tolerance:
            return it + 1
    return budget


def local_rotations(hinges: np.ndarray) -> np.ndarray:
    """``[T, 153]`` hinge angles -> ``[T, 51, 4]`` each body's rotation relative to its parent (xyzw)."""
    import torch

    from ...utils import rotations as rot

    return rot.from_hinges(torch.as_tensor(hinges).reshape(hinges.shape[0], -1, 3)).numpy()


def _matrix_to_xyzw(m: np.ndarray) -> np.ndarray:
    import torch

    from ..kinematics import matrix_to_quat

    return matrix_to_quat(torch.as_tensor(m)).numpy()

"""Kinematic retargeting of SMPL-X interaction clips onto the Unitree G1 + Dex3 (differential IK).

Each frame is solved with ``mink`` (quadratic-program differential IK on MuJoCo) on the model of
:mod:`robot_model`, from the previous frame's solution, for the targets of :mod:`robot_targets`:

* a position task per key body of the release's map (``KEY_BODY_MAP``, 20 bodies; for hips and
  shoulders the joint centre, see :data:`~intermimic.retarget.robot_model.TRACKED_BODY`), with
  higher costs for resting feet and for hands in contact;
* orientation tasks for the pelvis (the human pelvis), the torso (the human chest) and the ankles
  (the human ankle; flat and fixed while a foot rests);
* a weak posture task towards the release's initial pose, and a cost on leaving the previous
  frame's solution (no jumps between frames);
* the joint limits as hard constraints (``mink.ConfigurationLimit``), and the robot's links kept
  apart (``mink.CollisionAvoidanceLimit`` on the geom pairs the simulator checks with
  self-collision on, :func:`~intermimic.retarget.robot_model.self_collision_pairs`).

The Dex3 fingers come out of the same solve: the three fingertip frames are key bodies. With an
object surface, a hand whose collision points end up inside the object has its targets moved out
and the frame is solved again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..assets import g1_dex3
from ..utils import quat_np
from .robot_model import Kinematics, RobotModel, self_collision_pairs
from .robot_targets import SIDES, SURFACE_MARGIN, HumanClip, Targets, build_targets

POSITION_COST = {"Hip": 3.0, "Knee": 3.0, "Ankle": 5.0, "Torso": 2.0, "Head": 1.0, "Shoulder": 1.0, "Elbow": 2.0,
                 "Wrist": 4.0, "Index3": 1.0, "Middle3": 1.0, "Thumb3": 1.0}  # fmt: skip
"""Position cost per SMPL-X body kind (per metre of error)."""
RESTING_FOOT_COST = 20.0
CONTACT_HAND_COST = {"Wrist": 6.0, "Index3": 8.0, "Middle3": 8.0, "Thumb3": 8.0}
CONTACT_ELBOW_COST = 0.5
PELVIS_ORIENTATION_COST = 0.3
TORSO_ORIENTATION_COST = 1.0
ANKLE_ORIENTATION_COST = 0.3
RESTING_ANKLE_ORIENTATION_COST = 5.0
POSTURE_COST = 0.05
CONTINUITY_COST = 0.2
"""Cost (per rad or m) of moving away from the previous frame's solution: no jumps between frames."""
DAMPING = 0.05
FIRST_FRAME_ITERATIONS = 150
FRAME_ITERATIONS = 12
STEP_TOLERANCE = 1e-4
"""A frame is done when no coordinate moves by more than this (rad or m) in an iteration."""
QP_SOLVER = "daqp"
PENETRATION_TOLERANCE = 0.005
"""A hand whose collision points reach deeper than this (m) into the object is moved out."""
PUSH_ROUNDS = 6
SELF_COLLISION_MARGIN = 0.003
"""Gap (m) the IK keeps between two of the robot's links."""
SELF_COLLISION_DETECTION = 0.03
"""Distance (m) within which a pair of the robot's links is watched by the IK."""
SEPARATION_GAIN = 0.02
"""Share of an overlap two links must open per IK iteration (small, so that the program stays
solvable next to the tasks and the joint limits; a first frame's overlap opens within its
iterations)."""
STEP_HALVINGS = 4
"""How often an IK step that would push two links deeper into each other is halved."""
SELF_COLLISION_GAIN = 0.5
"""Share of the gap a pair of links apart may close per IK iteration."""


def _kind(smplx_name: str) -> str:
    return smplx_name.split("_", 1)[1] if "_" in smplx_name else smplx_name


# -------------------------------------------------------------------------------------------------
# The solve
# -------------------------------------------------------------------------------------------------
@dataclass
class Solution:
    qpos: np.ndarray  # [T, nq] (free joint: pos, quat wxyz; then the hinges)
    iterations: np.ndarray  # [T]
    seconds: float
    targets: Targets


class NotConverged(RuntimeError):
    """The IK gave no usable answer for a clip (QP failure or non-finite values)."""


def _se3(mink, pos: np.ndarray, quat_xyzw: np.ndarray | None = None):
    wxyz = np.array([1.0, 0.0, 0.0, 0.0]) if quat_xyzw is None else quat_np.to_wxyz(quat_xyzw)
    return mink.SE3.from_rotation_and_translation(mink.SO3(wxyz=wxyz / np.linalg.norm(wxyz)), pos)


def initial_qpos(robot: RobotModel, targets: Targets) -> np.ndarray:
    """The release's initial pose, standing where the human's pelvis is, facing its heading."""
    q = robot.default_qpos.copy()
    heading = quat_np.yaw(targets.pelvis_quat[0])
    feet = [targets.pos[0, robot.key_smplx.index(f"{s}_Ankle")] for s in SIDES]
    hips = [targets.pos[0, robot.key_smplx.index(f"{s}_Hip")] for s in SIDES]
    q[0:2] = np.mean(hips, axis=0)[:2]
    q[2] = float(np.mean(feet, axis=0)[2]) - robot.dims.ankle_height + robot.dims.leg_length + 0.1
    q[3:7] = quat_np.to_wxyz(quat_np.from_yaw(np.array(heading)))
    return q


class _FrameSolver:
    """The mink tasks of one clip, set frame by frame and iterated from the previous solution."""

    def __init__(self, robot: RobotModel, targets: Targets, surface, keep_apart: bool = True):
        import mink

        self.mink, self.robot, self.targets, self.surface = mink, robot, targets, surface
        model = robot.model
        self.config = mink.Configuration(model, initial_qpos(robot, targets))
        self.key_tasks = [mink.FrameTask(b, "body", 0.0, 0.0) for b in robot.tracked_bodies]
        self.pelvis = mink.FrameTask(g1_dex3.ROOT_BODY, "body", 0.0, PELVIS_ORIENTATION_COST)
        self.torso = mink.FrameTask("torso_link", "body", 0.0, TORSO_ORIENTATION_COST)
        posture = mink.PostureTask(model, cost=POSTURE_COST)
        posture.set_target(robot.default_qpos)
        self.previous = mink.PostureTask(model, cost=CONTINUITY_COST)
        self.tasks = [*self.key_tasks, self.pelvis, self.torso, posture, self.previous]
        self.limits = [mink.ConfigurationLimit(model)] + ([self_collision_limit(model)] if keep_apart else [])
        self.slot = {n: i for i, n in enumerate(robot.key_smplx)}

    def set_frame(self, t: int) -> None:
        tg, slot = self.targets, self.slot
        for i, task in enumerate(self.key_tasks):
            task.set_target(_se3(self.mink, tg.pos[t, i]))
            task.set_position_cost(POSITION_COST[_kind(self.robot.key_smplx[i])])
            task.set_orientation_cost(0.0)
        for k, side in enumerate(SIDES):
            ankle = self.key_tasks[slot[f"{side}_Ankle"]]
            ankle.set_target(_se3(self.mink, tg.pos[t, slot[f"{side}_Ankle"]], tg.foot_quat[t, k]))
            resting = bool(tg.foot_rest[t, k])
            ankle.set_position_cost(RESTING_FOOT_COST if resting else POSITION_COST["Ankle"])
            ankle.set_orientation_cost(RESTING_ANKLE_ORIENTATION_COST if resting else ANKLE_ORIENTATION_COST)
            w = float(tg.hand_weight[t, k])
            if w > 0:
                for kind, cost in CONTACT_HAND_COST.items():
                    self.key_tasks[slot[f"{side}_{kind}"]].set_position_cost((1 - w) * POSITION_COST[kind] + w * cost)
                elbow = (1 - w) * POSITION_COST["Elbow"] + w * CONTACT_ELBOW_COST
                self.key_tasks[slot[f"{side}_Elbow"]].set_position_cost(elbow)
        self.pelvis.set_target(_se3(self.mink, np.zeros(3), tg.pelvis_quat[t]))
        self.torso.set_target(_se3(self.mink, np.zeros(3), tg.torso_quat[t]))
        self.previous.set_target(self.config.q)
        self.previous.set_cost(0.0 if t == 0 else CONTINUITY_COST)

    def iterate(self, t: int, budget: int) -> int:
        mink = self.mink
        for it in range(budget):
            try:
                v, separated = self._step()
            except mink.NoSolutionFound as exc:
                raise NotConverged(f"frame {t}: the IK's quadratic program has no solution ({exc})") from exc
            if not np.all(np.isfinite(v)):
                raise NotConverged(f"frame {t}: the IK step is not finite")
            self._take_step(v)
            if separated and np.max(np.abs(v)) < STEP_TOLERANCE:  # a step without the separation is no answer
                return it + 1
        return budget

    def _take_step(self, v: np.ndarray) -> None:
        """Move by ``v``, halved while it would push two of the robot's links deeper into each
        other: the limit holds the distances to first order, and a long step (large turns far
        from the links) can still carry a link into another."""
        own = self.limits[-1] if len(self.limits) > 1 else None
        start = self.config.q.copy()
        for _ in range(STEP_HALVINGS):
            self.config.integrate_inplace(v, 1.0)
            if own is None or not own.deepened(self.config.data):
                return
            self.config.update(start)
            v = 0.5 * v
        self.config.integrate_inplace(v, 1.0)

    def _step(self):
        """One IK step and whether it separates overlapping links; where they cannot all be
        separated at once, the step leaves overlapping pairs free (the tasks carry them out)."""
        mink, own = self.mink, self.limits[-1]
        try:
            return mink.solve_ik(self.config, self.tasks, 1.0, QP_SOLVER, damping=DAMPING, limits=self.limits), True
        except mink.NoSolutionFound:
            if len(self.limits) < 2:
                raise
            own.separate = False
            try:
                return mink.solve_ik(self.config, self.tasks, 1.0, QP_SOLVER, damping=DAMPING, limits=self.limits), False
            finally:
                own.separate = True

    def push_hands_out(self, t: int) -> bool:
        """Move targets of a hand out of the object by the depth of its deepest collision point: the fingertip of that finger, or the whole hand (wrist and fingertips) for the palm
        and wrist. True when a target moved (the frame is then solved again)."""
        tg, robot, data = self.targets, self.robot, self.config.data
        moved = False
        R = quat_np.to_matrix(tg.obj_quat[t])
        for side in SIDES:
            items = robot.hand_points[side]
            world = np.concatenate([data.geom_xpos[g] + pts @ data.geom_xmat[g].reshape(3, 3).T for g, pts in items])
            local = (world - tg.obj_pos[t]) @ R
            depth = self.surface.depth(local)
            deepest = int(np.argmax(depth))
            if depth[deepest] <= PENETRATION_TOLERANCE:
                continue
            _, normal = self.surface.signed_distance(local[deepest : deepest + 1], with_normal=True)
            shift = (depth[deepest] + SURFACE_MARGIN) * (R @ normal[0])
            geom = items[int(np.searchsorted(np.cumsum([len(p) for _, p in items]), deepest, side="right"))][0]
            finger = _finger_of(robot.model.body(robot.model.geom_bodyid[geom]).name)
            for kind in (f"{finger}3",) if finger else CONTACT_HAND_COST:
                i = self.slot[f"{side}_{kind}"]
                tg.pos[t, i] += shift
                self.key_tasks[i].set_target(_se3(self.mink, tg.pos[t, i]))
            moved = True
        return moved


def self_collision_limit(model):
    """A ``mink`` limit that keeps the robot's links apart (:func:`self_collision_pairs`): a pair
    closer than :data:`SELF_COLLISION_MARGIN` may not approach further, and a pair that overlaps
    must separate (by a share of the overlap per iteration; mink's own limit only stops the
    approach, so an overlap left by the first frame would stay)."""
    import mink
    import mujoco
    from mink.limits.collision_avoidance_limit import compute_contact_normal_jacobian

    class SelfCollisionLimit(mink.CollisionAvoidanceLimit):
        separate = True
        """Whether overlapping pairs must separate. False, for an iteration whose program has no
        solution otherwise: pairs apart may only not approach (mink's rule) and overlapping pairs
        are left free, so that the tasks can carry the links out again (held where they are,
        two links that passed into each other would lock the pose for the rest of the clip)."""

        watched: list = []
        """(geom a, geom b, distance) of the pairs within reach at the last program."""

        def deepened(self, data) -> bool:
            """Whether a watched pair now overlaps more than at the last program (by 0.1 mm)."""
            for a, b, before in self.watched:
                gap = mujoco.mj_geomDistance(self.model, data, a, b, self.collision_detection_distance, self._fromto)
                if gap < 0 and gap < min(before, 0.0) - 1e-4:
                    return True
            return False

        def compute_qp_inequalities(self, configuration, dt: float):
            data = configuration.data
            self.watched = []
            bound = np.full((self.max_num_contacts,), np.inf)
            rows = np.zeros((self.max_num_contacts, self.model.nv))
            survivors = (self._broadphase_survivors(data) if self.broadphase and
                         self.max_num_contacts >= self.broadphase_min_pairs else range(self.max_num_contacts))  # fmt: skip
            for k in survivors:
                a, b = self.geom_id_pairs[k]
                gap = mujoco.mj_geomDistance(self.model, data, a, b, self.collision_detection_distance, self._fromto)
                if gap >= self.collision_detection_distance - 1e-12:
                    continue  # out of reach
                self.watched.append((a, b, gap))
                along = compute_contact_normal_jacobian(self.model, data, a, b, self._fromto, self._normal,
                                                        self._jac1, self._jac2)  # fmt: skip
                if gap < 0 and not self.separate:
                    continue
                # the normal runs from a to b: approaching is a negative rate when apart, positive when overlapping
                rows[k] = -along if gap >= 0 else along
                gain = self.gain if gap >= 0 else SEPARATION_GAIN
                bound[k] = gain * (gap - self.minimum_distance_from_collisions) / dt
                if not self.separate:
                    bound[k] = max(bound[k], 0.0)
            return mink.Constraint(G=rows, h=bound)

    pairs = [([a], [b]) for a, b in self_collision_pairs(model)]
    return SelfCollisionLimit(model, pairs, gain=SELF_COLLISION_GAIN, minimum_distance_from_collisions=SELF_COLLISION_MARGIN,
                              collision_detection_distance=SELF_COLLISION_DETECTION)  # fmt: skip


def _finger_of(body_name: str) -> str | None:
    """``Index`` / ``Middle`` / ``Thumb`` for a Dex3 finger link, None for the palm and wrist."""
    for finger in ("index", "middle", "thumb"):
        if f"_hand_{finger}_" in body_name:
            return finger.capitalize()
    return None


def solve(robot: RobotModel, human: HumanClip, scale: float | None = None, surface=None,
          keep_apart: bool = True) -> Solution:  # fmt: skip
    """Joint angles (``qpos`` per frame) of the robot following ``human``; raises
    :class:`NotConverged` when the IK gives no usable answer. With an object ``surface``, the hands
    are kept out of the object (their targets in ``Solution.targets`` include the push); with
    ``keep_apart`` the robot's links out of each other."""
    start_time = time.perf_counter()
    targets = build_targets(human, robot.key_smplx, robot.dims, scale=scale, surface=surface)
    solver = _FrameSolver(robot, targets, surface, keep_apart)
    T = human.num_frames
    qpos = np.zeros((T, robot.model.nq))
    iterations = np.zeros(T, dtype=np.int64)
    for t in range(T):
        solver.set_frame(t)
        if t == 0 and keep_apart:  # the first pose freely, then its links apart
            limits, solver.limits = solver.limits, solver.limits[:1]
            iterations[t] = solver.iterate(t, FIRST_FRAME_ITERATIONS)
            solver.limits = limits
        iterations[t] += solver.iterate(t, FIRST_FRAME_ITERATIONS if t == 0 else FRAME_ITERATIONS)
        for _ in range(PUSH_ROUNDS if surface is not None else 0):
            if not solver.push_hands_out(t):
                break
            iterations[t] += solver.iterate(t, FRAME_ITERATIONS)
        q = solver.config.q.copy()
        if not np.all(np.isfinite(q)):
            raise NotConverged(f"frame {t}: joint values are not finite")
        q[robot.joint_qpos] = np.clip(q[robot.joint_qpos], robot.joint_lower, robot.joint_upper)
        qpos[t] = q
    return Solution(qpos=qpos, iterations=iterations, seconds=time.perf_counter() - start_time, targets=targets)


# -------------------------------------------------------------------------------------------------
# The result as a robot clip
# -------------------------------------------------------------------------------------------------
def to_robot_clip(robot: RobotModel, solution: Solution, kin: Kinematics, human: HumanClip, source: str,
                  object_name: str = ""):  # fmt: skip
    """The :class:`~intermimic.motion.robot_clip.RobotClip` of a solved clip."""
    from ..assets.humanoid_spec import BODY_NAMES
    from ..motion.robot_clip import RobotClip

    T = solution.qpos.shape[0]
    q = solution.qpos
    smplx_ids = [BODY_NAMES.index(h) for h in robot.contact_smplx]
    return RobotClip(
        robot="g1_dex3", source=source, fps=human.fps, scale=solution.targets.size.scale,
        joint_names=robot.joint_names, body_names=robot.body_names, root_pos=q[:, 0:3].copy(),
        root_quat=quat_np.from_wxyz(q[:, 3:7]), dof_pos=q[:, robot.joint_qpos].copy(), body_pos=kin.body_pos,
        body_quat=kin.body_quat, object_name=object_name, object_pos=solution.targets.obj_pos[:T],
        object_quat=solution.targets.obj_quat[:T], contact_body_names=robot.contact_bodies,
        contact=np.rint(human.contact[:T, smplx_ids]), object_contact=np.rint(human.obj_contact[:T]),
    )  # fmt: skip

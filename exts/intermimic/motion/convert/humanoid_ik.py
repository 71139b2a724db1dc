"""Joint rotations of the humanoid from body positions, by inverse kinematics (``mink``).

Each frame is solved with differential IK (a quadratic program on MuJoCo's Jacobians, the
library the robot retargeting uses) on a kinematic model of the humanoid's skeleton: the 52
bodies at their offsets, a free root and a ball joint per body (no hinge-angle singularities).
Tasks: the position of every body that has a target (cost 1 per metre), and a small cost on
each step (a posture task towards the current configuration: damped least squares, the smallest
step that reduces the position errors). Frame 0 starts from the rest pose at the root pose
estimated from the hips and the spine and iterates to convergence; every later frame starts from
the previous solution.

Positions determine a body's rotation only up to its twist about the bone to its one child (and
not at all for bodies without children: toes, head, finger tips): smallest steps leave those
twists where the rest pose had them. Bodies with two or more children (pelvis, chest, wrists)
are fully determined.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ...assets import humanoid_spec as spec

POSITION_COST = 1.0
POSTURE_COST = 1e-2
DAMPING = 1e-4
FIRST_FRAME_ITERATIONS = 100
FRAME_ITERATIONS = 10
STEP_TOLERANCE = 1e-3
"""A frame is done when no coordinate moves by more than this (rad or m) in an iteration."""
QP_SOLVER = "daqp"


def skeleton_mjcf(body_offsets: np.ndarray) -> str:
    """A kinematic MJCF of the humanoid skeleton: free root, one ball joint per other body."""
    children: dict[int, list[int]] = {i: [] for i in range(spec.NUM_BODIES)}
    for i, p in enumerate(spec.PARENT_INDICES):
        if p >= 0:
            children[p].append(i)

    def body(i: int, depth: int) -> str:
        pad = "  " * depth
        pos = " ".join(f"{v:.9g}" for v in body_offsets[i]) if i else "0 0 1"
        joint = '<freejoint name="root"/>' if i == 0 else f'<joint name="{spec.BODY_NAMES[i]}" type="ball"/>'
        inner = "".join(body(c, depth + 1) for c in children[i])
        return (f'{pad}<body name="{spec.BODY_NAMES[i]}" pos="{pos}">{joint}'
                f'<geom type="sphere" size="0.01" mass="0.1" contype="0" conaffinity="0"/>\n{inner}{pad}</body>\n')  # fmt: skip

    return f'<mujoco model="humanoid_ik">\n<worldbody>\n{body(0, 1)}</worldbody>\n</mujoco>\n'


@dataclass
class IKResult:
    root_pos: np.ndarray  # [T, 3]
    root_quat: np.ndarray  # [T, 4] xyzw
    local_quat: np.ndarray  # [T, 51, 4] xyzw, body order from body 1
    residual: np.ndarray  # [T, B] distance (m) of each targeted body from its target
    iterations: np.ndarray  # [T]
    seconds: float


def _frame(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Rotation matrix whose y axis is along ``a`` and z axis along ``b`` made orthogonal to it."""
    y = a / np.linalg.norm(a)
    z = b - y * (b @ y)
    z /= np.linalg.norm(z)
    return np.stack([np.cross(y, z), y, z], axis=1)


def root_rotation(targets: np.ndarray, body_offsets: np.ndarray) -> np.ndarray:
    """The pelvis rotation (matrix) that turns the rest hips and spine onto the target ones."""
    lh, rh, torso = spec.body_index("L_Hip"), spec.body_index("R_Hip"), spec.body_index("Torso")
    rest = _frame(body_offsets[lh] - body_offsets[rh], body_offsets[torso])
    now = _frame(targets[lh] - targets[rh], targets[torso] - targets[0])
    return now @ rest.T


def solve_positions(targets: np.ndarray, body_offsets: np.ndarray, mask: np.ndarray | None = None) -> IKResult:
    """Root pose and local rotations of the humanoid whose bodies reach ``targets``.

    Args:
        targets: ``[T, 52, 3]`` body positions (z-up world), humanoid body order.
        body_offsets: ``[52, 3]`` the skeleton to solve on.
        mask: ``[52]`` bodies that have a target (default: all); the pelvis, hips and torso must.
    """
    import mink
    import mujoco

    from ...utils import quat_np

    start = time.perf_counter()
    targets = np.asarray(targets, dtype=np.float64)
    T = targets.shape[0]
    if not np.all(np.isfinite(targets[:, np.asarray(mask, dtype=bool) if mask is not None else slice(None)])):
        raise ValueError("inverse kinematics: the target positions are not all finite")
    mask = np.ones(spec.NUM_BODIES, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    for name in ("Pelvis", "L_Hip", "R_Hip", "Torso"):
        if not mask[spec.body_index(name)]:
            raise ValueError(f"inverse kinematics needs a target for {name}")
    model = mujoco.MjModel.from_xml_string(skeleton_mjcf(np.asarray(body_offsets, dtype=np.float64)))
    tracked = [i for i in range(spec.NUM_BODIES) if mask[i]]
    tasks = [mink.FrameTask(spec.BODY_NAMES[i], "body", position_cost=POSITION_COST, orientation_cost=0.0)
             for i in tracked]  # fmt: skip
    posture = mink.PostureTask(model, cost=POSTURE_COST)
    rest = np.zeros(model.nq)
    rest[3] = 1.0
    for j in range(1, model.njnt):
        rest[model.jnt_qposadr[j]] = 1.0  # identity ball quaternions (wxyz)
    config = mink.Configuration(model, rest.copy())
    root_pos, root_quat = np.zeros((T, 3)), np.zeros((T, 4))
    local = np.zeros((T, spec.NUM_BODIES - 1, 4))
    residual = np.zeros((T, len(tracked)))
    iterations = np.zeros(T, dtype=np.int64)
    identity = np.array([1.0, 0.0, 0.0, 0.0])
    for t in range(T):
        q = config.q.copy()
        q[0:3] = targets[t, 0]
        rotation = root_rotation(targets[t], body_offsets)
        if t == 0:
            q[3:7] = quat_np.to_wxyz(_matrix_to_xyzw(rotation))
        config.update(q)
        for task, i in zip(tasks, tracked):
            task.set_target(mink.SE3.from_rotation_and_translation(mink.SO3(wxyz=identity), targets[t, i]))
        budget = FIRST_FRAME_ITERATIONS if t == 0 else FRAME_ITERATIONS
        for it in range(budget):
            posture.set_target(config.q)  # a cost on each step (damped least squares): no pull towards rest
            try:
                v = mink.solve_ik(config, [*tasks, posture], 1.0, QP_SOLVER, damping=DAMPING, limits=[])
            except mink.NoSolutionFound as exc:
                raise ValueError(f"frame {t}: the inverse kinematics found no solution ({exc})") from None
            if not np.all(np.isfinite(v)):
                raise ValueError(f"frame {t}: the inverse kinematics step is not finite")
            config.integrate_inplace(v, 1.0)
            iterations[t] = it + 1
            if np.max(np.abs(v)) < STEP_TOLERANCE:
                break
        q = config.q
        root_pos[t] = q[0:3]
        root_quat[t] = quat_np.from_wxyz(q[3:7])
        for j in range(1, model.njnt):
            body = spec.body_index(model.joint(j).name)
            adr = model.jnt_qposadr[j]
            local[t, body - 1] = quat_np.from_wxyz(q[adr : adr + 4])
        residual[t] = np.linalg.norm(config.data.xpos[[model.body(spec.BODY_NAMES[i]).id for i in tracked]]
                                     - targets[t, tracked], axis=-1)  # fmt: skip
    norm = lambda x: x / np.linalg.norm(x, axis=-1, keepdims=True)  # noqa: E731
    return IKResult(root_pos, norm(root_quat), norm(local), residual, iterations, time.perf_counter() - start)


def _matrix_to_xyzw(m: np.ndarray) -> np.ndarray:
    import torch

    from ..kinematics import matrix_to_quat

    return matrix_to_quat(torch.as_tensor(m)).numpy()

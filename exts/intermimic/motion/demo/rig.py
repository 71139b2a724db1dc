"""Kinematic tools for generating demo motions on the canonical skeleton.

* body masses and the whole-body centre of mass from the humanoid geometry and densities;
* the height of the ankle joint above the ground when a foot is flat;
* inverse kinematics for a short chain of 3-hinge bodies (the legs: hip + knee) by damped
  Gauss-Newton, batched over frames, with a bias towards a preferred pose;
* a closed-form arm (shoulder + elbow) whose free swivel points the elbow at a pole;
* the local rotation that gives a body a wanted global orientation (ankle, wrist);
* the relaxed hand's contact plane (heel of the palm and fingertips on a flat surface).

Everything works on ``[T, ...]`` tensors in float64 for tight convergence.
"""

from __future__ import annotations

import math

import torch

from ...assets import humanoid_spec as spec
from ...utils import rotations as rot
from ..kinematics import matrix_to_quat

Pose = dict[str, torch.Tensor]
"""Hinge angles ``[T, 3]`` (x, y, z) per body name; bodies not named stay at zero."""


# -------------------------------------------------------------------------------------------------
# Mass model
# -------------------------------------------------------------------------------------------------
def _geom_volume_and_centre(geom) -> tuple[float, tuple[float, float, float]]:
    if isinstance(geom, spec.Sphere):
        return 4.0 / 3.0 * math.pi * geom.radius**3, geom.pos
    if isinstance(geom, spec.Capsule):
        a, b = torch.tensor(geom.start), torch.tensor(geom.end)
        length = float((b - a).norm())
        volume = math.pi * geom.radius**2 * length + 4.0 / 3.0 * math.pi * geom.radius**3
        return volume, tuple(((a + b) / 2).tolist())
    if isinstance(geom, spec.Box):
        hx, hy, hz = geom.half_size
        return 8.0 * hx * hy * hz, geom.pos
    raise TypeError(f"unknown geometry {geom!r}")


def body_masses() -> tuple[torch.Tensor, torch.Tensor]:
    """Mass (kg) ``[52]`` and centre of mass in the body frame ``[52, 3]`` of every body."""
    masses, centres = [], []
    for name, geom in zip(spec.BODY_NAMES, spec.BODY_GEOMS):
        volume, centre = _geom_volume_and_centre(geom)
        masses.append(volume * spec.body_density(name))
        centres.append(centre)
    return torch.tensor(masses, dtype=torch.float64), torch.tensor(centres, dtype=torch.float64)


def center_of_mass(body_pos: torch.Tensor, body_quat: torch.Tensor, extra=()) -> torch.Tensor:
    """Whole-body centre of mass ``[T, 3]``; ``extra`` adds ``(mass, position [T, 3])`` pairs."""
    mass, centre = body_masses()
    mass, centre = mass.to(body_pos), centre.to(body_pos)
    com_b = body_pos + rot.rotate(body_quat, centre.expand_as(body_pos))
    total = (com_b * mass[:, None]).sum(dim=-2)
    m = float(mass.sum())
    for extra_mass, pos in extra:
        total = total + extra_mass * pos
        m += float(extra_mass)
    return total / m


# -------------------------------------------------------------------------------------------------
# Feet
# -------------------------------------------------------------------------------------------------
FOOT_BODIES = {"L": ("L_Ankle", "L_Toe"), "R": ("R_Ankle", "R_Toe")}


def _box_corners(geom) -> torch.Tensor:
    hx, hy, hz = geom.half_size
    c = torch.tensor([[sx * hx, sy * hy, sz * hz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)])
    return (c + torch.tensor(geom.pos)).double()


def foot_corners(side: str) -> torch.Tensor:
    """Corners ``[16, 3]`` of the foot and toe boxes in the ankle frame with a zero toe joint."""
    ankle, toe = (spec.body_index(n) for n in FOOT_BODIES[side])
    toe_offset = torch.tensor(spec.BODY_OFFSETS[toe], dtype=torch.float64)
    return torch.cat([_box_corners(spec.BODY_GEOMS[ankle]), _box_corners(spec.BODY_GEOMS[toe]) + toe_offset])


def ankle_height(side: str) -> float:
    """Height of the ankle joint above the ground when the foot is flat (sole on the ground)."""
    return float(-foot_corners(side)[:, 2].min())


def foot_length_span(side: str) -> tuple[float, float]:
    """Heel and toe tip along the foot (x in the ankle frame): the support in walking direction."""
    x = foot_corners(side)[:, 0]
    return float(x.min()), float(x.max())


# -------------------------------------------------------------------------------------------------
# Chains and inverse kinematics
# -------------------------------------------------------------------------------------------------
def chain_fk(
    base_pos: torch.Tensor, base_quat: torch.Tensor, bodies: tuple[str, ...], hinges: torch.Tensor,
    end_offset: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """Joint positions ``[T, n+1, 3]`` (the n bodies and the end point) and global rotations ``[T, n, 4]``.

    ``bodies`` is a parent-to-child chain whose first body hangs off the base frame; ``hinges``
    ``[T, n, 3]``; ``end_offset`` ``[3]`` is the end point in the last body's frame.
    """
    pos, quat = base_pos, base_quat
    positions, rotations = [], []
    for i, name in enumerate(bodies):
        offset = base_pos.new_tensor(spec.BODY_OFFSETS[spec.body_index(name)])
        pos = pos + rot.rotate(quat, offset.expand_as(pos))
        quat = rot.multiply(quat, rot.from_hinges(hinges[:, i]))
        positions.append(pos)
        rotations.append(quat)
    positions.append(pos + rot.rotate(quat, end_offset.to(pos).expand_as(pos)))
    return torch.stack(positions, dim=1), torch.stack(rotations, dim=1)


_AXES = torch.eye(3, dtype=torch.float64)


def _chain_with_axes(base_pos, base_quat, bodies, hinges, end_offset):
    """End point ``[T, 3]``, each hinge's world axis and pivot (``[T, n, 3, 3]`` and ``[T, n, 3]``)."""
    pos, quat = base_pos, base_quat
    axes, pivots = [], []
    for i, name in enumerate(bodies):
        offset = base_pos.new_tensor(spec.BODY_OFFSETS[spec.body_index(name)])
        pos = pos + rot.rotate(quat, offset.expand_as(pos))
        body_axes = []
        for a in range(3):
            axis = _AXES[a].to(pos).expand_as(pos)
            body_axes.append(rot.rotate(quat, axis))
            quat = rot.multiply(quat, rot.from_axis_angle(axis, hinges[:, i, a]))
        axes.append(torch.stack(body_axes, dim=1))
        pivots.append(pos)
    end = pos + rot.rotate(quat, end_offset.to(pos).expand_as(pos))
    return end, torch.stack(axes, dim=1), torch.stack(pivots, dim=1)


def solve_chain(
    base_pos: torch.Tensor,
    base_quat: torch.Tensor,
    bodies: tuple[str, ...],
    free: tuple[tuple[int, int], ...],
    hinges: torch.Tensor,
    end_offset: torch.Tensor,
    target: torch.Tensor,
    regularization: float = 1.0e-4,
    iterations: int = 40,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Move the chain's end point onto ``target`` ``[T, 3]`` by changing the ``free`` hinges.

    Args:
        free: ``(body index in chain, axis 0/1/2)`` of the hinges that may move; the other
            entries of ``hinges`` stay as given.
        hinges: ``[T, n, 3]`` start values, which are also the preferred pose the solution is
            biased towards (weight ``regularization``).
    Returns:
        Solved hinges ``[T, n, 3]`` and the remaining end point error ``[T]`` (metres).
    """
    h = hinges.clone()
    bodies_idx = [b for b, _ in free]
    axes_idx = [a for _, a in free]
    preferred = h[:, bodies_idx, axes_idx].clone()
    k = len(free)
    eye = torch.eye(k, dtype=h.dtype, device=h.device)
    for it in range(iterations):
        # biased towards the preferred pose first, then (nearly) unbiased to close the error
        mu = regularization if it < (2 * iterations) // 3 else 1.0e-9
        end, axes, pivots = _chain_with_axes(base_pos, base_quat, bodies, h, end_offset)
        err = end - target  # [T, 3]
        jac = torch.cross(axes[:, bodies_idx, axes_idx], (end[:, None] - pivots[:, bodies_idx]), dim=-1)  # [T, k, 3]
        jac = jac.transpose(1, 2)  # [T, 3, k]
        theta = h[:, bodies_idx, axes_idx]
        lhs = jac.transpose(1, 2) @ jac + mu * eye
        rhs = -(jac.transpose(1, 2) @ err[..., None])[..., 0] - mu * (theta - preferred)
        step = torch.linalg.solve(lhs, rhs)
        scale = (0.3 / step.abs().amax(dim=-1, keepdim=True).clamp_min(1e-12)).clamp(max=1.0)  # at most 0.3 rad
        h[:, bodies_idx, axes_idx] = theta + step * scale
    end, _, _ = _chain_with_axes(base_pos, base_quat, bodies, h, end_offset)
    return h, (end - target).norm(dim=-1)


def local_hinges_for(parent_quat: torch.Tensor, wanted_quat: torch.Tensor) -> torch.Tensor:
    """Hinge angles ``[T, 3]`` of a body whose parent has global rotation ``parent_quat`` so that
    the body's global rotation becomes ``wanted_quat``."""
    return rot.to_hinges(rot.multiply(rot.conjugate(parent_quat), wanted_quat))


def pose_to_dof(pose: Pose, num_frames: int) -> torch.Tensor:
    """``[T, 153]`` hinge vector from a per-body pose dict."""
    dof = torch.zeros(num_frames, spec.NUM_BODIES - 1, 3, dtype=torch.float64)
    for body, angles in pose.items():
        dof[:, spec.ACTUATED_BODY_NAMES.index(body)] = angles.to(torch.float64).expand(num_frames, 3)
    return dof.reshape(num_frames, spec.NUM_DOFS)


def quat_from_axes(x_axis: torch.Tensor, y_axis: torch.Tensor) -> torch.Tensor:
    """Rotation whose body x and y axes point along the given (orthogonal) world directions."""
    x = x_axis / x_axis.norm(dim=-1, keepdim=True)
    y = y_axis - (y_axis * x).sum(-1, keepdim=True) * x
    y = y / y.norm(dim=-1, keepdim=True)
    z = torch.cross(x, y, dim=-1)
    return matrix_to_quat(torch.stack([x, y, z], dim=-1))  # axes as columns


def arm_ik(
    side: str, shoulder_pos: torch.Tensor, thorax_quat: torch.Tensor, wrist_target: torch.Tensor, pole: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Closed-form arm: shoulder and elbow hinges putting the wrist joint on ``wrist_target``.

    The elbow bends about its z hinge (the flexion axis of the T-pose arm); the remaining
    freedom, the swivel of the arm about the shoulder-wrist line, puts the elbow as close as
    possible to the world direction ``pole`` from the shoulder.

    Args:
        side: "L" or "R".
        shoulder_pos, thorax_quat: ``[T, 3]``/``[T, 4]`` world pose of the shoulder joint's parent frame.
        wrist_target: ``[T, 3]`` world position of the wrist joint.
        pole: ``[T, 3]`` preferred direction of the elbow from the shoulder.
    Returns:
        Shoulder hinges ``[T, 3]``, elbow hinges ``[T, 3]`` (x = y = 0), and the remaining wrist
        error ``[T]`` (non-zero only where the target is out of reach).
    """
    a = shoulder_pos.new_tensor(spec.BODY_OFFSETS[spec.body_index(f"{side}_Elbow")])
    b = shoulder_pos.new_tensor(spec.BODY_OFFSETS[spec.body_index(f"{side}_Wrist")])
    w = rot.rotate_inverse(thorax_quat, wrist_target - shoulder_pos)  # target in the thorax frame
    d = w.norm(dim=-1)
    # elbow angle c from |a + Rz(c) b| = d:  A cos c + B sin c = K
    A = a[0] * b[0] + a[1] * b[1]
    B = a[1] * b[0] - a[0] * b[1]
    K = (d * d - a.dot(a) - b.dot(b)) / 2 - a[2] * b[2]
    R = math.hypot(float(A), float(B))
    phi0 = math.atan2(float(B), float(A))
    spread = torch.acos((K / R).clamp(-1.0, 1.0))
    c = phi0 - spread if side == "L" else phi0 + spread  # the left elbow flexes towards -z, the right towards +z
    zeros = torch.zeros_like(c)
    elbow = torch.stack([zeros, zeros, c], -1)
    reach = a + rot.rotate(rot.from_hinges(elbow), b.expand_as(w))  # wrist from the shoulder, shoulder frame
    u = reach / reach.norm(dim=-1, keepdim=True)
    v = w / d[:, None].clamp_min(1e-9)
    axis = torch.cross(u, v, dim=-1)
    angle = torch.atan2(axis.norm(dim=-1), (u * v).sum(-1))
    axis = axis / axis.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    q0 = rot.from_axis_angle(axis, angle)
    # swivel about v so the elbow points towards the pole
    e0 = rot.rotate(q0, a.expand_as(w))
    p = rot.rotate_inverse(thorax_quat, pole)
    e_perp = e0 - (e0 * v).sum(-1, keepdim=True) * v
    p_perp = p - (p * v).sum(-1, keepdim=True) * v
    swivel = torch.atan2((torch.cross(e_perp, p_perp, dim=-1) * v).sum(-1), (e_perp * p_perp).sum(-1))
    q = rot.multiply(rot.from_axis_angle(v, swivel), q0)
    shoulder = rot.to_hinges(q)
    error = (rot.rotate(q, reach) - w).norm(dim=-1)
    return shoulder, elbow, error


def hand_geometry(side: str, fingers: Pose | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Points ``[N, 3]`` of the hand's collision shapes in the wrist frame and their radii ``[N]``
    (capsule end caps; 0 for box corners), with finger hinges from ``fingers`` (``[3]`` per body,
    rest pose where missing)."""
    fingers = fingers or {}
    wrist = spec.body_index(f"{side}_Wrist")
    origin = {wrist: torch.zeros(3, dtype=torch.float64)}
    frame = {wrist: torch.tensor([0.0, 0.0, 0.0, 1.0], dtype=torch.float64)}
    points, radii = [], []
    for b in spec.HAND_BODY_IDS[side]:
        if b != wrist:
            parent = spec.PARENT_INDICES[b]
            offset = torch.tensor(spec.BODY_OFFSETS[b], dtype=torch.float64)
            origin[b] = origin[parent] + rot.rotate(frame[parent], offset)
            hinges = torch.as_tensor(fingers.get(spec.BODY_NAMES[b], (0.0, 0.0, 0.0)), dtype=torch.float64)
            frame[b] = rot.multiply(frame[parent], rot.from_hinges(hinges))
        geom = spec.BODY_GEOMS[b]
        if isinstance(geom, spec.Box):
            pts, r = _box_corners(geom), 0.0
        elif isinstance(geom, spec.Capsule):
            pts, r = torch.tensor([geom.start, geom.end], dtype=torch.float64), geom.radius
        else:
            pts, r = torch.tensor([geom.pos], dtype=torch.float64), geom.radius
        points.append(origin[b] + rot.rotate(frame[b].expand(pts.shape[0], 4), pts))
        radii.append(torch.full((pts.shape[0],), float(r), dtype=torch.float64))
    return torch.cat(points), torch.cat(radii)


def hand_contact_plane(side: str, fingers: Pose | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The plane a flat surface touches when the relaxed hand lies on it palm first.

    With curled fingers the surface rests on the heel of the palm and the fingertips. Returns the plane's outward normal (from the hand into the
    surface) and the point of the plane under the palm centre, both in the wrist frame.
    """
    points, radii = hand_geometry(side, fingers)
    geom = spec.BODY_GEOMS[spec.body_index(f"{side}_Wrist")]
    centre = torch.tensor(geom.pos, dtype=torch.float64)
    best = None
    for deg in torch.arange(-60.0, 60.01, 0.25, dtype=torch.float64):
        beta = math.radians(float(deg))
        normal = torch.tensor([0.0, math.sin(beta), -math.cos(beta)], dtype=torch.float64)  # -z tilted about x
        support = float(((points - centre) @ normal + radii).max())  # plane distance from the palm centre
        if best is None or support < best[0]:
            best = (support, normal)
    support, normal = best
    return normal, centre + support * normal

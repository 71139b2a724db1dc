"""Batched rotation maths on torch tensors. Quaternions are **xyzw** (the clip format).

All functions broadcast over leading dimensions and keep the last dimension for the
quaternion (4), vector (3) or tangent/normal encoding (6).
"""

from __future__ import annotations

import torch

_EPS = 1e-8


def normalize(q: torch.Tensor) -> torch.Tensor:
    return q / q.norm(dim=-1, keepdim=True).clamp_min(_EPS)


def conjugate(q: torch.Tensor) -> torch.Tensor:
    return torch.cat([-q[..., :3], q[..., 3:4]], dim=-1)


def multiply(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Hamilton product a * b (apply b first, then a)."""
    ax, ay, az, aw = a.unbind(-1)
    bx, by, bz, bw = b.unbind(-1)
    return torch.stack(
        (
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
            aw * bw - ax * bx - ay * by - az * bz,
        ),
        dim=-1,
    )


def rotate(q: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Rotate vectors v by quaternions q."""
    xyz, w = q[..., :3], q[..., 3:4]
    xyz, v = torch.broadcast_tensors(xyz, v)
    t = 2.0 * torch.cross(xyz, v, dim=-1)
    return v + w * t + torch.cross(xyz, t, dim=-1)


def rotate_inverse(q: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    return rotate(conjugate(q), v)


def from_axis_angle(axis: torch.Tensor, angle: torch.Tensor) -> torch.Tensor:
    half = 0.5 * angle.unsqueeze(-1)
    return torch.cat([axis * torch.sin(half), torch.cos(half)], dim=-1)


def from_exp_map(e: torch.Tensor) -> torch.Tensor:
    """Exponential map (axis * angle) to quaternion."""
    angle = e.norm(dim=-1)
    # sin(angle/2)/angle with its limit 1/2 near zero
    small = angle < 1e-6
    safe = torch.where(small, torch.ones_like(angle), angle)
    k = torch.where(small, 0.5 - angle**2 / 48.0, torch.sin(0.5 * safe) / safe)
    return torch.cat([e * k.unsqueeze(-1), torch.cos(0.5 * angle).unsqueeze(-1)], dim=-1)


def to_exp_map(q: torch.Tensor) -> torch.Tensor:
    """Quaternion to exponential map, angle in [0, pi]."""
    q = normalize(q)
    q = torch.where(q[..., 3:4] < 0, -q, q)
    s = q[..., :3].norm(dim=-1)
    angle = 2.0 * torch.atan2(s, q[..., 3])
    small = s < 1e-6
    k = torch.where(small, 2.0 * torch.ones_like(s), angle / torch.where(small, torch.ones_like(s), s))
    return q[..., :3] * k.unsqueeze(-1)


def angle(q: torch.Tensor) -> torch.Tensor:
    """Rotation angle in [0, pi] of (not necessarily unit) quaternions."""
    q = normalize(q)
    return 2.0 * torch.atan2(q[..., :3].norm(dim=-1), q[..., 3].abs())


def angle_between(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Angle of the relative rotation a^-1 b."""
    return angle(multiply(conjugate(a), b))


_AXIS_INDEX = {"x": 0, "y": 1, "z": 2}


def about_axis(angle: torch.Tensor, axis: str) -> torch.Tensor:
    """Rotation by ``angle`` about the unit axis ``x``, ``y`` or ``z`` (no tensor is made from Python
    data, so nothing is copied from the host)."""
    half = 0.5 * angle
    sin = torch.sin(half)
    zero = torch.zeros_like(sin)
    parts = [zero, zero, zero, torch.cos(half)]
    parts[_AXIS_INDEX[axis]] = sin
    return torch.stack(parts, dim=-1)


def from_hinges(angles: torch.Tensor, order: str = "xyz") -> torch.Tensor:
    """Compose a chain of hinges (x, then y, then z about the moving axes) into a quaternion.

    This is the local rotation produced by three MuJoCo hinge joints placed in one body in
    that order: R = R_x(a0) R_y(a1) R_z(a2).
    """
    q = None
    for i, axis_name in enumerate(order):
        qi = about_axis(angles[..., i], axis_name)
        q = qi if q is None else multiply(q, qi)
    return q


def to_hinges(q: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`from_hinges` for order xyz (intrinsic x-y-z Euler angles)."""
    q = normalize(q)
    x, y, z, w = q.unbind(-1)
    # rotation matrix entries needed for intrinsic XYZ
    r02 = 2 * (x * z + w * y)
    r12 = 2 * (y * z - w * x)
    r22 = 1 - 2 * (x * x + y * y)
    r01 = 2 * (x * y - w * z)
    r00 = 1 - 2 * (y * y + z * z)
    a1 = torch.asin(r02.clamp(-1.0, 1.0))
    a0 = torch.atan2(-r12, r22)
    a2 = torch.atan2(-r01, r00)
    return torch.stack((a0, a1, a2), dim=-1)


def rotated_x(q: torch.Tensor) -> torch.Tensor:
    """The x axis rotated by q (equal to ``rotate(q, (1, 0, 0))``, written out)."""
    x, y, z, w = q.unbind(-1)
    return torch.stack((1.0 - 2.0 * (y * y + z * z), 2.0 * (x * y + w * z), 2.0 * (x * z - w * y)), dim=-1)


def rotated_z(q: torch.Tensor) -> torch.Tensor:
    """The z axis rotated by q (equal to ``rotate(q, (0, 0, 1))``, written out)."""
    x, y, z, w = q.unbind(-1)
    return torch.stack((2.0 * (x * z + w * y), 2.0 * (y * z - w * x), 1.0 - 2.0 * (x * x + y * y)), dim=-1)


def yaw(q: torch.Tensor) -> torch.Tensor:
    """Heading angle about world z of the rotated x axis."""
    fwd = rotated_x(q)
    return torch.atan2(fwd[..., 1], fwd[..., 0])


def yaw_quat(heading: torch.Tensor) -> torch.Tensor:
    z = torch.zeros_like(heading)
    half = 0.5 * heading
    return torch.stack((z, z, torch.sin(half), torch.cos(half)), dim=-1)


def heading_inverse(q: torch.Tensor) -> torch.Tensor:
    """H: the yaw-only rotation that undoes the heading of q."""
    return yaw_quat(-yaw(q))


def tangent_normal(q: torch.Tensor) -> torch.Tensor:
    """6-d encoding of a rotation: its rotated x (tangent) and z (normal) axes."""
    return torch.cat([rotated_x(q), rotated_z(q)], dim=-1)


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation; t broadcasts against a[..., 0]."""
    t = t.unsqueeze(-1)
    dot = (a * b).sum(-1, keepdim=True)
    b = torch.where(dot < 0, -b, b)
    dot = dot.abs().clamp(max=1.0)
    theta = torch.acos(dot)
    sin_theta = torch.sin(theta)
    lin = sin_theta < 1e-6
    safe = torch.where(lin, torch.ones_like(sin_theta), sin_theta)
    wa = torch.where(lin, 1.0 - t, torch.sin((1.0 - t) * theta) / safe)
    wb = torch.where(lin, t, torch.sin(t * theta) / safe)
    return normalize(wa * a + wb * b)


def angular_velocity(q0: torch.Tensor, q1: torch.Tensor, dt: float) -> torch.Tensor:
    """World-frame angular velocity taking q0 to q1 in dt seconds."""
    return to_exp_map(multiply(q1, conjugate(q0))) / dt


def to_matrix(q: torch.Tensor) -> torch.Tensor:
    """``[..., 4]`` unit quaternions -> ``[..., 3, 3]`` rotation matrices (columns: the rotated axes)."""
    eye = torch.eye(3, dtype=q.dtype, device=q.device)
    columns = rotate(q[..., None, :], eye.expand(*q.shape[:-1], 3, 3))  # row i: the rotated axis i
    return columns.transpose(-1, -2)


def to_wxyz(q: torch.Tensor) -> torch.Tensor:
    return torch.cat([q[..., 3:4], q[..., :3]], dim=-1)


def from_wxyz(q: torch.Tensor) -> torch.Tensor:
    return torch.cat([q[..., 1:4], q[..., 0:1]], dim=-1)

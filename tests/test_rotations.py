"""Rotation maths: identities that must hold for any input."""

import math

import pytest
import torch

from intermimic.utils import rotations as rot

pytestmark = pytest.mark.unit


def _random_quats(n, seed=0):
    g = torch.Generator().manual_seed(seed)
    return rot.normalize(torch.randn(n, 4, generator=g, dtype=torch.float64))


def test_rotate_matches_quaternion_sandwich():
    q = _random_quats(64)
    v = torch.randn(64, 3, dtype=torch.float64)
    pure = torch.cat([v, torch.zeros(64, 1, dtype=torch.float64)], dim=-1)
    expected = rot.multiply(rot.multiply(q, pure), rot.conjugate(q))[:, :3]
    torch.testing.assert_close(rot.rotate(q, v), expected)


def test_exp_map_round_trip_and_angle():
    e = torch.randn(100, 3, dtype=torch.float64)
    e = e / e.norm(dim=-1, keepdim=True) * torch.rand(100, 1, dtype=torch.float64) * (math.pi - 1e-3)
    q = rot.from_exp_map(e)
    torch.testing.assert_close(rot.to_exp_map(q), e)
    torch.testing.assert_close(rot.angle(q), e.norm(dim=-1))


def test_hinge_chain_is_x_then_y_then_z_about_moving_axes():
    a = torch.tensor([[0.3, -0.7, 1.1]], dtype=torch.float64)
    qx = rot.from_axis_angle(torch.tensor([[1.0, 0, 0]], dtype=torch.float64), a[:, 0])
    qy = rot.from_axis_angle(torch.tensor([[0, 1.0, 0]], dtype=torch.float64), a[:, 1])
    qz = rot.from_axis_angle(torch.tensor([[0, 0, 1.0]], dtype=torch.float64), a[:, 2])
    torch.testing.assert_close(rot.from_hinges(a), rot.multiply(rot.multiply(qx, qy), qz))


def test_hinge_round_trip_away_from_gimbal_lock():
    g = torch.Generator().manual_seed(1)
    a = (torch.rand(200, 3, generator=g, dtype=torch.float64) * 2 - 1) * torch.tensor([3.0, 1.4, 3.0], dtype=torch.float64)
    torch.testing.assert_close(rot.to_hinges(rot.from_hinges(a)), a)


def test_heading_inverse_removes_yaw_only():
    yaw = torch.linspace(-3.0, 3.0, 13, dtype=torch.float64)
    tilt = rot.from_axis_angle(torch.tensor([1.0, 0, 0], dtype=torch.float64).expand(13, 3), torch.full((13,), 0.4, dtype=torch.float64))
    q = rot.multiply(rot.yaw_quat(yaw), tilt)
    torch.testing.assert_close(rot.yaw(q), yaw)
    torch.testing.assert_close(rot.multiply(rot.heading_inverse(q), q), tilt)


def test_tangent_normal_is_two_rotated_axes():
    q = _random_quats(32)
    tn = rot.tangent_normal(q)
    torch.testing.assert_close(tn.reshape(32, 2, 3).norm(dim=-1), torch.ones(32, 2, dtype=torch.float64))
    torch.testing.assert_close((tn[:, :3] * tn[:, 3:]).sum(-1), torch.zeros(32, dtype=torch.float64))


def test_slerp_endpoints_and_midpoint_angle():
    a, b = _random_quats(16, 2), _random_quats(16, 3)
    torch.testing.assert_close(rot.angle_between(rot.slerp(a, b, torch.zeros(16, dtype=torch.float64)), a), torch.zeros(16, dtype=torch.float64), atol=1e-6, rtol=0)
    torch.testing.assert_close(rot.angle_between(rot.slerp(a, b, torch.ones(16, dtype=torch.float64)), b), torch.zeros(16, dtype=torch.float64), atol=1e-6, rtol=0)
    mid = rot.slerp(a, b, torch.full((16,), 0.5, dtype=torch.float64))
    torch.testing.assert_close(rot.angle_between(a, mid), rot.angle_between(mid, b))


def test_angular_velocity_of_constant_spin():
    axis = torch.tensor([[0.0, 0.6, 0.8]], dtype=torch.float64)
    q0 = rot.from_axis_angle(axis, torch.tensor([0.2], dtype=torch.float64))
    q1 = rot.from_axis_angle(axis, torch.tensor([0.5], dtype=torch.float64))
    torch.testing.assert_close(rot.angular_velocity(q0, q1, 0.1), axis * 3.0)


def test_to_matrix_rotates_like_rotate():
    q = _random_quats(6, seed=3)
    v = torch.randn(6, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    m = rot.to_matrix(q)
    torch.testing.assert_close(torch.einsum("nij,nj->ni", m, v), rot.rotate(q, v))
    torch.testing.assert_close(m @ m.transpose(-1, -2), torch.eye(3, dtype=torch.float64).expand(6, 3, 3))
    torch.testing.assert_close(torch.linalg.det(m), torch.ones(6, dtype=torch.float64))

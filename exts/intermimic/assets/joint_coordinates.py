"""The simulator's coordinates of a body's three-axis joint, and the canonical hinge angles.

The SMPL-X humanoid turns each body with one three-axis joint (:mod:`.usd_joints`). Everything
above the simulator (clips after loading, actions, PD targets, PSI states) uses the canonical
**hinge angles**: x, y, z hinges applied in sequence (intrinsic x-y-z Euler angles), velocities
their rates. Newton's joint is exactly that. PhysX simulates it as a spherical joint whose
positions are the **rotation vector** (exponential map) of the body relative to its parent and
whose velocities are the body's angular velocity relative to its parent, in the body's frame.

:class:`JointCoordinates` converts between the two at the simulator's boundary, for the DOFs in
canonical order (the caller indexes the simulator's DOFs with ``canonical_joint_ids``). Robots
made of single hinges (the G1) need no conversion on either simulator. Every conversion is
elementwise on tensors, without host syncs.
"""

from __future__ import annotations

import torch

from ..utils import rotations as rot

_MIN_COS = 1.0e-4
"""Smallest |cos(y)| used when turning angular velocities into hinge rates (at |y| = pi/2 the
x and z hinges turn about the same axis and the rates are not unique)."""


def hinge_rates_to_angular_velocity(hinges: torch.Tensor, rates: torch.Tensor) -> torch.Tensor:
    """``[..., 3]`` hinge angles and their rates -> angular velocity in the child body's frame."""
    y, z = hinges[..., 1], hinges[..., 2]
    cy, sy, cz, sz = torch.cos(y), torch.sin(y), torch.cos(z), torch.sin(z)
    dx, dy, dz = rates.unbind(-1)
    # child frame: R_z^T R_y^T (dx e_x) + R_z^T (dy e_y) + dz e_z
    return torch.stack((cy * cz * dx + sz * dy, -cy * sz * dx + cz * dy, sy * dx + dz), dim=-1)


def angular_velocity_to_hinge_rates(hinges: torch.Tensor, omega: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`hinge_rates_to_angular_velocity` (rates at gimbal lock use a clamped cos(y))."""
    y, z = hinges[..., 1], hinges[..., 2]
    cy, sy, cz, sz = torch.cos(y), torch.sin(y), torch.cos(z), torch.sin(z)
    cy = torch.where(cy.abs() < _MIN_COS, torch.full_like(cy, _MIN_COS) * torch.where(cy < 0, -1.0, 1.0), cy)
    wx, wy, wz = omega.unbind(-1)
    dx = (cz * wx - sz * wy) / cy
    dy = sz * wx + cz * wy
    dz = wz - sy * dx
    return torch.stack((dx, dy, dz), dim=-1)


class JointCoordinates:
    """Canonical hinge angles <-> the simulator's joint coordinates (canonical DOF order).

    ``rotation_vectors=False``: the simulator uses hinge angles (identity). True: every three
    consecutive DOFs are one spherical joint in rotation-vector coordinates (PhysX).
    """

    def __init__(self, rotation_vectors: bool):
        self.rotation_vectors = rotation_vectors

    @staticmethod
    def _triples(q: torch.Tensor) -> torch.Tensor:
        return q.reshape(*q.shape[:-1], q.shape[-1] // 3, 3)

    def to_sim_pos(self, hinges: torch.Tensor) -> torch.Tensor:
        if not self.rotation_vectors:
            return hinges
        return self.rotation_vectors_of_hinges(hinges)

    def from_sim_pos(self, q: torch.Tensor) -> torch.Tensor:
        if not self.rotation_vectors:
            return q
        return self.hinges_of_rotation_vectors(q)

    def rotation_vectors_to_sim(self, rotation_vectors: torch.Tensor) -> torch.Tensor:
        """The simulator's joint positions of per-body rotation vectors (three DOFs per body)."""
        if self.rotation_vectors:
            return rotation_vectors
        return self.hinges_of_rotation_vectors(rotation_vectors)

    def hinges_of_rotation_vectors(self, rotation_vectors: torch.Tensor) -> torch.Tensor:
        """Per-body rotation vectors -> the hinge angles of the same rotations."""
        return rot.to_hinges(rot.from_exp_map(self._triples(rotation_vectors))).reshape(rotation_vectors.shape)

    def rotation_vectors_of_hinges(self, hinges: torch.Tensor) -> torch.Tensor:
        """Hinge angles -> per-body rotation vectors of the same rotations."""
        return rot.to_exp_map(rot.from_hinges(self._triples(hinges))).reshape(hinges.shape)

    def to_sim_vel(self, hinges: torch.Tensor, rates: torch.Tensor) -> torch.Tensor:
        """Simulator joint velocities of hinge ``rates`` at hinge angles ``hinges``."""
        if not self.rotation_vectors:
            return rates
        return hinge_rates_to_angular_velocity(self._triples(hinges), self._triples(rates)).reshape(rates.shape)

    def from_sim_vel(self, hinges: torch.Tensor, qd: torch.Tensor) -> torch.Tensor:
        """Hinge rates of simulator joint velocities ``qd`` at hinge angles ``hinges``."""
        if not self.rotation_vectors:
            return qd
        return angular_velocity_to_hinge_rates(self._triples(hinges), self._triples(qd)).reshape(qd.shape)


def uses_rotation_vectors(articulation) -> bool:
    """Whether ``articulation``'s simulator keeps a three-axis joint in rotation-vector coordinates:
    PhysX (Isaac Lab's ``isaaclab_ov`` kit-less backend and ``isaaclab_physx`` under Isaac Sim)."""
    return type(articulation).__module__.split(".")[0] in ("isaaclab_ov", "isaaclab_physx")


def joint_coordinates(articulation, embodiment) -> JointCoordinates:
    """The conversion for ``embodiment`` simulated as ``articulation`` (identity for hinge robots)."""
    three_axis = embodiment.name == "smplx"
    return JointCoordinates(rotation_vectors=three_axis and uses_rotation_vectors(articulation))

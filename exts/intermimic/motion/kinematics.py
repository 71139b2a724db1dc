"""Forward kinematics of the humanoid skeleton on torch tensors.

Joint values come in two conventions:

* ``exp_map``: the clip files' joint columns, the exponential map of each body's local
  rotation (what InterMimic's data stores);
* ``hinge``: the angles of the three hinges x, y, z applied in sequence, which is what the
  simulated articulation's joint positions are.

:func:`exp_map_to_hinge` / :func:`hinge_to_exp_map` convert between them exactly (same
local rotation), so references can be compared with simulated joint positions directly.
"""

from __future__ import annotations

import torch

from ..assets import humanoid_spec as spec
from ..utils import rotations as rot


def local_quats(dof: torch.Tensor, convention: str = "hinge") -> torch.Tensor:
    """``[..., 153]`` joint values -> ``[..., 51, 4]`` local rotations (xyzw)."""
    per_body = dof.reshape(*dof.shape[:-1], spec.NUM_BODIES - 1, 3)
    if convention == "hinge":
        return rot.from_hinges(per_body)
    if convention == "exp_map":
        return rot.from_exp_map(per_body)
    raise ValueError(f"unknown joint convention '{convention}' (expected 'hinge' or 'exp_map')")


def exp_map_to_hinge(dof: torch.Tensor) -> torch.Tensor:
    per_body = dof.reshape(*dof.shape[:-1], spec.NUM_BODIES - 1, 3)
    return rot.to_hinges(rot.from_exp_map(per_body)).reshape(dof.shape)


def _wrap(a: torch.Tensor) -> torch.Tensor:
    return torch.remainder(a + torch.pi, 2 * torch.pi) - torch.pi


def other_hinge_branch(hinges: torch.Tensor) -> torch.Tensor:
    """The second x-y-z hinge triple giving the same rotation: (x + pi, pi - y, z + pi), wrapped.

    :func:`~intermimic.utils.rotations.to_hinges` returns the branch with ``|y| <= pi/2``; a joint
    bent further about its y hinge (e.g. a hip flexed beyond 90 degrees) is on the other one.
    """
    x, y, z = hinges.unbind(-1)
    return torch.stack((_wrap(x + torch.pi), _wrap(torch.pi - y), _wrap(z + torch.pi)), dim=-1)


def continuous_hinges(hinges: torch.Tensor) -> torch.Tensor:
    """Pick, frame by frame, the hinge branch that continues the previous frame's.

    Args:
        hinges: ``[T, ..., 3]`` canonical triples (``|y| <= pi/2``) of consecutive frames.
    Returns:
        Triples of the same rotations that do not jump between branches: frame 0 takes the
        branch with the smaller ``|x| + |z|`` (least twist), every later frame the branch closer
        to the frame before. Because the two branches map onto each other, "closer" does not
        depend on which branch the previous frame took, so the choice is a running parity.
    """
    other = other_hinge_branch(hinges)
    if hinges.shape[0] == 0:
        return hinges

    def dist(a, b):
        return _wrap(a - b).abs().sum(-1)

    switch = torch.zeros(hinges.shape[:-1], dtype=torch.long, device=hinges.device)
    switch[1:] = (dist(other[1:], hinges[:-1]) < dist(hinges[1:], hinges[:-1])).long()
    twist = lambda h: h[..., 0].abs() + h[..., 2].abs()  # noqa: E731
    switch[0] = (twist(other[0]) < twist(hinges[0])).long()
    use_other = (torch.cumsum(switch, dim=0) % 2).bool()
    return torch.where(use_other[..., None], other, hinges)


def exp_map_to_hinge_sequence(dof: torch.Tensor) -> torch.Tensor:
    """:func:`exp_map_to_hinge` for the consecutive frames ``[T, 153]`` of one clip, continuous in time."""
    per_body = dof.reshape(dof.shape[0], spec.NUM_BODIES - 1, 3)
    hinges = rot.to_hinges(rot.from_exp_map(per_body))
    return continuous_hinges(hinges).reshape(dof.shape)


def hinge_to_exp_map(dof: torch.Tensor) -> torch.Tensor:
    per_body = dof.reshape(*dof.shape[:-1], spec.NUM_BODIES - 1, 3)
    return rot.to_exp_map(rot.from_hinges(per_body)).reshape(dof.shape)


def forward_kinematics(
    root_pos: torch.Tensor,
    root_quat: torch.Tensor,
    dof: torch.Tensor,
    convention: str = "hinge",
    body_offsets: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Body positions ``[..., 52, 3]`` and global rotations ``[..., 52, 4]``.

    Args:
        root_pos: ``[..., 3]`` pelvis position.
        root_quat: ``[..., 4]`` pelvis rotation (xyzw).
        dof: ``[..., 153]`` joint values in ``convention``.
        body_offsets: optional ``[52, 3]`` skeleton; the canonical one by default.
    """
    local = local_quats(dof, convention)
    offsets = root_pos.new_tensor(spec.BODY_OFFSETS) if body_offsets is None else body_offsets.to(root_pos)
    positions: list[torch.Tensor] = [root_pos]
    rotations: list[torch.Tensor] = [root_quat]
    for i in range(1, spec.NUM_BODIES):
        p = spec.PARENT_INDICES[i]
        positions.append(positions[p] + rot.rotate(rotations[p], offsets[i].expand_as(root_pos)))
        rotations.append(rot.multiply(rotations[p], local[..., i - 1, :]))
    return torch.stack(positions, dim=-2), torch.stack(rotations, dim=-2)


def local_from_global(body_quat: torch.Tensor) -> torch.Tensor:
    """``[..., 52, 4]`` global rotations -> ``[..., 51, 4]`` local rotations."""
    parents = list(spec.PARENT_INDICES[1:])
    return rot.multiply(rot.conjugate(body_quat[..., parents, :]), body_quat[..., 1:, :])


def matrix_to_quat(m: torch.Tensor) -> torch.Tensor:
    """Rotation matrices ``[..., 3, 3]`` to unit quaternions xyzw with w >= 0 (Shepperd's method:
    the largest of w, x, y, z is computed first, which keeps it accurate for every rotation)."""
    m00, m11, m22 = m[..., 0, 0], m[..., 1, 1], m[..., 2, 2]
    candidates = torch.stack(
        [
            torch.stack([m[..., 2, 1] - m[..., 1, 2], m[..., 0, 2] - m[..., 2, 0], m[..., 1, 0] - m[..., 0, 1], 1 + m00 + m11 + m22], -1),
            torch.stack([1 + m00 - m11 - m22, m[..., 0, 1] + m[..., 1, 0], m[..., 0, 2] + m[..., 2, 0], m[..., 2, 1] - m[..., 1, 2]], -1),
            torch.stack([m[..., 0, 1] + m[..., 1, 0], 1 - m00 + m11 - m22, m[..., 1, 2] + m[..., 2, 1], m[..., 0, 2] - m[..., 2, 0]], -1),
            torch.stack([m[..., 0, 2] + m[..., 2, 0], m[..., 1, 2] + m[..., 2, 1], 1 - m00 - m11 + m22, m[..., 1, 0] - m[..., 0, 1]], -1),
        ],
        dim=-2,
    )  # fmt: skip
    best = torch.stack([1 + m00 + m11 + m22, 1 + m00 - m11 - m22, 1 - m00 + m11 - m22, 1 - m00 - m11 + m22], -1).argmax(-1)
    q = torch.gather(candidates, -2, best[..., None, None].expand(*best.shape, 1, 4))[..., 0, :]
    q = rot.normalize(q)
    return torch.where(q[..., 3:4] < 0, -q, q)


def quat_to_matrix(q: torch.Tensor) -> torch.Tensor:
    """Unit quaternions xyzw ``[..., 4]`` to rotation matrices ``[..., 3, 3]``."""
    eye = torch.eye(3, dtype=q.dtype, device=q.device)
    cols = [rot.rotate(q, eye[i].expand(*q.shape[:-1], 3)) for i in range(3)]
    return torch.stack(cols, dim=-1)

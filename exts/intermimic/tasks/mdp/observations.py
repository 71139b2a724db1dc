"""Teacher/student observation terms (docs/method.md §5).

Every term returns ``[E, K, d]``: its d values for each of the K future offsets it observes.
The observation manager (:mod:`.observation_layout`) concatenates the terms per offset and
flattens the result, so the policy sees one full 1599-d block per offset (offset-major, rows in
the order the terms are declared), the layout of the authors' release. Terms describing only
the simulated state repeat it for every offset.

Every term takes ``source`` (reference source of the future frames: ``"raw"`` or
``"corrected"``; default the command's ``teacher_source``) and ``offsets`` (future frame
offsets; default the command's ``future_offsets``), so one environment can serve observation
groups for a teacher and a student that look at different references.
H is the inverse heading (yaw only) of the simulated root.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ...motion.reference import ReferenceFrames
from ...utils import rotations as rot
from .body_groups import body_groups
from .commands import HOIReferenceCommand

def contact_body_ids(env) -> torch.Tensor:
    """Body indices of the contact bodies in the order ``env.cfg.contact_body_order`` names
    (``body`` or, for the SMPL-X humanoid, the release's ``release_legacy``)."""
    order = getattr(env.cfg, "contact_body_order", "body")  # checked by the config (apply_timing)
    return body_groups(env).ids("contact_orders", env.device, order)


def _key(cmd: HOIReferenceCommand) -> torch.Tensor:
    return cmd.groups.ids("key", cmd.device)


def _rot_err(cmd: HOIReferenceCommand) -> torch.Tensor:
    return cmd.groups.ids("rotation_error", cmd.device)


def _cmd(env, command_name: str) -> HOIReferenceCommand:
    return env.command_manager.get_term(command_name)


def _future(cmd: HOIReferenceCommand, source: str | None, offsets: Sequence[int] | None) -> ReferenceFrames:
    return cmd.future(source, offsets)


def _num_offsets(cmd: HOIReferenceCommand, offsets: Sequence[int] | None) -> int:
    return len(cmd.future_offsets if offsets is None else offsets)


def _heading(cmd: HOIReferenceCommand, extra_dims: int) -> torch.Tensor:
    h = cmd.heading_inverse()
    return h.reshape(h.shape[0], *([1] * extra_dims), 4)


def _per_offset(x: torch.Tensor, k: int) -> torch.Tensor:
    """Repeat a current-state feature ``[E, ...]`` for every offset: ``[E, K, d]``."""
    x = x.reshape(x.shape[0], 1, -1)
    return x.expand(-1, k, -1)


def _blocks(x: torch.Tensor) -> torch.Tensor:
    """``[E, K, ...]`` -> ``[E, K, d]``."""
    return x.reshape(x.shape[0], x.shape[1], -1)


# -------------------------------------------------------------------------------------
# Simulated humanoid state
# -------------------------------------------------------------------------------------
def root_height(env, command_name: str = "motion", source: str | None = None, offsets=None) -> torch.Tensor:
    cmd = _cmd(env, command_name)
    return _per_offset(cmd.root_pos[:, 2:3], _num_offsets(cmd, offsets))


def body_positions(env, command_name: str = "motion", source: str | None = None, offsets=None) -> torch.Tensor:
    """H (p_b - p_root) for the 51 non-root bodies."""
    cmd = _cmd(env, command_name)
    rel = cmd.body_pos[:, 1:] - cmd.root_pos[:, None]
    return _per_offset(rot.rotate(_heading(cmd, 1), rel), _num_offsets(cmd, offsets))


def body_rotations(env, command_name: str = "motion", source: str | None = None, offsets=None) -> torch.Tensor:
    """tn(H q_b) for every body (52 for SMPL-X)."""
    cmd = _cmd(env, command_name)
    q = rot.multiply(_heading(cmd, 1).expand_as(cmd.body_quat), cmd.body_quat)
    return _per_offset(rot.tangent_normal(q), _num_offsets(cmd, offsets))


def body_linear_velocities(env, command_name: str = "motion", source: str | None = None, offsets=None) -> torch.Tensor:
    cmd = _cmd(env, command_name)
    return _per_offset(rot.rotate(_heading(cmd, 1), cmd.body_lin_vel), _num_offsets(cmd, offsets))


def body_angular_velocities(env, command_name: str = "motion", source: str | None = None, offsets=None) -> torch.Tensor:
    cmd = _cmd(env, command_name)
    return _per_offset(rot.rotate(_heading(cmd, 1), cmd.body_ang_vel), _num_offsets(cmd, offsets))


# -------------------------------------------------------------------------------------
# Contacts
# -------------------------------------------------------------------------------------
def contact(env, command_name: str = "motion", source: str | None = None, offsets=None) -> torch.Tensor:
    """1[any contact force component > threshold] for the 31 contact bodies."""
    cmd = _cmd(env, command_name)
    return _per_offset(cmd.body_contact()[:, contact_body_ids(env)].float(), _num_offsets(cmd, offsets))


# -------------------------------------------------------------------------------------
# Reference and tracking errors, per future offset
# -------------------------------------------------------------------------------------
def key_position_error(env, command_name: str = "motion", source: str | None = None, offsets=None) -> torch.Tensor:
    """H (p^_b - p_b) for the 21 key bodies."""
    cmd = _cmd(env, command_name)
    err = _future(cmd, source, offsets).body_pos[:, :, _key(cmd)] - cmd.body_pos[:, None, _key(cmd)]
    return _blocks(rot.rotate(_heading(cmd, 2), err))


def rotation_error(env, command_name: str = "motion", source: str | None = None, offsets=None) -> torch.Tensor:
    """tn(H (q^_b^-1 q_b) H^-1) for the 22 non-finger bodies."""
    cmd = _cmd(env, command_name)
    fut = _future(cmd, source, offsets)
    diff = rot.multiply(rot.conjugate(fut.body_quat[:, :, _rot_err(cmd)]), cmd.body_quat[:, None, _rot_err(cmd)])
    h = _heading(cmd, 2).expand_as(diff)
    return _blocks(rot.tangent_normal(rot.multiply(rot.multiply(h, diff), rot.conjugate(h))))


def contact_error(env, command_name: str = "motion", source: str | None = None, offsets=None) -> torch.Tensor:
    """c^ * ((c^ + 1) / 2 - c) for the 31 contact bodies: +1 where a promoted contact is
    missing, +1 where a penalised contact happens (c^ = -1, c = 1), 0 otherwise."""
    cmd = _cmd(env, command_name)
    ids = contact_body_ids(env)
    label = _future(cmd, source, offsets).contact[:, :, ids]
    c = cmd.body_contact()[:, None, ids].float()
    return label * ((label + 1.0) * 0.5 - c)


def reference_key_positions(
    env, command_name: str = "motion", source: str | None = None, offsets=None, release_quirk: bool = False
) -> torch.Tensor:
    """H (p^_b - p^_root) for the 21 key bodies (the release uses the simulated positions)."""
    cmd = _cmd(env, command_name)
    if release_quirk:
        rel = _per_offset(cmd.body_pos[:, _key(cmd)] - cmd.root_pos[:, None], _num_offsets(cmd, offsets))
        rel = rel.reshape(rel.shape[0], rel.shape[1], len(_key(cmd)), 3)
    else:
        fut = _future(cmd, source, offsets)
        rel = fut.body_pos[:, :, _key(cmd)] - fut.root_pos[:, :, None]
    return _blocks(rot.rotate(_heading(cmd, 2), rel))


def reference_rotations(env, command_name: str = "motion", source: str | None = None, offsets=None) -> torch.Tensor:
    """tn(H q^_b) for the 22 non-finger bodies."""
    cmd = _cmd(env, command_name)
    q = _future(cmd, source, offsets).body_quat[:, :, _rot_err(cmd)]
    return _blocks(rot.tangent_normal(rot.multiply(_heading(cmd, 2).expand_as(q), q)))


def key_linear_velocity_error(
    env, command_name: str = "motion", source: str | None = None, offsets=None
) -> torch.Tensor:
    cmd = _cmd(env, command_name)
    err = _future(cmd, source, offsets).body_lin_vel[:, :, _key(cmd)] - cmd.body_lin_vel[:, None, _key(cmd)]
    return _blocks(rot.rotate(_heading(cmd, 2), err))


def angular_velocity_error(env, command_name: str = "motion", source: str | None = None, offsets=None) -> torch.Tensor:
    cmd = _cmd(env, command_name)
    err = _future(cmd, source, offsets).body_ang_vel[:, :, _rot_err(cmd)] - cmd.body_ang_vel[:, None, _rot_err(cmd)]
    return _blocks(rot.rotate(_heading(cmd, 2), err))


# -------------------------------------------------------------------------------------
# Object and interaction
# -------------------------------------------------------------------------------------
def object_state(env, command_name: str = "motion", source: str | None = None, offsets=None) -> torch.Tensor:
    """H v_o, H w_o, H(p^_o - p_o), tn(H (q^_o^-1 q_o) H^-1), H(v^_o - v_o), H(w^_o - w_o): 21 per offset."""
    cmd = _cmd(env, command_name)
    fut = _future(cmd, source, offsets)
    k = fut.obj_pos.shape[1]
    h1, h2 = _heading(cmd, 0), _heading(cmd, 1)
    v = rot.rotate(h1, cmd.obj_lin_vel)[:, None].expand(-1, k, -1)
    w = rot.rotate(h1, cmd.obj_ang_vel)[:, None].expand(-1, k, -1)
    dp = rot.rotate(h2, fut.obj_pos - cmd.obj_pos[:, None])
    dq = rot.multiply(rot.conjugate(fut.obj_quat), cmd.obj_quat[:, None].expand_as(fut.obj_quat))
    hk = h2.expand_as(dq)
    dq_tn = rot.tangent_normal(rot.multiply(rot.multiply(hk, dq), rot.conjugate(hk)))
    dv = rot.rotate(h2, fut.obj_lin_vel - cmd.obj_lin_vel[:, None])
    dw = rot.rotate(h2, fut.obj_ang_vel - cmd.obj_ang_vel[:, None])
    return torch.cat([v, w, dp, dq_tn, dv, dw], dim=-1)


def field_encoding(d: torch.Tensor) -> torch.Tensor:
    """e(d) = d / (|d| + 1e-6) * exp(-5 |d|): direction, fading with distance."""
    n = d.norm(dim=-1, keepdim=True)
    return d / (n + 1.0e-6) * torch.exp(-5.0 * n)


def interaction_field(env, command_name: str = "motion", source: str | None = None, offsets=None) -> torch.Tensor:
    """e(d_b) of the simulated interaction field for every body (52 for SMPL-X)."""
    cmd = _cmd(env, command_name)
    return _per_offset(field_encoding(cmd.interaction_field()), _num_offsets(cmd, offsets))


def interaction_field_error(
    env, command_name: str = "motion", source: str | None = None, offsets=None
) -> torch.Tensor:
    """e(d^_b) - e(d_b) for the 21 key bodies."""
    cmd = _cmd(env, command_name)
    ref = field_encoding(_future(cmd, source, offsets).interaction_field[:, :, _key(cmd)])
    sim = field_encoding(cmd.interaction_field()[:, None, _key(cmd)])
    return _blocks(ref - sim)

"""The joint position action (docs/method.md §4), in the embodiment's canonical DOF order
(153-d for SMPL-X, 43-d for the G1 with Dex3 hands).

``q* = offset + scale * a`` with ``offset = (hi + lo) / 2`` and ``scale = (hi - lo) / 2`` per
DOF, from the articulation's joint limits; ``q*`` are the three hinge angles of each body.
``release_quirk=True`` reproduces the original code: where ``|offset| > 0.1`` the offset is
zeroed and the scale set to pi; knee z DOFs get scale 5; and ``q*`` is, per body, the **rotation
vector** of the body's spherical joint (the release's PD target in the joint's own coordinates),
written as is on PhysX and turned into the equivalent hinge angles on Newton (only needed to run
checkpoints trained by that code).
"""

from __future__ import annotations

import math

import torch

from isaaclab.envs.mdp.actions.actions_cfg import JointPositionActionCfg
from isaaclab.envs.mdp.actions.joint_actions import JointPositionAction
from isaaclab.utils import configclass

from ...assets import humanoid_spec as spec
from ...assets.embodiment import get_embodiment
from ...assets.joint_coordinates import joint_coordinates
from ...assets.sim_indices import joint_name_patterns


def limit_offset_scale(lower: torch.Tensor, upper: torch.Tensor, release_quirk: bool = False):
    offset = 0.5 * (upper + lower)
    scale = 0.5 * (upper - lower)
    if release_quirk:
        if scale.shape[-1] != spec.NUM_DOFS:
            raise ValueError("env.actions.joint_pos.release_quirk: the release's action scaling exists for the SMPL-X "
                             f"humanoid's {spec.NUM_DOFS} DOFs only, not for {scale.shape[-1]}")  # fmt: skip
        far = offset.abs() > 0.1
        offset = torch.where(far, torch.zeros_like(offset), offset)
        scale = torch.where(far, torch.full_like(scale, math.pi), scale)
        knee_z = torch.tensor([j.endswith("Knee_z") for j in spec.JOINT_NAMES], device=scale.device)
        scale = torch.where(knee_z, torch.full_like(scale, 5.0), scale)
    return offset, scale


class HOIJointPositionAction(JointPositionAction):
    cfg: HOIJointPositionActionCfg

    def __init__(self, cfg: HOIJointPositionActionCfg, env):
        super().__init__(cfg, env)
        limits = self._asset.data.joint_pos_limits.torch[:, self._joint_ids]
        offset, scale = limit_offset_scale(limits[..., 0], limits[..., 1], cfg.release_quirk)
        self._offset = offset.clone()
        self._scale = scale.clone()
        emb = getattr(env, "embodiment", None) or get_embodiment()
        self._coords = joint_coordinates(self._asset, emb)
        """Canonical joint coordinates <-> the simulator's (PhysX keeps a body's joint as a rotation vector)."""
        self.rotation_vector_targets = bool(cfg.release_quirk) and emb.name == "smplx"
        """Whether ``offset + scale * a`` is, per body, a rotation vector (the release's PD target in
        its spherical joints' own coordinates) rather than three hinge angles."""
        self._sim_targets = self._to_sim(self._processed_actions)
        self._targets_written = False

    def _to_sim(self, targets: torch.Tensor) -> torch.Tensor:
        """PD targets ``offset + scale * a`` in the simulator's joint coordinates."""
        if self.rotation_vector_targets:
            return self._coords.rotation_vectors_to_sim(targets)
        return self._coords.to_sim_pos(targets)

    def process_actions(self, actions: torch.Tensor):
        super().process_actions(actions)
        self._sim_targets = self._to_sim(self._processed_actions)
        self._targets_written = False

    def apply_actions(self):
        """Write the policy step's PD targets once (the env calls this before each of its physics
        steps; the articulation keeps the targets and hands them to the simulator every step)."""
        if self._targets_written:
            return
        self._asset.set_joint_position_target_index(target=self._sim_targets, joint_ids=self._joint_ids)
        self._targets_written = True

    def target_hinges(self) -> torch.Tensor:
        """The PD targets of the last actions as canonical hinge angles, ``[E, D]``."""
        if self.rotation_vector_targets:
            return self._coords.hinges_of_rotation_vectors(self._processed_actions)
        return self._processed_actions

    def actions_for_targets(self, joint_pos: torch.Tensor, clip: bool = True) -> torch.Tensor:
        """The actions whose PD targets are the hinge angles ``joint_pos`` (canonical DOF order),
        clipped to [-1, 1] unless ``clip`` is False."""
        target = self._coords.rotation_vectors_of_hinges(joint_pos) if self.rotation_vector_targets else joint_pos
        actions = (target - self._offset) / self._scale
        return actions.clamp(-1.0, 1.0) if clip else actions


@configclass
class HOIJointPositionActionCfg(JointPositionActionCfg):
    class_type: type = HOIJointPositionAction
    asset_name: str = "robot"
    joint_names: list[str] = joint_name_patterns()
    preserve_order: bool = True
    use_default_offset: bool = False
    release_quirk: bool = False

"""Scripted policies for replays and checks: they act through the same env step as a policy.

* :class:`ReferenceDriver` reproduces the reference (the kinematic-replay driver): before each
  step it writes the reference state of the current frame into the simulation and sets the joint
  drives to the next frame (position target) and the frame-to-frame rate (velocity target); one
  policy step of physics then carries humanoid and object towards the next frame. With
  ``write_state=False`` only the drives follow the reference and the state drifts freely.
* :func:`zero_actions`: does nothing (zero actions: each joint held at the middle of its limits).
"""

from __future__ import annotations

import torch


class ReferenceDriver:
    """Callable ``policy(obs) -> actions`` on a (wrapped) HOI env; see the module docstring."""

    def __init__(self, env, source: str | None = None, write_state: bool = True):
        base = env.unwrapped
        self.cmd = base.command_manager.get_term("motion")
        self.action = base.action_manager.get_term("joint_pos")
        self.source = source or self.cmd.cfg.reward_source
        self.write_state = write_state
        self.env_ids = torch.arange(base.num_envs, device=base.device)

    def __call__(self, obs=None) -> torch.Tensor:
        cmd, lib = self.cmd, self.cmd.library
        frame = cmd.frame
        nxt = lib.state(cmd.clip_ids, frame + 1, self.source)
        if self.write_state:
            cmd.write_reference_state(self.env_ids, lib.state(cmd.clip_ids, frame, self.source))
        # the next frame's joint rate is the frame-to-frame rate (the short way across +-pi)
        velocity = cmd.joint_coords.to_sim_vel(nxt.dof_pos, nxt.dof_vel)
        cmd.robot.set_joint_velocity_target_index(target=velocity, joint_ids=cmd.joint_ids)
        return self.action.actions_for_targets(nxt.dof_pos, clip=False)

    def close(self) -> None:
        """Give the joint drives back their zero velocity targets."""
        zeros = torch.zeros(len(self.env_ids), len(self.cmd.joint_ids), device=self.env_ids.device)
        self.cmd.robot.set_joint_velocity_target_index(target=zeros, joint_ids=self.cmd.joint_ids)


def zero_actions(env):
    """A policy that does nothing: ``policy(obs)`` returns zero actions."""
    base = env.unwrapped
    shape = (base.num_envs, base.action_manager.total_action_dim)

    def policy(obs=None) -> torch.Tensor:
        return torch.zeros(shape, device=base.device)

    return policy

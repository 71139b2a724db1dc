"""Reset event: start episodes from the reference or from a recorded physical state."""

from __future__ import annotations

import torch

from .commands import HOIReferenceCommand, resolve_env_ids


def reset_to_start_state(env, env_ids: torch.Tensor, command_name: str = "motion", from_frame_zero: bool = False):
    """Choose clip, start frame (failure-prioritised) and PSI slot, and write that state.

    ``from_frame_zero`` starts every episode at its clip's first frame from the reference
    (evaluation)."""
    cmd: HOIReferenceCommand = env.command_manager.get_term(command_name)
    cmd.start_episodes(resolve_env_ids(env_ids, env.num_envs, env.device), from_frame_zero)

"""Termination terms (METHOD section 7). Failures never fire before an episode's second step."""

from __future__ import annotations

import torch

from ...assets import humanoid_spec as spec
from .commands import HOIReferenceCommand

KEY = spec.KEY_BODY_IDS


def _cmd(env, command_name: str) -> HOIReferenceCommand:
    return env.command_manager.get_term(command_name)


def _armed(env, min_steps: int) -> torch.Tensor:
    return env.episode_length_buf >= min_steps


def clip_end(env, command_name: str = "motion") -> torch.Tensor:
    """Time-out: the reference has reached its clip's last frame."""
    return _cmd(env, command_name).frames_left <= 0


def root_too_low(env, command_name: str = "motion", min_height: float = 0.3, min_steps: int = 2) -> torch.Tensor:
    """Fall: the pelvis is below ``min_height`` metres."""
    return (_cmd(env, command_name).root_pos[:, 2] < min_height) & _armed(env, min_steps)


def key_body_error(env, command_name: str = "motion", threshold: float = 0.5, min_steps: int = 2) -> torch.Tensor:
    """Mean key-body position error above ``threshold`` metres."""
    cmd = _cmd(env, command_name)
    err = (cmd.reference().body_pos[:, KEY] - cmd.body_pos[:, KEY]).norm(dim=-1).mean(-1)
    return (err > threshold) & _armed(env, min_steps)

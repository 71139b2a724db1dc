"""Termination terms (docs/method.md §7). Failures never fire before an episode's second step;
time-outs (clip end, episode length) are flagged ``time_out=True`` in the cfg and bootstrap.

The distances in metres (key-body and object error thresholds, the interaction graph's floor)
are set for the SMPL-X humanoid; another embodiment's are multiplied by its leg-length ratio to
the SMPL-X humanoid (:attr:`~intermimic.assets.embodiment_spec.Embodiment.length_scale`, 0.79
for the G1), so a body 0.79 of human size fails at 0.79 of the distance. The fall height stays
as set (the release runs 0.3 m for the G1 too)."""

from __future__ import annotations

import torch

from isaaclab.managers import ManagerTermBase

from ..non_finite_guard import observation_was_non_finite
from .body_groups import body_groups
from .commands import HOIReferenceCommand
from .step_metrics import step_metrics as _step_metrics


def _cmd(env, command_name: str) -> HOIReferenceCommand:
    return env.command_manager.get_term(command_name)


def _length(env, command_name: str, metres: float) -> float:
    """``metres`` for the SMPL-X humanoid, on the simulated embodiment's scale."""
    return metres * _cmd(env, command_name).embodiment.length_scale


def _armed(env, min_steps: int) -> torch.Tensor:
    return env.episode_length_buf >= min_steps


def clip_end(env, command_name: str = "motion") -> torch.Tensor:
    """Time-out: the reference has reached its clip's last frame."""
    return _cmd(env, command_name).frames_left <= 0


def root_too_low(env, command_name: str = "motion", min_height: float = 0.3, min_steps: int = 2) -> torch.Tensor:
    """Fall: the pelvis is below ``min_height`` metres (the release runs 0.3; its config says 0.15)."""
    return (_cmd(env, command_name).root_pos[:, 2] < min_height) & _armed(env, min_steps)


def key_body_error(env, command_name: str = "motion", threshold: float = 0.5, min_steps: int = 2) -> torch.Tensor:
    """Mean key-body position error above ``threshold`` metres (embodiment-scaled)."""
    e_h, _ = _cmd(env, command_name).tracking_errors()
    return (e_h > _length(env, command_name, threshold)) & _armed(env, min_steps)


def object_error(env, command_name: str = "motion", threshold: float = 0.5, min_steps: int = 2) -> torch.Tensor:
    """Mean object surface-point position error above ``threshold`` metres (embodiment-scaled)."""
    _, e_o = _cmd(env, command_name).tracking_errors()
    return (e_o > _length(env, command_name, threshold)) & _armed(env, min_steps)


def interaction_graph_ratio(
    env, command_name: str = "motion", threshold: float = 2.0, floor: float = 0.5, min_steps: int = 2
) -> torch.Tensor:
    """The interaction graph broke: for some (key body, object point) pair, |ig - ig^| exceeds
    ``threshold`` times max(|ig^|, floor) or max(|ig|, floor) (either normalisation; ``floor`` in
    metres, embodiment-scaled)."""
    floor = _length(env, command_name, floor)
    ig = _cmd(env, command_name).interaction_graph(floor=floor)
    return ((ig.ratio_by_ref[floor] > threshold) | (ig.ratio_by_sim[floor] > threshold)) & _armed(env, min_steps)


class hand_contact_lost(ManagerTermBase):
    """The reference hand touches the object while the simulated hand has had no contact for
    more than ``max_steps`` consecutive steps (per hand: its hand group, e.g. the SMPL-X wrist and 15
    finger bodies, the G1 wrist yaw link, palm and 7 Dex3 finger links)."""

    def __init__(self, cfg, env):
        super().__init__(cfg, env)
        self.missing = torch.zeros(env.num_envs, 2, dtype=torch.long, device=env.device)

    def reset(self, env_ids=None):
        if env_ids is None or isinstance(env_ids, slice):
            self.missing[env_ids if env_ids is not None else slice(None)] = torch.zeros_like(self.missing[0])
        else:
            self.missing.index_fill_(0, torch.as_tensor(env_ids, device=self.missing.device).long(), 0)

    def __call__(self, env, command_name: str = "motion", max_steps: int = 10, min_steps: int = 2) -> torch.Tensor:
        cmd = _cmd(env, command_name)
        labels = cmd.reference().contact
        contact = cmd.body_contact()
        groups = body_groups(env)
        for k, side in enumerate("LR"):
            ids = groups.ids("hands", env.device, side)
            wants = (labels[:, ids] > 0).any(-1)
            has = contact[:, ids].any(-1)
            lost = wants & ~has
            self.missing[:, k] = torch.where(lost, self.missing[:, k] + 1, torch.zeros_like(self.missing[:, k]))
        return (self.missing > max_steps).any(-1) & _armed(env, min_steps)


def non_finite_state(env, command_name: str = "motion") -> torch.Tensor:
    """Failure guard: the simulated humanoid or object state holds NaN or infinity (the physics
    diverged), or the observation the last step returned did (zeroed by the step's guard). The
    environment is reset to a fresh start like any failure, so the non-finite state never reaches
    the networks; the count is logged as ``Episode_Termination/non_finite_state``."""
    state_bad = ~torch.isfinite(_cmd(env, command_name).sim_state().pack()).all(dim=-1)
    return state_bad | observation_was_non_finite(env)


def record_tracking_errors(env, command_name: str = "motion") -> torch.Tensor:
    """Never terminates: stores each env's evaluation numbers of this step, before any reset, in
    ``command.step_metrics`` (``[E, len(STEP_METRICS)]``, :mod:`.step_metrics`: E_h, E_o and the
    hands') for evaluation (added only by the evaluation configuration)."""
    cmd = _cmd(env, command_name)
    cmd.step_metrics = _step_metrics(cmd)
    return torch.zeros(env.num_envs, dtype=torch.bool, device=env.device)

"""InterMimic's multiplicative reward (METHOD section 6) as one reward term.

``r = r_h * r_o * r_ig * r_cg``, each factor a product of ``exp(-w E)``. The term returns
the product; every factor's batch mean is written to the training log each step under
``Reward/<factor>`` so it shows up in TensorBoard.
"""

from __future__ import annotations

import torch

from isaaclab.managers import ManagerTermBase, RewardTermCfg
from isaaclab.utils import configclass

from ...assets import humanoid_spec as spec
from ...utils import rotations as rot
from .commands import HOIReferenceCommand

KEY = spec.KEY_BODY_IDS
LEG_MASK_IN_KEY = torch.tensor([n in spec.LEG_BODY_NAMES for n in spec.KEY_BODY_NAMES])


@configclass
class RewardWeightsCfg:
    """Weights w of the ``exp(-w E)`` factors (default: the high-fidelity setting)."""

    p: float = 30.0
    r: float = 1.5
    pv: float = 0.0
    rv: float = 0.0
    op: float = 5.0
    orot: float = 0.1
    opv: float = 0.1
    orv: float = 0.0
    ig: float = 5.0
    cg_hand: float = 5.0
    cg_other: float = 5.0
    cg_all: float = 3.0
    eg1: float = 2.0e-5
    eg2: float = 2.0e-5
    eg3: float = 1.0e-11
    interaction_weight_scale: float = 5.0
    """w_b = exp(-scale |d^_b|) from the reference interaction field."""


def interaction_weights(ref_field: torch.Tensor, scale: float) -> torch.Tensor:
    """w_b = exp(-scale |d^_b|) per body from the reference interaction field ``[E, 52, 3]``."""
    return torch.exp(-scale * ref_field.norm(dim=-1))


def human_errors(cmd: HOIReferenceCommand, scale: float) -> dict[str, torch.Tensor]:
    """E_p (weighted key-body position error) and E_r (weighted rotation error), ``[E]`` each."""
    ref = cmd.reference()
    w = interaction_weights(ref.interaction_field, scale)
    w_key = w[:, KEY].clone()
    w_key[:, LEG_MASK_IN_KEY.to(w.device)] = 1.0
    pos_err = ((ref.body_pos[:, KEY] - cmd.body_pos[:, KEY]) ** 2).sum(-1)
    e_p = (pos_err * w_key).mean(-1)
    angle = rot.angle_between(ref.body_quat, cmd.body_quat)
    e_r = (angle * (1.0 - w)).mean(-1)
    return {"p": e_p, "r": e_r}


class InterMimicReward(ManagerTermBase):
    """The product of InterMimic's reward factors for the command ``command_name``."""

    def __init__(self, cfg: RewardTermCfg, env):
        super().__init__(cfg, env)
        self.weights: RewardWeightsCfg = cfg.params.get("weights", RewardWeightsCfg())
        self.command_name = cfg.params.get("command_name", "motion")
        self.asset = env.scene["robot"]
        self._last_dof_vel = None

    def reset(self, env_ids=None):
        self._last_dof_vel = None

    def factors(self) -> dict[str, torch.Tensor]:
        """Every factor ``exp(-w E)``, ``[E]`` each."""
        cmd: HOIReferenceCommand = self._env.command_manager.get_term(self.command_name)
        w = self.weights
        errors = human_errors(cmd, w.interaction_weight_scale)
        dof_vel = cmd.dof_vel
        if self._last_dof_vel is None or self._last_dof_vel.shape != dof_vel.shape:
            accel = torch.zeros_like(dof_vel)
        else:
            accel = (dof_vel - self._last_dof_vel) / self._env.step_dt
        # restart the difference where an episode just began
        accel = torch.where((self._env.episode_length_buf <= 1)[:, None], torch.zeros_like(accel), accel)
        self._last_dof_vel = dof_vel.clone()
        return {
            "r_p": torch.exp(-w.p * errors["p"]),
            "r_r": torch.exp(-w.r * errors["r"]),
            "r_eg1": torch.exp(-w.eg1 * (accel**2).mean(-1)),
        }

    def __call__(self, env, weights: RewardWeightsCfg | None = None, command_name: str = "motion") -> torch.Tensor:
        factors = self.factors()
        reward = torch.ones(env.num_envs, device=env.device)
        for value in factors.values():
            reward = reward * value
        log = dict(env.extras.get("log", {}))
        log.update({f"Reward/{k}": v.mean() for k, v in factors.items()})
        env.extras["log"] = log
        return reward

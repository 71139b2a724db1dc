"""InterMimic's multiplicative reward (docs/method.md §6) as one reward term.

``r = r_h * r_o * r_ig * r_cg``, each factor a product of ``exp(-w E)``. The environment returns
the product r (in [0, 1]) as the step reward; every factor's batch mean is written to the
training log each step under ``Reward/<factor>`` (TensorBoard). The error functions are plain
tensor functions so each can be tested on hand-built states.
"""

from __future__ import annotations

import torch

from isaaclab.managers import ManagerTermBase, RewardTermCfg
from isaaclab.utils import configclass

from ...utils import rotations as rot
from .body_groups import BodyGroups, default_groups
from .commands import HOIReferenceCommand


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
    ig_num_points: int = 1024
    """Object surface points used by the interaction graph (a fixed, evenly strided subset)."""


LEGACY_REWARD_WEIGHTS = RewardWeightsCfg(r=2.5, eg3=1.0e-9)
"""The release's older setting."""


# -------------------------------------------------------------------------------------
# Error terms
# -------------------------------------------------------------------------------------
def interaction_weights(ref_field: torch.Tensor, scale: float) -> torch.Tensor:
    """w_b = exp(-scale |d^_b|) per body from the reference interaction field ``[E, B, 3]``."""
    return torch.exp(-scale * ref_field.norm(dim=-1))


def human_errors(
    ref, body_pos, body_quat, body_lin_vel, body_ang_vel, scale: float, release_leg_weights: bool = False,
    groups: BodyGroups | None = None,
) -> dict[str, torch.Tensor]:
    """E_p, E_r (interaction-weighted position/rotation errors) and E_pv, E_rv, ``[E]`` each: E_p
    and E_pv over the key bodies of ``groups`` (default: the SMPL-X humanoid's), E_r over its
    jointed bodies (every SMPL-X body); the legs' E_p weight is 1 (``release_leg_weights``: the
    release's set)."""
    groups = groups or default_groups()
    key = groups.ids("key", body_pos.device)
    w = interaction_weights(ref.interaction_field, scale)
    w_key = w[:, key].masked_fill(groups.ids("full_weight_in_key", w.device, release_leg_weights), 1.0)
    pos_err = ((ref.body_pos[:, key] - body_pos[:, key]) ** 2).sum(-1)
    jointed = groups.ids("rotation_reward", body_pos.device)
    angle = rot.angle_between(ref.body_quat[:, jointed], body_quat[:, jointed])
    return {
        "p": (pos_err * w_key).mean(-1),
        "r": (angle * (1.0 - w[:, jointed])).mean(-1),
        "pv": ((ref.body_lin_vel[:, key] - body_lin_vel[:, key]) ** 2).sum(-1).mean(-1),
        "rv": ((ref.body_ang_vel - body_ang_vel) ** 2).sum(-1).mean(-1),
    }


def object_errors(ref, root_pos, root_quat, obj_pos, obj_quat, obj_lin_vel, obj_ang_vel) -> dict[str, torch.Tensor]:
    """Object pose in each one's root heading frame (reference object in the reference root's,
    simulated in the simulated root's): position (x, y relative to the root, absolute z) and
    rotation angle; velocity errors in the world frame."""

    def local(p_obj, p_root, q_root):
        xy = rot.rotate(rot.heading_inverse(q_root), p_obj - p_root)
        return torch.cat([xy[:, :2], p_obj[:, 2:3]], dim=-1)

    def local_quat(q_obj, q_root):
        return rot.multiply(rot.heading_inverse(q_root), q_obj)

    dp = local(ref.obj_pos, ref.root_pos, ref.root_quat) - local(obj_pos, root_pos, root_quat)
    return {
        "op": (dp**2).mean(-1),
        "or": rot.angle_between(local_quat(ref.obj_quat, ref.root_quat), local_quat(obj_quat, root_quat)),
        "opv": ((ref.obj_lin_vel - obj_lin_vel) ** 2).mean(-1),
        "orv": ((ref.obj_ang_vel - obj_ang_vel) ** 2).mean(-1),
    }


def contact_factors(
    labels: torch.Tensor, contact: torch.Tensor, w: RewardWeightsCfg, release_other_bodies: bool = False,
    groups: BodyGroups | None = None,
) -> dict[str, torch.Tensor]:
    """Contact-graph factors from reference labels ``[E, B]`` in {-1, 0, 1} and simulated
    contacts ``[E, B]`` in {0, 1} (B: the embodiment's bodies, 52 for SMPL-X).

    * hand (per side): when the reference hand touches (any of its bodies labelled +1; 16 for
      SMPL-X, 9 for the G1 with Dex3; bodies with a collider only, as in every group here),
      e = mean |c_b - 1| over the hand bodies and the factor is 0.5 (1 + exp(-w e)); else 1.
    * other: exp(-w mean_b |c_b - 1| 1[label_b = +1]) over the non-hand bodies (the release's
      bodies 0-16 with ``release_other_bodies``).
    * all: exp(-w mean_b c_b 1[label_b = -1]) over all bodies with a collider (penalised contacts).
    Means run over all bodies of the group, as in the original implementation."""
    groups = groups or default_groups()
    c = contact.float()
    out = {}
    for side in groups.hands:
        ids = groups.ids("hands", labels.device, side)
        wants = (labels[:, ids] > 0).any(-1)
        e = (c[:, ids] - 1.0).abs().mean(-1)
        out[f"hand_{side}"] = torch.where(wants, 0.5 * (1.0 + torch.exp(-w.cg_hand * e)), torch.ones_like(e))
    other = groups.ids("other_contact", labels.device, release_other_bodies)
    promoted = (labels[:, other] > 0).float()
    e_other = ((c[:, other] - labels[:, other]).abs() * promoted).mean(-1)
    out["other"] = torch.exp(-w.cg_other * e_other)
    colliding = groups.ids("colliding", labels.device)
    e_all = (c[:, colliding] * (labels[:, colliding] < 0).float()).mean(-1)
    out["all"] = torch.exp(-w.cg_all * e_all)
    return out


# -------------------------------------------------------------------------------------
# The reward term
# -------------------------------------------------------------------------------------
class InterMimicReward(ManagerTermBase):
    """The product of InterMimic's reward factors for the command ``command_name``.

    Params: ``weights`` (:class:`RewardWeightsCfg`), ``command_name``, and the release's body sets
    ``release_leg_weights`` (E_p weight 1 on knees and ankles only, instead of all leg key bodies)
    and ``release_other_bodies`` (r_other over bodies 0-16 instead of all non-hand bodies).
    """

    def __init__(self, cfg: RewardTermCfg, env):
        super().__init__(cfg, env)
        self.weights: RewardWeightsCfg = cfg.params.get("weights") or RewardWeightsCfg()
        self.command_name = cfg.params.get("command_name", "motion")
        self.release_leg_weights = bool(cfg.params.get("release_leg_weights", False))
        self.release_other_bodies = bool(cfg.params.get("release_other_bodies", False))
        self._last: dict[str, torch.Tensor] = {}

    def reset(self, env_ids=None):
        pass  # finite differences restart through the episode-length mask

    def _accel(self, name: str, value: torch.Tensor) -> torch.Tensor:
        """Finite-difference acceleration of ``value``; zero on an episode's first step."""
        last = self._last.get(name)
        acc = torch.zeros_like(value) if last is None else (value - last) / self._env.step_dt
        acc = torch.where((self._env.episode_length_buf <= 1)[:, None], torch.zeros_like(acc), acc)
        self._last[name] = value.clone()
        return acc

    def factors(self) -> dict[str, torch.Tensor]:
        """Every elementary factor ``exp(-w E)``, ``[E]`` each."""
        cmd: HOIReferenceCommand = self._env.command_manager.get_term(self.command_name)
        w = self.weights
        ref = cmd.reference()
        h = human_errors(ref, cmd.body_pos, cmd.body_quat, cmd.body_lin_vel, cmd.body_ang_vel,
                         w.interaction_weight_scale, self.release_leg_weights, cmd.groups)  # fmt: skip
        f = {
            "r_p": torch.exp(-w.p * h["p"]),
            "r_r": torch.exp(-w.r * h["r"]),
            "r_pv": torch.exp(-w.pv * h["pv"]),
            "r_rv": torch.exp(-w.rv * h["rv"]),
            "r_eg1": torch.exp(-w.eg1 * (self._accel("dof", cmd.dof_vel) ** 2).mean(-1)),
        }
        if cmd.object is not None:
            o = object_errors(ref, cmd.root_pos, cmd.root_quat, cmd.obj_pos, cmd.obj_quat, cmd.obj_lin_vel, cmd.obj_ang_vel)
            a_lin = self._accel("obj_lin", cmd.obj_lin_vel)
            a_ang = self._accel("obj_ang", cmd.obj_ang_vel)
            e_ig = cmd.interaction_graph(w.ig_num_points).error
            cg = contact_factors(ref.contact, cmd.body_contact(), w, self.release_other_bodies, cmd.groups)
            force = cmd.body_contact_forces().abs().sum(dim=(1, 2))
            f.update({
                "r_op": torch.exp(-w.op * o["op"]),
                "r_or": torch.exp(-w.orot * o["or"]),
                "r_opv": torch.exp(-w.opv * o["opv"]),
                "r_orv": torch.exp(-w.orv * o["orv"]),
                "r_eg2": torch.exp(-w.eg2 * (a_lin**2).mean(-1)) * torch.exp(-w.eg2 * (a_ang**2).mean(-1)),
                "r_ig": torch.exp(-w.ig * e_ig),
                "r_hand": cg["hand_L"] * cg["hand_R"],
                "r_other": cg["other"],
                "r_all": cg["all"],
                "r_eg3": torch.exp(-w.eg3 * force**2),  # force: sum of |force components|
            })  # fmt: skip
        return f

    @staticmethod
    def combine(f: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The four factor groups r_h, r_o, r_ig, r_cg and the total r."""

        def prod(names):
            out = torch.ones_like(f["r_p"])
            for n in names:
                if n in f:
                    out = out * f[n]
            return out

        groups = {
            "r_h": prod(("r_p", "r_r", "r_pv", "r_rv", "r_eg1")),
            "r_o": prod(("r_op", "r_or", "r_opv", "r_orv", "r_eg2")),
            "r_ig_total": prod(("r_ig",)),
            "r_cg": prod(("r_hand", "r_other", "r_all", "r_eg3")),
        }
        groups["r"] = groups["r_h"] * groups["r_o"] * groups["r_ig_total"] * groups["r_cg"]
        return groups

    def __call__(self, env, weights: RewardWeightsCfg | None = None, command_name: str = "motion",
                 release_leg_weights: bool = False, release_other_bodies: bool = False) -> torch.Tensor:  # fmt: skip
        """``r / step_dt``: Isaac Lab's reward manager multiplies every term by the step length,
        so with term weight 1 the environment returns r in [0, 1] per step, as the release's PPO
        sees it (and the logged ``Reward/r`` is that same r)."""
        factors = self.factors()
        groups = self.combine(factors)
        # logged by the env after its resets (Isaac Lab's reset replaces ``extras["log"]``)
        self.step_log = {f"Reward/{k}": v.mean() for k, v in {**factors, **groups}.items()}
        self.last_groups = groups  # per env, for video captions
        return groups["r"] / env.step_dt

"""Reward factors on fixed starts: the mean of InterMimic's reward factors over the steps of an
evaluation (an :func:`~intermimic.evaluation.evaluator.evaluate_policy` observer).

Each step, after the physics and before any reset, the factors are computed from the state as
the reward term computes them (:mod:`~intermimic.tasks.mdp.rewards`, with the env's weights and
body groups): the human factors r_p, r_r, the object factors r_op, r_or, r_opv, the interaction
graph r_ig and the contact-graph factors r_hand, r_other, r_all, with their products r_h, r_o,
r_cg (the energy factors, which need the previous step, are left out). Means run over every step
of every counted attempt, per clip, and over the steps where the reference labels a hand body in
contact (where the contact-graph factors have the most to say).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from ..tasks.mdp.rewards import contact_factors, human_errors, object_errors
from ..utils.atomic_write import atomic_write

FACTORS = ("r_p", "r_r", "r_op", "r_or", "r_opv", "r_ig", "r_hand", "r_other", "r_all", "r_h", "r_o", "r_cg")
FILE_NAME = "reward_factors.json"


class RewardFactorMeans:
    """Sums of each reward factor over the evaluated steps, in total and per clip."""

    def __init__(self, env, term: str = "intermimic"):
        base = env.unwrapped
        self.cmd = base.command_manager.get_term("motion")
        params = base.reward_manager.get_term_cfg(term).params
        self.reward = base.reward_manager.get_term_cfg(term).func
        self.weights = self.reward.weights
        self.release_leg_weights = bool(params.get("release_leg_weights", False))
        self.release_other_bodies = bool(params.get("release_other_bodies", False))
        # sums on the device, read once by summary(): [F] totals, [F] over hand-contact steps, [C, F] per clip
        zeros = lambda *shape: torch.zeros(*shape, dtype=torch.float64, device=self.cmd.device)  # noqa: E731
        num_clips = len(self.cmd.library.clips)
        self.sums, self.hand_sums = zeros(len(FACTORS)), zeros(len(FACTORS))
        self.clip_sums = zeros(num_clips, len(FACTORS))
        self.steps, self.hand_steps, self.clip_steps = zeros(()), zeros(()), zeros(num_clips)
        hands = [self.cmd.groups.ids("hands", self.cmd.device, side) for side in self.cmd.groups.hands]
        self.hand_ids = torch.cat(hands)

    def factors(self) -> dict[str, torch.Tensor]:
        """Every factor of :data:`FACTORS` per env, now."""
        cmd, w = self.cmd, self.weights
        ref = cmd.reference()
        h = human_errors(ref, cmd.body_pos, cmd.body_quat, cmd.body_lin_vel, cmd.body_ang_vel,
                         w.interaction_weight_scale, self.release_leg_weights, cmd.groups)  # fmt: skip
        f = {"r_p": torch.exp(-w.p * h["p"]), "r_r": torch.exp(-w.r * h["r"])}
        if cmd.object is not None:
            o = object_errors(ref, cmd.root_pos, cmd.root_quat, cmd.obj_pos, cmd.obj_quat, cmd.obj_lin_vel, cmd.obj_ang_vel)
            cg = contact_factors(ref.contact, cmd.body_contact(), w, self.release_other_bodies, cmd.groups)
            f.update({"r_op": torch.exp(-w.op * o["op"]), "r_or": torch.exp(-w.orot * o["or"]),
                      "r_opv": torch.exp(-w.opv * o["opv"]),
                      "r_ig": torch.exp(-w.ig * cmd.interaction_graph(w.ig_num_points).error),
                      "r_hand": cg["hand_L"] * cg["hand_R"], "r_other": cg["other"], "r_all": cg["all"]})  # fmt: skip
        ones = torch.ones_like(f["r_p"])
        f["r_h"] = f["r_p"] * f["r_r"]
        f["r_o"] = f.get("r_op", ones) * f.get("r_or", ones) * f.get("r_opv", ones)
        f["r_cg"] = f.get("r_hand", ones) * f.get("r_other", ones) * f.get("r_all", ones)
        return {name: f.get(name, ones) for name in FACTORS}

    def on_step(self, env=None) -> None:
        """Add this step's factors of the counted (scheduled) envs, on the device (no host read)."""
        counted = self.cmd.scheduled
        weight = counted.double()
        values = torch.where(counted, torch.stack(list(self.factors().values())).double(), 0.0)  # [F, E]
        touching = (self.cmd.reference().contact[:, self.hand_ids] > 0).any(-1).double() * weight
        self.sums += values.sum(-1)
        self.steps += weight.sum()
        self.hand_sums += (values * touching).sum(-1)
        self.hand_steps += touching.sum()
        self.clip_sums.index_add_(0, self.cmd.clip_ids, values.T)
        self.clip_steps.index_add_(0, self.cmd.clip_ids, weight)

    def summary(self, clip_names: list[str] | None = None) -> dict:
        """``{"steps", "mean": {factor: value}, "hand_contact_steps", "hand_contact_mean",
        "clips": {name: {"steps", "mean"}}}``."""

        def means(sums, n):
            return {name: round(float(v) / max(n, 1), 4) for name, v in zip(FACTORS, sums.tolist())}

        steps, hand_steps = int(self.steps), int(self.hand_steps)
        clip_steps = [int(n) for n in self.clip_steps.tolist()]
        clips = {(clip_names[c] if clip_names else str(c)): {"steps": n, "mean": means(self.clip_sums[c], n)}
                 for c, n in enumerate(clip_steps) if n > 0}  # fmt: skip
        return {"steps": steps, "mean": means(self.sums, steps), "hand_contact_steps": hand_steps,
                "hand_contact_mean": means(self.hand_sums, hand_steps), "clips": clips}  # fmt: skip

    def write(self, out_dir: str | Path, clip_names: list[str] | None = None) -> Path:
        data = self.summary(clip_names)
        path = Path(out_dir) / FILE_NAME
        path.parent.mkdir(parents=True, exist_ok=True)
        return atomic_write(path, lambda tmp: tmp.write_text(json.dumps(data, indent=2) + "\n"))


def format_factors(summary: dict) -> str:
    """Two lines: each factor's mean over the evaluated steps, and over those with a hand contact."""

    def values(means):
        return " ".join(f"{k} {v:.3f}" for k, v in means.items())

    return (f"reward factors, mean over {summary['steps']} evaluated steps: {values(summary['mean'])}\n"
            f"  over the {summary['hand_contact_steps']} steps whose reference has a hand contact: "
            f"{values(summary['hand_contact_mean']) if summary['hand_contact_steps'] else '-'}")

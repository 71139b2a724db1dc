"""The student's training schedule: DAgger mixing, behaviour cloning, critic warm-up, PPO.

Phases by learning iteration ``it`` (defaults from the authors' release):

* rollout mixing: each environment executes its teacher's action with probability
  ``beta = clamp(1 - (it - mix_start) / mix_iterations, 0, 1)`` (all teacher until 500, no
  teacher after 5500), otherwise the student's;
* ``bc`` (``it < bc_iterations`` = 5000): loss ``expert_loss_coef * E_BC``;
* ``critic_warmup`` (from 5000): ``min((it - 5000) / critic_warmup_iterations, 1) * critic_coef *
  L_critic + expert_loss_coef * E_BC``;
* ``ppo``: from ``ppo_start`` (6000), whenever the running explained variance of the critic has
  been at least ``ev_threshold`` (0.6) for ``ev_streak`` (3) consecutive mini-batch updates:
  ``L_actor * min(n / actor_ramp, 1) + critic_coef * L_critic + bound_coef * L_bound
  + expert_loss_coef * E_BC * max(1 - n / actor_ramp, bc_floor)``, n = mini-batch updates done
  in this phase so far (actor_ramp 4000, bc_floor 0.1).

The explained variance ``1 - Var(R - V) / Var(R)`` is averaged as ``ev <- (1 - rate) ev +
rate * ev_batch`` (rate 0.01) over mini-batch updates from iteration ``ev_start`` (7000, as the
release) on. The
streak is re-evaluated on every update, so PPO pauses (critic warm-up weights) whenever the
critic's explained variance drops below the threshold, as in the release.

All state lives in :class:`StudentSchedule` and is saved in checkpoints, so a resumed run
continues the schedule exactly.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ..tasks.agents.student_schedule_cfg import ScheduleSettings

PHASES = ("bc", "critic_warmup", "ppo")


@dataclass
class LossWeights:
    actor: float
    critic: float
    bound: float
    bc: float
    ppo: bool = False


@dataclass
class StudentSchedule:
    settings: ScheduleSettings = field(default_factory=ScheduleSettings)
    iteration: int = 0
    """Learning iterations completed (the rollout being collected belongs to this iteration)."""
    actor_updates: int = 0
    """Mini-batch updates done in the PPO phase (n)."""
    ev_average: float = 0.0
    ev_streak: int = 0

    # ------------------------------------------------------------------------------
    def beta(self, iteration: int | None = None) -> float:
        """Probability that an environment executes its teacher's action."""
        s, it = self.settings, self.iteration if iteration is None else iteration
        return min(max(1.0 - (it - s.mix_start) / s.mix_iterations, 0.0), 1.0)

    @property
    def ppo_active(self) -> bool:
        return self.iteration >= self.settings.ppo_start and self.ev_streak >= self.settings.ev_streak

    @property
    def phase(self) -> str:
        if self.ppo_active:
            return "ppo"
        return "critic_warmup" if self.iteration >= self.settings.bc_iterations else "bc"

    @property
    def tracks_explained_variance(self) -> bool:
        return self.iteration >= self.settings.ev_start

    def weights(self) -> LossWeights:
        """Loss weights for the next mini-batch update."""
        s = self.settings
        if self.ppo_active:
            ramp = self.actor_updates / s.actor_ramp
            bc = s.expert_loss_coef * max(1.0 - ramp, s.bc_floor)
            return LossWeights(min(ramp, 1.0), s.critic_coef, s.bound_coef, bc, ppo=True)
        if self.iteration >= s.bc_iterations:
            warm = min((self.iteration - s.bc_iterations) / s.critic_warmup_iterations, 1.0)
            return LossWeights(0.0, warm * s.critic_coef, 0.0, s.expert_loss_coef)
        return LossWeights(0.0, 0.0, 0.0, s.expert_loss_coef)

    # ------------------------------------------------------------------------------
    def observe_explained_variance(self, explained_variance: float) -> None:
        """Fold one mini-batch's explained variance into the running average (from ``ev_start``)
        and update the streak; called before the mini-batch's weights are chosen."""
        if not self.tracks_explained_variance:
            return
        s = self.settings
        self.ev_average = (1.0 - s.ev_rate) * self.ev_average + s.ev_rate * explained_variance
        self.ev_streak = self.ev_streak + 1 if self.ev_average >= s.ev_threshold else 0

    def count_update(self, used: LossWeights) -> None:
        """A mini-batch update was made with ``used`` weights."""
        if used.ppo:
            self.actor_updates += 1

    def end_iteration(self) -> None:
        self.iteration += 1

    # ------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        return {"iteration": self.iteration, "actor_updates": self.actor_updates,
                "ev_average": self.ev_average, "ev_streak": self.ev_streak}  # fmt: skip

    def load_state_dict(self, state: dict) -> None:
        self.iteration = int(state["iteration"])
        self.actor_updates = int(state["actor_updates"])
        self.ev_average = float(state["ev_average"])
        self.ev_streak = int(state["ev_streak"])

    def log_values(self) -> dict[str, float]:
        w = self.weights()
        return {
            "beta": self.beta(),
            "phase": float(PHASES.index(self.phase)),
            "weight_actor": w.actor,
            "weight_critic": w.critic,
            "weight_bound": w.bound,
            "weight_bc": w.bc,
            "explained_variance_average": self.ev_average,
            "explained_variance_streak": float(self.ev_streak),
            "ppo_updates": float(self.actor_updates),
        }

    def settings_dict(self) -> dict:
        return asdict(self.settings)

"""PPO with InterMimic's bound loss, as an rsl_rl algorithm class.

rsl_rl's PPO has no penalty on action means leaving the action range; InterMimic's teacher
adds ``bound_loss_coef * mean(sum(relu(mu - b)^2 + relu(-b - mu)^2))`` (a soft ``|mu| <= b``).
This class keeps rsl_rl's rollout storage, models and return computation and replaces only
the optimisation step, so the standard ``OnPolicyRunner`` drives it (select it with
``algorithm.class_name = "intermimic.learning.ppo:InterMimicPPO"``).

Recurrent models, RND and symmetry augmentation are not supported here.
"""

from __future__ import annotations

import torch
import torch.nn as nn
from rsl_rl.algorithms import PPO

from . import distributed


def bound_loss(mean: torch.Tensor, bound: float = 1.0) -> torch.Tensor:
    """Soft penalty on action means outside ``[-bound, bound]``: ``[batch]`` -> scalar."""
    high = torch.clamp_min(mean - bound, 0.0) ** 2
    low = torch.clamp_max(mean + bound, 0.0) ** 2
    return (high + low).sum(dim=-1).mean()


NORMALIZER_UPDATES = ("iteration", "mini_batch")


def local_explained_variance(returns: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """1 - Var(returns - values) / Var(returns) of one mini-batch (for the log)."""
    return 1.0 - (returns - values).var() / (returns.var() + 1.0e-8)


def _gradient_norm(module: nn.Module) -> torch.Tensor:
    """L2 norm of all of ``module``'s gradients (0 when none has one)."""
    grads = [p.grad for p in module.parameters() if p.grad is not None]
    if not grads:
        return torch.zeros(())
    return nn.utils.get_total_norm(grads)


class InterMimicPPO(PPO):
    def __init__(self, *args, bound_loss_coef: float = 10.0, action_bound: float = 1.0,
                 normalizer_update: str = "iteration", **kwargs):  # fmt: skip
        super().__init__(*args, **kwargs)
        if normalizer_update not in NORMALIZER_UPDATES:
            raise ValueError(
                f"agent.algorithm.normalizer_update: unknown '{normalizer_update}', expected one of {list(NORMALIZER_UPDATES)}"
            )
        self.normalizer_update = normalizer_update
        if self.rnd is not None or self.symmetry is not None:
            raise ValueError("InterMimicPPO does not support RND or symmetry augmentation")
        if self.actor.is_recurrent or self.critic.is_recurrent:
            raise ValueError("InterMimicPPO supports feed-forward models only")
        self.bound_loss_coef = bound_loss_coef
        self.action_bound = action_bound
        self.skipped_updates = 0
        """Mini-batches of the last update skipped for a non-finite loss or gradient."""
        self._last_kl: torch.Tensor | None = None
        self.gradient_norms: dict[str, torch.Tensor] = {}
        """The last step's gradient norms (actor, critic), before any clipping."""

    # ----------------------------------------------------------------------------------
    def _adapt_learning_rate(self, old_params, new_params) -> None:
        if old_params is None:  # a batch without the rollout's distribution: no KL to log or adapt to
            return
        with torch.inference_mode():
            kl = self.actor.get_kl_divergence(old_params, new_params).mean()
        self._last_kl = kl  # logged whatever the schedule
        if self.desired_kl is None or self.schedule != "adaptive":
            return
        with torch.inference_mode():
            if self.is_multi_gpu:
                torch.distributed.all_reduce(kl, op=torch.distributed.ReduceOp.SUM)
                kl /= self.gpu_world_size
            if kl > 2.0 * self.desired_kl:
                self.learning_rate = max(1.0e-5, self.learning_rate / 1.5)
            elif 0.0 < kl < 0.5 * self.desired_kl:
                self.learning_rate = min(1.0e-2, self.learning_rate * 1.5)
        for group in self.optimizer.param_groups:
            group["lr"] = self.learning_rate

    def _value_loss(self, values: torch.Tensor, batch) -> torch.Tensor:
        if not self.use_clipped_value_loss:
            return (batch.returns - values).pow(2).mean()
        clipped = batch.values + (values - batch.values).clamp(-self.clip_param, self.clip_param)
        return torch.max((values - batch.returns).pow(2), (clipped - batch.returns).pow(2)).mean()

    def _policy_loss(self, batch) -> tuple[torch.Tensor, torch.Tensor]:
        """Clipped surrogate loss and the batch's entropy; runs the actor forward pass."""
        self.actor(batch.observations, stochastic_output=True)
        log_prob = self.actor.get_output_log_prob(batch.actions)
        self._adapt_learning_rate(batch.old_distribution_params, self.actor.output_distribution_params)
        ratio = torch.exp(log_prob - batch.old_actions_log_prob.squeeze(-1))
        advantages = batch.advantages.squeeze(-1)
        if self.normalize_advantage_per_mini_batch:
            advantages = (advantages - advantages.mean()) / (advantages.std() + 1.0e-8)
        unclipped = ratio * advantages
        clipped = ratio.clamp(1.0 - self.clip_param, 1.0 + self.clip_param) * advantages
        return -torch.min(unclipped, clipped).mean(), self.actor.output_entropy

    def mini_batch_loss(self, batch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The loss of one mini-batch and its parts (for the log): clipped surrogate, value loss
        (weighted by ``value_loss_coef``), bound loss, minus the entropy bonus."""
        surrogate, entropy = self._policy_loss(batch)
        values = self.critic(batch.observations)
        value_loss = self._value_loss(values, batch)
        bound = self.bound_loss_coef * bound_loss(self.actor.output_mean, self.action_bound)
        loss = surrogate + self.value_loss_coef * value_loss + bound - self.entropy_coef * entropy.mean()
        return loss, {"surrogate": surrogate, "value": value_loss, "entropy": entropy.mean(), "bound": bound,
                      "explained_variance": local_explained_variance(batch.returns, values.detach())}  # fmt: skip

    def apply_gradients(self, loss: torch.Tensor) -> bool:
        """One optimiser step on ``loss`` (gradient-norm clipping when ``max_grad_norm`` is set).

        A non-finite loss or gradient skips the step (the parameters stay as they were);
        returns whether the step was taken."""
        self.optimizer.zero_grad()
        # every rank takes the same decision (a rank skipping alone would leave the others
        # waiting in the gradient all-reduce)
        if not distributed.all_ranks(bool(torch.isfinite(loss))):
            return False
        loss.backward()
        if self.is_multi_gpu:
            self.reduce_parameters()
        actor_norm = _gradient_norm(self.actor)
        critic_norm = _gradient_norm(self.critic)
        if not torch.isfinite(actor_norm + critic_norm):
            self.optimizer.zero_grad()
            return False
        self.gradient_norms = {"grad_norm/actor": actor_norm, "grad_norm/critic": critic_norm}
        if self.max_grad_norm:
            nn.utils.clip_grad_norm_(self.actor.parameters(), self.max_grad_norm)
            nn.utils.clip_grad_norm_(self.critic.parameters(), self.max_grad_norm)
        self.optimizer.step()
        return True

    def compute_returns(self, obs) -> None:
        """rsl_rl's returns and advantages; in a job of several ranks the advantages are
        normalised with the mean and standard deviation of all ranks' rollouts (as one process
        with all the environments would)."""
        if not (self.is_multi_gpu and not self.normalize_advantage_per_mini_batch):
            super().compute_returns(obs)
            return
        self.normalize_advantage_per_mini_batch = True  # rsl_rl then leaves them unnormalised
        try:
            super().compute_returns(obs)
        finally:
            self.normalize_advantage_per_mini_batch = False
        adv = self.storage.advantages
        n, total, squares = distributed.sum_over_ranks(
            torch.stack([torch.tensor(float(adv.numel()), device=adv.device), adv.sum().double(), adv.double().square().sum()])
        ).tolist()  # fmt: skip
        mean = total / n
        std = max((squares - n * mean * mean) / max(n - 1.0, 1.0), 0.0) ** 0.5
        self.storage.advantages = (adv - mean) / (std + 1e-8)

    def update(self) -> dict[str, float]:
        """PPO epochs over the rollout. Mini-batches with a non-finite loss or gradient are
        skipped and counted in ``skipped_updates`` (read by the runner's guard)."""
        totals: dict[str, float] = {}
        counts: dict[str, int] = {}
        self.skipped_updates = 0
        per_batch = self.normalizer_update == "mini_batch"
        for batch in self.storage.mini_batch_generator(self.num_mini_batches, self.num_learning_epochs):
            if per_batch:  # the release: the running statistics learn from each mini-batch first
                self.actor.update_normalization(batch.observations)
                self.critic.update_normalization(batch.observations)
            self._last_kl = None
            loss, stats = self.mini_batch_loss(batch)
            if not self.apply_gradients(loss):
                self.skipped_updates += 1
                continue
            stats.update(self.gradient_norms)  # logged whether or not max_grad_norm clips them
            if self._last_kl is not None:  # mini-batches with a surrogate (all of PPO's)
                stats["kl"] = self._last_kl
            for k, v in stats.items():  # a part may be missing from some mini-batches
                totals[k] = totals.get(k, 0.0) + float(v.detach() if torch.is_tensor(v) else v)
                counts[k] = counts.get(k, 0) + 1

        if not per_batch:
            observations = self.storage.observations.flatten(0, 1)
            self.actor.update_normalization(observations)
            self.critic.update_normalization(observations)
        self.storage.clear()
        return {k: v / counts[k] for k, v in totals.items()}

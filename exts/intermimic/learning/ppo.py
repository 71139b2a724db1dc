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

    def apply_gradients(self, loss: torch.Tensor) -> torch.Tensor:
        """One optimiser step on ``loss`` (gradient-norm clipping when ``max_grad_norm`` is set).

        A non-finite loss or gradient (on any rank) takes no step: the parameters and the
        optimiser's moment estimates stay as they were (Adam's step count, kept on the host, still
        advances). The decision is made on the device, so nothing waits for the host; returns it
        as a 0-d bool tensor (whether the step was taken)."""
        self.optimizer.zero_grad()
        loss.backward()
        if self.is_multi_gpu:
            self.reduce_parameters()
        actor_norm = _gradient_norm(self.actor)
        critic_norm = _gradient_norm(self.critic)
        # every rank takes the same decision (gradients are already reduced; the loss is not)
        ok = distributed.all_ranks_on_device(torch.isfinite(loss) & torch.isfinite(actor_norm + critic_norm))
        self.gradient_norms = {"grad_norm/actor": actor_norm, "grad_norm/critic": critic_norm}
        if self.max_grad_norm:
            nn.utils.clip_grad_norm_(self.actor.parameters(), self.max_grad_norm)
            nn.utils.clip_grad_norm_(self.critic.parameters(), self.max_grad_norm)
        with torch.no_grad():  # a skipped step sees zero gradients: no NaN enters a fresh optimiser state
            for group in self.optimizer.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        p.grad.copy_(torch.where(ok, p.grad, 0.0))
        kept = _optimiser_tensors(self.optimizer)
        before = [t.detach().clone() for t in kept]
        self.optimizer.step()
        with torch.no_grad():
            for now, old in zip(kept, before):
                now.copy_(torch.where(ok, now, old))
        return ok

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

    def update(self) -> dict[str, torch.Tensor]:
        """PPO epochs over the rollout. Mini-batches with a non-finite loss or gradient are
        skipped and counted in ``skipped_updates`` (a device tensor, read by the runner's guard
        once per iteration). The returned losses are means over the mini-batches taken, as 0-d
        tensors (read when the log is written)."""
        totals: dict[str, torch.Tensor] = {}
        counts: dict[str, torch.Tensor] = {}
        skipped = None
        per_batch = self.normalizer_update == "mini_batch"
        for batch in self.storage.mini_batch_generator(self.num_mini_batches, self.num_learning_epochs):
            if per_batch:  # the release: the running statistics learn from each mini-batch first
                self.actor.update_normalization(batch.observations)
                self.critic.update_normalization(batch.observations)
            self._last_kl = None
            loss, stats = self.mini_batch_loss(batch)
            ok = self.apply_gradients(loss)
            skipped = (~ok).long() if skipped is None else skipped + (~ok).long()
            stats.update(self.gradient_norms)  # logged whether or not max_grad_norm clips them
            if self._last_kl is not None:  # mini-batches with a surrogate (all of PPO's)
                stats["kl"] = self._last_kl
            taken = ok.to(torch.float32)
            for k, v in stats.items():  # a part may be missing from some mini-batches
                v = v.detach().to(taken) if torch.is_tensor(v) else torch.as_tensor(float(v), device=taken.device)
                totals[k] = totals.get(k, 0.0) + torch.where(ok, v, 0.0)
                counts[k] = counts.get(k, 0.0) + taken
        self.skipped_updates = skipped if skipped is not None else 0

        if not per_batch:
            self._update_normalization_over_rollout()
        self.storage.clear()
        return {k: v / counts[k].clamp_min(1.0) for k, v in totals.items()}

    def _update_normalization_over_rollout(self, budget_bytes: int = 256 * 2**20) -> None:
        """The observation normalisers learn the whole rollout, a few time steps at a time (at most
        ``budget_bytes`` of observations concatenated at once): the running statistics merge
        batches exactly, so the result is that of one update over the rollout, without a copy of it."""
        observations = self.storage.observations
        steps, envs = observations.batch_size[:2]
        row_bytes = sum(v[0, 0].numel() * v.element_size() for v in observations.values())
        chunk = max(1, budget_bytes // max(1, envs * row_bytes))
        for start in range(0, steps, chunk):
            part = observations[start : start + chunk].flatten(0, 1)
            self.actor.update_normalization(part)
            self.critic.update_normalization(part)


def _optimiser_tensors(optimizer: torch.optim.Optimizer) -> list[torch.Tensor]:
    """Every tensor an optimiser step changes on the parameters' device: the parameters and their
    per-parameter state (e.g. Adam's moment estimates), not host-side step counters."""
    out = []
    for group in optimizer.param_groups:
        for p in group["params"]:
            out.append(p)
            for value in optimizer.state.get(p, {}).values():
                if torch.is_tensor(value) and value.device == p.device and value.shape == p.shape:
                    out.append(value)
    return out

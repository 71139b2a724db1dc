"""The student's algorithm: multi-teacher DAgger distillation that hands over to PPO.

Rollouts: the student samples its action, every environment's teacher (the teacher of its
clip's subject, from :class:`~.teacher_bank.TeacherBank`) gives its mean ``mu`` and a sampled,
clipped action, and each environment executes the teacher's action with probability ``beta``
(:class:`~.student_schedule.StudentSchedule`). The teacher mean is stored with the rollout as
the behaviour-cloning target (the observation key ``teacher_mean``); the teacher's own
observation group is not stored.

Updates: PPO's mini-batch machinery (:class:`~.ppo.InterMimicPPO`) with the loss weighted by the
schedule: behaviour cloning ``E_BC = mean_batch sum_a (mu_student - mu_teacher)^2``, the
critic's value loss, the clipped surrogate and the bound loss.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import fields

import torch
from rsl_rl.extensions import resolve_rnd_config, resolve_symmetry_config
from rsl_rl.storage import RolloutStorage
from rsl_rl.utils import resolve_class, resolve_obs_groups
from tensordict import TensorDict

from . import distributed
from .ppo import InterMimicPPO, bound_loss
from ..tasks.agents.student_schedule_cfg import ScheduleSettings
from .student_schedule import StudentSchedule
from .teacher_bank import TeacherBank, TeacherConfigError

SCHEDULE_FIELDS = tuple(f.name for f in fields(ScheduleSettings) if f.name not in ("critic_coef", "bound_coef"))
"""Algorithm settings that configure the schedule (the rest are PPO's)."""
TEACHER_GROUP = "teacher"
"""Observation group holding each teacher's own input."""
TEACHER_MEAN = "teacher_mean"
"""Key of the stored behaviour-cloning target in the rollout's observations."""


def explained_variance(returns: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """``1 - Var(returns - values) / Var(returns)`` of a batch, a 0-d tensor on the batch's device
    (no host sync); in a job of several ranks, of all ranks' mini-batches together (so every rank
    takes the same schedule decision)."""
    if not distributed.active():
        var_returns = returns.var(unbiased=False) + 1.0e-8
        return 1.0 - (returns - values).var(unbiased=False) / var_returns
    r, e = returns.double().flatten(), (returns - values).double().flatten()
    count = torch.full((), r.numel(), dtype=torch.float64, device=r.device)
    n, r1, r2, e1, e2 = distributed.sum_over_ranks(torch.stack([count, r.sum(), r.square().sum(), e.sum(),
                                                                e.square().sum()])).unbind()  # fmt: skip
    var_returns = r2 / n - (r1 / n) ** 2 + 1.0e-8
    return (1.0 - (e2 / n - (e1 / n) ** 2) / var_returns).to(returns.dtype)


class InterMimicDistillation(InterMimicPPO):
    """PPO whose rollouts mix teacher and student actions and whose loss follows the student
    schedule. Bind the teachers with :meth:`bind_teachers` before collecting rollouts."""

    def __init__(self, actor, critic, storage, **kwargs):
        schedule = {name: kwargs.pop(name) for name in SCHEDULE_FIELDS if name in kwargs}
        super().__init__(actor, critic, storage, **kwargs)
        settings = ScheduleSettings(**schedule, critic_coef=self.value_loss_coef, bound_coef=self.bound_loss_coef)
        self.schedule = StudentSchedule(settings)
        self.teachers: TeacherBank | None = None
        self._teacher_ids: Callable[[], torch.Tensor] | None = None
        self._teacher_version: Callable[[], int] | None = None
        self.rollout_stats = {"teacher_action_share": 0.0}
        self._teacher_steps = 0.0
        self._steps = 0

    # ----------------------------------------------------------------------------------
    def bind_teachers(self, teachers: TeacherBank, teacher_ids: Callable[[], torch.Tensor],
                      teacher_version: Callable[[], int] | None = None) -> None:  # fmt: skip
        """Use ``teachers``; ``teacher_ids()`` gives each environment's teacher index now;
        ``teacher_version()`` a number that changes whenever some environment's teacher may have
        changed (the teacher bank then groups the environments by teacher once per change, not
        every step; without it, every step)."""
        self.teachers = teachers
        self._teacher_ids = teacher_ids
        self._teacher_version = teacher_version

    def act(self, obs: TensorDict) -> torch.Tensor:
        if self.teachers is None:
            raise TeacherConfigError("the student's teachers are not loaded (set teachers=<preset>)")
        student_actions = self.actor(obs, stochastic_output=True).detach()
        version = self._teacher_version() if self._teacher_version is not None else None
        teacher_mean, teacher_actions = self.teachers.act(obs[TEACHER_GROUP], self._teacher_ids(), version)
        beta = self.schedule.beta()
        use_teacher = torch.rand(student_actions.shape[0], device=student_actions.device) < beta
        actions = torch.where(use_teacher[:, None], teacher_actions.to(student_actions), student_actions)

        t = self.transition
        t.actions = actions
        t.values = self.critic(obs).detach()
        t.actions_log_prob = self.actor.get_output_log_prob(actions).detach()
        t.distribution_params = tuple(p.detach() for p in self.actor.output_distribution_params)
        stored = obs.exclude(TEACHER_GROUP)
        stored[TEACHER_MEAN] = teacher_mean.to(student_actions)
        t.observations = stored
        self._teacher_steps = self._teacher_steps + use_teacher.sum()  # read once per iteration, in the log
        self._steps += use_teacher.numel()
        return actions

    # ----------------------------------------------------------------------------------
    def mini_batch_loss(self, batch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        values = self.critic(batch.observations)
        value_loss = self._value_loss(values, batch)
        ev = explained_variance(batch.returns, values.detach())
        if self.schedule.tracks_explained_variance:
            # the release's rule re-decides PPO on every update from the running explained
            # variance: one read per mini-batch, from ev_start on (none before)
            ev_value = float(ev)
            if math.isfinite(ev_value):  # a non-finite batch is skipped by the update; keep it out of the average
                self.schedule.observe_explained_variance(ev_value)
        w = self.schedule.weights()
        stats: dict[str, torch.Tensor | float] = {"value": value_loss, "schedule/explained_variance": ev}
        if w.ppo:  # the surrogate needs the student's own actions, which PPO-phase rollouts are
            surrogate, entropy = self._policy_loss(batch)
            stats.update({"surrogate": surrogate, "entropy": entropy.mean()})
        else:
            self.actor(batch.observations, stochastic_output=True)
        student_mean = self.actor.output_mean
        bc = (student_mean - batch.observations[TEACHER_MEAN]).pow(2).sum(dim=-1).mean()
        loss = w.bc * bc
        if w.critic > 0:  # as the release: no critic term (and no Adam step for it) while cloning
            loss = loss + w.critic * value_loss
        if w.ppo:
            bound = bound_loss(student_mean, self.action_bound)
            loss = loss + w.actor * surrogate + w.bound * bound - self.entropy_coef * entropy.mean()
            stats["bound"] = w.bound * bound
        self.schedule.count_update(w)
        stats["behaviour_cloning"] = bc
        return loss, stats

    def update(self) -> dict[str, float]:
        losses = super().update()
        share = self._teacher_steps / max(self._steps, 1)
        self._teacher_steps, self._steps = 0, 0
        schedule = self.schedule.log_values()  # the weights the iteration's last update used
        self.schedule.end_iteration()
        return {**losses, **{f"schedule/{k}": v for k, v in schedule.items()}, "schedule/teacher_action_share": share}

    # ----------------------------------------------------------------------------------
    def save(self) -> dict:
        saved = super().save()
        saved["student_schedule"] = self.schedule.state_dict()
        saved["student_schedule_settings"] = self.schedule.settings_dict()
        if self.teachers is not None:
            saved["teachers"] = {s: str(f) for s, f in self.teachers.files.items()}
        return saved

    def load(self, loaded_dict: dict, load_cfg: dict | None, strict: bool) -> bool:
        load_iteration = super().load(loaded_dict, load_cfg, strict)
        if "student_schedule" in loaded_dict and (load_cfg is None or load_cfg.get("iteration", False)):
            self.schedule.load_state_dict(loaded_dict["student_schedule"])
        return load_iteration

    @staticmethod
    def construct_algorithm(obs: TensorDict, env, cfg: dict, device: str) -> InterMimicDistillation:
        """Actor (the student), critic and rollout storage; the teacher group is not stored, the
        teacher mean is."""
        alg_class, alg_cfg = resolve_class(cfg["algorithm"])
        actor_class, actor_cfg = resolve_class(cfg["actor"])
        critic_class, critic_cfg = resolve_class(cfg["critic"])
        cfg["obs_groups"] = resolve_obs_groups(obs, cfg["obs_groups"], ["actor", "critic"])
        alg_cfg = resolve_symmetry_config(resolve_rnd_config(alg_cfg, obs, cfg["obs_groups"], env), env)
        alg_cfg.pop("share_cnn_encoders", None)
        actor = actor_class(obs, cfg["obs_groups"], "actor", env.num_actions, **actor_cfg).to(device)
        critic = critic_class(obs, cfg["obs_groups"], "critic", 1, **critic_cfg).to(device)
        print(f"Student Model: {actor}\nCritic Model: {critic}")
        stored = obs.exclude(TEACHER_GROUP) if TEACHER_GROUP in obs.keys() else obs.clone()
        stored[TEACHER_MEAN] = torch.zeros(obs.batch_size[0], env.num_actions, device=obs.device)
        storage = RolloutStorage("rl", env.num_envs, cfg["num_steps_per_env"], stored, [env.num_actions], device)
        return alg_class(actor, critic, storage, device=device, **alg_cfg, multi_gpu_cfg=cfg["multi_gpu"])

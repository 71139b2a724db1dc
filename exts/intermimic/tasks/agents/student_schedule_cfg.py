"""The student's schedule settings with the release's numbers (the phases they drive are described
in :mod:`intermimic.learning.student_schedule`). The student runner config takes its defaults
from here, and the schedule runs on them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ScheduleSettings:
    mix_start: int = 500
    mix_iterations: int = 5000
    bc_iterations: int = 5000
    critic_warmup_iterations: int = 1000
    ppo_start: int = 6000
    ev_start: int = 7000
    ev_threshold: float = 0.6
    ev_streak: int = 3
    ev_rate: float = 0.01
    actor_ramp: int = 4000
    bc_floor: float = 0.1
    expert_loss_coef: float = 1.0
    critic_coef: float = 5.0
    bound_coef: float = 10.0

"""Runner of the teachers: rsl_rl's on-policy runner with the project's fault-tolerant loop
(:class:`~.reliable_runner.ReliableRunnerMixin`: atomic checkpoints with the curriculum, resume
that continues the iteration count, SIGINT/SIGTERM handling, the non-finite guard).

Isaac Lab's ``isaaclab train`` can only build rsl_rl's own ``OnPolicyRunner`` (the runner config's
``class_name``); the project's scripts build this one (the config's ``project_runner``)."""

from __future__ import annotations

from rsl_rl.runners import OnPolicyRunner

from .reliable_runner import ReliableRunnerMixin


class TeacherRunner(ReliableRunnerMixin, OnPolicyRunner):
    pass

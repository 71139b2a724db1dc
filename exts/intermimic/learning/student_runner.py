"""Runner of the student: rsl_rl's on-policy loop with the teachers bound to the environment.

The runner config names the teachers (``teachers``: subject id -> teacher checkpoint). They are
loaded when the runner is built (a missing or unreadable checkpoint fails then) and checked
against the environment (observation and action sizes, one teacher for every subject of the
data) before the first rollout. Each environment is served by the teacher of the subject of
the clip it plays. Without teachers (playing, evaluating or exporting a trained student) the
runner loads and runs the student alone.

Checkpoints, resume, signals and the non-finite guard are those of the teacher's runner
(:class:`~.reliable_runner.ReliableRunnerMixin`); the schedule's state is part of the algorithm's
checkpoint. The schedule's values (beta, phase, loss weights, explained variance) go to TensorBoard under
``Student/``; the environment's reward factors under ``Reward/`` as for the teacher.
"""

from __future__ import annotations

from rsl_rl.runners import OnPolicyRunner

from .distillation import TEACHER_GROUP, InterMimicDistillation
from .reliable_runner import RankLogger, ReliableRunnerMixin
from .student_schedule import PHASES
from .teacher_bank import NO_TEACHERS, TeacherBank, TeacherConfigError

SCHEDULE_PREFIX = "schedule/"


class StudentLogger(RankLogger):
    """The runners' logger; the algorithm's ``schedule/*`` values are written under ``Student/``."""

    def log(self, it: int, *args, loss_dict: dict, **kwargs) -> None:
        schedule = {k[len(SCHEDULE_PREFIX) :]: v for k, v in loss_dict.items() if k.startswith(SCHEDULE_PREFIX)}
        losses = {k: v for k, v in loss_dict.items() if not k.startswith(SCHEDULE_PREFIX)}
        if self.writer is not None:
            for key, value in schedule.items():
                self.writer.add_scalar(f"Student/{key}", value, it)
        super().log(it, *args, loss_dict=losses, **kwargs)
        if self.writer is not None and schedule:
            phase = PHASES[int(schedule.get("phase", 0))]
            print(f"[intermimic] student iteration {it}: phase {phase} | beta {schedule.get('beta', 0):.3f} | "
                  f"teacher actions {100 * schedule.get('teacher_action_share', 0):.0f}% | "
                  f"weights actor {schedule.get('weight_actor', 0):.2f} critic {schedule.get('weight_critic', 0):.2f} "
                  f"bc {schedule.get('weight_bc', 0):.2f} | explained variance {schedule.get('explained_variance_average', 0):.3f}",
                  flush=True)  # fmt: skip


class StudentRunner(ReliableRunnerMixin, OnPolicyRunner):
    """The student's runner, with the project's fault-tolerant loop (docs/reliability.md)."""

    alg: InterMimicDistillation
    logger_class = StudentLogger

    def __init__(self, env, train_cfg: dict, log_dir: str | None = None, device: str = "cpu"):
        paths = dict(train_cfg.get("teachers") or {})
        activation = train_cfg.get("teacher_activation", "relu")
        # load the teachers first: a bad checkpoint fails before anything else is built
        self.teachers = TeacherBank.from_checkpoints(paths, device=device, activation=activation) if paths else None
        super().__init__(env, train_cfg, log_dir, device)
        if self.teachers is not None:
            self._bind_teachers()

    def _bind_teachers(self) -> None:
        base = self.env.unwrapped
        obs = self.env.get_observations()
        if TEACHER_GROUP not in obs.keys():
            raise TeacherConfigError(f"the task has no '{TEACHER_GROUP}' observation group (is it a student task?)")
        cmd = base.command_manager.get_term("motion")
        library = cmd.library
        self.teachers.check_fits(obs[TEACHER_GROUP].shape[-1], self.env.num_actions, list(library.subjects))
        self.teachers.to(self.device)
        lookup = self.teachers.index_lookup(list(library.subjects), device=cmd.device)
        self.alg.bind_teachers(self.teachers, lambda: lookup[library.clip_subject[cmd.clip_ids]].to(self.device),
                               lambda: cmd.clip_version)  # fmt: skip
        served = ", ".join(f"subject {s}: {f}" for s, f in sorted(self.teachers.files.items()))
        print(f"[intermimic] {len(self.teachers)} teacher(s) loaded ({served})", flush=True)

    def learn(self, num_learning_iterations: int, init_at_random_ep_len: bool = False) -> None:
        if self.teachers is None:
            raise TeacherConfigError(NO_TEACHERS)
        super().learn(num_learning_iterations, init_at_random_ep_len)

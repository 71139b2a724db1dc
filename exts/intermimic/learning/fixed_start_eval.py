"""Evaluation on fixed starts during training (``agent.eval_interval``).

Training returns move with the curriculum: as starts shift to frames where rollouts fail, the
mean return can fall while the policy improves. Every ``eval_interval`` iterations the runner
therefore pauses training and rolls the deterministic policy in the training environments as
``evaluate`` does: every clip from frame 0 of the reference, all failure terminations on, each
attempt to its clip's end, the curriculum learning nothing from it. Then every environment
restarts from training starts and the next rollout begins.

The training env needs the per-step tracking-error term of the evaluation configuration
(:func:`prepare_training_env`); nothing else of the env cfg changes. Each evaluation is written
as ``evaluate``'s report to ``<run>/fixed_start_eval/iteration_<it>/evaluation.json``.
"""

from __future__ import annotations

from contextlib import contextmanager

from ..tasks.evaluation_cfg import EVAL_EPISODE_S, record_tracking_errors_each_step
from ..evaluation.evaluator import evaluate_policy

EVAL_TAGS = {
    "success_rate": "Eval/success_rate",
    "E_h_cm": "Eval/E_h_cm",
    "E_o_cm": "Eval/E_o_cm",
    "duration_s": "Eval/duration_s",
    "E_hand_cm": "Eval/E_hand_cm",
    "finger_error_deg": "Eval/finger_error_deg",
    "hand_contact_precision": "Eval/hand_contact_precision",
    "hand_contact_recall": "Eval/hand_contact_recall",
}
"""Summary entry -> TensorBoard tag of each fixed-start evaluation."""


def prepare_training_env(env_cfg) -> None:
    """Add what a fixed-start evaluation reads to a training env cfg: each step's tracking errors."""
    record_tracking_errors_each_step(env_cfg)


@contextmanager
def fixed_starts(env, command_name: str = "motion"):
    """While inside, every episode of the wrapped ``env`` starts at its clip's frame 0 from the
    reference, episodes end only at the clip's end or on a failure, and finished episodes teach
    the curriculum nothing. On leaving, every env restarts from a training start (those
    restarts teach the curriculum nothing either)."""
    base = env.unwrapped
    cmd = base.command_manager.get_term(command_name)
    episode_length_s = base.cfg.episode_length_s
    cmd.fixed_starts = cmd.curriculum_paused = True
    base.cfg.episode_length_s = EVAL_EPISODE_S
    try:
        yield
    finally:
        cmd.fixed_starts = False
        base.cfg.episode_length_s = episode_length_s
        try:
            env.reset()
        finally:
            cmd.curriculum_paused = False


def evaluate_in_training(env, policy, attempts: int = 1):
    """The fixed-start evaluation of ``policy`` (a deterministic callable obs -> actions) on the
    training env: ``evaluate``'s per-clip table (:class:`~intermimic.evaluation.metrics.ClipTable`)."""
    with fixed_starts(env):
        return evaluate_policy(env, policy, attempts=attempts, progress=False)

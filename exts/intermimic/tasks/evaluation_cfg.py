"""How an HOI env is configured for evaluation (docs/method.md §10), and the terms that only
record: evaluation starts every clip at frame 0 from the reference with all terminations on, runs
each attempt to its clip's end, and has the env store each step's tracking errors. The evaluation
code (:mod:`intermimic.evaluation`) only reads what an env configured here records."""

from __future__ import annotations

from isaaclab.managers import TerminationTermCfg

from . import mdp
from .hoi_env_cfg import start_at_clip_beginnings
from .step_probe import PROBE_TERM, add_step_probe

EVAL_EPISODE_S = 1.0e5
"""Episode length during evaluation: effectively unlimited, the clip end stops each attempt."""
RECORDING_TERMS = ("tracking_metrics",)
"""Termination terms that only record and never end an episode."""


def configure_for_evaluation(env_cfg) -> None:
    """Switch an HOI env cfg to evaluation: starts at frame 0 from the reference, no PSI, no
    curriculum statistics, no episode-length time-out, per-step tracking errors recorded."""
    env_cfg.episode_length_s = EVAL_EPISODE_S
    start_at_clip_beginnings(env_cfg)
    env_cfg.terminations.time_out = None
    record_tracking_errors_each_step(env_cfg)
    add_step_probe(env_cfg)


def record_tracking_errors_each_step(env_cfg) -> None:
    """Have the env store each step's evaluation numbers per env in ``command.step_metrics`` (E_h, E_o, the hands')."""
    env_cfg.terminations.tracking_metrics = TerminationTermCfg(func=mdp.record_tracking_errors)


def disable_failures(env_cfg) -> None:
    """Leave only the time-out terminations (and the recording terms) of an env cfg: attempts run
    to their clip's end whatever happens (replays measure, they do not judge)."""
    terms = env_cfg.terminations
    for name, term in list(vars(terms).items()):
        if name in (*RECORDING_TERMS, PROBE_TERM) or term is None or not hasattr(term, "time_out"):
            continue
        if not term.time_out:
            setattr(terms, name, None)

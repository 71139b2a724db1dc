"""Settings of the fault-tolerant training loop (``agent.reliability.*``, docs/reliability.md)."""

from __future__ import annotations

from isaaclab.utils import configclass


@configclass
class RunReliabilityCfg:
    save_interval_minutes: float = 15.0
    """Besides every ``save_interval`` iterations, save when this many minutes passed since the last
    checkpoint (0: never). Such a time-based checkpoint is removed when the next one is written,
    unless it also falls on the iteration interval."""
    max_non_finite_updates: int = 5
    """Stop the run, saving the last good parameters, after this many consecutive iterations whose
    update met a non-finite loss or gradient (each such mini-batch is skipped)."""
    handle_signals: bool = True
    """SIGINT (Ctrl-C) and SIGTERM save a checkpoint and end the run cleanly (exit code 130 / 143)."""
    rank_sync_interval: int = 100
    """In a job of several ranks, every this many iterations the ranks compare a hash of their
    parameters and stop with an error when they differ (0: never)."""

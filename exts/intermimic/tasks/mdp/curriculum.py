"""Curriculum term: learn where episodes fail and which simulated states are good starts."""

from __future__ import annotations

from .commands import HOIReferenceCommand, resolve_env_ids


def state_init_statistics(env, env_ids, command_name: str = "motion"):
    """Runs for envs about to reset (before the reset event): records failures for start-frame
    priorities and offers the finished episodes' states to the PSI buffer. Returns logged stats:
    failure rate, PSI insertions and fill, and the start-frame distribution
    (:meth:`HOIReferenceCommand.start_statistics`)."""
    cmd: HOIReferenceCommand = env.command_manager.get_term(command_name)
    if env.common_step_counter == 0 or cmd.curriculum_paused:
        return None
    env_ids = resolve_env_ids(env_ids, env.num_envs, env.device)
    failed = env.termination_manager.terminated[env_ids]
    stats = cmd.end_episodes(env_ids, failed)
    return stats or None

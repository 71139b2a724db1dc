"""The motion data a task loads, read from its config alone (no simulator import: the scripts check
the data before the simulation app starts)."""

from __future__ import annotations

RAW_ROW0_RULES = ("aligned", "release")


def reference_sources(cfg) -> set[str]:
    """Reference sources a task reads: the motion command's and its observation terms' ``source``."""
    motion = cfg.commands.motion
    sources = {motion.teacher_source, motion.reward_source, motion.init_source}
    for group in vars(cfg.observations).values():
        for term in vars(group).values() if group is not None else ():
            params = getattr(term, "params", None)
            if isinstance(params, dict) and params.get("source"):
                sources.add(params["source"])
    return sources


def task_motion_data(cfg):
    """The motion data config the task loads (``cfg.commands.motion.raw_row0`` applied)."""
    motion = cfg.commands.motion
    if motion.raw_row0 not in RAW_ROW0_RULES:
        raise ValueError(
            f"env.commands.motion.raw_row0: unknown rule '{motion.raw_row0}', expected one of {RAW_ROW0_RULES}"
        )
    if motion.raw_row0 == "release" and "corrected" not in reference_sources(cfg):
        return motion.motion.replace(load_corrected=False)
    return motion.motion

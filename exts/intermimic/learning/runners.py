"""Runner selection: the config's ``project_runner`` when it has one (a ``module:Class``), else its
``class_name``: rsl_rl's runners by name, or a runner class given as ``module:Class``."""

from __future__ import annotations

from isaaclab.utils import to_dict


def create_runner(env, agent_cfg, log_dir: str | None):
    """Instantiate the runner named by ``agent_cfg.project_runner`` or ``agent_cfg.class_name``."""
    name = getattr(agent_cfg, "project_runner", None) or agent_cfg.class_name
    if ":" not in name:
        from isaaclab_rl.rsl_rl import create_rsl_rl_runner

        return create_rsl_rl_runner(env, agent_cfg, log_dir=log_dir)
    from rsl_rl.utils import resolve_callable

    runner_class = resolve_callable(name)
    return runner_class(env, to_dict(agent_cfg), log_dir=log_dir, device=agent_cfg.device)

"""The start-up banner every command that builds an environment prints once: what will run."""

from __future__ import annotations

from ..utils.errors import PREFIX


def physics_text(env_cfg) -> str:
    """Physics engine, rate, setting (``timing``) and solver iterations, in one line."""
    from ..tasks.physics import physics_name

    name = physics_name(env_cfg.sim.physics)
    engine = {"ovphysx": "PhysX kit-less (ovphysx)", "isaacsim_physx": "PhysX under Isaac Sim (isaacsim_physx)",
              "newton_mjwarp": "Newton MuJoCo-Warp (newton_mjwarp)"}[name]  # fmt: skip
    hz = round(1.0 / env_cfg.sim.dt)
    text = f"{engine}, {hz} Hz, {env_cfg.decimation} physics steps per policy step"
    timing = getattr(env_cfg, "timing", None)
    text += f", setting {timing}" if timing else ""
    window = getattr(getattr(getattr(env_cfg, "commands", None), "motion", None), "contact_window", None)
    if window:
        from ..tasks.mdp.contact_window import window_steps

        text += f", contacts over the last {window_steps(window, env_cfg.decimation)} ({window} window)"
    return text


def format_banner(title: str, rows: list[tuple[str, str]]) -> str:
    """``[intermimic] title`` then aligned ``name  value`` rows (empty values left out)."""
    rows = [(k, v) for k, v in rows if v]
    width = max((len(k) for k, _ in rows), default=0)
    lines = [f"{PREFIX} {title}"] + [f"  {k.ljust(width)}  {v}" for k, v in rows]
    return "\n".join(lines)


def startup_banner(command: str, args, env_cfg, agent_cfg, selection, overrides: list[str], notes=(),
                   **extra: str) -> str:  # fmt: skip
    """The banner of ``command`` (train, play, evaluate, ...): task, data, presets and overrides
    applied, physics, device, environments, then ``extra`` rows (log dir, checkpoint, ...)."""
    applied = " ".join(overrides) or "none"
    if notes:
        applied += " | " + "; ".join(notes)
    rows = [
        ("task", args.task),
        ("data", selection.describe()),
        ("applied", applied),
        ("physics", physics_text(env_cfg)),
        ("device", f"{env_cfg.sim.device}, {env_cfg.scene.num_envs} envs"
                   + (f", seed {env_cfg.seed}" if env_cfg.seed is not None else "")),  # fmt: skip
    ]
    rows += [(k.replace("_", " "), v) for k, v in extra.items()]
    return format_banner(command, rows)

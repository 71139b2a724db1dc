"""Building small HOI environments for simulator tests (kit-less Newton on the CPU)."""

from __future__ import annotations

from pathlib import Path


def build_hoi_env(num_envs: int = 2, files: list[str] | None = None, objects_dir: str | Path | None = None,
                  corrected: list[str] | None = None, cfg_class=None, edit=None):  # fmt: skip
    """An :class:`~intermimic.tasks.hoi_env.HOIEnv` on the CPU with ``num_envs`` envs.

    ``files``/``objects_dir``/``corrected`` select clips (default: the built-in demo);
    ``edit(cfg)`` may change the config before the env is built.
    """
    from isaaclab_tasks.utils.hydra import resolve_presets

    from intermimic.tasks.hoi_env import HOIEnv
    from intermimic.tasks.hoi_env_cfg import HOIEnvCfg

    cfg = resolve_presets((cfg_class or HOIEnvCfg)())
    cfg.scene.num_envs = num_envs
    cfg.sim.device = "cpu"
    cfg.seed = 0
    motion = cfg.commands.motion.motion
    if files:
        motion.files = [str(f) for f in files]
    if corrected:
        motion.corrected = [str(c) for c in corrected]
    if objects_dir:
        motion.objects_dir = str(objects_dir)
    if edit is not None:
        edit(cfg)
    return HOIEnv(cfg)


def newton_sim(dt: float, **sim_kwargs):
    """A CPU SimulationContext with the tasks' default physics (Newton preset of HOIPhysicsCfg)."""
    import isaaclab.sim as sim_utils

    from intermimic.tasks.physics import HOIPhysicsCfg

    cfg = sim_utils.SimulationCfg(dt=dt, device="cpu", physics=HOIPhysicsCfg().newton, **sim_kwargs)
    return sim_utils.SimulationContext(cfg)

"""Building small HOI environments for simulator tests (kit-less Newton on the CPU), and
running the command-line scripts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def run_script(script: str, *args, cwd, timeout: int = 900) -> str:
    """Run ``source/<script>`` with this Python; its stdout, or a failure showing its output."""
    proc = subprocess.run([sys.executable, str(REPO_ROOT / "source" / script), *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)  # fmt: skip
    assert proc.returncode == 0, f"{script} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def build_corrected_sample_env(sample_data: Path, clips, num_envs: int = 2, edit=None):
    """An env on sample clips whose observations, rewards and starts use the teacher-corrected
    references: states of this very humanoid, so the reference state is reproducible exactly
    (the raw capture is of the subject's own body)."""

    def corrected(cfg):
        motion = cfg.commands.motion
        motion.teacher_source = motion.reward_source = motion.init_source = "corrected"
        if edit is not None:
            edit(cfg)

    return build_hoi_env(
        num_envs=num_envs,
        files=[sample_data / "OMOMO_new" / f"{c}.pt" for c in clips],
        corrected=[sample_data / "OMOMO_retarget"],
        objects_dir=sample_data / "objects",
        edit=corrected,
    )


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

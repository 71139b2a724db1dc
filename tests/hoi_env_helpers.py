"""Building small HOI environments for simulator tests (kit-less Newton on the CPU), and
running the command-line scripts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
TEST_DEVICE = os.environ.get("INTERMIMIC_TEST_DEVICE", "cpu")
"""Device of the environments these helpers build (``INTERMIMIC_TEST_DEVICE=cuda:0`` runs the
simulator tests that use them on a GPU; the CPU by default)."""


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
    cfg.sim.device = TEST_DEVICE
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
    return preset_sim(dt, "newton_mjwarp", **sim_kwargs)


def preset_sim(dt: float, physics: str, **sim_kwargs):
    """A CPU SimulationContext with the tasks' physics preset ``physics`` (``newton_mjwarp``,
    ``ovphysx``), prepared as the tasks' env prepares it."""
    import isaaclab.sim as sim_utils

    from intermimic.tasks.physics import HOIPhysicsCfg, prepare_physx

    cfg = sim_utils.SimulationCfg(dt=dt, device=TEST_DEVICE, physics=getattr(HOIPhysicsCfg(), physics), **sim_kwargs)
    sim = sim_utils.SimulationContext(cfg)
    prepare_physx(sim, cfg)
    return sim


# -------------------------------------------------------------------------------------------------
# Putting an env on its reference (shared by the SMPL-X and G1 simulator tests)
# -------------------------------------------------------------------------------------------------
def clip_per_env(env) -> None:
    """Give env i the first clip of the object it holds."""
    cmd = env.command_manager.get_term("motion")
    for e in range(env.num_envs):
        cmd.clip_ids[e] = int(cmd.library.clip_object.eq(cmd.env_object[e]).nonzero().flatten()[0])


def place_at_reference(env, frames, steps_into_episode: int = 5) -> None:
    """Write the reference state (the reward source's) of ``frames`` (one per env) and make the
    episode clock say ``steps_into_episode`` steps have passed (so failures are armed)."""
    import torch

    cmd = env.command_manager.get_term("motion")
    env.episode_length_buf[:] = steps_into_episode
    cmd.start_frame[:] = torch.as_tensor(frames) - steps_into_episode
    cmd.write_reference_state(torch.arange(env.num_envs),
                              cmd.library.state(cmd.clip_ids, torch.as_tensor(frames), cmd.cfg.reward_source))  # fmt: skip


def check_reference_state_is_tracked(env, frames) -> None:
    """Env i, on the first clip of its object, written at the reference state of ``frames[i]``:
    bodies and joints where the reference has them and every tracking factor of the reward at 1."""
    env.reset()
    clip_per_env(env)
    place_at_reference(env, frames)
    cmd = env.command_manager.get_term("motion")
    ref = cmd.reference()
    assert (cmd.body_pos - ref.body_pos).norm(dim=-1).max() < 1e-3
    assert (cmd.dof_pos - ref.dof_pos).abs().max() < 1e-5
    f = env.reward_manager._term_cfgs[0].func.factors()
    for name in ("r_p", "r_r", "r_pv", "r_rv", "r_op", "r_or", "r_opv", "r_orv", "r_ig"):
        assert f[name].min() > 0.999, name


def replay_through_physics(env, steps: int, env_id: int | None = None) -> list[dict[str, float]]:
    """Replay the running clips through the simulator from the current frames: every step the
    reference state is written and the joint drives get the next frame as position target and
    the frame-to-frame rate as velocity target; after one step of physics the reward compares the
    state with the next reference frame. Returns per step the lowest human (r_p r_r), object
    (r_op r_or r_opv) and interaction-graph factor over the envs (or of env ``env_id``); fails when
    an episode ends."""
    import torch

    cmd = env.command_manager.get_term("motion")
    lib, source = cmd.library, cmd.cfg.reward_source
    action = env.action_manager.get_term("joint_pos")
    ids = torch.arange(env.num_envs)
    lows = []
    try:
        for step in range(steps):
            frame = cmd.frame.clone()
            now, nxt = lib.state(cmd.clip_ids, frame, source), lib.state(cmd.clip_ids, frame + 1, source)
            cmd.write_reference_state(ids, now)
            rates = cmd.joint_coords.to_sim_vel(nxt.dof_pos, (nxt.dof_pos - now.dof_pos) * lib.fps)
            cmd.robot.set_joint_velocity_target_index(target=rates, joint_ids=cmd.joint_ids)
            _, _, terminated, truncated, _ = env.step((nxt.dof_pos - action._offset) / action._scale)
            assert not (terminated | truncated).any(), f"episode ended at step {step}"
            assert (cmd.frame == frame + 1).all()
            f = env.reward_manager._term_cfgs[0].func.factors()
            groups = {"human": f["r_p"] * f["r_r"], "object": f["r_op"] * f["r_or"] * f["r_opv"], "ig": f["r_ig"]}
            lows.append({k: round(float(v.min() if env_id is None else v[env_id]), 3) for k, v in groups.items()})
    finally:
        cmd.robot.set_joint_velocity_target_index(target=torch.zeros(env.num_envs, len(cmd.joint_ids)),
                                                  joint_ids=cmd.joint_ids)  # fmt: skip
    return lows

"""The teacher task on kit-less PhysX (``physics=ovphysx``) on the CPU, on real sample clips.

Correctness comes from the data, as on Newton (test_teacher_env.py): with humanoid and object
written to the reference state every tracking error vanishes and every factor is at its maximum,
frame after frame (a kinematic replay); the joint state read back is the one written (PhysX keeps
rotation vectors, the task hinge angles); and a replay through PhysX (the reference state
written each step, the drives aiming at the next frame) stays close to the data.
"""

import pytest
import torch

from hoi_env_helpers import clip_per_env, place_at_reference, replay_through_physics

from intermimic.assets import humanoid_spec as spec

pytestmark = pytest.mark.sim

CLIPS = ("sub2_largetable_003", "sub2_woodchair_003")
FACTORS = ("r_p", "r_r", "r_pv", "r_rv", "r_op", "r_or", "r_opv", "r_orv", "r_ig")


@pytest.fixture(scope="module")
def env(sample_data):
    from hoi_env_helpers import build_corrected_sample_env

    from intermimic.tasks.physics import HOIPhysicsCfg

    def edit(cfg):
        cfg.sim.physics = HOIPhysicsCfg().ovphysx
        cfg.commands.motion.state_init.start_at_zero_prob = 1.0  # deterministic starts
        cfg.commands.motion.state_init.psi = False

    env = build_corrected_sample_env(sample_data, CLIPS, edit=edit)
    yield env
    env.close()


def _cmd(env):
    return env.command_manager.get_term("motion")


def test_the_simulator_is_physx_with_the_release_scene_settings(env):
    from isaaclab_ov.physics import OvPhysxManager

    cmd = _cmd(env)
    assert type(cmd.robot).__module__.startswith("isaaclab_ov") and cmd.joint_coords.rotation_vectors
    stage = OvPhysxManager._stage_usda  # the stage PhysX was given
    assert 'physxScene:solverType = "TGS"' in stage and "physxScene:bounceThreshold = 0.2" in stage
    assert "physxCollision:contactOffset = 0.02" in stage  # the humanoid's, as the release


def test_kinematic_replay_keeps_every_factor_at_its_maximum(env):
    """Humanoid and object written to the reference state, frame after frame of both clips."""
    env.reset()
    clip_per_env(env)
    cmd = _cmd(env)
    for frame in range(20, 120, 20):
        place_at_reference(env, [frame, frame])
        ref = cmd.reference()
        assert (cmd.body_pos - ref.body_pos).norm(dim=-1).max() < 1e-3, frame
        f = env.reward_manager._term_cfgs[0].func.factors()
        for name in FACTORS:
            assert f[name].min() > 0.999, (frame, name)
        e_h, e_o = cmd.tracking_errors()
        assert e_h.max() < 1e-3 and e_o.max() < 1e-3
        for name in ("fall", "key_body_error", "object_error", "interaction_graph"):
            cfg = env.termination_manager.get_term_cfg(name)
            assert not cfg.func(env, **cfg.params).any(), (frame, name)


def test_joint_state_reads_back_as_written(env):
    """Positions and velocities written as hinge angles and rates come back the same through
    PhysX's rotation vectors and body-frame angular velocities."""
    env.reset()
    clip_per_env(env)
    place_at_reference(env, [50, 50])
    cmd = _cmd(env)
    ref = cmd.reference()
    from intermimic.utils import rotations as rot

    written = rot.from_hinges(ref.dof_pos.reshape(-1, 51, 3))
    read = rot.from_hinges(cmd.dof_pos.reshape(-1, 51, 3))
    assert rot.angle_between(written, read).max() < 1e-4
    torch.testing.assert_close(cmd.dof_vel, ref.dof_vel, atol=2e-3, rtol=1e-3)
    assert ref.dof_vel.abs().max() > 0.5  # the clips move


def test_contact_sensor_bodies_are_mapped_by_name(env):
    """PhysX orders the sensor's bodies its own way: canonical body b reads the row named b."""
    cmd = _cmd(env)
    sensor = env.scene["contact_forces"]
    assert [sensor.body_names[i] for i in cmd.contact_sensor_ids.tolist()] == list(spec.BODY_NAMES)
    assert sensor.body_names != list(spec.BODY_NAMES)


def test_replay_through_physx_stays_close_to_the_data(env):
    """From where the object is carried, 20 steps: each step the reference state is written and the
    drives aim at the next frame. Measured on this CPU: human >= 0.93, object >= 0.77 (median 0.96),
    interaction graph >= 0.98; Newton gives 0.97 / 0.99 / 0.998 (docs/performance.md compares the
    two over every sample clip)."""
    env.reset()
    clip_per_env(env)
    cmd = _cmd(env)
    lib = cmd.library
    manipulated = lib.sources["corrected"].obj_manipulated
    starts = [int(torch.nonzero(manipulated[lib.clip_start[c] : lib.clip_start[c] + lib.clip_length[c]] > 0)[0])
              for c in cmd.clip_ids.tolist()]  # fmt: skip
    place_at_reference(env, starts, steps_into_episode=2)
    lows = replay_through_physics(env, 20)
    lowest = {name: min(x[name] for x in lows) for name in ("human", "object", "ig")}
    median_object = sorted(x["object"] for x in lows)[len(lows) // 2]
    assert lowest["human"] > 0.85 and lowest["object"] > 0.6 and median_object > 0.9 and lowest["ig"] > 0.95, lows
    # the humanoid touches the object and the ground in PhysX's contact sensor
    contact = cmd.body_contact()
    assert contact[:, spec.body_indices(("L_Toe", "R_Toe", "L_Ankle", "R_Ankle"))].any()

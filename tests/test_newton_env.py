"""The teacher task on Newton (``physics=newton_mjwarp``, the preset beside the default PhysX) on
the CPU, on real sample clips.

Correctness comes from the data, as on PhysX (test_teacher_env.py): with humanoid and object
written to the reference state every tracking error vanishes and every factor is at its maximum;
the joint state read back is the one written (Newton keeps hinge angles, as the task); a replay
through Newton stays close to the data; the contact window and the release's action mapping hold
as on PhysX; and Newton's model carries the release's shape settings.
"""

import pytest
import torch

from backend_checks import check_push_off_counts_as_contact, check_release_actions_are_rotation_vectors
from hoi_env_helpers import check_reference_state_is_tracked, clip_per_env, place_at_reference, replay_through_physics

pytestmark = pytest.mark.sim

CLIPS = ("sub2_largetable_003", "sub2_woodchair_003")


@pytest.fixture(scope="module")
def env(sample_data):
    from hoi_env_helpers import build_corrected_sample_env

    from intermimic.tasks.physics import HOIPhysicsCfg

    def edit(cfg):
        cfg.sim.physics = HOIPhysicsCfg().newton_mjwarp
        cfg.commands.motion.state_init.start_at_zero_prob = 1.0  # deterministic starts
        cfg.commands.motion.state_init.psi = False

    env = build_corrected_sample_env(sample_data, CLIPS, edit=edit)
    yield env
    env.close()


def _cmd(env):
    return env.command_manager.get_term("motion")


def test_the_simulator_is_newton_with_hinge_coordinates(env):
    cmd = _cmd(env)
    assert type(cmd.robot).__module__.startswith("isaaclab_newton") and not cmd.joint_coords.rotation_vectors


def test_reference_state_gives_every_tracking_factor_one(env):
    check_reference_state_is_tracked(env, [40, 60])


def test_joint_state_reads_back_as_written(env):
    env.reset()
    clip_per_env(env)
    place_at_reference(env, [50, 50])
    cmd = _cmd(env)
    ref = cmd.reference()
    torch.testing.assert_close(cmd.dof_pos, ref.dof_pos, atol=1e-5, rtol=0)
    torch.testing.assert_close(cmd.dof_vel, ref.dof_vel, atol=2e-3, rtol=1e-3)


def test_kinematic_replay_of_a_real_clip(env):
    """From where the object is carried, 20 steps: each step the reference state is written and the
    drives aim at the next frame; the state after one step of physics stays at the next frame."""
    env.reset()
    clip_per_env(env)
    cmd = _cmd(env)
    lib = cmd.library
    manipulated = lib.sources["corrected"].obj_manipulated
    starts = [int(torch.nonzero(manipulated[lib.clip_start[c] : lib.clip_start[c] + lib.clip_length[c]] > 0)[0])
              for c in cmd.clip_ids.tolist()]  # fmt: skip
    place_at_reference(env, starts, steps_into_episode=2)
    lows = replay_through_physics(env, 20)
    for name in ("human", "object", "ig"):
        assert min(x[name] for x in lows) > 0.9, (name, lows)


def test_feet_pushed_off_mid_step_are_in_contact(env):
    check_push_off_counts_as_contact(env)


def test_release_actions_are_rotation_vectors(env):
    check_release_actions_are_rotation_vectors(env)


def test_newton_reads_the_release_shape_settings(env):
    """The ground's and the humanoid's offsets become Newton's margin (rest offset) and gap (contact
    minus rest offset); the humanoid's friction is the release's 1.0."""
    from isaaclab_newton.physics import NewtonManager

    from intermimic.assets import physx_settings as physx

    model = NewtonManager.get_model()
    labels = list(model.shape_label)
    margin, gap, mu = (getattr(model, n).numpy() for n in ("shape_margin", "shape_gap", "shape_material_mu"))
    ground = [i for i, name in enumerate(labels) if "/World/ground" in name]
    humanoid = [i for i, name in enumerate(labels) if "/Robot/" in name]
    assert ground and len(humanoid) >= 52
    assert margin[ground] == pytest.approx(physx.REST_OFFSET)
    assert gap[ground] == pytest.approx(physx.CONTACT_OFFSET - physx.REST_OFFSET)
    assert mu[humanoid] == pytest.approx(physx.HUMANOID_FRICTION)

"""The teacher MDP in the simulator on real sample clips (two objects, one per env), on the
default physics: kit-less PhysX (``physics=ovphysx``; test_newton_env.py runs Newton).

Correctness comes from the data: with humanoid and object written to the reference state every
error vanishes and every factor is 1; replaying a real clip kinematically keeps the factors high
and fires no termination; crafted states fire each termination; the joint state read back is the
one written (PhysX keeps rotation vectors, the task hinge angles); contacts are read over the
release's window; the release's actions are rotation vectors; PhysX was given the release's body
and shape settings.
"""

import math

import numpy as np
import pytest
import torch

from backend_checks import check_push_off_counts_as_contact, check_release_actions_are_rotation_vectors
from hoi_env_helpers import clip_per_env, place_at_reference, replay_through_physics

from intermimic.assets import humanoid_spec as spec

pytestmark = pytest.mark.sim

CLIPS = ("sub2_largetable_003", "sub2_woodchair_003")
FAILURES = ("fall", "key_body_error", "object_error", "interaction_graph", "hand_contact")


@pytest.fixture(scope="module")
def env(sample_data):
    from hoi_env_helpers import build_corrected_sample_env

    def edit(cfg):
        cfg.commands.motion.state_init.start_at_zero_prob = 1.0  # deterministic starts
        cfg.commands.motion.state_init.psi = False

    env = build_corrected_sample_env(sample_data, CLIPS, edit=edit)
    yield env
    env.close()


def _cmd(env):
    return env.command_manager.get_term("motion")


def test_heterogeneous_objects_follow_the_clips(env):
    cmd = _cmd(env)
    env.reset()
    assert sorted(cmd.library.object_names) == ["largetable", "woodchair"]
    assert cmd.env_object.tolist() == [0, 1]
    assert (cmd.library.clip_object[cmd.clip_ids] == cmd.env_object).all()


PER_OFFSET = {"root_height": 1, "body_positions": 153, "body_rotations": 312, "body_linear_velocities": 156,
              "body_angular_velocities": 156, "contact": 31, "key_position_error": 63, "rotation_error": 132,
              "contact_error": 31, "reference_key_positions": 63, "reference_rotations": 132,
              "key_linear_velocity_error": 63, "angular_velocity_error": 66, "object_state": 21,
              "interaction_field": 156, "interaction_field_error": 63}  # fmt: skip


def test_observation_layout_is_offset_major_3198(env):
    """Two full 1599-d blocks, one per future offset, terms in the method's row order."""
    om = env.observation_manager
    assert om.group_obs_dim["policy"] == (3198,)
    layout = om.layout("policy")
    assert sum(PER_OFFSET.values()) == 1599
    assert list(layout.terms) == list(PER_OFFSET) and list(layout.term_dims) == list(PER_OFFSET.values())
    assert layout.num_blocks == 2 and layout.offsets == (1, 16) and layout.block_dim == 1599
    # block k holds offset k's reference: the key-position error of the second block is the one
    # against frame t + 16, computed here directly from the command
    env.reset()
    obs = om.compute_group("policy")
    cmd = _cmd(env)
    from intermimic.utils import rotations as rot

    for block, k in enumerate((1, 16)):
        ref = cmd.future(offsets=[k]).body_pos[:, 0, spec.KEY_BODY_IDS]
        err = rot.rotate(cmd.heading_inverse()[:, None], ref - cmd.body_pos[:, spec.KEY_BODY_IDS]).reshape(2, -1)
        torch.testing.assert_close(obs[:, layout.term_slice("key_position_error", block)], err, atol=1e-5, rtol=0)
    # the simulated-state rows repeat in every block
    torch.testing.assert_close(obs[:, layout.term_slice("body_positions", 0)], obs[:, layout.term_slice("body_positions", 1)])
    assert obs[:, layout.term_slice("root_height", 0)].flatten().tolist() == cmd.root_pos[:, 2].tolist()


def test_reference_state_zeroes_errors_and_maximises_factors(env):
    env.reset()
    clip_per_env(env)
    place_at_reference(env, [40, 60])
    cmd = _cmd(env)
    # errors against the current frame (offset 0) vanish
    saved = cmd.future_offsets
    cmd.future_offsets = [0, 0]
    cmd._version += 1
    try:
        obs = env.observation_manager.compute_group("policy")
        for name, block in env.observation_manager.layout("policy").split(obs).items():
            block = block.reshape(block.shape[0], -1)
            if name in ("key_position_error", "interaction_field_error"):
                assert block.abs().max() < 2e-3, name
            if name in ("key_linear_velocity_error", "angular_velocity_error"):
                # reference body velocities are finite differences of positions; the simulator's
                # come from the written joint rates through the kinematic chain: equal up to the
                # curvature within one frame
                assert block.abs().max() < 0.15, name
            if name == "rotation_error":  # tn of the identity: (1,0,0, 0,0,1) per body
                ident = torch.tensor([1.0, 0, 0, 0, 0, 1]).repeat(block.shape[1] // 6)
                torch.testing.assert_close(block, ident.expand_as(block), atol=2e-3, rtol=0)
            if name == "object_state":  # rows 6:9 position error, 15:21 velocity errors per offset
                per = block.reshape(2, 2, 21)
                assert per[..., 6:9].abs().max() < 1e-3 and per[..., 15:21].abs().max() < 1e-3
                torch.testing.assert_close(per[..., 9:15], torch.tensor([1.0, 0, 0, 0, 0, 1]).expand(2, 2, 6),
                                           atol=1e-3, rtol=0)  # fmt: skip
    finally:
        cmd.future_offsets = saved
        cmd._version += 1
    f = env.reward_manager._term_cfgs[0].func.factors()
    for name in ("r_p", "r_r", "r_pv", "r_rv", "r_op", "r_or", "r_opv", "r_orv", "r_ig"):
        assert f[name].min() > 0.999, name
    for name in FAILURES[:4]:
        fired = env.termination_manager.get_term_cfg(name).func(env, **env.termination_manager.get_term_cfg(name).params)
        assert not fired.any(), name


def test_reward_of_a_reference_state_is_r_per_step(env):
    """The environment returns r itself per step (in [0, 1], as the release's PPO sees it), not
    r times the step length: at the reference state the human, object and interaction-graph
    factors are 1, so the returned reward is the contact-graph factor alone."""
    env.reset()
    clip_per_env(env)
    place_at_reference(env, [40, 60], steps_into_episode=1)  # first step: no accelerations yet
    term = env.reward_manager._term_cfgs[0].func
    reward = env.reward_manager.compute(env.step_dt).clone()
    groups = term.combine(term.factors())
    for name in ("r_h", "r_o", "r_ig_total"):
        assert groups[name].min() > 0.99, name
    torch.testing.assert_close(reward, groups["r"], atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(reward, groups["r_cg"], atol=2e-2, rtol=0)
    assert reward.min() > 0.2  # not r / 30


def test_the_default_simulator_is_physx_with_the_release_settings(env):
    """PhysX, through its own read-back where it has one (shape offsets and friction of every
    humanoid body), else through the stage it was given (scene, body damping, ground offsets)."""
    import ovphysx
    from isaaclab_ov.physics import OvPhysxManager

    from intermimic.assets import physx_settings as physx

    cmd = _cmd(env)
    assert type(cmd.robot).__module__.startswith("isaaclab_ov") and cmd.joint_coords.rotation_vectors
    instance = OvPhysxManager.get_physx_instance()

    def read(tensor_type):
        binding = instance.create_tensor_binding(pattern=cmd.robot._binding_pattern, tensor_type=tensor_type)
        out = torch.zeros(*binding.shape)
        binding.read(out)
        binding.destroy()
        return out

    types = ovphysx.TensorType
    assert torch.allclose(read(types.ARTICULATION_CONTACT_OFFSET), torch.tensor(physx.CONTACT_OFFSET))
    assert torch.allclose(read(types.ARTICULATION_REST_OFFSET), torch.tensor(physx.REST_OFFSET))
    friction = read(types.ARTICULATION_SHAPE_FRICTION_AND_RESTITUTION)  # static, dynamic, restitution
    assert torch.allclose(friction[..., :2], torch.tensor(physx.HUMANOID_FRICTION))
    stage = OvPhysxManager._stage_usda  # the stage PhysX was given
    assert 'physxScene:solverType = "TGS"' in stage and "physxScene:bounceThreshold = 0.2" in stage
    robot = stage[stage.index('def Xform "Robot"'):]
    assert f"physxRigidBody:angularDamping = {physx.BODY_ANGULAR_DAMPING}" in robot
    assert "physxRigidBody:linearDamping = 0\n" in robot
    ground = stage[stage.index('def Xform "ground"'):][:2000]
    assert f"physxCollision:contactOffset = {physx.CONTACT_OFFSET}" in ground and "physxCollision:restOffset = 0\n" in ground


def test_contact_sensor_bodies_are_mapped_by_name(env):
    """The contact sensor orders bodies its own way (PhysX does): the command reads sensor rows by
    body name, so canonical body b reads the sensor row named b, over the contact window."""
    cmd = _cmd(env)
    sensor = env.scene["contact_forces"]
    assert [sensor.body_names[i] for i in cmd.contact_sensor_ids.tolist()] == list(spec.BODY_NAMES)
    assert sensor.body_names != list(spec.BODY_NAMES)
    history = sensor.data.net_forces_w_history.torch[:, :, cmd.contact_sensor_ids]
    assert history.shape[1] == cmd.contact_window_steps == env.cfg.decimation // 2
    torch.testing.assert_close(cmd.body_contact_forces(), history.mean(dim=1))


def test_joint_state_reads_back_as_written(env):
    """Positions and velocities written as hinge angles and rates come back the same through
    PhysX's rotation vectors and body-frame angular velocities."""
    from intermimic.utils import rotations as rot

    env.reset()
    clip_per_env(env)
    place_at_reference(env, [50, 50])
    cmd = _cmd(env)
    ref = cmd.reference()
    written = rot.from_hinges(ref.dof_pos.reshape(-1, 51, 3))
    read = rot.from_hinges(cmd.dof_pos.reshape(-1, 51, 3))
    assert rot.angle_between(written, read).max() < 1e-4
    torch.testing.assert_close(cmd.dof_vel, ref.dof_vel, atol=2e-3, rtol=1e-3)
    assert ref.dof_vel.abs().max() > 0.5  # the clips move


def test_feet_pushed_off_mid_step_are_in_contact(env):
    check_push_off_counts_as_contact(env)


def test_release_actions_are_rotation_vectors(env):
    check_release_actions_are_rotation_vectors(env)


def test_kinematic_replay_of_a_real_clip(env):
    """Replay the clips through the simulator: every step the reference state is written and the
    joint drives get the next frame as position target and the frame-to-frame rate as velocity
    target; after one step of physics the state is compared with the next reference frame.
    The replay starts where the object is being carried. PhysX pushes the hands out of the small
    overlaps a written state leaves with the object, so the object factor dips on single steps
    (measured on this CPU: human >= 0.93, object >= 0.77, median 0.96, interaction graph >= 0.98;
    docs/performance.md compares the backends over every sample clip)."""
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
    # the humanoid touches the ground in the contact sensor
    contact = cmd.body_contact()
    assert contact[:, spec.body_indices(("L_Toe", "R_Toe", "L_Ankle", "R_Ankle"))].any()


@pytest.mark.parametrize("failure", FAILURES[:4])
def test_each_failure_fires_on_a_crafted_state(env, failure):
    env.reset()
    clip_per_env(env)
    place_at_reference(env, [40, 60])
    cmd = _cmd(env)
    state = cmd.sim_state()
    ids = torch.arange(env.num_envs)
    if failure == "fall":
        state.root_pos[0, 2] = 0.2
    elif failure == "key_body_error":
        state.root_pos[0, 0] += 1.0
    else:  # object far away from where the reference has it
        state.obj_pos[0] += torch.tensor([3.0, 0.0, 0.0])
    cmd.write_state(ids, state)
    term = env.termination_manager.get_term_cfg(failure)
    fired = term.func(env, **term.params)
    assert fired.tolist() == [True, False]
    # not before the second step of an episode
    env.episode_length_buf[:] = 1
    assert not term.func(env, **term.params).any()


def test_clip_end_is_a_time_out_not_a_failure(env):
    env.reset()
    clip_per_env(env)
    cmd = _cmd(env)
    last = cmd.library.clip_length[cmd.clip_ids] - 1
    place_at_reference(env, (last - 1).tolist(), steps_into_episode=3)
    action = env.action_manager.get_term("joint_pos")
    target = cmd.library.state(cmd.clip_ids, last, cmd.cfg.reward_source).dof_pos
    _, _, terminated, truncated, _ = env.step((target - action._offset) / action._scale)
    assert truncated.all() and not terminated.any()
    assert env.termination_manager.get_term_cfg("clip_end").time_out


def test_observation_slices_match_their_formulas(env):
    """A hand-built state: the reference pose turned by a yaw and moved; selected slices are
    recomputed here with independent maths (scipy rotations, brute-force nearest points)."""
    from scipy.spatial.transform import Rotation

    env.reset()
    clip_per_env(env)
    place_at_reference(env, [50, 70])
    cmd = _cmd(env)
    state = cmd.sim_state()
    yaw = 0.9
    turn = torch.tensor(Rotation.from_euler("z", yaw).as_quat(), dtype=torch.float32)  # xyzw
    from intermimic.utils import rotations as rot

    state.root_quat = rot.multiply(turn.expand(2, 4), state.root_quat)
    state.root_pos = state.root_pos + torch.tensor([0.3, -0.2, 0.0])
    cmd.write_state(torch.arange(2), state)
    obs = env.observation_manager.compute_group("policy")
    slices = {name: block[:, 0] for name, block in env.observation_manager.layout("policy").split(obs).items()}

    body_pos = cmd.body_pos.numpy().astype(np.float64)
    body_quat = cmd.body_quat.numpy().astype(np.float64)
    root_q = cmd.root_quat.numpy().astype(np.float64)
    for e in range(2):
        fwd = Rotation.from_quat(root_q[e]).apply([1.0, 0.0, 0.0])
        h = Rotation.from_euler("z", -math.atan2(fwd[1], fwd[0]))
        np.testing.assert_allclose(slices["root_height"][e, 0].item(), body_pos[e, 0, 2], atol=1e-5)
        expected = h.apply(body_pos[e, 1:] - body_pos[e, 0]).reshape(-1)
        np.testing.assert_allclose(slices["body_positions"][e].numpy(), expected, atol=1e-4)
        mats = (h * Rotation.from_quat(body_quat[e])).as_matrix()  # [52, 3, 3]
        expected = np.concatenate([mats[:, :, 0], mats[:, :, 2]], axis=-1).reshape(-1)
        np.testing.assert_allclose(slices["body_rotations"][e].numpy(), expected, atol=1e-4)
        ref_next = cmd.future().body_pos[e, 0].numpy()
        expected = h.apply(ref_next[spec.KEY_BODY_IDS] - body_pos[e, spec.KEY_BODY_IDS]).reshape(-1)
        np.testing.assert_allclose(slices["key_position_error"][e].numpy(), expected, atol=1e-4)
        pts = cmd.object_points_w()[e].numpy().astype(np.float64)
        d = body_pos[e][:, None, :] - pts[None]
        nearest = d[np.arange(52), np.linalg.norm(d, axis=-1).argmin(-1)]
        local = h.apply(nearest)
        n = np.linalg.norm(local, axis=-1, keepdims=True)
        expected = (local / (n + 1e-6) * np.exp(-5 * n)).reshape(-1)
        np.testing.assert_allclose(slices["interaction_field"][e].numpy(), expected, atol=1e-4)
    # the contact slice is the thresholded sensor reading of the 31 contact bodies over the
    # release's window: any of the last decimation / 2 physics steps
    history = env.scene["contact_forces"].data.net_forces_w_history.torch[:, : env.cfg.decimation // 2]
    forces = history[:, :, cmd.contact_sensor_ids][:, :, spec.CONTACT_BODY_IDS]
    torch.testing.assert_close(slices["contact"], (forces.abs() > 0.1).any(-1).any(1).float())

"""Checks that every physics backend must pass, written once and run by each backend's test
module on its own env (test_teacher_env.py: PhysX, the default; test_newton_env.py: Newton)."""

from __future__ import annotations

import math

import torch

from hoi_env_helpers import clip_per_env, place_at_reference

FEET = ("L_Ankle", "R_Ankle", "L_Toe", "R_Toe")
HANDS = ("L_Wrist", "R_Wrist", "L_Index3", "R_Index3", "L_Thumb3", "R_Thumb3")
PUSH_DEPTH = 0.015
"""How far (m) below its reference the standing humanoid is put (the reference's feet rest on the
ground within a few millimetres)."""


def _physics_step(env) -> None:
    """One physics step as the env's step takes it (targets written, simulated, scene updated)."""
    env.action_manager.apply_action()
    env.scene.write_data_to_sim()
    env.sim.step(render=False)
    env.scene.update(dt=env.physics_dt)


def push_off_mid_step(env, frame: int = 5) -> dict:
    """One policy step taken physics step by physics step: for the first half the humanoid hangs
    0.5 m above its reference (touching nothing); at the start of the second half it is put on its
    reference (standing on the ground) :data:`PUSH_DEPTH` lower, moving up at 1.5 m/s, so the ground pushes the
    feet off within the step. The object is out of reach throughout. Returns the contact readings: ``body_contact`` (what every term
    reads), per-physics-step sensor readings and the history the command sees."""
    from intermimic.assets import humanoid_spec as spec
    from intermimic.tasks.mdp.commands import reference_to_state
    from intermimic.tasks.mdp.contact_window import contact_in_window

    env.reset()
    clip_per_env(env)
    place_at_reference(env, [frame] * env.num_envs)
    cmd = env.command_manager.get_term("motion")
    ids = torch.arange(env.num_envs, device=env.device)
    state = cmd.sim_state()
    state.root_pos[:, 2] += 0.5
    state.obj_pos[:, 2] -= 10.0  # the object out of reach (below the ground plane's box)
    cmd.write_state(ids, state)
    sensor = env.scene[cmd.cfg.contact_sensor_name]
    per_step = []
    decimation = env.cfg.decimation
    for k in range(decimation):
        if k == decimation // 2:
            state = reference_to_state(cmd.reference())  # standing: the feet on the ground
            state.root_pos[:, 2] -= PUSH_DEPTH
            state.root_lin_vel[:] = torch.tensor([0.0, 0.0, 1.5], device=env.device)
            state.obj_pos[:, 2] -= 10.0
            cmd.write_state(ids, state)
        _physics_step(env)
        per_step.append(sensor.data.net_forces_w.torch[:, cmd.contact_sensor_ids].clone())
    env.common_step_counter += 1  # a new policy step for the command's per-step cache
    history = cmd.contact_force_history()
    threshold = cmd.cfg.contact_force_threshold
    return {
        "contact": cmd.body_contact(),
        "per_step": torch.stack(per_step[::-1], dim=1),  # newest first, as the history
        "history": history,
        "last_step": contact_in_window(history, 1, threshold),
        "window_steps": cmd.contact_window_steps,
        "feet": spec.body_indices(FEET),
        "hands": spec.body_indices(HANDS),
    }


def check_push_off_counts_as_contact(env) -> None:
    """The release's window (the second half of the policy step): feet pushed off the ground
    within it are in contact although the last physics step saw no force; hands that touched
    nothing are not; the history the command reads is the sensor's reading at each physics step."""
    r = push_off_mid_step(env)
    steps = r["window_steps"]
    assert steps == env.cfg.decimation // 2
    torch.testing.assert_close(r["history"][:, :steps], r["per_step"][:, :steps])
    feet, hands = r["feet"], r["hands"]
    assert r["contact"][:, feet].any(dim=1).all(), ("feet pushed off inside the window count as contact", r["per_step"][:, :, feet].abs().amax(dim=(2, 3)))
    assert not r["last_step"][:, feet].any(), "the last physics step alone must not see the pushed-off feet"
    assert not r["contact"][:, hands].any(), "hands that touched nothing are not in contact"
    # the first half of the step (hanging in the air) lies outside the window and saw nothing
    assert (r["per_step"][:, steps:].abs().amax(dim=(1, 2, 3)) == 0).all()


def check_release_actions_are_rotation_vectors(env) -> None:
    """The release's action mapping: ``offset + scale * a`` is each body's rotation vector. The PD
    target the backend receives is that rotation for multi-axis rotations (PhysX: the rotation
    vector itself; Newton: the hinge angles of the same rotation)."""
    from intermimic.tasks.mdp.actions import HOIJointPositionAction
    from intermimic.utils import rotations as rot

    cfg = env.cfg.actions.joint_pos.replace(release_quirk=True)
    term = HOIJointPositionAction(cfg, env)
    own = env.action_manager.get_term("joint_pos")
    assert term.rotation_vector_targets and not own.rotation_vector_targets
    generator = torch.Generator().manual_seed(0)
    actions = (torch.rand(env.num_envs, term.action_dim, generator=generator) * 1.2 - 0.6).to(env.device)
    term.process_actions(actions)
    term.apply_actions()
    release = (term._offset + term._scale * actions).reshape(env.num_envs, -1, 3)  # the release's formula
    assert release.norm(dim=-1).max() > 1.0 and (release.abs() > 0.3).sum(dim=-1).ge(2).any()  # multi-axis
    cmd = env.command_manager.get_term("motion")
    sim_target = cmd.robot.data.joint_pos_target.torch[:, cmd.joint_ids].reshape(env.num_envs, -1, 3)
    expected = rot.from_exp_map(release)
    if cmd.joint_coords.rotation_vectors:  # PhysX
        torch.testing.assert_close(sim_target, release)
    got = rot.from_exp_map(sim_target) if cmd.joint_coords.rotation_vectors else rot.from_hinges(sim_target)
    assert rot.angle_between(got, expected).max() < 1e-4
    # the hinge reading of the same actions differs for multi-axis rotations (what was read before)
    as_hinges = rot.from_hinges(release)
    assert rot.angle_between(as_hinges, expected).max() > math.radians(5)
    # and the term maps targets back to the same actions
    back = term.actions_for_targets(term.target_hinges(), clip=False)
    torch.testing.assert_close(rot.from_exp_map((term._offset + term._scale * back).reshape(release.shape)), expected,
                               atol=1e-4, rtol=0)  # fmt: skip


def check_crossed_legs_collide(env) -> None:
    """Self-collision: in the air, in the release's crouch (where each ankle's full-mesh collider
    overlaps its knee's) the filter keeps every body free of contact; then the drives cross the
    legs (hip roll targets -0.5 / +0.5 rad, inside the joints' limits of 0.52) and the legs meet
    (the feet first): both legs touch and both hips stop well short of their targets. The legs
    start apart and are driven into each other: a pose written already crossed would start deep
    inside the other leg, and what the engine's push-out then reports depends on its earlier steps."""
    from intermimic.tasks.mdp.commands import reference_to_state

    cmd = env.command_manager.get_term("motion")
    action = env.action_manager.get_term("joint_pos")
    emb = cmd.embodiment
    env.reset()
    crouch = torch.tensor(emb.default_joint_pos).expand(env.num_envs, -1).clone()
    state = reference_to_state(cmd.library.state(cmd.clip_ids, torch.zeros_like(cmd.clip_ids)))
    state.root_pos[:, 2] += 1.5
    state.root_quat[:] = torch.tensor([0.0, 0.0, 0.0, 1.0])
    for name in ("root_lin_vel", "root_ang_vel", "dof_vel"):
        getattr(state, name).zero_()
    state.dof_pos[:] = crouch
    cmd.write_state(torch.arange(env.num_envs), state)

    def hold(dof_pos):
        env.episode_length_buf[:] = 0  # failures not armed: no reset clears the sensor
        env.step((dof_pos - action._offset) / action._scale)
        return cmd.body_contact()

    assert not hold(crouch).any()
    left, right = emb.joint_names.index("left_hip_roll_joint"), emb.joint_names.index("right_hip_roll_joint")
    crossed = crouch.clone()
    crossed[:, left], crossed[:, right] = -0.5, 0.5
    for _ in range(6):
        contact = hold(crossed)
    leg_links = ("hip_pitch", "hip_roll", "hip_yaw", "knee", "ankle_pitch", "ankle_roll")
    for side in ("left", "right"):
        assert contact[:, [emb.body_names.index(f"{side}_{b}_link") for b in leg_links]].any(-1).all(), side
    assert (cmd.dof_pos[:, left] > -0.3).all() and (cmd.dof_pos[:, right] < 0.3).all(), cmd.dof_pos[:, [left, right]]
    assert cmd.root_pos[:, 2].min() > 1.0  # nowhere near the ground or the object

"""The teacher env (built-in demo data) builds kit-less on the default physics (PhysX) on the
CPU, steps and resets."""

import pytest
import torch

pytestmark = pytest.mark.sim


@pytest.fixture(scope="module")
def env():
    from hoi_env_helpers import build_hoi_env

    env = build_hoi_env(num_envs=2)
    yield env
    env.close()


def test_spaces_and_physics_backend(env):
    from isaaclab_ov.physics import OvPhysxCfg

    assert isinstance(env.cfg.sim.physics, OvPhysxCfg)
    assert env.action_manager.total_action_dim == 153
    robot = env.scene["robot"]
    assert robot.num_bodies == 52 and robot.num_joints == 153
    assert env.scene["contact_forces"].data.net_forces_w.torch.shape == (2, 52, 3)
    assert env.scene["contact_forces"].data.net_forces_w_history.torch.shape == (2, env.cfg.decimation // 2, 52, 3)
    assert env.observation_manager.group_obs_dim["policy"] == (3198,)


def test_reset_puts_humanoid_on_the_reference(env):
    obs, _ = env.reset()
    cmd = env.command_manager.get_term("motion")
    ref = cmd.reference()
    assert torch.allclose(cmd.body_pos, ref.body_pos, atol=1e-4)
    assert torch.allclose(cmd.dof_pos, ref.dof_pos, atol=1e-4)
    assert torch.allclose(cmd.object_points_w(), cmd.ref_object_points_w(), atol=1e-4)
    assert torch.isfinite(obs["policy"]).all()


def test_step_and_reset(env):
    env.reset()
    for _ in range(4):
        obs, rew, terminated, truncated, _ = env.step(torch.zeros(2, 153))
        assert torch.isfinite(obs["policy"]).all()
        assert ((rew >= 0) & (rew <= 1)).all()
    assert (env.episode_length_buf == 4).all()
    env.reset()
    assert (env.episode_length_buf == 0).all()


def test_reward_factors_are_logged_also_on_steps_with_resets(env):
    """Isaac Lab's reset replaces ``extras["log"]``; the factors of the step must survive it."""
    env.reset()
    env.step(torch.zeros(2, 153))
    env.episode_length_buf[0] = env.max_episode_length - 1  # env 0 times out on the next step
    _, rew, _, truncated, extras = env.step(torch.zeros(2, 153))
    assert truncated[0] and not truncated[1]
    log = extras["log"]
    assert {"Reward/r", "Reward/r_h", "Reward/r_ig", "Reward/r_hand"} <= set(log)
    term = env.reward_manager.get_term_cfg("intermimic").func
    torch.testing.assert_close(torch.as_tensor(log["Reward/r"]), term.step_log["Reward/r"])
    assert 0.0 <= float(log["Reward/r"]) <= 1.0


def test_interaction_graph_is_computed_once_per_step(env, monkeypatch):
    """Reward and interaction-graph termination share one computation of the graph per step."""
    from intermimic.tasks.mdp import commands

    calls = []
    original = commands.interaction_graph_stats

    def counted(*args, **kwargs):
        calls.append(kwargs.get("floors", args[4] if len(args) > 4 else ()))
        return original(*args, **kwargs)

    monkeypatch.setattr(commands, "interaction_graph_stats", counted)
    env.reset()
    env.step(torch.zeros(2, 153))
    calls.clear()
    for _ in range(3):
        env.step(torch.zeros(2, 153))
    assert len(calls) == 3
    assert all(0.5 in floors for floors in calls)  # the termination's ratio came from that pass


def test_cpu_env_steps_on_one_torch_thread_and_restores_the_setting(env):
    """``cpu_step_threads=1``: the managers run single-threaded, the caller's setting comes back."""
    seen = []
    compute = env.reward_manager.compute

    def spy(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return compute(*args, **kwargs)

    before = torch.get_num_threads()
    env.reward_manager.compute = spy
    torch.set_num_threads(2)
    try:
        env.step(torch.zeros(2, 153))
        assert seen == [1] and torch.get_num_threads() == 2
    finally:
        del env.reward_manager.compute
        torch.set_num_threads(before)


def test_user_mjcf_humanoid_runs_the_task(env, sample_data):
    """The authors' MJCF of the same topology can replace the project's humanoid."""
    env.close()  # one simulation per process at a time
    from hoi_env_helpers import build_hoi_env

    def edit(cfg):
        cfg.humanoid_mjcf = str(sample_data / "humanoid" / "omomo.xml")

    other = build_hoi_env(num_envs=1, edit=edit)
    try:
        from intermimic.assets.humanoid import humanoid_usd_path

        used = other.cfg.scene.robot.spawn.usd_path
        assert used == str(humanoid_usd_path(sample_data / "humanoid" / "omomo.xml")) != str(humanoid_usd_path())
        other.reset()
        cmd = other.command_manager.get_term("motion")
        assert torch.allclose(cmd.body_pos, cmd.reference().body_pos, atol=1e-4)
        other.step(torch.zeros(1, 153))
    finally:
        other.close()

"""The package imports, registers its gym IDs and is discoverable by Isaac Lab's CLI."""

import importlib.metadata

import gymnasium as gym
import pytest

pytestmark = pytest.mark.unit


def test_package_imports_and_registers():
    import intermimic
    import intermimic.tasks as tasks

    assert intermimic.__version__
    assert set(tasks.TASKS) == {"InterMimic-Teacher-v0", "InterMimic-Teacher-Play-v0", "InterMimic-Student-v0",
                                "InterMimic-Student-Play-v0", "InterMimic-Student-Transformer-v0",
                                "InterMimic-Student-Transformer-Play-v0", "InterMimic-G1-Teacher-v0",
                                "InterMimic-G1-Teacher-Play-v0", "InterMimic-G1-Student-v0",
                                "InterMimic-G1-Student-Play-v0", "InterMimic-G1-Student-Transformer-v0",
                                "InterMimic-G1-Student-Transformer-Play-v0"}  # fmt: skip
    for task in tasks.TASKS:
        spec = gym.spec(task)
        assert spec.entry_point == "intermimic.tasks.hoi_env:HOIEnv"
        assert spec.kwargs["env_cfg_entry_point"].startswith("intermimic.tasks.")
        assert spec.kwargs["rsl_rl_cfg_entry_point"].startswith("intermimic.tasks.agents.")


def test_isaaclab_entry_point_group_lists_the_package():
    eps = importlib.metadata.entry_points(group="isaaclab.tasks")
    assert "intermimic.tasks" in [ep.value for ep in eps]


def test_cfg_entry_points_resolve():
    from isaaclab_tasks.utils.parse_cfg import load_cfg_from_registry

    env_cfg = load_cfg_from_registry("InterMimic-Teacher-v0", "env_cfg_entry_point")
    agent_cfg = load_cfg_from_registry("InterMimic-Teacher-v0", "rsl_rl_cfg_entry_point")
    play_cfg = load_cfg_from_registry("InterMimic-Teacher-Play-v0", "env_cfg_entry_point")
    assert env_cfg.decimation * env_cfg.sim.dt == pytest.approx(1.0 / 30.0)
    assert play_cfg.scene.num_envs < env_cfg.scene.num_envs
    assert agent_cfg.algorithm.class_name == "intermimic.learning.ppo:InterMimicPPO"


def test_student_cfgs_resolve_with_their_observation_groups():
    from isaaclab_tasks.utils.parse_cfg import load_cfg_from_registry

    for task, offsets, actor in (("InterMimic-Student-v0", (1, 16), "ClippedMLPModel"),
                                 ("InterMimic-Student-Transformer-v0", (0, 1, 4, 16), "TransformerModel")):  # fmt: skip
        env_cfg = load_cfg_from_registry(task, "env_cfg_entry_point")
        agent_cfg = load_cfg_from_registry(task, "rsl_rl_cfg_entry_point")
        obs = env_cfg.observations
        assert obs.policy.key_position_error.params == {"source": "corrected", "offsets": offsets}
        assert obs.teacher.key_position_error.params == {"source": "raw", "offsets": (1, 16)}
        assert obs.critic.key_position_error.params == {"source": "corrected", "offsets": offsets}  # as the release
        assert env_cfg.commands.motion.reward_source == "corrected"
        assert agent_cfg.class_name == "intermimic.learning.student_runner:StudentRunner"
        assert agent_cfg.actor.class_name.endswith(actor) and agent_cfg.num_steps_per_env == 16
        assert not agent_cfg.algorithm.use_clipped_value_loss and agent_cfg.algorithm.max_grad_norm is None
    play = load_cfg_from_registry("InterMimic-Student-Play-v0", "env_cfg_entry_point")
    assert play.observations.teacher is None


def test_g1_cfgs_simulate_the_g1_on_robot_clips():
    """The G1 tasks name the G1 embodiment for the scene and the clip reader, and keep the
    release's G1 object density under either timing preset."""
    from isaaclab_tasks.utils.parse_cfg import load_cfg_from_registry

    for task in ("InterMimic-G1-Teacher-v0", "InterMimic-G1-Teacher-Play-v0", "InterMimic-G1-Student-v0",
                 "InterMimic-G1-Student-Play-v0"):  # fmt: skip
        env_cfg = load_cfg_from_registry(task, "env_cfg_entry_point")
        assert env_cfg.embodiment == "g1_dex3" and env_cfg.commands.motion.motion.embodiment == "g1_dex3", task
        assert env_cfg.object_density == 25.0 and env_cfg.object_densities == {}, task
        env_cfg.timing = "legacy"
        env_cfg.apply_timing()
        assert env_cfg.object_density == 25.0 and env_cfg.decimation == 4, task
    teacher = load_cfg_from_registry("InterMimic-G1-Teacher-v0", "rsl_rl_cfg_entry_point")
    student = load_cfg_from_registry("InterMimic-G1-Student-v0", "rsl_rl_cfg_entry_point")
    assert teacher.experiment_name == "intermimic_g1_teacher" and student.experiment_name == "intermimic_g1_student"
    assert load_cfg_from_registry("InterMimic-Teacher-v0", "env_cfg_entry_point").embodiment == "smplx"

"""The package imports, registers its gym IDs and is discoverable by Isaac Lab's CLI."""

import importlib.metadata

import gymnasium as gym
import pytest

pytestmark = pytest.mark.unit


def test_package_imports_and_registers():
    import intermimic
    import intermimic.tasks as tasks

    assert intermimic.__version__
    for task in (tasks.TEACHER_TASK, tasks.TEACHER_PLAY_TASK):
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

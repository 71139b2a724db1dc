"""Command-line configuration: physics presets, Isaac Lab overrides, experiment and data set presets."""

import argparse

import pytest

pytestmark = pytest.mark.unit


def _args(**kw):
    base = dict(task="InterMimic-Teacher-v0", device="cpu", num_envs=None, seed=None, motion=None)
    base.update(kw)
    return argparse.Namespace(**base)


def test_default_physics_is_newton_and_physx_comes_in_two_presets(monkeypatch):
    from isaaclab_newton.physics import NewtonCfg
    from isaaclab_ov.physics import OvPhysxCfg
    from isaaclab_physx.physics import PhysxCfg

    from intermimic.app.configure import resolve_configs
    from intermimic.tasks import physics

    env_cfg, _ = resolve_configs(_args(), [])
    assert isinstance(env_cfg.sim.physics, NewtonCfg)
    env_cfg, _ = resolve_configs(_args(), ["physics=ovphysx"])
    assert isinstance(env_cfg.sim.physics, OvPhysxCfg)
    # Isaac Sim is not installed here; the preset itself resolves to Isaac Sim's PhysX config
    monkeypatch.setattr(physics, "require_physics_backend", lambda name: None)
    env_cfg, _ = resolve_configs(_args(), ["physics=isaacsim_physx"])
    assert isinstance(env_cfg.sim.physics, PhysxCfg) and not isinstance(env_cfg.sim.physics, OvPhysxCfg)


def test_overrides_devices_sizes_and_seed_reach_both_configs():
    from intermimic.app.configure import resolve_configs

    env_cfg, agent_cfg = resolve_configs(_args(num_envs=3, seed=7), ["agent.max_iterations=5", "env.episode_length_s=2.0"])
    assert env_cfg.scene.num_envs == 3 and env_cfg.seed == 7 and agent_cfg.seed == 7
    assert env_cfg.sim.device == "cpu" and agent_cfg.device == "cpu"
    assert agent_cfg.max_iterations == 5 and env_cfg.episode_length_s == 2.0


def test_experiment_presets_switch_terms_off():
    from intermimic.app.configure import resolve_configs

    env_cfg, _ = resolve_configs(_args(), ["experiment=no_iet"])
    for name in ("key_body_error", "object_error", "interaction_graph", "hand_contact"):
        assert getattr(env_cfg.terminations, name) is None
    assert env_cfg.terminations.fall is not None
    env_cfg, _ = resolve_configs(_args(), ["experiment=no_psi"])
    assert env_cfg.commands.motion.state_init.psi is False


def test_legacy_timing_is_applied_when_chosen():
    from intermimic.app.configure import resolve_configs
    from intermimic.tasks.physics import LEGACY

    env_cfg, _ = resolve_configs(_args(), ["experiment=legacy_timing"])
    assert env_cfg.timing == "legacy"
    env_cfg.apply_timing()  # what the env does before building the scene
    assert env_cfg.sim.dt == pytest.approx(1.0 / 120.0) and env_cfg.decimation == 4
    assert env_cfg.object_density == LEGACY.object_density
    assert env_cfg.rewards.intermimic.params["weights"].r == 2.5
    env_cfg.timing = "fast"
    env_cfg.applied_timing = ""
    with pytest.raises(ValueError, match="env.timing: unknown setting 'fast'"):
        env_cfg.apply_timing()


def test_unknown_presets_are_reported_with_the_choices():
    from intermimic.utils.errors import UserError
    from intermimic.app.configure import resolve_configs

    with pytest.raises(UserError, match="experiment preset 'nope' not found.*Available: .*no_psi"):
        resolve_configs(_args(), ["experiment=nope"])
    with pytest.raises(UserError, match="dataset preset 'nope' not found"):
        resolve_configs(_args(), ["dataset=nope"])


def test_motion_paths_and_dataset_fields(tmp_path):
    from intermimic.app.configure import resolve_configs

    env_cfg, _ = resolve_configs(_args(motion=[str(tmp_path)]), ["dataset.subjects=[2,3]", f"dataset.objects_dir={tmp_path}"])
    motion = env_cfg.commands.motion.motion
    assert motion.files == [str(tmp_path)] and motion.subjects == [2, 3] and motion.objects_dir == str(tmp_path)


def test_cli_keeps_overrides_after_a_motion_list(tmp_path):
    from intermimic.app.command_line import make_parser, parse

    clip = tmp_path / "sub1_box_000.pt"
    clip.write_bytes(b"")
    args, rest = parse(make_parser("t", "InterMimic-Teacher-v0"), ["--motion", str(clip), "dataset.subjects=[1]"])
    assert args.motion == [str(clip)] and rest == ["dataset.subjects=[1]"]

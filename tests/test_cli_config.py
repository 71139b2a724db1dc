"""Command-line configuration: physics presets, Isaac Lab overrides, experiment and data set presets."""

import argparse

import pytest

pytestmark = pytest.mark.unit


def _args(**kw):
    base = dict(task="InterMimic-Teacher-v0", device="cpu", num_envs=None, seed=None, motion=None)
    base.update(kw)
    return argparse.Namespace(**base)


def test_default_physics_is_physx_on_every_task_and_newton_is_a_preset(monkeypatch):
    from isaaclab_newton.physics import NewtonCfg
    from isaaclab_ov.physics import OvPhysxCfg
    from isaaclab_physx.physics import PhysxCfg

    from intermimic.app.configure import resolve_configs
    from intermimic.tasks import TASKS, physics

    for task in TASKS:
        env_cfg, _ = resolve_configs(_args(task=task), [])
        assert isinstance(env_cfg.sim.physics, OvPhysxCfg), task
    env_cfg, _ = resolve_configs(_args(), ["physics=newton_mjwarp"])
    assert isinstance(env_cfg.sim.physics, NewtonCfg)
    env_cfg, _ = resolve_configs(_args(), ["physics=newton"])  # Isaac Lab's old name
    assert isinstance(env_cfg.sim.physics, NewtonCfg)
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


def test_release_g1_preset_resolves_the_releases_g1_numbers():
    """``experiment=release_g1``: the numbers of the release's omomo_g1_29dof_with_hand.yaml (sim dt
    1/60 s with 2 substeps, control every 2nd step: 120 Hz physics at 30 Hz; TGS 4 position / 0
    velocity iterations; depenetration 50; plane restitution 0.7; object density 25; reward weights
    p 10, r 10, op 0, opv 0.01, ig 20, eg 5e-5 / 5e-5 / 5e-9). SMPL-X tasks refuse it."""
    from intermimic.utils.errors import UserError
    from intermimic.app.configure import resolve_configs

    env_cfg, _ = resolve_configs(_args(task="InterMimic-G1-Teacher-v0"), ["experiment=release_g1"])
    assert env_cfg.sim.dt == pytest.approx(1.0 / 60.0 / 2) and env_cfg.decimation * env_cfg.sim.dt == pytest.approx(1 / 30)
    props = env_cfg.scene.robot.spawn.articulation_props[0]
    assert (props.solver_position_iteration_count, props.solver_velocity_iteration_count) == (4, 0)
    assert env_cfg.scene.robot.spawn.rigid_props.max_depenetration_velocity == 50.0
    assert env_cfg.sim.physics_material.restitution == 0.7 and env_cfg.object_density == 25.0
    w = env_cfg.rewards.intermimic.params["weights"]
    assert (w.p, w.r, w.op, w.opv, w.ig) == (10.0, 10.0, 0.0, 0.01, 20.0)
    assert (w.eg1, w.eg2, w.eg3) == pytest.approx((5e-5, 5e-5, 5e-9), rel=1e-12)
    default, _ = resolve_configs(_args(task="InterMimic-G1-Teacher-v0"), [])
    assert default.sim.dt == pytest.approx(1.0 / 240.0) and default.rewards.intermimic.params["weights"].p == 30.0
    with pytest.raises(UserError, match="env.timing: unknown setting 'release_g1'"):
        resolve_configs(_args(), ["experiment=release_g1"])


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


def test_overrides_after_any_list_argument_stay_overrides():
    """``replay --clips A physics=ovphysx``, ``track ... CLIP key=value``: list arguments (options
    and positionals) leave the key=value tokens that follow them to the overrides."""
    from intermimic.app.command_line import split_arguments

    parser = argparse.ArgumentParser()
    parser.add_argument("--clips", nargs="+")
    parser.add_argument("--tags", nargs="*", default=[])
    parser.add_argument("files", nargs="*")
    args, rest = split_arguments(parser, ["--clips", "a", "b", "physics=ovphysx", "env.scene.num_envs=2"])
    assert args.clips == ["a", "b"] and rest == ["physics=ovphysx", "env.scene.num_envs=2"]
    args, rest = split_arguments(parser, ["x.pt", "y.pt", "teachers.paths.2=logs/run"])
    assert args.files == ["x.pt", "y.pt"] and rest == ["teachers.paths.2=logs/run"]
    with pytest.raises(SystemExit):  # a list that needs a value gets none
        split_arguments(parser, ["--clips", "physics=ovphysx"])
    args, rest = split_arguments(parser, ["--clips", "a", "+env.extra=1"])  # Hydra's add syntax
    assert args.clips == ["a"] and rest == ["+env.extra=1"]

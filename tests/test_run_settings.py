"""play/evaluate reuse the data and env settings recorded with a training run (params/env.yaml)."""

import argparse

import pytest

pytestmark = pytest.mark.unit


def _args(**kw):
    base = dict(task="InterMimic-Teacher-v0", device="cpu", num_envs=None, seed=None, motion=None, task_defaults=False)
    base.update(kw)
    return argparse.Namespace(**base)


@pytest.fixture(scope="module")
def recorded_run(tmp_path_factory):
    """A run folder as train.py leaves it: trained on dataset=omomo_sub2 with the legacy timing
    and without the interaction-field observation."""
    from isaaclab.utils.io import dump_yaml

    from intermimic.app.configure import resolve_configs

    run = tmp_path_factory.mktemp("run")
    env_cfg, _ = resolve_configs(_args(), ["dataset=omomo_sub2", "env.timing=legacy",
                                           "env.observations.policy.interaction_field=null"])  # fmt: skip
    dump_yaml(str(run / "params" / "env.yaml"), env_cfg)
    (run / "model_5.pt").write_bytes(b"")
    return run, env_cfg


def test_recorded_data_timing_and_observations_are_used(recorded_run, capsys):
    from intermimic.app.configure import resolve_configs, use_run_settings

    run, trained = recorded_run
    env_cfg, _ = resolve_configs(_args(), [])
    assert env_cfg.commands.motion.motion.files == [] and env_cfg.timing == "high_fidelity"
    text = use_run_settings(_args(), [], env_cfg, run / "model_5.pt")
    motion = env_cfg.commands.motion.motion
    assert motion.files == trained.commands.motion.motion.files and motion.subjects == [2]
    assert motion.corrected == trained.commands.motion.motion.corrected
    assert env_cfg.timing == "legacy" and env_cfg.sim.dt == pytest.approx(1 / 120) and env_cfg.decimation == 4
    assert env_cfg.object_density == 200.0
    assert env_cfg.observations.policy.interaction_field is None
    assert env_cfg.observations.policy.interaction_field_error is not None
    assert str(run / "params" / "env.yaml") in text and "timing=legacy" in text
    assert "differs" not in capsys.readouterr().out


def test_explicit_data_wins_and_is_announced(recorded_run, capsys, tmp_path):
    from intermimic.app.configure import resolve_configs, use_run_settings

    run, _ = recorded_run
    args = _args(motion=[str(tmp_path)])
    env_cfg, _ = resolve_configs(args, ["env.timing=high_fidelity"])
    use_run_settings(args, ["env.timing=high_fidelity"], env_cfg, run / "model_5.pt")
    assert env_cfg.commands.motion.motion.files == [str(tmp_path)]
    assert env_cfg.commands.motion.motion.subjects == []  # the recorded subject filter went with the data
    assert env_cfg.timing == "high_fidelity" and env_cfg.sim.dt == pytest.approx(1 / 240)
    out = capsys.readouterr().out
    assert "note: using data" in out and "differs from the run's training data" in out and "OMOMO_new" in out


def test_a_single_data_field_is_replaced(recorded_run):
    from intermimic.app.configure import resolve_configs, use_run_settings

    run, trained = recorded_run
    env_cfg, _ = resolve_configs(_args(), ["dataset.subjects=[3]"])
    use_run_settings(_args(), ["dataset.subjects=[3]"], env_cfg, run / "model_5.pt")
    assert env_cfg.commands.motion.motion.subjects == [3]
    assert env_cfg.commands.motion.motion.files == trained.commands.motion.motion.files


def test_task_defaults_and_runs_without_settings(recorded_run, tmp_path):
    from intermimic.app.configure import resolve_configs, use_run_settings

    run, _ = recorded_run
    env_cfg, _ = resolve_configs(_args(), [])
    assert "--task_defaults" in use_run_settings(_args(task_defaults=True), [], env_cfg, run / "model_5.pt")
    assert env_cfg.commands.motion.motion.files == [] and env_cfg.timing == "high_fidelity"
    (tmp_path / "model_1.pt").write_bytes(b"")
    assert "no " in use_run_settings(_args(), [], env_cfg, tmp_path / "model_1.pt")
    assert env_cfg.commands.motion.motion.files == []

"""Parity with the authors' release, second pass: release teachers inside the student see the
inputs they were trained with (conventions, contact-body order, simulation setting), and the
Transformer student's critic is the release's. No simulator."""

import argparse
import math
from types import SimpleNamespace

import pytest
import torch
from release_helpers import OBS
from release_helpers import release_checkpoint

from intermimic.assets import humanoid_spec as spec

pytestmark = pytest.mark.unit

STUDENT_TASKS = ("InterMimic-Student-v0", "InterMimic-Student-Transformer-v0")

# contactBodies of the release's omomo_train.yaml / omomo_all*.yaml (the older configs)
RELEASE_LEGACY_CONTACT_BODIES = [
    "L_Hip", "L_Knee", "L_Ankle", "L_Toe", "R_Hip", "R_Knee", "R_Ankle", "R_Toe", "Torso", "Spine", "Chest",
    "Neck", "Head", "L_Thorax", "L_Shoulder", "L_Elbow", "L_Wrist", "R_Thorax", "R_Shoulder", "R_Elbow", "R_Wrist",
    "L_Index3", "L_Middle3", "L_Pinky3", "L_Ring3", "L_Thumb3", "R_Index3", "R_Middle3", "R_Pinky3", "R_Ring3",
    "R_Thumb3",
]  # fmt: skip
# widths of the rows of one 1599-value offset block, in order (docs/method.md §5)
BLOCK_ROWS = [("root_height", 1), ("body_positions", 156), ("body_rotations", 312), ("body_linear_velocities", 156),
              ("body_angular_velocities", 156), ("contact", 31), ("key_position_error", 63), ("rotation_error", 132),
              ("contact_error", 31)]  # fmt: skip
BLOCK = 1599


def _row_start(name: str) -> int:
    start = 0
    for row, width in BLOCK_ROWS:
        if row == name:
            return start
        start += width
    raise KeyError(name)


@pytest.fixture(scope="module")
def release_teachers(tmp_path_factory):
    """The release's two checkpoint folders: ``smplx_teachers`` (older configs) and
    ``smplx_teachers_new`` (high fidelity), one synthetic teacher each."""
    root = tmp_path_factory.mktemp("checkpoints")
    files = {}
    for folder in ("smplx_teachers", "smplx_teachers_new"):
        (root / folder).mkdir()
        files[folder] = root / folder / "sub2.pth"
        torch.save(release_checkpoint(), files[folder])
    return files


def _resolve(task: str, overrides: list[str]):
    from intermimic.app.configure import resolve_configs

    args = argparse.Namespace(task=task, device="cpu", num_envs=None, seed=None, motion=None)
    return resolve_configs(args, overrides)


@pytest.mark.parametrize("task", STUDENT_TASKS)
def test_release_teachers_get_their_conventions_in_the_student(task, release_teachers, capsys):
    default, _ = _resolve(task, ["teachers.paths.2=/some/own/teacher"])
    assert default.observations.teacher.reference_key_positions.params["release_quirk"] is False
    assert default.actions.joint_pos.release_quirk is False
    assert (default.contact_body_order, default.timing) == ("body", "high_fidelity")

    env_cfg, agent_cfg = _resolve(task, [f"teachers.paths.2=release:{release_teachers['smplx_teachers']}"])
    assert agent_cfg.teachers["2"].startswith("release:")
    # the teacher group computes the quirk rows the release teachers were trained on
    assert env_cfg.observations.teacher.reference_key_positions.params["release_quirk"] is True
    assert env_cfg.actions.joint_pos.release_quirk is True  # teacher actions mean what they meant in training
    assert env_cfg.observations.policy.reference_key_positions.params["release_quirk"] is False  # student's own
    assert env_cfg.observations.critic.reference_key_positions.params["release_quirk"] is False
    assert (env_cfg.contact_body_order, env_cfg.timing) == ("release_legacy", "legacy")
    assert env_cfg.sim.dt == pytest.approx(1 / 120)  # the legacy timing is applied, not only named
    line = [ln for ln in capsys.readouterr().out.splitlines() if "teachers: checkpoints of the authors' release" in ln]
    assert len(line) == 1 and "legacy kind" in line[0] and "env.contact_body_order=release_legacy" in line[0]

    new, _ = _resolve(task, [f"teachers.paths.2=release:{release_teachers['smplx_teachers_new']}"])
    assert (new.contact_body_order, new.timing) == ("body", "high_fidelity")
    assert new.observations.teacher.reference_key_positions.params["release_quirk"] is True

    # settings given on the command line win over the kind's
    kept, _ = _resolve(task, [f"teachers.paths.2=release:{release_teachers['smplx_teachers']}",
                              "env.timing=high_fidelity"])  # fmt: skip
    assert (kept.contact_body_order, kept.timing) == ("release_legacy", "high_fidelity")


@pytest.mark.parametrize("task", STUDENT_TASKS)
def test_critic_group_follows_the_policy_group(task):
    env_cfg, _ = _resolve(task, ["experiment=release_parity"])
    assert env_cfg.observations.policy.reference_key_positions.params["release_quirk"] is True
    assert env_cfg.observations.critic.reference_key_positions.params["release_quirk"] is True
    assert env_cfg.observations.critic.body_positions.params["source"] == "corrected"


def test_mixed_teachers_are_one_clear_error(release_teachers):
    from intermimic.utils.errors import UserError

    with pytest.raises(UserError, match="mix this project's checkpoints and the release's"):
        _resolve(STUDENT_TASKS[0], [f"teachers.paths.2=release:{release_teachers['smplx_teachers']}",
                                    "teachers.paths.3=/some/own/teacher"])  # fmt: skip


def test_release_checkpoint_kind_is_chosen_by_its_folder(release_teachers, capsys):
    from intermimic.learning.release_checkpoint import apply_release_conventions
    from intermimic.tasks.hoi_env_cfg import HOIEnvCfg

    for folder, order, timing in (("smplx_teachers", "release_legacy", "legacy"),
                                  ("smplx_teachers_new", "body", "high_fidelity")):  # fmt: skip
        cfg = HOIEnvCfg()
        apply_release_conventions(f"release:{release_teachers[folder]}", cfg)
        assert (cfg.contact_body_order, cfg.timing) == (order, timing)
        out = capsys.readouterr().out.strip().splitlines()
        assert len(out) == 1 and f"env.contact_body_order={order}" in out[0]
    cfg = HOIEnvCfg()
    apply_release_conventions(f"release:{release_teachers['smplx_teachers']}", cfg, keep={"contact_body_order"})
    assert (cfg.contact_body_order, cfg.timing) == ("body", "legacy")


def _fake_env(order: str, sim_contact: torch.Tensor, ref_contact: torch.Tensor):
    cmd = SimpleNamespace(body_contact=lambda: sim_contact, future_offsets=(1, 16),
                          future=lambda source, offsets: SimpleNamespace(contact=ref_contact))  # fmt: skip
    return SimpleNamespace(cfg=SimpleNamespace(contact_body_order=order), device="cpu",
                           command_manager=SimpleNamespace(get_term=lambda name: cmd))  # fmt: skip


def _contact_rows(order: str, sim_contact, ref_contact):
    from intermimic.tasks.mdp import observations as obs

    env = _fake_env(order, sim_contact, ref_contact)
    return obs.contact(env), obs.contact_error(env)


def test_legacy_contact_order_is_the_release_configs_order():
    g = torch.Generator().manual_seed(0)
    sim_contact = torch.rand(3, spec.NUM_BODIES, generator=g) > 0.5
    ref_contact = torch.randint(-1, 2, (3, 2, spec.NUM_BODIES), generator=g).float()
    legacy_ids = [spec.BODY_NAMES.index(n) for n in RELEASE_LEGACY_CONTACT_BODIES]
    contact, error = _contact_rows("release_legacy", sim_contact, ref_contact)
    torch.testing.assert_close(contact[:, 0], sim_contact[:, legacy_ids].float())
    c, label = sim_contact[:, None, legacy_ids].float(), ref_contact[:, :, legacy_ids]
    torch.testing.assert_close(error, label * ((label + 1) / 2 - c))
    body_contact, _ = _contact_rows("body", sim_contact, ref_contact)
    moved = sum(a != b for a, b in zip(RELEASE_LEGACY_CONTACT_BODIES, spec.CONTACT_BODY_NAMES))
    assert moved == 9  # the right arm's four bodies and the five left fingertips
    assert not torch.equal(contact, body_contact) or not sim_contact[:, legacy_ids].any()


def _observation(order: str, base: torch.Tensor, sim_contact, ref_contact) -> torch.Tensor:
    """``base`` with its contact and contact-error rows computed in ``order``."""
    contact, error = _contact_rows(order, sim_contact, ref_contact)
    obs = base.clone()
    for k in range(2):
        for row, values in (("contact", contact[:, k]), ("contact_error", error[:, k])):
            start = k * BLOCK + _row_start(row)
            obs[:, start : start + 31] = values
    return obs


def test_a_legacy_order_teacher_sees_its_own_permutation(tmp_path):
    """A teacher trained on legacy-order observations (here: a synthetic release checkpoint
    whose first layer and statistics are the body-order one's, permuted) acts, on the legacy
    rows the env computes for it, as the body-order teacher does on body-order rows."""
    from intermimic.learning.release_checkpoint import release_kind
    from intermimic.learning.teacher_bank import TeacherBank

    body = release_checkpoint(seed=3)
    where = {n: i for i, n in enumerate(spec.CONTACT_BODY_NAMES)}
    perm = torch.arange(OBS)  # legacy column j reads body-order column perm[j]
    for k in range(2):
        for row in ("contact", "contact_error"):
            start = k * BLOCK + _row_start(row)
            for j, name in enumerate(RELEASE_LEGACY_CONTACT_BODIES):
                perm[start + j] = start + where[name]
    legacy = release_checkpoint(seed=3)
    legacy["model"]["a2c_network.actor_mlp.0.weight"] = body["model"]["a2c_network.actor_mlp.0.weight"][:, perm]
    for key in ("running_mean", "running_var"):
        legacy["running_mean_std"][key] = body["running_mean_std"][key][perm]
    files = {}
    for folder, ck in (("smplx_teachers_new", body), ("smplx_teachers", legacy)):
        (tmp_path / folder).mkdir()
        files[folder] = tmp_path / folder / "sub2.pth"
        torch.save(ck, files[folder])
    assert release_kind(f"release:{files['smplx_teachers']}") == "legacy"
    assert release_kind(f"release:{files['smplx_teachers_new']}") == "high_fidelity"

    g = torch.Generator().manual_seed(4)
    base = torch.randn(8, OBS, generator=g)
    sim_contact = torch.rand(8, spec.NUM_BODIES, generator=g) > 0.5
    ref_contact = torch.randint(-1, 2, (8, 2, spec.NUM_BODIES), generator=g).float()
    ids = torch.zeros(8, dtype=torch.long)
    mu_body = TeacherBank.from_checkpoints({2: f"release:{files['smplx_teachers_new']}"}).mean(
        _observation("body", base, sim_contact, ref_contact), ids)  # fmt: skip
    bank_legacy = TeacherBank.from_checkpoints({2: f"release:{files['smplx_teachers']}"})
    mu_legacy = bank_legacy.mean(_observation("release_legacy", base, sim_contact, ref_contact), ids)
    torch.testing.assert_close(mu_legacy, mu_body, atol=1e-5, rtol=1e-5)
    # fed body-order rows, the legacy teacher acts differently: the order matters
    mu_wrong = bank_legacy.mean(_observation("body", base, sim_contact, ref_contact), ids)
    assert (mu_wrong - mu_body).abs().max() > 1e-3


def test_unknown_contact_order_is_one_clear_error():
    from intermimic.tasks.hoi_env_cfg import HOIEnvCfg

    cfg = HOIEnvCfg()
    cfg.contact_body_order = "alphabetical"
    with pytest.raises(ValueError, match="env.contact_body_order: unknown order 'alphabetical'"):
        cfg.apply_timing()


def test_transformer_students_critic_is_the_releases():
    """The release's Transformer student values states with an MLP [256] on the full normalised
    {0, 1, 4, 16} input (6396 values), the policy's input."""
    from intermimic.tasks.agents.rsl_rl_student_cfg import StudentTransformerRunnerCfg
    from intermimic.tasks.student_env_cfg import HOIStudentTransformerEnvCfg

    critic = StudentTransformerRunnerCfg().critic
    assert critic.hidden_dims == [256] and critic.activation == "relu" and critic.obs_normalization
    env_cfg = HOIStudentTransformerEnvCfg()
    offsets = {t.params["offsets"] for t in vars(env_cfg.observations.critic).values() if hasattr(t, "params")}
    assert offsets == {(0, 1, 4, 16)}
    assert math.prod((len(offsets.pop()), BLOCK)) == 6396


# --- observation normaliser (switch: agent.*.normalizer=release, agent.algorithm.normalizer_update=mini_batch)


def _ppo_with(normalizer: str, update: str, epochs: int = 3, mini_batches: int = 2):
    from rsl_rl.storage import RolloutStorage
    from tensordict import TensorDict

    from intermimic.learning.models import ClippedMLPModel
    from intermimic.learning.ppo import InterMimicPPO

    torch.manual_seed(0)
    obs = TensorDict({"policy": torch.randn(8, 6) * torch.tensor([1.0, 1e-3, 5.0, 1.0, 1.0, 2.0])}, batch_size=[8])
    kw = dict(hidden_dims=[16], activation="relu", obs_normalization=True, normalizer=normalizer)
    actor = ClippedMLPModel(obs, {"actor": ["policy"]}, "actor", 3, **kw,
                            distribution_cfg={"class_name": "GaussianDistribution", "init_std": 0.05, "learn_std": False})  # fmt: skip
    critic = ClippedMLPModel(obs, {"critic": ["policy"]}, "critic", 1, **kw)
    storage = RolloutStorage("rl", 8, 2, obs, [3], "cpu")
    alg = InterMimicPPO(actor, critic, storage, learning_rate=1e-3, num_learning_epochs=epochs,
                        num_mini_batches=mini_batches, schedule="fixed", normalizer_update=update)  # fmt: skip
    alg.train_mode()
    for _ in range(2):
        alg.act(obs)
        alg.process_env_step(obs, torch.ones(8), torch.zeros(8, dtype=torch.long), {})
    alg.compute_returns(obs)
    return alg, obs["policy"]


def test_release_normaliser_is_rl_games_formula():
    alg, x = _ppo_with("release", "iteration")
    alg.update()
    inner = alg.actor.obs_normalizer.normalizer
    mean, var = inner._mean, inner._var
    torch.testing.assert_close(inner(x), (x - mean) / torch.sqrt(var + 1e-5))
    # rsl_rl's formula shrinks the nearly constant feature (spread 1e-3) over three times more
    ours, _ = _ppo_with("rsl_rl", "iteration")
    ours.update()
    rsl = ours.actor.obs_normalizer.normalizer
    torch.testing.assert_close(rsl(x), (x - rsl._mean) / (rsl._std + 0.01))
    torch.testing.assert_close(rsl._var, var)  # same statistics, only the formula differs
    ratio = inner(x)[:, 1].abs().mean() / rsl(x)[:, 1].abs().mean()
    assert ratio > 3 and ratio == pytest.approx(float((var[0, 1].sqrt() + 0.01) / (var[0, 1] + 1e-5).sqrt()), rel=1e-4)


def test_normaliser_learns_from_each_mini_batch_in_release_mode(monkeypatch):
    """``mini_batch``: the statistics see every mini-batch of every epoch before its gradient step
    (the release's rl_games); ``iteration``: the rollout once, after the gradient steps."""
    counts = {}
    for update in ("iteration", "mini_batch"):
        alg, _ = _ppo_with("release", update)
        seen = []
        step = alg.optimizer.step

        def record(*a, _alg=alg, _seen=seen, _step=step, **k):
            _seen.append(int(_alg.actor.obs_normalizer.normalizer.count))
            return _step(*a, **k)

        monkeypatch.setattr(alg.optimizer, "step", record)
        alg.update()
        counts[update] = (seen, int(alg.actor.obs_normalizer.normalizer.count))
    assert counts["iteration"] == ([0] * 6, 16)  # 3 epochs x 2 mini-batches; 2 steps x 8 envs after
    assert counts["mini_batch"] == ([8, 16, 24, 32, 40, 48], 48)  # 8 samples per mini-batch, before each step


def test_release_parity_preset_selects_the_release_normaliser():
    env_cfg, agent_cfg = _resolve("InterMimic-Teacher-v0", ["experiment=release_parity"])
    assert agent_cfg.actor.normalizer == agent_cfg.critic.normalizer == "release"
    assert agent_cfg.algorithm.normalizer_update == "mini_batch"
    default_env, default_agent = _resolve("InterMimic-Teacher-v0", [])
    assert (default_agent.actor.normalizer, default_agent.algorithm.normalizer_update) == ("rsl_rl", "iteration")

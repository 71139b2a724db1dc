"""Checkpoints of the authors' release (rl_games format) run in this project's teacher policy.

The test writes a checkpoint the way the release stores one (key names and shapes of its
``intermimic`` network builder: separate actor and critic MLPs [1024, 1024, 512] with ReLU, a
``mu`` head, a fixed log-std ``sigma``, a ``value`` head, and rl_games' ``running_mean_std``),
then compares our policy's actions with a forward pass written here from the release's
definition of the network.
"""

import math

import pytest
import torch
from release_helpers import ACT, OBS
from release_helpers import release_checkpoint as _release_checkpoint
from tensordict import TensorDict

pytestmark = pytest.mark.unit


def _release_forward(ck: dict, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The release's network, written from its definition: rl_games' normalisation
    clamp((x - mean) / sqrt(var + 1e-5), -5, 5), then Linear+ReLU layers and a linear head."""
    m, s = ck["model"], ck["running_mean_std"]
    x = ((obs.double() - s["running_mean"]) / torch.sqrt(s["running_var"] + 1e-5)).clamp(-5.0, 5.0)

    def trunk(name, head):
        h = x
        for i in range(3):
            h = torch.relu(h @ m[f"a2c_network.{name}.{2 * i}.weight"].double().T + m[f"a2c_network.{name}.{2 * i}.bias"])
        return h @ m[f"a2c_network.{head}.weight"].double().T + m[f"a2c_network.{head}.bias"]

    return trunk("actor_mlp", "mu").float(), trunk("critic_mlp", "value").float()


def _teacher_models():
    """Actor and critic as the teacher's runner config builds them."""
    from isaaclab.utils import to_dict

    from intermimic.learning.models import ClippedMLPModel
    from intermimic.tasks.agents.rsl_rl_ppo_cfg import TeacherPPORunnerCfg

    cfg = TeacherPPORunnerCfg()
    obs = TensorDict({"policy": torch.zeros(2, OBS)}, batch_size=[2])
    groups = cfg.obs_groups
    actor_cfg, critic_cfg = to_dict(cfg.actor), to_dict(cfg.critic)
    dist = actor_cfg["distribution_cfg"]
    actor = ClippedMLPModel(obs, groups, "actor", ACT, hidden_dims=actor_cfg["hidden_dims"],
                            activation=actor_cfg["activation"], obs_normalization=True,
                            distribution_cfg={k: dist[k] for k in ("class_name", "init_std", "std_type", "learn_std")},
                            obs_clip=actor_cfg["obs_clip"])  # fmt: skip
    critic = ClippedMLPModel(obs, groups, "critic", 1, hidden_dims=critic_cfg["hidden_dims"],
                             activation=critic_cfg["activation"], obs_normalization=True,
                             obs_clip=critic_cfg["obs_clip"])  # fmt: skip
    return actor, critic


@pytest.fixture(scope="module")
def release_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("release") / "sub2.pth"
    torch.save(_release_checkpoint(), path)
    return path


def test_release_checkpoint_gives_the_release_networks_actions(release_file):
    from intermimic.learning.release_checkpoint import load_release_into, read_release_checkpoint

    ck = read_release_checkpoint(release_file)
    actor, critic = _teacher_models()
    load_release_into(actor, critic, ck, release_file)
    actor.eval()
    critic.eval()
    g = torch.Generator().manual_seed(1)
    stats = ck["running_mean_std"]
    # observations around the statistics, some far enough out to be clipped at +-5
    obs = (stats["running_mean"] + torch.randn(64, OBS, generator=g, dtype=torch.float64) * 3
           * stats["running_var"].sqrt()).float()  # fmt: skip
    mu, value = _release_forward(ck, obs)
    data = TensorDict({"policy": obs}, batch_size=[64])
    with torch.no_grad():
        torch.testing.assert_close(actor(data), mu, atol=1e-4, rtol=1e-4)
        torch.testing.assert_close(critic(data), value, atol=1e-4, rtol=1e-4)
        actor(data, stochastic_output=True)
        torch.testing.assert_close(actor.output_std, torch.full_like(mu, math.exp(-2.9)))
        # the TorchScript export (what `play --export` writes) acts the same
        exported = torch.jit.script(actor.as_jit())
        torch.testing.assert_close(exported(obs), mu, atol=1e-4, rtol=1e-4)


def test_release_prefix_switches_the_env_to_the_release_conventions(release_file, capsys):
    from intermimic.learning.checkpointing import resolve_checkpoint
    from intermimic.learning.release_checkpoint import apply_release_conventions
    from intermimic.tasks.hoi_env_cfg import HOIEnvCfg

    cfg = HOIEnvCfg()
    assert apply_release_conventions(str(release_file), cfg) == []  # a plain path: nothing switched
    assert cfg.actions.joint_pos.release_quirk is False
    arg = f"release:{release_file}"
    assert resolve_checkpoint(arg, "logs/none") == release_file
    assert len(apply_release_conventions(arg, cfg)) == 5  # 3 conventions, 2 settings of the legacy kind
    assert cfg.actions.joint_pos.release_quirk is True
    assert cfg.observations.policy.reference_key_positions.params["release_quirk"] is True
    assert cfg.commands.motion.raw_row0 == "release"
    banner = capsys.readouterr().out
    assert "authors' release" in banner and "release_quirk=True" in banner
    with pytest.raises(FileNotFoundError, match="release checkpoint not found"):
        resolve_checkpoint("release:/nowhere/sub2.pth", "logs/none")


def test_files_that_are_not_release_checkpoints_get_one_clear_error(tmp_path):
    from intermimic.learning.release_checkpoint import (
        ReleaseCheckpointError, load_release_into, read_release_checkpoint,
    )  # fmt: skip

    ours = tmp_path / "model_100.pt"
    torch.save({"actor_state_dict": {}, "critic_state_dict": {}}, ours)
    with pytest.raises(ReleaseCheckpointError, match="model_100.pt: not a checkpoint of the authors' release"):
        read_release_checkpoint(ours)
    ck = _release_checkpoint()
    ck["model"]["a2c_network.actor_mlp.0.weight"] = torch.zeros(1024, 100)  # another observation size
    actor, critic = _teacher_models()
    with pytest.raises(ReleaseCheckpointError, match=r"layer 'actor_mlp.0' has shape \(1024, 100\)"):
        load_release_into(actor, critic, ck, "sub9.pth")


def test_checkpoints_are_loaded_by_their_format(release_file, tmp_path):
    """``load_checkpoint`` (what play/evaluate use) reads a release file into the runner's actor and
    critic, and hands one of ours to rsl_rl's own loader."""
    from types import SimpleNamespace

    from intermimic.learning.release_checkpoint import load_checkpoint

    actor, critic = _teacher_models()
    loaded = []
    runner = SimpleNamespace(alg=SimpleNamespace(_raw_actor=actor, _raw_critic=critic),
                             load=lambda path, map_location=None: loaded.append(path))  # fmt: skip
    load_checkpoint(runner, release_file)
    assert loaded == []
    torch.testing.assert_close(critic.mlp[0].weight, _release_checkpoint()["model"]["a2c_network.critic_mlp.0.weight"])
    ours = tmp_path / "model_5.pt"
    torch.save({"actor_state_dict": actor.state_dict(), "critic_state_dict": critic.state_dict()}, ours)
    load_checkpoint(runner, ours)
    assert loaded == [str(ours)]


def test_release_teachers_serve_the_student(release_file, tmp_path):
    """`teachers.paths.<subject>=release:FILE`: the teacher bank runs the release's network."""
    from intermimic.learning.teacher_bank import TeacherBank, TeacherConfigError

    bank = TeacherBank.from_checkpoints({2: f"release:{release_file}"})
    assert (bank.obs_dim, bank.num_actions) == (OBS, ACT)
    ck = torch.load(release_file, weights_only=False)
    obs = torch.randn(8, OBS, generator=torch.Generator().manual_seed(3))
    mu, _ = _release_forward(ck, obs)
    torch.testing.assert_close(bank.mean(obs, torch.zeros(8, dtype=torch.long)), mu, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(bank.std(torch.zeros(1, dtype=torch.long)), torch.full((1, ACT), math.exp(-2.9)))
    broken = tmp_path / "broken.pth"
    torch.save({"model": {}, "running_mean_std": {}}, broken)
    with pytest.raises(TeacherConfigError, match="teacher of subject 4: .*broken.pth"):
        TeacherBank.from_checkpoints({4: f"release:{broken}"})

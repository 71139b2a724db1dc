"""The student's learning pieces without a simulator: schedule, teacher bank, Transformer, update."""

from __future__ import annotations

import math

import pytest
import torch
from tensordict import TensorDict

from intermimic.learning.distillation import TEACHER_GROUP, TEACHER_MEAN, InterMimicDistillation
from intermimic.learning.models import ClippedMLPModel
from intermimic.tasks.agents.student_schedule_cfg import ScheduleSettings
from intermimic.learning.student_schedule import StudentSchedule
from intermimic.learning.teacher_bank import TeacherBank, TeacherConfigError
from intermimic.learning.transformer import TokenTransformer, TransformerModel

pytestmark = pytest.mark.unit

GAUSS = {"class_name": "GaussianDistribution", "init_std": math.exp(-2.9), "learn_std": False}


# -------------------------------------------------------------------------------------
# Schedule (numbers of the method: mixing 500..5500, BC until 5000, critic warm-up over
# 1000 iterations, PPO from 6000 once the running explained variance >= 0.6 three times, the
# average being kept from 7000 as in the release)
# -------------------------------------------------------------------------------------
@pytest.mark.parametrize("it, beta", [(0, 1.0), (500, 1.0), (1750, 0.75), (3000, 0.5), (5500, 0.0), (9000, 0.0)])
def test_beta_falls_linearly_from_500_to_5500(it, beta):
    assert StudentSchedule(iteration=it).beta() == pytest.approx(beta)


def test_phases_and_weights_before_ppo():
    s = StudentSchedule(iteration=4999)
    w = s.weights()
    assert s.phase == "bc" and (w.actor, w.critic, w.bound, w.bc, w.ppo) == (0.0, 0.0, 0.0, 1.0, False)
    for it, critic in ((5000, 0.0), (5250, 1.25), (5500, 2.5), (6000, 5.0), (8000, 5.0)):
        s = StudentSchedule(iteration=it)
        w = s.weights()
        assert s.phase == "critic_warmup" and not w.ppo
        assert (w.actor, w.critic, w.bound, w.bc) == (0.0, pytest.approx(critic), 0.0, 1.0)


def _updates_until_ppo(ev: float, rate: float = 0.01, threshold: float = 0.6, streak: int = 3) -> int:
    """Mini-batch updates with a constant explained variance ``ev`` until PPO is on: the running
    average ev (1 - (1 - rate)^n) first reaches the threshold at n*, then 3 in a row."""
    n_star = math.ceil(math.log(1.0 - threshold / ev) / math.log(1.0 - rate))
    return n_star + streak - 1


def test_ppo_switches_on_by_explained_variance_averaged_from_7000():
    s = StudentSchedule(iteration=6999)
    for _ in range(1000):  # a perfect critic before ev tracking starts changes nothing
        s.observe_explained_variance(1.0)
    assert s.ev_average == 0.0 and s.phase == "critic_warmup"
    s = StudentSchedule(iteration=7000)
    needed = _updates_until_ppo(0.7)
    for k in range(1, needed + 1):
        s.observe_explained_variance(0.7)
        w = s.weights()
        assert w.ppo == (k == needed), k
        s.count_update(w)
    assert s.phase == "ppo" and s.actor_updates == 1
    # with tracking from 6000 (a setting), PPO may come on from 6000 but not before
    early = StudentSchedule(ScheduleSettings(ev_start=5000), iteration=5500)
    for _ in range(needed + 5):
        early.observe_explained_variance(0.7)
    assert early.ev_streak > 3 and early.phase == "critic_warmup"
    early.iteration = 6000
    assert early.phase == "ppo"


def test_ppo_weights_ramp_and_keep_the_bc_floor():
    s = StudentSchedule(iteration=7000, ev_streak=3, ev_average=0.9)
    for n, actor, bc in ((0, 0.0, 1.0), (1000, 0.25, 0.75), (2000, 0.5, 0.5), (3800, 0.95, 0.1), (4000, 1.0, 0.1),
                         (10000, 1.0, 0.1)):  # fmt: skip
        s.actor_updates = n
        w = s.weights()
        assert w.ppo and (w.actor, w.critic, w.bound, w.bc) == (pytest.approx(actor), 5.0, 10.0, pytest.approx(bc))


def test_ppo_pauses_when_the_critic_falls_below_the_threshold_and_state_round_trips():
    s = StudentSchedule(ScheduleSettings(ev_rate=0.5), iteration=7500)
    for _ in range(5):
        s.observe_explained_variance(0.9)
    assert s.phase == "ppo"
    state = s.state_dict()
    s.observe_explained_variance(0.0)  # 0.5 * ~0.87 < 0.6
    assert s.phase == "critic_warmup" and s.ev_streak == 0
    restored = StudentSchedule(ScheduleSettings(ev_rate=0.5))
    restored.load_state_dict(state)
    assert restored.phase == "ppo" and restored.state_dict() == state


# -------------------------------------------------------------------------------------
# Teacher bank
# -------------------------------------------------------------------------------------
def _constant_teacher(obs_dim: int, value: float, num_actions: int = 3) -> ClippedMLPModel:
    obs = TensorDict({"teacher": torch.zeros(1, obs_dim)}, batch_size=[1])
    model = ClippedMLPModel(obs, {"actor": ["teacher"]}, "actor", num_actions, hidden_dims=[8], activation="relu",
                            obs_normalization=True, distribution_cfg=GAUSS)  # fmt: skip
    with torch.no_grad():
        for p in model.mlp.parameters():
            p.zero_()
        model.mlp[-1].bias.fill_(value)
    return model.eval()


def _save(model, path):
    torch.save({"actor_state_dict": model.state_dict(), "iter": 0}, path)
    return path


def test_each_row_gets_its_subjects_teacher(tmp_path):
    paths = {2: _save(_constant_teacher(6, 0.25), tmp_path / "t2.pt"), 7: _save(_constant_teacher(6, -0.5), tmp_path / "t7.pt")}
    bank = TeacherBank.from_checkpoints(paths)
    assert bank.subjects == [2, 7] and (bank.obs_dim, bank.num_actions) == (6, 3)
    # a motion library with subjects [2, 7]: clip subject slots per env
    lookup = bank.index_lookup([2, 7], device="cpu")
    slots = torch.tensor([1, 0, 0, 1, 1])
    mu, sampled = bank.act(torch.randn(5, 6), lookup[slots])
    expected = torch.tensor([-0.5, 0.25, 0.25, -0.5, -0.5])[:, None].expand(5, 3)
    torch.testing.assert_close(mu, expected)
    # sampled actions: N(mu, exp(-2.9)) clipped to the action box
    assert (sampled - mu).abs().max() < 6 * math.exp(-2.9) and not torch.equal(sampled, mu)
    big = TeacherBank({0: _constant_teacher(6, 3.0)})
    assert big.act(torch.randn(64, 6), torch.zeros(64, dtype=torch.long))[1].max() <= 1.0


def test_teacher_errors_name_the_subject_and_what_is_wrong(tmp_path):
    good = _save(_constant_teacher(6, 0.1), tmp_path / "good.pt")
    with pytest.raises(TeacherConfigError, match="subject 3: checkpoint not found"):
        TeacherBank.from_checkpoints({3: tmp_path / "missing.pt"})
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(good.read_bytes()[:100])
    with pytest.raises(TeacherConfigError, match="subject 4: cannot read .*corrupt.pt"):
        TeacherBank.from_checkpoints({4: corrupt})
    torch.save({"model": {}}, tmp_path / "other.pt")
    with pytest.raises(TeacherConfigError, match="subject 5: .*no 'actor_state_dict'"):
        TeacherBank.from_checkpoints({5: tmp_path / "other.pt"})
    bank = TeacherBank.from_checkpoints({1: good})
    with pytest.raises(TeacherConfigError, match="take 6 observation values .* has 3198"):
        bank.check_fits(3198, 3, [1])
    with pytest.raises(TeacherConfigError, match="give 3 actions, the environment expects 153"):
        bank.check_fits(6, 153, [1])
    with pytest.raises(TeacherConfigError, match=r"no teacher for subject\(s\) \[2\]"):
        bank.check_fits(6, 3, [1, 2])
    bank.check_fits(6, 3, [1])
    with pytest.raises(TeacherConfigError, match="disagree"):
        TeacherBank({1: _constant_teacher(6, 0.1), 2: _constant_teacher(7, 0.1)})


def test_teacher_run_folder_means_its_latest_model(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    _save(_constant_teacher(4, 0.1), run / "model_2.pt")
    _save(_constant_teacher(4, 0.9), run / "model_10.pt")
    bank = TeacherBank.from_checkpoints({0: run})
    assert bank.files[0].name == "model_10.pt"
    torch.testing.assert_close(bank.mean(torch.zeros(1, 4), torch.zeros(1, dtype=torch.long)), torch.full((1, 3), 0.9))


# -------------------------------------------------------------------------------------
# Transformer student
# -------------------------------------------------------------------------------------
def test_each_token_embeds_exactly_one_observation_block():
    torch.manual_seed(0)
    net = TokenTransformer(num_tokens=4, token_dim=1599, output_dim=153)
    x = torch.randn(2, 4 * 1599)
    base = net.tokens(x)
    for block in range(4):
        y = x.clone()
        y[:, block * 1599 : (block + 1) * 1599] += torch.randn(2, 1599)
        changed = (net.tokens(y) - base).abs().amax(dim=(0, 2)) > 0
        assert changed.tolist() == [k == block for k in range(4)], block
    # the encoder mixes the tokens: perturbing any block moves the action
    for block in range(4):
        y = x.clone()
        y[:, block * 1599 : (block + 1) * 1599] += 1.0
        assert not torch.allclose(net(y), net(x))


def test_transformer_model_exports_like_any_rsl_rl_model(tmp_path):
    obs = TensorDict({"policy": torch.randn(3, 4 * 20)}, batch_size=[3])
    model = TransformerModel(obs, {"actor": ["policy"]}, "actor", 5, num_tokens=4, width=16, heads=4, ff_width=32,
                             layers=2, obs_normalization=True, distribution_cfg=GAUSS)  # fmt: skip
    model.eval()
    expected = model(obs)
    scripted = torch.jit.script(model.as_jit())
    torch.testing.assert_close(scripted(obs["policy"]), expected)
    onnx_model = model.as_onnx(verbose=False).eval()
    torch.onnx.export(onnx_model, onnx_model.get_dummy_inputs(), tmp_path / "student.onnx", input_names=["obs"],
                      output_names=["actions"], opset_version=18)  # fmt: skip
    assert (tmp_path / "student.onnx").stat().st_size > 0
    with pytest.raises(ValueError, match="not a multiple of 3 tokens"):
        TransformerModel(obs, {"actor": ["policy"]}, "actor", 5, num_tokens=3, distribution_cfg=GAUSS)


# -------------------------------------------------------------------------------------
# The algorithm: rollout mixing and a behaviour-cloning update
# -------------------------------------------------------------------------------------
class _FakeEnv:
    num_envs = 64
    num_actions = 3


def _algorithm(beta_iteration: int, obs: TensorDict, **kw) -> InterMimicDistillation:
    from rsl_rl.utils import resolve_callable  # noqa: F401  (rsl_rl import order)

    cfg = {
        "algorithm": {"class_name": "intermimic.learning.distillation:InterMimicDistillation", "learning_rate": 3e-3,
                      "num_learning_epochs": 4, "num_mini_batches": 2, "schedule": "fixed", "value_loss_coef": 5.0,
                      "use_clipped_value_loss": False, "max_grad_norm": None, "entropy_coef": 0.0, **kw},
        "actor": {"class_name": "intermimic.learning.models:ClippedMLPModel", "hidden_dims": [32], "activation": "relu",
                  "obs_normalization": True, "distribution_cfg": GAUSS},
        "critic": {"class_name": "intermimic.learning.models:ClippedMLPModel", "hidden_dims": [32],
                   "activation": "relu", "obs_normalization": True},
        "obs_groups": {"actor": ["policy"], "critic": ["policy"]}, "num_steps_per_env": 4, "multi_gpu": None,
    }  # fmt: skip
    alg = InterMimicDistillation.construct_algorithm(obs, _FakeEnv(), cfg, "cpu")
    alg.schedule.iteration = beta_iteration
    return alg


def _obs(n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return TensorDict({"policy": torch.randn(n, 6, generator=g), TEACHER_GROUP: torch.randn(n, 6, generator=g)},
                      batch_size=[n])  # fmt: skip


def test_rollouts_execute_teacher_actions_with_probability_beta():
    torch.manual_seed(0)
    bank = TeacherBank({0: _constant_teacher(6, 0.7)})
    for iteration, share in ((0, 1.0), (3000, 0.5), (6000, 0.0)):
        alg = _algorithm(iteration, _obs())
        alg.bind_teachers(bank, lambda: torch.zeros(64, dtype=torch.long))
        teacher_rows = 0
        for step in range(4):
            actions = alg.act(_obs(seed=step))
            teacher_rows += int(((actions - 0.7).abs() < 6 * math.exp(-2.9)).all(-1).sum())
            stored = alg.transition.observations
            assert TEACHER_GROUP not in stored.keys()
            torch.testing.assert_close(stored[TEACHER_MEAN], torch.full((64, 3), 0.7))
            alg.process_env_step(_obs(seed=step + 10), torch.zeros(64), torch.zeros(64, dtype=torch.long), {})
        assert teacher_rows / (4 * 64) == pytest.approx(share, abs=0.1), iteration


def test_behaviour_cloning_update_moves_the_student_to_the_teacher_mean():
    torch.manual_seed(0)
    bank = TeacherBank({0: _constant_teacher(6, 0.4), 1: _constant_teacher(6, -0.3)})
    ids = torch.arange(64) % 2
    alg = _algorithm(0, _obs())
    alg.bind_teachers(bank, lambda: ids)
    target = torch.where(ids[:, None] == 0, 0.4, -0.3).expand(64, 3)

    # the teacher index is only visible to the student through its observation here
    def obs_with_id(seed):
        o = _obs(seed=seed)
        o["policy"][:, 0] = ids.float() * 3.0
        return o

    def error():
        with torch.no_grad():
            return float(((alg.actor(obs_with_id(99)) - target) ** 2).sum(-1).mean())

    before = error()
    for it in range(15):
        for step in range(4):
            alg.act(obs_with_id(100 * it + step))
            alg.process_env_step(obs_with_id(0), torch.zeros(64), torch.zeros(64, dtype=torch.long), {})
        alg.compute_returns(obs_with_id(0))
        losses = alg.update()
        assert "behaviour_cloning" in losses and "surrogate" not in losses  # BC phase: no PPO loss
    assert alg.schedule.iteration == 15
    assert error() < 0.1 * before


def test_critic_adam_state_stays_at_step_0_during_cloning():
    torch.manual_seed(0)
    alg = _algorithm(0, _obs())
    alg.bind_teachers(TeacherBank({0: _constant_teacher(6, 0.4)}), lambda: torch.zeros(64, dtype=torch.long))
    for it in range(2):
        for step in range(4):
            alg.act(_obs(seed=step))
            alg.process_env_step(_obs(seed=step + 10), torch.ones(64), torch.zeros(64, dtype=torch.long), {})
        alg.compute_returns(_obs(seed=0))
        alg.update()
    critic_steps = [float(alg.optimizer.state.get(p, {}).get("step", 0)) for p in alg.critic.parameters()]
    actor_steps = [float(alg.optimizer.state.get(p, {}).get("step", 0)) for p in alg.actor.mlp.parameters()]
    assert critic_steps and all(s == 0 for s in critic_steps)  # the value loss weighs 0 while cloning
    assert all(s == 2 * 4 * 2 for s in actor_steps)  # 2 iterations x 4 epochs x 2 mini-batches

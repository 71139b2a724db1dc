"""Reliability without a simulator: atomic files, unreadable checkpoints, resume planning, the
curriculum's saved state, and the training loop on a small stand-in environment (iteration
numbering across resumes, SIGINT/SIGTERM, time-based saves, the non-finite guard)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
import torch
from tensordict import TensorDict

from intermimic.learning.checkpointing import LATEST_POINTER, checkpoints_in, latest_checkpoint
from intermimic.learning.checkpointing import CheckpointError, newest_readable_checkpoint, read_checkpoint
from intermimic.learning.resume import plan_resume
from intermimic.utils.atomic_write import atomic_write, atomic_write_text, stale_temporaries, temporary_path

pytestmark = pytest.mark.unit


# ---------------------------------------------------------------------------------------------
# Atomic files
# ---------------------------------------------------------------------------------------------
def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "out.txt"
    atomic_write_text(target, "old")

    def half_then_crash(tmp: Path):
        tmp.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, half_then_crash)
    assert target.read_text() == "old"
    assert list(tmp_path.iterdir()) == [target]


def test_no_overwrite_unless_asked(tmp_path):
    target = tmp_path / "clip.txt"
    atomic_write_text(target, "first", overwrite=False)
    with pytest.raises(FileExistsError, match="clip.txt already exists"):
        atomic_write_text(target, "second", overwrite=False)
    assert target.read_text() == "first"
    atomic_write_text(target, "second", overwrite=True)
    assert target.read_text() == "second"
    assert list(tmp_path.iterdir()) == [target]


def test_clip_files_are_not_replaced_unless_asked(tmp_path):
    from intermimic.motion.clip_io import load_clip_file, save_clip_file

    path = tmp_path / "sub1_box_000.pt"
    save_clip_file(path, torch.zeros(4, 591))
    with pytest.raises(FileExistsError):
        save_clip_file(path, torch.ones(4, 591))
    assert float(load_clip_file(path).sum()) == 0.0
    save_clip_file(path, torch.ones(4, 591), overwrite=True)
    assert float(load_clip_file(path).sum()) == 4 * 591


def test_stale_temporaries_are_found_by_their_target_name(tmp_path):
    stale = temporary_path(tmp_path / "model_3.pt")
    stale.write_bytes(b"partial")
    (tmp_path / "model_2.pt").write_bytes(b"x")
    assert stale_temporaries(tmp_path, "model_*.pt") == [stale]
    assert checkpoints_in(tmp_path) == [tmp_path / "model_2.pt"]  # a temporary is never a checkpoint


# ---------------------------------------------------------------------------------------------
# Unreadable checkpoints and resume planning
# ---------------------------------------------------------------------------------------------
def _checkpoint(path: Path, it: int) -> Path:
    torch.save({"actor_state_dict": {"w": torch.full((256, 256), float(it))}, "iter": it}, path)
    return path


def _truncate(path: Path) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


@pytest.mark.parametrize("damage", ["truncated", "garbage", "not_a_checkpoint"])
def test_an_unreadable_checkpoint_gives_one_line_naming_the_file(tmp_path, damage):
    path = _checkpoint(tmp_path / "model_5.pt", 5)
    if damage == "truncated":
        _truncate(path)
    elif damage == "garbage":
        path.write_bytes(os.urandom(4096))
    else:
        torch.save([1, 2, 3], path)
    with pytest.raises(CheckpointError) as err:
        read_checkpoint(path)
    message = str(err.value)
    assert str(path) in message and "\n" not in message
    assert ("truncated or corrupt" in message) == (damage != "not_a_checkpoint")
    assert isinstance(err.value, ValueError)


def test_the_newest_readable_checkpoint_skips_corrupt_newer_ones(tmp_path, capsys):
    for it in (1, 2, 3):
        _checkpoint(tmp_path / f"model_{it}.pt", it)
    _truncate(tmp_path / "model_3.pt")
    assert newest_readable_checkpoint(tmp_path) == tmp_path / "model_2.pt"
    out = capsys.readouterr().out
    assert "skipping checkpoint" in out and str(tmp_path / "model_3.pt") in out
    for it in (1, 2):
        _truncate(tmp_path / f"model_{it}.pt")
    with pytest.raises(CheckpointError, match="has no readable checkpoint"):
        newest_readable_checkpoint(tmp_path)


def test_resume_plans_continue_in_the_run_folder_or_a_new_one(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    _checkpoint(run / "model_4.pt", 4)
    _truncate(_checkpoint(run / "model_9.pt", 9))
    stale = temporary_path(run / "model_10.pt")
    stale.write_bytes(b"partial")

    plan = plan_resume(str(run), str(tmp_path / "fresh"))
    assert plan.checkpoint == run / "model_4.pt" and plan.iteration == 4
    assert plan.in_place and plan.log_dir == str(run.resolve())
    assert not stale.exists(), "the interrupted write's temporary file is cleaned up"

    forked = plan_resume(str(run / "model_4.pt"), str(tmp_path / "fresh"), new_folder=True)
    assert not forked.in_place and forked.log_dir == str(tmp_path / "fresh")
    assert plan_resume(None, "x") is None
    with pytest.raises(CheckpointError, match="no such checkpoint file or run folder"):
        plan_resume(str(tmp_path / "missing"), "x")
    with pytest.raises(CheckpointError, match="model_9.pt cannot be read"):
        plan_resume(str(run / "model_9.pt"), "x")


# ---------------------------------------------------------------------------------------------
# The curriculum's saved state
# ---------------------------------------------------------------------------------------------
def test_psi_buffer_and_start_statistics_round_trip_and_refuse_other_data():
    from intermimic.tasks.mdp.state_init import PhysicalStateBuffer, StartFrameSampler

    torch.manual_seed(0)
    psi = PhysicalStateBuffer(num_frames=50, num_slots=3, state_dim=7)
    frames = torch.randint(0, 50, (40,))
    assert psi.insert(frames, torch.randn(40, 7), torch.rand(40) * 0.5 + 0.5) > 0
    psi.decay()
    restored = PhysicalStateBuffer(num_frames=50, num_slots=3, state_dim=7)
    restored.load_state_dict(psi.state_dict())
    assert torch.equal(restored.states, psi.states) and torch.equal(restored.scores, psi.scores)
    with pytest.raises(ValueError, match="same data set"):
        PhysicalStateBuffer(num_frames=51, num_slots=3, state_dim=7).load_state_dict(psi.state_dict())

    sampler = StartFrameSampler(torch.tensor([0, 20]), torch.tensor([20, 30]), min_frames_left=2)
    sampler.record_failures(torch.tensor([0, 1, 1]), torch.tensor([5, 7, 7]))
    other = StartFrameSampler(torch.tensor([0, 20]), torch.tensor([20, 30]), min_frames_left=2)
    other.load_state_dict(sampler.state_dict())
    assert torch.equal(other.failures, sampler.failures) and float(other.failures.sum()) > 0
    with pytest.raises(ValueError, match="cover 50 frames, the loaded data has 40"):
        StartFrameSampler(torch.tensor([0]), torch.tensor([40]), 2).load_state_dict(sampler.state_dict())


def test_psi_never_stores_a_non_finite_state():
    from intermimic.tasks.mdp.state_init import PhysicalStateBuffer

    psi = PhysicalStateBuffer(num_frames=4, num_slots=2, state_dim=3)
    states = torch.tensor([[1.0, 2.0, 3.0], [float("nan"), 0.0, 0.0], [0.0, float("inf"), 0.0]])
    assert psi.insert(torch.tensor([0, 1, 2]), states, torch.tensor([0.9, 0.9, 0.9])) == 1
    assert (psi.scores[:, 0] > 0).tolist() == [True, False, False, False] and torch.isfinite(psi.states).all()


# ---------------------------------------------------------------------------------------------
# The training loop on a stand-in environment
# ---------------------------------------------------------------------------------------------
OBS_DIM, NUM_ACTIONS, NUM_ENVS, STEPS = 6, 2, 4, 4


class _StandInEnv:
    """rsl_rl VecEnv: random observations, reward -|a|^2, 5-step episodes; ``on_step(env)`` runs
    before each step (to send signals or corrupt outputs)."""

    def __init__(self):
        self.num_envs, self.num_actions, self.device, self.cfg = NUM_ENVS, NUM_ACTIONS, "cpu", {}
        self.max_episode_length = 5
        self.episode_length_buf = torch.zeros(NUM_ENVS, dtype=torch.long)
        self.steps = 0
        self.on_step = None
        self.nan_obs_at: set[int] = set()
        self._obs = torch.randn(NUM_ENVS, OBS_DIM)

    def get_observations(self) -> TensorDict:
        return TensorDict({"policy": self._obs.clone()}, batch_size=[NUM_ENVS])

    def step(self, actions):
        self.steps += 1
        if self.on_step is not None:
            self.on_step(self)
        self._obs = torch.randn(NUM_ENVS, OBS_DIM)
        if self.steps in self.nan_obs_at:
            self._obs[1] = float("nan")
        rewards = -(actions**2).sum(-1)
        self.episode_length_buf += 1
        dones = (self.episode_length_buf >= self.max_episode_length).long()
        self.episode_length_buf[dones > 0] = 0
        return self.get_observations(), rewards, dones, {}


def _runner(log_dir, env=None, hidden=16, **reliability):
    from isaaclab_rl.rsl_rl import check_rsl_rl_version, handle_deprecated_rsl_rl_cfg

    from intermimic.learning.runners import create_runner
    from intermimic.tasks.agents.rsl_rl_ppo_cfg import TeacherPPORunnerCfg

    cfg = handle_deprecated_rsl_rl_cfg(TeacherPPORunnerCfg(), check_rsl_rl_version())
    cfg.device = "cpu"
    cfg.num_steps_per_env = STEPS
    cfg.save_interval = 1
    cfg.actor.hidden_dims = [hidden]
    cfg.critic.hidden_dims = [hidden]
    cfg.algorithm.num_mini_batches = 2
    cfg.algorithm.num_learning_epochs = 1
    cfg.algorithm.learning_rate = 1.0e-3
    for key, value in reliability.items():
        setattr(cfg.reliability, key, value)
    return create_runner(env or _StandInEnv(), cfg, str(log_dir))


def _iterations(run: Path) -> list[int]:
    from intermimic.learning.checkpointing import checkpoint_iteration

    return [checkpoint_iteration(p) for p in checkpoints_in(run)]


def _tb_steps(run: Path, tag: str = "Loss/value") -> list[int]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    return sorted(e.step for e in EventAccumulator(str(run)).Reload().Scalars(tag))


def test_the_teacher_config_builds_the_project_runner_and_isaaclab_keeps_its_own(tmp_path):
    from intermimic.learning.teacher_runner import TeacherRunner
    from intermimic.tasks.agents.rsl_rl_ppo_cfg import TeacherPPORunnerCfg

    assert isinstance(_runner(tmp_path), TeacherRunner)
    assert TeacherPPORunnerCfg().class_name == "OnPolicyRunner"  # what `isaaclab train` can build


def test_a_resumed_run_continues_the_iteration_numbers_in_the_same_folder(tmp_path):
    run = tmp_path / "run"
    first = _runner(run)
    first.learn(3)
    assert _iterations(run) == [0, 1, 2]
    assert (run / LATEST_POINTER).read_text().strip() == "model_2.pt" and latest_checkpoint(run) == run / "model_2.pt"
    saved = read_checkpoint(run / "model_2.pt")
    assert saved["iter"] == 2 and "training_state" in saved and saved["log_totals"]["steps"] == 3 * NUM_ENVS * STEPS

    resumed = _runner(run)
    resumed.load(str(newest_readable_checkpoint(run)))
    for name, value in resumed.alg.actor.state_dict().items():
        assert torch.equal(value, first.alg.actor.state_dict()[name]), name
    resumed.learn(2)
    assert _iterations(run) == [0, 1, 2, 3, 4]  # 3 and 4, not 2 again
    assert read_checkpoint(run / "model_4.pt")["log_totals"]["steps"] == 5 * NUM_ENVS * STEPS
    assert _tb_steps(run) == [0, 1, 2, 3, 4]


def test_random_generators_continue_from_the_checkpoint(tmp_path):
    run = tmp_path / "run"
    _runner(run).learn(1)
    state = read_checkpoint(run / "model_0.pt")["training_state"]["rng"]
    torch.set_rng_state(state["torch"])
    want = torch.rand(3)  # what the generator gives right after the checkpoint
    torch.manual_seed(999)
    runner = _runner(run)
    runner.load(str(run / "model_0.pt"))
    runner._restore_loaded_state()
    assert torch.equal(torch.rand(3), want)


@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_mid_iteration_saves_the_last_finished_iteration_and_exits(tmp_path, signum, code, capsys):
    from intermimic.learning.reliable_runner import TrainingStopped

    found = signal.getsignal(signum)  # whatever this process was started with (SIG_IGN in a background job)
    run = tmp_path / "run"
    env = _StandInEnv()
    stop_at = STEPS * 2 + 2  # in the middle of the third iteration's rollout
    env.on_step = lambda e: os.kill(os.getpid(), signum) if e.steps == stop_at else None
    runner = _runner(run, env, save_interval_minutes=0.0)
    runner.cfg["save_interval"] = 100
    with pytest.raises(TrainingStopped) as stopped:
        runner.learn(10)
    assert stopped.value.code == code
    assert env.steps == stop_at, "the rollout stops right after the signal"
    assert _iterations(run) == [0, 1]  # model_0 (interval) and model_1 (saved on the signal)
    saved = read_checkpoint(run / "model_1.pt")
    for name, value in runner.alg.actor.state_dict().items():
        assert torch.equal(saved["actor_state_dict"][name], value), name
    out = capsys.readouterr().out
    assert f"stopped by {signal.Signals(signum).name} after iteration 1" in out and "--resume" in out
    assert signal.getsignal(signum) == found, "the handler found before is restored"


def test_time_based_checkpoints_replace_each_other(tmp_path):
    run = tmp_path / "run"
    runner = _runner(run, save_interval_minutes=1.0e-9)  # always due
    runner.cfg["save_interval"] = 100
    runner.learn(4)
    assert _iterations(run) == [0, 3]  # 0: interval; 1 and 2 were time-based and superseded; 3: the last
    assert latest_checkpoint(run) == run / "model_3.pt"


def test_non_finite_losses_skip_updates_and_repeated_ones_stop_with_the_last_good_parameters(tmp_path, monkeypatch):
    from intermimic.learning.reliable_runner import TrainingStopped

    run = tmp_path / "run"
    runner = _runner(run, max_non_finite_updates=2)
    runner.cfg["save_interval"] = 100
    runner.learn(1)
    good = {k: v.detach().clone() for k, v in runner.alg.actor.named_parameters()}  # the weights (the
    # observation normaliser keeps learning from the finite observations)

    real_loss = runner.alg.mini_batch_loss

    def nan_loss(batch):
        loss, stats = real_loss(batch)
        return loss * float("nan"), stats

    monkeypatch.setattr(runner.alg, "mini_batch_loss", nan_loss)
    with pytest.raises(TrainingStopped, match=r"2 iterations in a row \(up to 2\) met non-finite losses") as stopped:
        runner.learn(5)
    assert stopped.value.code != 0
    assert runner.alg.skipped_updates == 2  # both mini-batches of the last iteration
    saved = read_checkpoint(run / "model_2.pt")
    weights = dict(runner.alg.actor.named_parameters())
    for name, value in good.items():
        assert torch.equal(weights[name], value), name
        assert torch.equal(saved["actor_state_dict"][name], value), name
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    skipped = EventAccumulator(str(run)).Reload().Scalars("Guard/skipped_updates")
    # sorted: each learn() call writes its own event file, and files made in the same second are
    # read in name order, which puts writer 10 before writer 9 of the process
    assert sorted((e.step, e.value) for e in skipped) == [(0, 0.0), (1, 2.0), (2, 2.0)]


def test_non_finite_observations_never_reach_the_networks(tmp_path):
    run = tmp_path / "run"
    env = _StandInEnv()
    env.nan_obs_at = {2, 3}  # two steps of the first iteration (4 steps each)
    runner = _runner(run, env)
    seen = []
    real_act = runner.alg.act
    runner.alg.act = lambda obs: (seen.append(bool(torch.isfinite(obs["policy"]).all())), real_act(obs))[1]
    runner.learn(2)
    assert seen and all(seen)
    assert all(torch.isfinite(v).all() for v in runner.alg.actor.state_dict().values())
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    zeroed = EventAccumulator(str(run)).Reload().Scalars("Guard/non_finite_inputs_zeroed")
    assert [e.value for e in zeroed] == [2.0, 0.0]


def test_a_checkpoint_of_rsl_rls_own_runner_resumes_with_a_fresh_curriculum(tmp_path, capsys):
    """``isaaclab train`` writes rsl_rl's checkpoints: networks, optimiser and ``iter`` only."""
    source = _runner(tmp_path / "a")
    plain = {**source.alg.save(), "iter": 6, "infos": None}
    torch.save(plain, tmp_path / "model_6.pt")
    runner = _runner(tmp_path / "b")
    runner.load(str(tmp_path / "model_6.pt"))
    runner.learn(1)
    assert "holds no curriculum or random-generator state" in capsys.readouterr().out
    assert _iterations(tmp_path / "b") == [7]


def test_a_checkpoint_of_other_networks_gives_one_line_naming_the_file(tmp_path):
    _runner(tmp_path / "run").learn(1)
    with pytest.raises(CheckpointError) as err:
        _runner(tmp_path / "other", hidden=8).load(str(tmp_path / "run" / "model_0.pt"))
    message = str(err.value)
    assert "model_0.pt does not fit this task's networks" in message and "\n" not in message
    assert "size mismatch" in message  # says what does not fit

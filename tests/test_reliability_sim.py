"""Reliability in the simulator (built-in demo data, 2 environments on the CPU):

* a training run killed with SIGKILL (while it writes a checkpoint, when that moment is caught)
  leaves only readable checkpoints; ``--resume RUN_DIR`` with a corrupt newest checkpoint picks
  the previous one, continues the iteration numbers in the same folder, and SIGTERM saves a
  checkpoint and exits with 143;
* the curriculum (PSI buffer, start-frame failure statistics) saved in a checkpoint is restored
  exactly;
* a NaN written into one environment's state, or a corrupted observation, resets only that
  environment, and training goes on.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch

from conftest import REPO_ROOT

pytestmark = pytest.mark.sim

NUM_ENVS = 2
SMALL_RUN = ["--task", "InterMimic-Teacher-v0", "--device", "cpu", "--num_envs", str(NUM_ENVS), "--seed", "5",
             "agent.num_steps_per_env=4", "agent.save_interval=1", "agent.algorithm.num_mini_batches=1",
             "agent.algorithm.num_learning_epochs=1", "agent.reliability.save_interval_minutes=0"]  # fmt: skip
ITERATION = re.compile(r"Learning iteration (\d+)/")


class _Training:
    """``source/train.py`` in a child process whose output is collected line by line."""

    def __init__(self, args: list[str], cwd: Path):
        self.proc = subprocess.Popen([sys.executable, str(REPO_ROOT / "source" / "train.py"), *args], cwd=cwd,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
        self.lines: list[str] = []
        self._reader = threading.Thread(target=lambda: self.lines.extend(self.proc.stdout), daemon=True)
        self._reader.start()

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def iterations(self) -> list[int]:
        return [int(m.group(1)) for m in ITERATION.finditer(self.output)]

    def wait_for(self, condition, timeout: float, what: str, poll: float = 0.5) -> None:
        deadline = time.time() + timeout
        while not condition():
            if self.proc.poll() is not None:
                self._reader.join(5)
                pytest.fail(f"training ended (code {self.proc.returncode}) before {what}:\n{self.output[-4000:]}")
            if time.time() > deadline:
                self.proc.kill()
                pytest.fail(f"timed out waiting for {what}:\n{self.output[-4000:]}")
            time.sleep(poll)

    def finish(self, timeout: float = 300) -> int:
        code = self.proc.wait(timeout)
        self._reader.join(10)
        return code


def _readable(path: Path) -> dict:
    from intermimic.learning.checkpointing import read_checkpoint

    return read_checkpoint(path, map_location="cpu")


def test_kill_resume_and_stop_leave_only_readable_checkpoints(tmp_path):
    from intermimic.learning.checkpointing import LATEST_POINTER, checkpoint_iteration, checkpoints_in

    logs = tmp_path / "logs"
    experiment = logs / "rsl_rl" / "intermimic_teacher"
    run = _Training([*SMALL_RUN, "--max_iterations", "1000", "--log_root", str(logs)], tmp_path)

    # 1. SIGKILL while a checkpoint is being written (or, if that moment is missed, mid-iteration)
    run.wait_for(lambda: experiment.is_dir() and any(experiment.glob("*/model_1.pt")), 900, "model_1.pt")
    (folder,) = experiment.iterdir()
    deadline, caught = time.time() + 60, False
    while time.time() < deadline and not caught:
        caught = any(folder.glob(".model_*.tmp"))
        if not caught:
            time.sleep(0.002)
    run.proc.send_signal(signal.SIGKILL)
    assert run.finish() == -signal.SIGKILL
    models = checkpoints_in(folder)
    assert len(models) >= 2
    for path in models:
        assert _readable(path)["iter"] == checkpoint_iteration(path)  # complete, never half-written
    named = folder / (folder / LATEST_POINTER).read_text().strip()
    assert named in models and _readable(named)
    print(f"killed while writing a checkpoint: {caught}; checkpoints {[p.name for p in models]}")

    # 2. the newest checkpoint gets corrupted: resuming the folder falls back to the previous one
    newest = models[-1]
    newest.write_bytes(newest.read_bytes()[: newest.stat().st_size // 3])
    previous = checkpoint_iteration(models[-2])
    resumed = _Training([*SMALL_RUN, "--max_iterations", "1000", "--log_root", str(logs), "--resume", str(folder)],
                        tmp_path)  # fmt: skip
    resumed.wait_for(lambda: len(resumed.iterations()) >= 2, 900, "two resumed iterations")
    resumed.proc.send_signal(signal.SIGTERM)
    assert resumed.finish() == 143, resumed.output[-3000:]
    out = resumed.output
    assert f"skipping checkpoint {newest}" in out and "truncated or corrupt" in out
    assert f"resuming from {models[-2]} (iteration {previous}) in its run folder" in out
    done = resumed.iterations()
    assert done[0] == previous + 1 and done == list(range(previous + 1, previous + 1 + len(done)))
    assert list(experiment.iterdir()) == [folder], "the resumed run logs into the same folder"
    stopped = re.search(r"stopped by SIGTERM after iteration (\d+): checkpoint (\S+);", out)
    assert stopped, out[-3000:]
    last, path = int(stopped.group(1)), Path(stopped.group(2))
    assert last >= done[-1] and path == folder / f"model_{last}.pt"
    saved = _readable(path)
    assert saved["iter"] == last
    assert (folder / LATEST_POINTER).read_text().strip() == path.name
    curriculum = saved["training_state"]["commands"]["motion"]
    assert set(curriculum) == {"start_frames", "psi"} and curriculum["psi"]["shape"][1] == 2
    assert (folder / "params" / f"resume_{previous}" / "agent.yaml").is_file(), "the first params are kept"

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    steps = {e.step for e in EventAccumulator(str(folder)).Reload().Scalars("Loss/value")}
    assert set(range(last + 1)) <= steps  # TensorBoard steps continue across the resume


# ---------------------------------------------------------------------------------------------
# In-process: one environment shared by the tests below
# ---------------------------------------------------------------------------------------------
def _guard_failures_only(cfg) -> None:
    """Only the guard ends an episode as a failure: these tests step with zero actions, whose
    humanoid drifts from the reference and would otherwise fail the tracking terms."""
    for name in ("fall", "key_body_error", "object_error", "interaction_graph", "hand_contact"):
        setattr(cfg.terminations, name, None)


@pytest.fixture(scope="module")
def env():
    from hoi_env_helpers import build_hoi_env
    from isaaclab_rl.rsl_rl import RslRlVecEnvWrapper

    base = build_hoi_env(num_envs=NUM_ENVS, edit=_guard_failures_only)
    yield RslRlVecEnvWrapper(base, clip_actions=1.0)
    base.close()


def _runner(env, log_dir=None):
    from isaaclab_rl.rsl_rl import check_rsl_rl_version, handle_deprecated_rsl_rl_cfg

    from intermimic.learning.runners import create_runner
    from intermimic.tasks.agents.rsl_rl_ppo_cfg import TeacherPPORunnerCfg

    cfg = handle_deprecated_rsl_rl_cfg(TeacherPPORunnerCfg(), check_rsl_rl_version())
    cfg.device = "cpu"
    cfg.num_steps_per_env = 4
    cfg.algorithm.num_mini_batches = 1
    cfg.algorithm.num_learning_epochs = 1
    return create_runner(env, cfg, None if log_dir is None else str(log_dir))


def _nan_root_position(env, env_id: int) -> None:
    robot = env.unwrapped.scene["robot"]
    pose = robot.data.root_link_pose_w.torch[env_id : env_id + 1].clone()
    pose[:, 0] = float("nan")
    robot.write_root_link_pose_to_sim_index(root_pose=pose, env_ids=torch.tensor([env_id]))


def _zero_actions(env):
    return torch.zeros(env.num_envs, env.num_actions)


def test_the_curriculum_in_a_checkpoint_is_restored_exactly(env, tmp_path):
    cmd = env.unwrapped.command_manager.get_term("motion")
    torch.manual_seed(0)
    frames = cmd.psi.scores.shape[0]
    offered = torch.randint(0, frames, (64,))
    stored = cmd.psi.insert(offered, torch.randn(64, cmd.psi.states.shape[-1]), 0.5 + 0.5 * torch.rand(64))
    assert stored > 0
    cmd.start_sampler.record_failures(cmd.clip_ids, torch.tensor([12, 40]))
    saved = {"states": cmd.psi.states.clone(), "scores": cmd.psi.scores.clone(),
             "failures": cmd.start_sampler.failures.clone()}  # fmt: skip

    runner = _runner(env)
    runner.save(str(tmp_path / "model_7.pt"))
    cmd.psi.states.zero_()
    cmd.psi.scores.zero_()
    cmd.start_sampler.failures.zero_()

    resumed = _runner(env)
    resumed.load(str(tmp_path / "model_7.pt"))
    assert resumed.next_iteration == runner.current_learning_iteration + 1
    resumed.learn(0)  # training starts: the curriculum comes back before the first rollout
    assert torch.equal(cmd.psi.states, saved["states"]) and torch.equal(cmd.psi.scores, saved["scores"])
    assert torch.equal(cmd.start_sampler.failures, saved["failures"])


def test_a_nan_in_one_envs_state_resets_only_that_env(env):
    base = env.unwrapped
    env.step(_zero_actions(env))
    env.step(_zero_actions(env))
    lengths = base.episode_length_buf.clone()
    _nan_root_position(env, 0)
    obs, rewards, dones, extras = env.step(_zero_actions(env))
    assert dones.tolist() == [1, 0]
    assert base.episode_length_buf[0] == 0 and base.episode_length_buf[1] == lengths[1] + 1
    assert base.termination_manager.get_term("non_finite_state").tolist() == [True, False]
    assert all(torch.isfinite(v).all() for v in obs.values()) and torch.isfinite(rewards).all()
    assert extras["log"]["Episode_Termination/non_finite_state"] > 0  # share of envs whose last episode ended so
    for _ in range(3):  # the environment goes on from its fresh start
        obs, rewards, dones, _ = env.step(_zero_actions(env))
        assert all(torch.isfinite(v).all() for v in obs.values()) and torch.isfinite(rewards).all()
    assert base.episode_length_buf[0] == 3


def test_a_corrupted_observation_resets_only_that_env(env, monkeypatch):
    base = env.unwrapped
    env.step(_zero_actions(env))
    lengths = base.episode_length_buf.clone()
    manager = base.observation_manager
    real_compute = manager.compute
    calls = []

    def corrupt_once(*args, **kwargs):
        obs = real_compute(*args, **kwargs)
        if not calls:
            obs["policy"][1, 7] = float("inf")
        calls.append(1)
        return obs

    monkeypatch.setattr(manager, "compute", corrupt_once)
    obs, _, dones, extras = env.step(_zero_actions(env))
    # the step returns finite observations (env 1's zeroed) and marks env 1, without a host sync
    assert dones.tolist() == [0, 0] and all(torch.isfinite(v).all() for v in obs.values())
    assert float(extras["log"]["Guard/non_finite_observation_resets"]) == 1.0
    assert obs["policy"][1].abs().sum() > 0  # only the non-finite value became 0
    obs, _, dones, extras = env.step(_zero_actions(env))  # its next step ends that env's episode
    assert dones.tolist() == [0, 1]
    assert base.episode_length_buf.tolist() == [lengths[0] + 2, 0]
    assert base.termination_manager.get_term("non_finite_state").tolist() == [False, True]
    assert float(extras["log"]["Guard/non_finite_observation_resets"]) == 0.0
    assert all(torch.isfinite(v).all() for v in obs.values())


def test_training_goes_on_through_a_nan_state(env, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    runner = _runner(env, tmp_path / "run")
    real_step = env.step
    count = {"steps": 0}

    def step_with_a_nan(actions):
        count["steps"] += 1
        if count["steps"] == 3:
            _nan_root_position(env, 1)
        return real_step(actions)

    env.step = step_with_a_nan
    try:
        runner.learn(2)
    finally:
        del env.step
    assert count["steps"] == 8 and runner.current_learning_iteration == 1
    assert all(torch.isfinite(p).all() for p in runner.alg.actor.parameters())
    events = EventAccumulator(str(tmp_path / "run")).Reload()
    resets = [e.value for e in events.Scalars("Episode_Termination/non_finite_state")]
    assert resets and max(resets) > 0
    assert [e.value for e in events.Scalars("Guard/skipped_updates")] == [0.0, 0.0]

"""The student in the simulator, on the built-in demo data (two subjects):

* teachers are dispatched per environment by the subject of its clip;
* behaviour cloning from a real (briefly PPO-trained) teacher halves the student's action error
  on fresh rollout states;
* the command line trains a student with two teachers, resumes it with its schedule, and exports it.
"""

from __future__ import annotations

import math

from pathlib import Path

import pytest
import torch

from conftest import REPO_ROOT

pytestmark = pytest.mark.sim

NUM_ENVS = 4


def _run(args, cwd, timeout=1200):
    """``args``: the script's path, then its arguments."""
    from hoi_env_helpers import run_script

    return run_script(Path(args[0]).name, *args[1:], cwd=cwd, timeout=timeout)


@pytest.fixture(scope="module")
def teacher_run(tmp_path_factory):
    """A teacher of demo subject 0 after two PPO iterations."""
    logs = tmp_path_factory.mktemp("teacher_logs")
    _run([str(REPO_ROOT / "source" / "train.py"), "--task", "InterMimic-Teacher-v0", "--device", "cpu",
          "--num_envs", "4", "--max_iterations", "2", "--seed", "1", "--log_root", str(logs), "--run_name", "sub0",
          "dataset.subjects=[0]", "agent.num_steps_per_env=8"], cwd=logs)  # fmt: skip
    (run,) = (logs / "rsl_rl" / "intermimic_teacher").iterdir()
    return run


@pytest.fixture(scope="module")
def env():
    from hoi_env_helpers import build_hoi_env
    from isaaclab_rl.rsl_rl import RslRlVecEnvWrapper

    from intermimic.tasks.student_env_cfg import HOIStudentEnvCfg

    base = build_hoi_env(num_envs=NUM_ENVS, cfg_class=HOIStudentEnvCfg)
    yield RslRlVecEnvWrapper(base, clip_actions=1.0)
    base.close()


def _runner(env, teachers: dict, **algorithm):
    from isaaclab.utils import to_dict
    from isaaclab_rl.rsl_rl import check_rsl_rl_version, handle_deprecated_rsl_rl_cfg

    from intermimic.learning.student_runner import StudentRunner
    from intermimic.tasks.agents.rsl_rl_student_cfg import StudentRunnerCfg

    cfg = handle_deprecated_rsl_rl_cfg(StudentRunnerCfg(), check_rsl_rl_version())
    cfg.device = "cpu"
    cfg.teachers = {str(s): str(p) for s, p in teachers.items()}
    for key, value in algorithm.items():
        setattr(cfg.algorithm, key, value)
    return StudentRunner(env, to_dict(cfg), log_dir=None, device="cpu")


def _constant_teacher_checkpoint(path, obs_dim: int, value: float):
    from tensordict import TensorDict

    from intermimic.learning.models import ClippedMLPModel

    obs = TensorDict({"teacher": torch.zeros(1, obs_dim)}, batch_size=[1])
    model = ClippedMLPModel(obs, {"actor": ["teacher"]}, "actor", 153, hidden_dims=[16], activation="relu",
                            obs_normalization=True,
                            distribution_cfg={"class_name": "GaussianDistribution", "init_std": math.exp(-2.9),
                                              "learn_std": False})  # fmt: skip
    with torch.no_grad():
        for p in model.mlp.parameters():
            p.zero_()
        model.mlp[-1].bias.fill_(value)
    torch.save({"actor_state_dict": model.state_dict()}, path)
    return path


def test_observation_groups_of_the_student_task(env):
    om = env.unwrapped.observation_manager
    assert om.group_obs_dim == {"policy": (3198,), "critic": (3198,), "teacher": (3198,)}
    cmd = env.unwrapped.command_manager.get_term("motion")
    assert cmd.cfg.reward_source == "corrected" and cmd.cfg.state_init.start_at_zero_prob == 0.5
    assert cmd.library.subjects == [0, 1]


def test_each_env_is_served_by_its_subjects_teacher(env, tmp_path):
    teachers = {0: _constant_teacher_checkpoint(tmp_path / "t0.pt", 3198, 0.3),
                1: _constant_teacher_checkpoint(tmp_path / "t1.pt", 3198, -0.3)}  # fmt: skip
    runner = _runner(env, teachers)
    cmd = env.unwrapped.command_manager.get_term("motion")
    lib = cmd.library
    sub0 = torch.nonzero(lib.clip_subject == 0).flatten().tolist()
    sub1 = torch.nonzero(lib.clip_subject == 1).flatten().tolist()
    cmd.set_clip_schedule({0: [sub0[0], sub1[0], sub1[1], sub0[1]]})
    env.reset()
    cmd.set_clip_schedule(None)
    obs = env.get_observations()
    actions = runner.alg.act(obs)  # iteration 0: beta = 1, every env executes its teacher's action
    subject = torch.tensor(lib.subjects)[lib.clip_subject[cmd.clip_ids]]
    assert subject.tolist() == [0, 1, 1, 0]
    expected = torch.where(subject[:, None] == 0, 0.3, -0.3).expand(NUM_ENVS, 153)
    assert (actions - expected).abs().max() < 6 * math.exp(-2.9)
    torch.testing.assert_close(runner.alg.transition.observations["teacher_mean"], expected)
    # a teacher missing for a subject of the data is refused before any rollout
    from intermimic.learning.teacher_bank import TeacherConfigError

    with pytest.raises(TeacherConfigError, match=r"no teacher for subject\(s\) \[1\]"):
        _runner(env, {0: teachers[0]})


def test_behaviour_cloning_from_a_trained_teacher_halves_the_action_error(env, teacher_run):
    torch.manual_seed(0)
    runner = _runner(env, {0: teacher_run, 1: teacher_run}, learning_rate=1.0e-3, num_mini_batches=4)
    alg = runner.alg

    def action_error(steps: int = 16) -> float:
        """Mean sum of squared differences between student and teacher means on a fresh rollout
        driven by the teachers."""
        total, count = 0.0, 0
        obs = env.get_observations()
        with torch.inference_mode():
            for _ in range(steps):
                ids = alg._teacher_ids()
                mu_t, act_t = alg.teachers.act(obs["teacher"], ids)
                mu_s = alg.actor(obs)
                total += float(((mu_s - mu_t) ** 2).sum(-1).sum())
                count += mu_s.shape[0]
                obs, _, _, _ = env.step(act_t)
        return total / count

    before = action_error()
    runner.learn(num_learning_iterations=8)
    after = action_error()
    assert alg.schedule.iteration == 8 and alg.schedule.phase == "bc"
    assert after < 0.5 * before, (before, after)


def test_train_resume_and_export_from_the_command_line(teacher_run, tmp_path):
    logs = tmp_path / "logs"
    common = ["--task", "InterMimic-Student-v0", "--device", "cpu", "--num_envs", "2", "--log_root", str(logs),
              f"teachers.paths.0={teacher_run}", f"teachers.paths.1={teacher_run}", "agent.num_steps_per_env=4",
              "agent.save_interval=1", "agent.algorithm.num_mini_batches=2", "agent.algorithm.num_learning_epochs=1"]  # fmt: skip
    out = _run([str(REPO_ROOT / "source" / "train.py"), "--max_iterations", "2", *common], cwd=tmp_path)
    assert "2 teacher(s) loaded" in out and "phase bc | beta 1.000" in out
    (run,) = (logs / "rsl_rl" / "intermimic_student").iterdir()
    ckpt = torch.load(run / "model_1.pt", map_location="cpu", weights_only=False)
    assert ckpt["student_schedule"]["iteration"] == 2
    assert {"actor_state_dict", "critic_state_dict", "optimizer_state_dict"} <= set(ckpt)
    assert "obs_normalizer.normalizer._mean" in ckpt["actor_state_dict"]
    assert set(ckpt["teachers"]) == {0, 1}
    # TensorBoard has the schedule and the reward factors
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run)).Reload()
    tags = set(events.Tags()["scalars"])
    assert {"Student/beta", "Student/phase", "Student/weight_bc", "Student/explained_variance_average",
            "Loss/behaviour_cloning", "Reward/r_ig", "Reward/r_h"} <= tags  # fmt: skip
    assert [e.value for e in events.Scalars("Student/beta")] == [1.0, 1.0]

    # resume: the schedule continues where it stopped
    _run([str(REPO_ROOT / "source" / "train.py"), "--max_iterations", "1", "--resume", str(run / "model_1.pt"),
          *common, "--run_name", "resumed"], cwd=tmp_path)  # fmt: skip
    resumed = next(p for p in (logs / "rsl_rl" / "intermimic_student").iterdir() if p.name.endswith("resumed"))
    last = max(resumed.glob("model_*.pt"), key=lambda p: int(p.stem.split("_")[1]))
    assert torch.load(last, map_location="cpu", weights_only=False)["student_schedule"]["iteration"] == 3

    # export for play (no teachers needed)
    out = _run([str(REPO_ROOT / "source" / "play.py"), "--task", "InterMimic-Student-Play-v0", "--device", "cpu",
                "--num_envs", "1", "--checkpoint", str(run), "--export"], cwd=tmp_path)  # fmt: skip
    assert (run / "exported" / "policy.pt").is_file() and (run / "exported" / "policy.onnx").is_file()
    scripted = torch.jit.load(str(run / "exported" / "policy.pt"))
    assert scripted(torch.zeros(1, 3198)).shape == (1, 153)
